/**
 * The web stream path must load in a browser: nothing src/streams/web.ts
 * imports, directly or not, may import a Node built-in; and only
 * src/streams/node.ts imports node:stream within the library (the Node-only
 * command line in src/cli/ may use it too).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const src = resolve(import.meta.dirname, '..', '..', 'src')
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!)
}

/** Every module reachable from `entry` (relative imports followed, `.js` mapped to `.ts`), with its bare imports. */
function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    const specifiers = importsOf(file)
    seen.set(
      file,
      specifiers.filter((s) => !s.startsWith('.')),
    )
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

describe('web stream isolation', () => {
  it('src/streams/web.ts reaches no Node built-in', () => {
    const reached = graph(join(src, 'streams', 'web.ts'))
    expect(reached.size).toBeGreaterThan(5)
    const offenders = [...reached].flatMap(([file, bare]) => bare.filter((s) => s.startsWith('node:') || s === 'stream' || s === 'crypto' || s === 'buffer').map((s) => `${relative(src, file)} -> ${s}`))
    expect(offenders).toEqual([])
  })

  it('the walk does see Node built-ins where they are (so the check above can fail)', () => {
    const reached = graph(join(src, 'streams', 'node.ts'))
    expect([...reached.values()].flat()).toContain('node:stream')
  })

  it('only src/streams/node.ts imports node:stream (outside the CLI)', () => {
    const importers = files(src)
      .filter((f) => f.endsWith('.ts') && !relative(src, f).startsWith(`cli${'/'}`))
      .filter((f) => importsOf(f).some((s) => s === 'node:stream' || s.startsWith('node:stream/')))
      .map((f) => relative(src, f))
    expect(importers).toEqual([join('streams', 'node.ts')])
  })
})
