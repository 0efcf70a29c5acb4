/** The globalSetup that refuses to test a dist/ built before the last change to src/ (test/support/dist-setup.ts). */
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DIST_ENTRIES, staleDist } from '../support/dist-setup.js'

/** A fake checkout: src/ files and dist/ entries with the given modification times (seconds). */
function checkout(srcTimes: Record<string, number>, distTime: number, leaveOut: string[] = []): string {
  const root = mkdtempSync(join(tmpdir(), 'envelope-dist-'))
  const touch = (path: string, seconds: number) => {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, '')
    utimesSync(path, seconds, seconds)
  }
  for (const [file, t] of Object.entries(srcTimes)) touch(join(root, 'src', file), t)
  for (const entry of DIST_ENTRIES) if (!leaveOut.includes(entry)) touch(join(root, 'dist', entry), distTime)
  return root
}

describe('dist/ freshness', () => {
  it('accepts a dist/ built after every source file', () => {
    expect(staleDist(checkout({ 'index.ts': 1_000, 'core/deep/file.ts': 1_500 }, 2_000))).toBeUndefined()
  })

  it('refuses a dist/ older than a source file, however deep, and names it', () => {
    const reason = staleDist(checkout({ 'index.ts': 1_000, 'core/deep/file.ts': 3_000 }, 2_000))
    expect(reason).toContain('dist/ is older than src/')
    expect(reason).toContain(join('src', 'core', 'deep', 'file.ts'))
    expect(reason).toContain('run npm run build (npm test does)')
  })

  it('judges by the oldest entry: one entry left from an older build is stale', () => {
    const root = checkout({ 'index.ts': 1_500 }, 2_000)
    utimesSync(join(root, 'dist', 'cli/main.js'), 1_000, 1_000)
    expect(staleDist(root)).toContain('dist/ is older than src/')
  })

  it('refuses a missing dist/ entry', () => {
    expect(staleDist(checkout({ 'index.ts': 1_000 }, 2_000, ['cli/main.js']))).toBe('dist/ is missing dist/cli/main.js: run npm run build (npm test does)')
  })
})
