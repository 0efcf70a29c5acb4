/**
 * The web entry (src/entry/web.ts) must load in browsers: nothing it reaches
 * through value imports may import a Node built-in (type-only imports are
 * erased and do not count). And only src/crypto/ may import a crypto
 * implementation: @noble/* or node:crypto (spec/backends.md).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const src = resolve(import.meta.dirname, '..', '..', 'src')
/** Value imports and re-exports; `import type` / `export type` lines are skipped. */
const IMPORT = /^\s*(?:import|export)\s+(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm
const BUILTIN = /^(?:node:|(?:stream|crypto|buffer|fs|path|util|zlib|worker_threads|child_process|os|events|module)(?:\/|$))/

function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    const specifiers = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3])!)
    seen.set(file, specifiers.filter((s) => !s.startsWith('.')))
    for (const s of specifiers.filter((s) => s.startsWith('.'))) {
      const target = resolve(dirname(file), s.replace(/\.js$/, '.ts'))
      if (!existsSync(target)) throw new Error(`${relative(src, file)} imports ${s}, which does not exist`)
      visit(target)
    }
  }
  visit(entry)
  return seen
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })
}

describe('runtime isolation', () => {
  it('src/entry/web.ts reaches no Node built-in', () => {
    const reached = graph(join(src, 'entry', 'web.ts'))
    expect(reached.has(join(src, 'crypto', 'noble.ts'))).toBe(true)
    expect(reached.has(join(src, 'crypto', 'node.ts'))).toBe(false)
    expect(reached.has(join(src, 'streams', 'node.ts'))).toBe(false)
    const offenders = [...reached].flatMap(([file, bare]) => bare.filter((s) => BUILTIN.test(s)).map((s) => `${relative(src, file)} -> ${s}`))
    expect(offenders).toEqual([])
  })

  it('the same walk from the Node entry does find node built-ins (so the check above can fail)', () => {
    const reached = graph(join(src, 'entry', 'node.ts'))
    expect([...reached.values()].flat()).toContain('node:stream')
    expect([...reached.values()].flat()).toContain('node:crypto')
  })

  it('the Node entry loads no pure-JS crypto at import (it lives in envelope-sdk/crypto)', () => {
    const bare = [...graph(join(src, 'entry', 'node.ts')).values()].flat()
    expect(bare.filter((s) => s.startsWith('@noble/'))).toEqual([])
  })

  it('only src/crypto/ imports @noble/* or node:crypto', () => {
    const offenders = files(src)
      .filter((f) => f.endsWith('.ts') && !f.startsWith(join(src, 'crypto') + '/') && !f.startsWith(join(src, 'cli') + '/') && !f.startsWith(join(src, 'testing') + '/'))
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3])!).filter((s) => s.startsWith('@noble/') || s === 'node:crypto').map((s) => `${relative(src, f)} -> ${s}`))
    expect(offenders).toEqual([])
  })
})
