/**
 * bench/run.mjs refuses what it does not know (a case, a suite, a size, an option) by name, before it
 * loads or measures anything: one line on stderr, no stack trace, exit 1.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const bench = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bench', 'run.mjs'), ...args, '--no-write'], { cwd: root, encoding: 'utf8' })

function expectRefused(result: ReturnType<typeof bench>, message: string) {
  expect(result.status).toBe(1)
  expect(result.stderr).toContain(message)
  expect(result.stderr).not.toMatch(/^\s+at /m)
  expect(result.stdout).toBe('')
}

it.each(['nope', 'toString', 'constructor'])('--case %s is an unknown case', (name) => {
  expectRefused(bench('--case', name), `bench: unknown case ${name}; known: frames, goals, small,`)
})

it.each(['0x9999', 'banana', '0x0078'])('--suites %s is a suite the bench does not run', (suite) => {
  expectRefused(bench('--case', 'goals', '--suites', suite), `bench: not a suite the bench runs: ${suite}; known: 0x0178, 0x0478, 0x0578`)
})

it('--sizes 1Q is not a byte size', () => {
  expectRefused(bench('--sizes', '1Q'), 'bench: not a byte size: 1Q')
})

it('an unknown option is refused', () => {
  expectRefused(bench('--bogus'), "bench: Unknown option '--bogus'")
})
