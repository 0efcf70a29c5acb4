/**
 * Paths and loaders for the test vectors vendored in test-vectors/<set>.tar.gz (see
 * test-vectors/README.md). Each archive is checked against test-vectors/SHA256SUMS and unpacked once
 * into test-vectors/.cache/<set>-<sha256 prefix>/ (ignored by git); ENVELOPE_TEST_VECTORS (the public
 * set) and ENVELOPE_WYCHEPROOF_VECTORS override the locations with an unpacked folder.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const VENDORED = join(repo, 'test-vectors')
const CACHE = join(VENDORED, '.cache')

type VectorSet = 'public' | 'wycheproof'

/** The committed sha256 of each archive. */
function committedSums(): Map<string, string> {
  const sums = new Map<string, string>()
  for (const line of readFileSync(join(VENDORED, 'SHA256SUMS'), 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line)
    if (m) sums.set(m[2]!, m[1]!)
  }
  return sums
}

/** The regular files of a ustar archive (the format scripts/vendor-vectors.mjs writes). */
export function* tarEntries(tar: Uint8Array): Generator<{ path: string; bytes: Uint8Array }> {
  const text = (start: number, length: number) => Buffer.from(tar.subarray(start, start + length)).toString('utf8').replace(/\0.*$/s, '')
  for (let offset = 0; offset + 512 <= tar.length; ) {
    if (tar.subarray(offset, offset + 512).every((byte) => byte === 0)) return
    const name = text(offset, 100)
    const prefix = text(offset + 345, 155)
    const size = Number.parseInt(text(offset + 124, 12).trim() || '0', 8)
    const type = tar[offset + 156]
    const path = prefix ? `${prefix}/${name}` : name
    const start = offset + 512
    if (!Number.isSafeInteger(size) || start + size > tar.length) throw new Error(`truncated tar entry ${path}`)
    if (type === 0x30 || type === 0) {
      if (path.startsWith('/') || path.split('/').includes('..')) throw new Error(`unsafe tar path ${path}`)
      yield { path, bytes: tar.subarray(start, start + size) }
    }
    offset = start + Math.ceil(size / 512) * 512
  }
}

/**
 * Unpacks one archive unless this exact archive already was. Safe when several test workers race:
 * each unpacks into its own temporary folder and renames it into place; a loser drops its copy.
 */
export function unpackVendored(set: VectorSet): string {
  const sha = committedSums().get(`${set}.tar.gz`)
  if (!sha) throw new Error(`test-vectors/SHA256SUMS lists no ${set}.tar.gz`)
  const target = join(CACHE, `${set}-${sha.slice(0, 16)}`)
  if (existsSync(target)) return join(target, set)
  const archive = readFileSync(join(VENDORED, `${set}.tar.gz`))
  const actual = createHash('sha256').update(archive).digest('hex')
  if (actual !== sha) throw new Error(`test-vectors/${set}.tar.gz has sha256 ${actual}, SHA256SUMS says ${sha}`)
  const temporary = join(CACHE, `.tmp-${set}-${process.pid}-${randomBytes(4).toString('hex')}`)
  for (const { path, bytes } of tarEntries(gunzipSync(archive))) {
    mkdirSync(dirname(join(temporary, path)), { recursive: true })
    writeFileSync(join(temporary, path), bytes)
  }
  try {
    renameSync(temporary, target)
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true })
    if (!existsSync(target)) throw error
  }
  // Unpacked copies of older archives of this set are no longer referenced.
  for (const old of readdirSync(CACHE)) if (old.startsWith(`${set}-`) && join(CACHE, old) !== target) rmSync(join(CACHE, old), { recursive: true, force: true })
  return join(target, set)
}

const locate = (set: VectorSet, override: string | undefined): string => (override ? resolve(override) : unpackVendored(set))

export const PUBLIC_VECTORS = locate('public', process.env.ENVELOPE_TEST_VECTORS)
export const WYCHEPROOF_VECTORS = locate('wycheproof', process.env.ENVELOPE_WYCHEPROOF_VECTORS)

export function readVectorJson<T = any>(...path: string[]): T {
  return JSON.parse(readFileSync(join(PUBLIC_VECTORS, ...path), 'utf8')) as T
}


/**
 * The public awses-decrypt manifests and how many tests each holds (counts from
 * test-vectors/README.md), run by test/vectors and test/backends.
 */
export const PUBLIC_DECRYPT_MANIFESTS = [
  ['awses-legacy-python-1.3.0/manifest.offline.json', 900],
  ['dafny-esdk-4.1.0-via-c/decrypt-manifest.offline.json', 187],
  ['esdk-net-4.0.1/manifest.offline.json', 99],
  ['esdk-net-4.0.0-valid/manifest.offline.json', 5],
  ['esdk-net-4.0.0-invalid/manifest.expect-failure.json', 28],
] as const
