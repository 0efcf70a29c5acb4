/**
 * Where a manifest's files come from: a directory, or a .zip of the published
 * layout. `file://` URIs in manifests are relative to the manifest's folder.
 */
import { readFile } from 'node:fs/promises'
import { dirname, join, posix, resolve } from 'node:path'
import { ZipArchive, type ZipLimits } from './zip.js'

export interface ManifestSource {
  /** Display name of the manifest (its path). */
  readonly name: string
  readonly manifest: any
  /** Reads a `file://` URI relative to the manifest. */
  read(uri: string): Promise<Uint8Array>
  /** The JSON file at `uri`, relative to the manifest. */
  readJson(uri: string): Promise<any>
}

function relativePath(uri: string): string {
  if (!uri.startsWith('file://')) throw new Error(`only file:// URIs are supported, got ${JSON.stringify(uri)}`)
  return uri.slice('file://'.length)
}

const MANIFEST_NAMES = ['manifest.json', 'decrypt_message.json']

/**
 * `limits` bound what a .zip manifest may inflate to (zip.ts); a directory needs none.
 * @example
 * ```ts
 * const source = await openManifest('vectors.zip')
 * ```
 * @throws {LimitError} a zip entry or the archive inflating past the limits
 * @throws {Error} a missing or unreadable manifest.
 */
export async function openManifest(path: string, limits: ZipLimits = {}): Promise<ManifestSource> {
  const full = resolve(path)
  if (full.endsWith('.zip')) {
    const zip = new ZipArchive(await readFile(full), limits)
    const names = zip.names()
    // The shallowest manifest.json wins: published zips hold it at the top or in one folder.
    const manifestName = names.filter((n) => MANIFEST_NAMES.includes(posix.basename(n))).sort((a, b) => a.length - b.length)[0]
    if (!manifestName) throw new Error(`${path}: no manifest.json in the archive`)
    const base = posix.dirname(manifestName)
    const read = async (uri: string) => {
      const entry = posix.normalize(posix.join(base === '.' ? '' : base, relativePath(uri)))
      const bytes = zip.read(entry)
      if (!bytes) throw new Error(`${path}: ${entry} is not in the archive`)
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    }
    const manifest = JSON.parse(zip.read(manifestName)!.toString('utf8'))
    return { name: path, manifest, read, readJson: async (uri) => JSON.parse(new TextDecoder().decode(await read(uri))) }
  }
  const base = dirname(full)
  const read = async (uri: string) => new Uint8Array(await readFile(join(base, relativePath(uri))))
  const manifest = JSON.parse(await readFile(full, 'utf8'))
  return { name: path, manifest, read, readJson: async (uri) => JSON.parse(new TextDecoder().decode(await read(uri))) }
}
