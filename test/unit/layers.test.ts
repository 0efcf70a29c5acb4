/**
 * The layer order of src/ (spec/README.md#layers): each layer imports only the
 * layers below it, types included, and only crypto/ (plus the local KMS server)
 * touches cryptography. crypto/ imports only the bottom row, except that the
 * frame worker's run uses the one frame codec in format/.
 */
import { readFileSync } from 'node:fs'
import { dirname, relative, resolve, sep } from 'node:path'
import { describe, expect, it } from 'vitest'
import { allImportsOf, filesUnder, SRC } from '../support/import-graph.js'

/**
 * Bottom to top, as issue 19 and spec/README.md#layers read it. errors.ts,
 * encoding.ts and algorithms.ts (the curve and hash facts that the suite table
 * and the backends both read) and options.ts (the strict options check every
 * public constructor runs, crypto/'s FramePool included) are single modules
 * below everything. Layers on
 * one row may not import each other.
 */
const ORDER: readonly (readonly string[])[] = [
  ['errors', 'encoding', 'algorithms', 'options'],
  ['format'],
  ['crypto'],
  ['materials'],
  // nitro/: attestation document verification (envelope-sdk/nitro, the local KMS server); keyrings never need it.
  ['keyrings', 'nitro'],
  ['caching'],
  ['core'],
  ['streams'],
  ['client'],
  ['entry'],
  ['index'],
  ['runner', 'testing'],
  ['cli'],
]
const RANK = new Map(ORDER.flatMap((row, rank) => row.map((layer) => [layer, rank] as const)))

/** Outside crypto/, only these files may use cryptography, by name: local stand-ins for a cloud service (the KMS server, its asymmetric keys and attestation checks, the simulated Nitro enclave). */
const CRYPTO_ALLOWED = new Set(['testing/kms-server.ts', 'testing/kms-asymmetric.ts', 'testing/kms-attestation.ts', 'testing/enclave.ts'])

const SOURCES = filesUnder(SRC).filter((f) => f.endsWith('.ts'))

/** A src/ path's layer: its top folder, or the module name of a file at the root. */
function layerOf(file: string): string {
  const path = relative(SRC, file)
  return path.includes(sep) ? path.split(sep)[0]! : path.replace(/\.ts$/, '')
}

/** `from -> to` for every import that points at a layer not below the importer's. */
function wrongWayImports(files: readonly string[]): string[] {
  return files.flatMap((file) => {
    const from = layerOf(file)
    return allImportsOf(file)
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')))
      .filter((target) => {
        const to = layerOf(target)
        return to !== from && !(RANK.get(to)! < RANK.get(from)!)
      })
      .map((target) => `${relative(SRC, file)} -> ${relative(SRC, target)}`)
  })
}

/** Code without comments, so prose about crypto.subtle does not count. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

const CRYPTO_SPECIFIER = /^(?:node:crypto|crypto|@noble\/)/
const CRYPTO_GLOBAL = /\b(?:globalThis\.crypto|crypto\.subtle|crypto\.getRandomValues|crypto\.randomUUID|self\.crypto|window\.crypto)\b/

function usesCryptography(file: string): boolean {
  return allImportsOf(file).some((s) => CRYPTO_SPECIFIER.test(s)) || CRYPTO_GLOBAL.test(code(file))
}

describe('layers', () => {
  it('every source file belongs to a layer in the order', () => {
    expect(SOURCES.map(layerOf).filter((layer) => !RANK.has(layer))).toEqual([])
  })

  it('no layer imports one above it or beside it', () => {
    expect(wrongWayImports(SOURCES)).toEqual([])
  })

  /** Project imports of crypto/ files, as `file -> target` relative to src/. */
  const cryptoImports = SOURCES.filter((f) => layerOf(f) === 'crypto').flatMap((f) =>
    allImportsOf(f)
      .filter((s) => s.startsWith('../'))
      .map((s) => `${relative(SRC, f).split(sep).join('/')} -> ${relative(SRC, resolve(dirname(f), s)).split(sep).join('/')}`),
  )

  it('crypto/ imports nothing from the project but the bottom row (errors, encoding, algorithm facts, strict options)', () => {
    const targets = cryptoImports.filter((edge) => !edge.startsWith('crypto/frame-run.ts ')).map((edge) => edge.split(' -> ')[1])
    expect([...new Set(targets)].sort()).toEqual(['algorithms.js', 'encoding.js', 'errors.js', 'options.js'])
  })

  it('the one exception is the frame worker\'s run, which lays frames out with the frame codec: the layout lives in format/frame.ts only (issue 19)', () => {
    const edges = cryptoImports.filter((edge) => edge.startsWith('crypto/frame-run.ts '))
    expect(edges.sort()).toEqual(['crypto/frame-run.ts -> format/constants.js', 'crypto/frame-run.ts -> format/frame.js'])
  })

  it('only crypto/ and the named local servers use cryptography', () => {
    const users = SOURCES.filter(usesCryptography).map((f) => relative(SRC, f).split(sep).join('/'))
    expect(users.filter((f) => !f.startsWith('crypto/') && !CRYPTO_ALLOWED.has(f))).toEqual([])
    // The check sees what it should: the backends and the server are found.
    expect(users).toEqual(expect.arrayContaining(['crypto/node.ts', 'crypto/noble.ts', 'crypto/webcrypto.ts', 'testing/kms-server.ts']))
  })
})
