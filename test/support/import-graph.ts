/**
 * A static walk of src/ imports, for the tests that keep Node built-ins out of
 * the web paths (test/backends/isolation.test.ts, test/streams/web-isolation.test.ts)
 * and the layer order (test/unit/layers.test.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

export const SRC = resolve(import.meta.dirname, '..', '..', 'src')

/** Value imports, re-exports and dynamic imports; `import type` / `export type` are erased and skipped. */
const IMPORT = /^\s*(?:import|export)\s+(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm

/** Every specifier a source file names, `import type` and `export type` included. */
const ANY_IMPORT = /^\s*(?:import|export)\s+[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm

/** Bare specifiers that name a Node built-in. */
export const NODE_BUILTIN = /^(?:node:|(?:stream|crypto|buffer|fs|path|util|zlib|worker_threads|child_process|os|events|module)(?:\/|$))/

/** A file's code without its comments: a JSDoc `import('…')` type is not an import. */
function codeOf(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

/** The specifiers a source file imports at run time. */
export function importsOf(file: string): string[] {
  return [...codeOf(file).matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3])!)
}

/** The specifiers a source file names, types included: the layer order holds for types too. */
export function allImportsOf(file: string): string[] {
  return [...codeOf(file).matchAll(ANY_IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3])!)
}

/** Every module reachable from `entry` (relative imports followed, `.js` mapped to `.ts`), with its bare imports. */
export function importGraph(entry: string): Map<string, string[]> {
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
      if (!existsSync(target)) throw new Error(`${relative(SRC, file)} imports ${s}, which does not exist`)
      visit(target)
    }
  }
  visit(entry)
  return seen
}

/** `file -> built-in` for every Node built-in the graph reaches. */
export function builtinsReached(graph: Map<string, string[]>): string[] {
  return [...graph].flatMap(([file, bare]) => bare.filter((s) => NODE_BUILTIN.test(s)).map((s) => `${relative(SRC, file)} -> ${s}`))
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}
