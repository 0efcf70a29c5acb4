/**
 * vitest globalSetup: many tests import or spawn dist/ (the CLI, the package exports, child processes), so
 * a dist/ built before the last edit to src/ would test old code and pass or fail for the wrong reason.
 * `npm test` builds first (pretest); `npm run test:fast` does not, and is refused here instead.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

/** The files tsup writes on every build, one per entry: the oldest of them is when dist/ was last built. */
export const DIST_ENTRIES = [
  'index.js',
  'index.cjs',
  'crypto/index.js',
  'runner/index.js',
  'testing/index.js',
  'web/index.js',
  'web/crypto/index.js',
  'cli/main.js',
] as const

function newestFile(dir: string): { path: string; mtimeMs: number } | undefined {
  let newest: { path: string; mtimeMs: number } | undefined
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const found = entry.isDirectory() ? newestFile(path) : { path, mtimeMs: statSync(path).mtimeMs }
    if (found && (!newest || found.mtimeMs > newest.mtimeMs)) newest = found
  }
  return newest
}

/** Why dist/ under `root` cannot be tested against src/, or undefined when it is at least as new as every source file. */
export function staleDist(root: string): string | undefined {
  const dist = join(root, 'dist')
  const missing = DIST_ENTRIES.filter((e) => !existsSync(join(dist, e)))
  if (missing.length > 0) return `dist/ is missing ${missing.map((e) => `dist/${e}`).join(', ')}: run npm run build (npm test does)`
  const built = Math.min(...DIST_ENTRIES.map((e) => statSync(join(dist, e)).mtimeMs))
  const newest = newestFile(join(root, 'src'))
  if (newest && newest.mtimeMs > built) return `dist/ is older than src/ (${relative(root, newest.path)} changed after the last build): run npm run build (npm test does)`
  return undefined
}

export default function setup(): void {
  const reason = staleDist(resolve(import.meta.dirname, '..', '..'))
  if (reason) throw new Error(reason)
}
