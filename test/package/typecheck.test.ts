/**
 * `tsc --noEmit` over tsconfig.json (src, test, bench, examples): the type tests in test/types/ are
 * assertions that only the compiler checks, and a test file that no longer compiles against the
 * public types is an API break the runtime tests would not see. The plain-JavaScript files (examples,
 * bench, scripts, test helpers: `.mjs`) are checked by tsconfig.js.json against the built dist/.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const tsc = (project: string) => spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', join(root, project)], { cwd: root, encoding: 'utf8' })

it('tsc --noEmit passes over src, tests (type tests included), bench and examples', () => {
  const result = tsc('tsconfig.json')
  expect(result.stdout + result.stderr).toBe('')
  expect(result.status).toBe(0)
}, 300_000)

it('every .mjs file opts in to type checking with // @ts-check, and tsc passes over them (tsconfig.js.json)', () => {
  const files = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.mjs'], { cwd: root, encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
  expect(files).toContain('examples/quickstart.mjs')
  const optedIn = (file: string) => /^(#!.*\n)?\/\/ @ts-check\n/.test(readFileSync(join(root, file), 'utf8'))
  expect(files.filter((f) => !optedIn(f))).toEqual([])
  const result = tsc('tsconfig.js.json')
  expect(result.stdout + result.stderr).toBe('')
  expect(result.status).toBe(0)
}, 300_000)
