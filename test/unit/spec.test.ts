/** The spec is part of the contract: every citation in src/ resolves, every error code is documented. */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/errors.js'

const root = join(import.meta.dirname, '..', '..')

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')
}

function anchorsOf(specFile: string): Set<string> {
  const text = readFileSync(join(root, 'spec', specFile), 'utf8')
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)))
}

describe('spec/', () => {
  const citations = new Set<string>()
  for (const file of files(join(root, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/spec\/([a-z-]+\.md)(#[a-z0-9-]+)?/g)) citations.add(m[0])
  }

  it('has every file and heading that src/ cites', () => {
    expect(citations.size).toBeGreaterThan(20)
    const missing = [...citations].filter((c) => {
      const [file, anchor] = c.slice('spec/'.length).split('#')
      try {
        return anchor !== undefined && !anchorsOf(file!).has(anchor)
      } catch {
        return true
      }
    })
    expect(missing).toEqual([])
  })

  it('documents every error code', () => {
    const table = readFileSync(join(root, 'spec', 'errors.md'), 'utf8')
    expect(ERROR_CODES.filter((code) => !table.includes(`| \`${code}\` |`))).toEqual([])
  })
})
