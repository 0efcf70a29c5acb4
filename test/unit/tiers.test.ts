/**
 * The fast tier stays an edit-test loop (issue 19, spec/conformance.md#test-tiers): no fast test file
 * starts a child process, directly or through the test modules it imports; that work belongs to the
 * conformance project (test/support/tiers.ts). And a fast file that mocks a module or replaces
 * process-wide state runs with modules of its own, not in the shared `fast` project.
 */
import { readFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { filesUnder, importGraph } from '../support/import-graph.js'
import { CONFORMANCE, ISOLATED, SAMPLED_IN_FAST } from '../support/tiers.js'

const ROOT = resolve(import.meta.dirname, '..', '..')
const FOLDER = /^(test\/[\w/-]+)\/\*\*\/\*\.test\.ts$/

/** Whether `file` (relative to the repository) is matched by one of the tier list's entries. */
function listed(file: string, entries: readonly string[]): boolean {
  return entries.some((entry) => {
    const folder = FOLDER.exec(entry)?.[1]
    return folder ? file.startsWith(`${folder}/`) : file === entry
  })
}

const testFiles = filesUnder(resolve(ROOT, 'test'))
  .map((file) => relative(ROOT, file))
  .filter((file) => file.endsWith('.test.ts'))
const fast = testFiles.filter((file) => !listed(file, CONFORMANCE))

describe('test tiers', () => {
  it('list entries are single files or whole folders, and each matches a test file', () => {
    for (const entry of [...CONFORMANCE, ...SAMPLED_IN_FAST, ...ISOLATED]) {
      expect(FOLDER.test(entry) || entry.endsWith('.test.ts'), entry).toBe(true)
      expect(testFiles.some((file) => listed(file, [entry])), entry).toBe(true)
    }
    // The sampled files run in both projects, so conformance must not list them too.
    for (const file of [...SAMPLED_IN_FAST, ...ISOLATED]) expect(listed(file, CONFORMANCE), file).toBe(false)
  })

  it('fast files that mock modules or replace process-wide state are isolated', () => {
    const needing = fast.filter((file) => /\bvi\.(?:do)?[mM]ock\(/.test(readFileSync(resolve(ROOT, file), 'utf8')))
    expect(needing.filter((file) => !ISOLATED.includes(file))).toEqual([])
  })

  it('no fast test file reaches node:child_process', () => {
    expect(fast.length).toBeGreaterThan(0)
    const spawning = fast.flatMap((file) =>
      [...importGraph(resolve(ROOT, file))]
        .filter(([, bare]) => bare.some((s) => s === 'node:child_process' || s === 'child_process'))
        .map(([module]) => `${file} -> ${relative(ROOT, module)}`),
    )
    expect(spawning).toEqual([])
  })
})
