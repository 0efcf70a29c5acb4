/**
 * Zip bombs handed to the conformance runner (spec/conformance.md#zip-limits):
 * archives built here with node:zlib, honest and lying about their sizes.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createClient, LimitError, RawAesKeyring } from '../../src/index.js'
import { openManifest, runDecryptManifest } from '../../src/runner/index.js'
import { ZipArchive } from '../../src/runner/zip.js'
import { buildZip } from '../support/zip.js'

const MiB = 1024 * 1024

const zeros = (n: number) => Buffer.alloc(n)

function expectLimit(run: () => unknown, limit: string, max: number): LimitError {
  let error: unknown
  try {
    run()
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(LimitError)
  const e = error as LimitError
  expect(e.code).toBe('ERR_LIMIT_EXCEEDED')
  expect(e.limit).toBe(limit)
  expect(e.max).toBe(max)
  return e
}

describe('ZipArchive limits', () => {
  // 64 MiB of zeros deflate to about 64 KiB.
  const bomb = zeros(64 * MiB)

  it('refuses an entry whose header declares more than maxZipEntrySize, before inflating', () => {
    const zip = new ZipArchive(buildZip([{ name: 'bomb.bin', data: bomb }]), { maxZipEntrySize: MiB })
    const e = expectLimit(() => zip.read('bomb.bin'), 'maxZipEntrySize', MiB)
    expect(e.value).toBe(64 * MiB)
    expect(e.message).toContain('as declared')
  })

  it('stops inflating at the limit when the headers understate the size', () => {
    const archive = buildZip([{ name: 'bomb.bin', data: bomb, declaredSize: 1000 }])
    expect(archive.length).toBeLessThan(MiB / 4)
    const e = expectLimit(() => new ZipArchive(archive, { maxZipEntrySize: MiB }).read('bomb.bin'), 'maxZipEntrySize', MiB)
    expect(e.message).toContain('inflating stopped there')
    // A stored entry that lies is held to the same bound on its actual bytes.
    const stored = new ZipArchive(buildZip([{ name: 's.bin', data: zeros(2 * MiB), method: 0, declaredSize: 10 }]), { maxZipEntrySize: MiB })
    expect(expectLimit(() => stored.read('s.bin'), 'maxZipEntrySize', MiB).value).toBe(2 * MiB)
  })

  it('applies the 64 MiB default per entry on the bytes inflated', () => {
    const zip = new ZipArchive(buildZip([{ name: 'bomb.bin', data: zeros(64 * MiB + 1), declaredSize: 1 }]))
    expectLimit(() => zip.read('bomb.bin'), 'maxZipEntrySize', 64 * MiB)
  })

  it('bounds the bytes inflated from one archive in total, a re-read entry counting again', () => {
    const data = randomBytes(600 * 1024)
    const zip = new ZipArchive(buildZip([{ name: 'a', data }, { name: 'b', data }]), { maxZipEntrySize: MiB, maxZipTotalSize: 1.5 * MiB })
    expect(zip.read('a')!.equals(data)).toBe(true)
    expect(zip.read('b')!.equals(data)).toBe(true)
    const e = expectLimit(() => zip.read('a'), 'maxZipTotalSize', 1.5 * MiB)
    expect(e.value).toBe(3 * 600 * 1024)
  })

  it('counts actual bytes toward the total when headers understate them', () => {
    const zip = new ZipArchive(buildZip([{ name: 'a', data: zeros(900 * 1024) }, { name: 'b', data: zeros(900 * 1024), declaredSize: 1 }]), {
      maxZipEntrySize: MiB,
      maxZipTotalSize: 1.5 * MiB,
    })
    zip.read('a')
    expect(expectLimit(() => zip.read('b'), 'maxZipTotalSize', 1.5 * MiB).message).toContain('inflating stopped there')
  })

  it('rejects limits that are not positive whole numbers', () => {
    const archive = buildZip([{ name: 'a', data: zeros(1) }])
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new ZipArchive(archive, { maxZipEntrySize: bad })).toThrow(RangeError)
      expect(() => new ZipArchive(archive, { maxZipTotalSize: bad })).toThrow(RangeError)
    }
  })
})

describe('runner on a zip bomb', () => {
  const dir = mkdtempSync(join(tmpdir(), 'envelope-zip-'))
  const keyId = 'aes-256'
  const material = randomBytes(32)
  const keys = { manifest: { type: 'keys', version: 3 }, keys: { [keyId]: { type: 'symmetric', algorithm: 'aes', bits: 256, encoding: 'base64', material: material.toString('base64'), 'key-id': keyId } } }
  const masterKeys = [{ type: 'raw', key: keyId, 'provider-id': 'zip-test', 'encryption-algorithm': 'aes' }]
  const manifest = (tests: Record<string, object>) => Buffer.from(JSON.stringify({ manifest: { type: 'awses-decrypt', version: 2 }, keys: 'file://keys.json', tests }))

  it('a bomb among the test files fails that test with the limit, and the others run', async () => {
    const keyring = new RawAesKeyring({ keyNamespace: 'zip-test', keyName: keyId, wrappingKey: new Uint8Array(material) })
    const { ciphertext } = await createClient().encrypt(keyring, 'inside the zip')
    const path = join(dir, 'mixed.zip')
    const test = (ct: string) => ({ ciphertext: `file://${ct}`, 'master-keys': masterKeys, result: { output: { plaintext: 'file://plain' } } })
    writeFileSync(
      path,
      buildZip([
        { name: 'manifest.json', data: manifest({ good: test('good.ct'), bomb: test('bomb.ct') }) },
        { name: 'keys.json', data: Buffer.from(JSON.stringify(keys)) },
        { name: 'plain', data: Buffer.from('inside the zip') },
        { name: 'good.ct', data: Buffer.from(ciphertext) },
        { name: 'bomb.ct', data: zeros(16 * MiB), declaredSize: ciphertext.length },
      ]),
    )
    const results = await runDecryptManifest(path, { maxZipEntrySize: MiB })
    expect(results.find((r) => r.id === 'good')).toEqual({ id: 'good', status: 'passed' })
    const bomb = results.find((r) => r.id === 'bomb')!
    expect(bomb.status).toBe('failed')
    expect(bomb.reason).toMatch(/maxZipEntrySize exceeded: \d+ > 1048576/)
  })

  it('a bomb in the manifest itself, or an archive past its total, rejects the run with the LimitError', async () => {
    const path = join(dir, 'manifest-bomb.zip')
    writeFileSync(path, buildZip([{ name: 'manifest.json', data: zeros(16 * MiB), declaredSize: 2 }]))
    await expect(runDecryptManifest(path, { maxZipEntrySize: MiB })).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxZipEntrySize' })
    await expect(openManifest(path, { maxZipEntrySize: MiB })).rejects.toBeInstanceOf(LimitError)

    const many = join(dir, 'many.zip')
    const tests = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`t${i}`, { ciphertext: 'file://big', 'master-keys': masterKeys, result: { output: { plaintext: 'file://big' } } }]))
    writeFileSync(
      many,
      buildZip([
        { name: 'manifest.json', data: manifest(tests) },
        { name: 'keys.json', data: Buffer.from(JSON.stringify(keys)) },
        { name: 'big', data: zeros(MiB - 1) },
      ]),
    )
    await expect(runDecryptManifest(many, { maxZipEntrySize: MiB, maxZipTotalSize: 4 * MiB, concurrency: 1 })).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxZipTotalSize' })
  })
})
