/** bench/run.mjs refuses a case it does not have, by name, before it loads or measures anything. */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

it.each(['nope', 'toString', 'constructor'])('--case %s is an unknown case', (name) => {
  const result = spawnSync(process.execPath, [join(root, 'bench', 'run.mjs'), '--case', name, '--no-write'], { cwd: root, encoding: 'utf8' })
  expect(result.status).toBe(1)
  expect(result.stderr).toContain(`unknown case ${name}; known: frames, small,`)
  expect(result.stdout).toBe('')
})
