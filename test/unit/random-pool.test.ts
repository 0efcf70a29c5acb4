/**
 * The node backend's random pool never holds key material (issue 14 item 16):
 * data keys are drawn by a call of their own, message ids and IVs may come
 * from the pool (spec/backends.md#random). Every randomFillSync is recorded.
 */
import { describe, expect, it, vi } from 'vitest'

/** Every randomFillSync of this file's tests, in order. */
const fills: Uint8Array[] = []
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>()
  return {
    ...original,
    randomFillSync: ((buffer: NodeJS.ArrayBufferView, offset?: number, size?: number) => {
      const out = original.randomFillSync(buffer, offset, size)
      fills.push(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength).slice())
      return out
    }) as typeof original.randomFillSync,
  }
})

const { createClient, RawAesKeyring, RawRsaKeyring, DefaultCmm } = await import('../../src/index.js')
const { rsaKeyPair } = await import('../support/keys.js')

/** Whether `needle` occurs in `haystack`. */
function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1
}

describe('node backend: data keys are not drawn from the random pool', () => {
  it.each([
    ['RawAesKeyring', () => new RawAesKeyring({ keyNamespace: 'ns', keyName: 'k', wrappingKey: new Uint8Array(32).fill(1) })],
    ['RawRsaKeyring', () => new RawRsaKeyring({ keyNamespace: 'ns', keyName: 'k', padding: 'oaep-sha256', ...rsaKeyPair() })],
  ] as const)('%s', async (_name, make) => {
    const dataKeys: Uint8Array[] = []
    const cmm = new DefaultCmm(make())
    const capturing = {
      async getEncryptionMaterials(...args: Parameters<typeof cmm.getEncryptionMaterials>) {
        const materials = await cmm.getEncryptionMaterials(...args)
        dataKeys.push(materials.plaintextDataKey!.slice())
        return materials
      },
      decryptMaterials: cmm.decryptMaterials.bind(cmm),
    }
    const client = createClient()
    // Several messages, so later keys would be in a pool filled for earlier ones.
    for (let i = 0; i < 4; i++) await client.encrypt(capturing, 'x', { suiteId: 0x0478 })
    expect(dataKeys).toHaveLength(4)
    const pooled = fills.filter((f) => f.length > 32)
    expect(pooled.length, 'the message ids still come from the pool').toBeGreaterThan(0)
    for (const key of dataKeys) {
      expect(fills.some((f) => f.length === key.length && contains(f, key))).toBe(true)
      expect(pooled.some((f) => contains(f, key))).toBe(false)
    }
  })
})
