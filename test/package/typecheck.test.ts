/**
 * `tsc --noEmit` over tsconfig.json (src, test, bench, examples): the type tests in test/types/ are
 * assertions that only the compiler checks, and a test file that no longer compiles against the
 * public types is an API break the runtime tests would not see.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

it('tsc --noEmit passes over src, tests (type tests included), bench and examples', () => {
  const result = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', join(root, 'tsconfig.json')], { cwd: root, encoding: 'utf8' })
  expect(result.stdout + result.stderr).toBe('')
  expect(result.status).toBe(0)
}, 300_000)
