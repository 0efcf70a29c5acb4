import { describe, expect, it } from 'vitest'
import { checkLegacyContextOrder, DecryptAads, encryptAad } from '../../src/keyrings/context-order.js'
import { encodeEncryptionContext } from '../../src/format/encryption-context.js'

const keysOf = (aad: Uint8Array): string[] => {
  const out: string[] = []
  const view = new DataView(aad.buffer, aad.byteOffset, aad.byteLength)
  for (let o = 2, n = view.getUint16(0), i = 0; i < n; i++) {
    const k = view.getUint16(o)
    out.push(new TextDecoder().decode(aad.subarray(o + 2, o + 2 + k)))
    o += 2 + k
    o += 2 + view.getUint16(o)
  }
  return out
}

describe('legacy context order', () => {
  it('accepts the three modes, defaulting to decrypt', () => {
    expect(checkLegacyContextOrder(undefined)).toBe('decrypt')
    for (const mode of ['decrypt', 'off', 'encrypt-and-decrypt'] as const) expect(checkLegacyContextOrder(mode)).toBe(mode)
    expect(() => checkLegacyContextOrder(true)).toThrow(TypeError)
  })

  it('adds the en-US order only when it differs from byte order, and never when off', () => {
    const mixed = { B: '1', a: '2', 'ä': '3' }
    const aads = new DecryptAads(mixed, 'decrypt')
    expect(keysOf(aads.canonical)).toEqual(['B', 'a', 'ä'])
    expect(aads.legacy.map(keysOf)[0]).toEqual(['a', 'ä', 'B'])
    expect(new DecryptAads(mixed, 'off').legacy).toEqual([])
    for (const same of [{}, { only: 'x' }, { a: '1', b: '2' }] as Record<string, string>[]) expect(new DecryptAads(same, 'decrypt').legacy).toEqual([])
  })

  it('writes byte order unless asked for the legacy order', () => {
    const context = { B: '1', a: '2' }
    expect(encryptAad(context, 'decrypt')).toEqual(encodeEncryptionContext(context))
    expect(encryptAad(context, 'off')).toEqual(encodeEncryptionContext(context))
    expect(keysOf(encryptAad(context, 'encrypt-and-decrypt'))).toEqual(['a', 'B'])
  })
})
