/**
 * The API reference (npm run docs, TypeDoc over the package entries) builds
 * with no warning, and every exported class, function and constant carries an
 * @example, every class and function but the error classes a @throws (issue 18).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const out = mkdtempSync(join(tmpdir(), 'envelope-typedoc-'))
const json = join(out, 'api.json')
// The same configuration as npm run docs (typedoc.json), writing to a scratch folder, with the model as JSON.
const run = spawnSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--treatWarningsAsErrors', '--out', join(out, 'html'), '--json', json], {
  cwd: root,
  encoding: 'utf8',
  timeout: 300_000,
  env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
})

interface Reflection {
  name: string
  kind: number
  comment?: { blockTags?: { tag: string }[] }
  signatures?: Reflection[]
  children?: Reflection[]
}
const KIND = { module: 2, variable: 32, function: 64, class: 128 }

describe('API reference', () => {
  it('npm run docs runs TypeDoc, which reports no warning', () => {
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.docs).toBe('typedoc')
    expect(run.stdout + run.stderr).not.toMatch(/\[warning\]|\[error\]/)
    expect(run.status).toBe(0)
  })

  it('documents every exported class, function and constant with @example, and classes and functions with @throws', () => {
    const model = JSON.parse(readFileSync(json, 'utf8')) as Reflection
    const missing: string[] = []
    const tagsOf = (r: Reflection) => (r.comment?.blockTags ?? []).map((t) => t.tag)
    for (const module of model.children ?? []) {
      expect(module.kind).toBe(KIND.module)
      for (const item of module.children ?? []) {
        const tags = item.kind === KIND.function ? tagsOf(item.signatures![0]!) : tagsOf(item)
        if (![KIND.class, KIND.function, KIND.variable].includes(item.kind)) continue
        if (!tags.includes('@example')) missing.push(`${module.name}.${item.name}: @example`)
        // The error classes are what the others throw: they say when they are thrown instead.
        const isErrorClass = item.kind === KIND.class && item.name.endsWith('Error')
        if (item.kind !== KIND.variable && !isErrorClass && !tags.includes('@throws')) missing.push(`${module.name}.${item.name}: @throws`)
      }
    }
    expect(missing).toEqual([])
  })
})
