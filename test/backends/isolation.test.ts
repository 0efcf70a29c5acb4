/**
 * The web entry (src/entry/web.ts) must load in browsers: nothing it reaches
 * through value imports may import a Node built-in (type-only imports are
 * erased and do not count). And only src/crypto/ may import a crypto
 * implementation: @noble/* or node:crypto (spec/backends.md).
 */
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { builtinsReached, filesUnder as files, importGraph as graph, importsOf, SRC as src } from '../support/import-graph.js'

describe('runtime isolation', () => {
  it('src/entry/web.ts reaches no Node built-in', () => {
    const reached = graph(join(src, 'entry', 'web.ts'))
    expect(reached.has(join(src, 'crypto', 'noble.ts'))).toBe(true)
    expect(reached.has(join(src, 'crypto', 'node.ts'))).toBe(false)
    expect(reached.has(join(src, 'streams', 'node.ts'))).toBe(false)
    expect(builtinsReached(reached)).toEqual([])
  })

  it('the same walk from the Node entry does find node built-ins (so the check above can fail)', () => {
    const reached = graph(join(src, 'entry', 'node.ts'))
    expect([...reached.values()].flat()).toContain('node:stream')
    expect([...reached.values()].flat()).toContain('node:crypto')
  })

  it('the Node entry loads no pure-JS crypto at import (it lives in envelope-sdk/crypto), but the curve arithmetic the ECDH keyrings check keys with', () => {
    const bare = [...graph(join(src, 'entry', 'node.ts')).values()].flat()
    // crypto/ec.ts parses and validates ECDH keys at keyring construction, the same way on every backend
    // (spec/ecdh.md#keys); it is the one pure-JS module the Node entry loads. No cipher, hash or backend.
    expect([...new Set(bare.filter((s) => s.startsWith('@noble/')))]).toEqual(['@noble/curves/nist.js'])
  })

  it('only src/crypto/ imports @noble/* or node:crypto', () => {
    const offenders = files(src)
      .filter((f) => f.endsWith('.ts') && !f.startsWith(join(src, 'crypto') + '/') && !f.startsWith(join(src, 'cli') + '/') && !f.startsWith(join(src, 'testing') + '/'))
      .flatMap((f) => importsOf(f).filter((s) => s.startsWith('@noble/') || s === 'node:crypto').map((s) => `${relative(src, f)} -> ${s}`))
    expect(offenders).toEqual([])
  })
})
