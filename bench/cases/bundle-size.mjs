// @ts-check
/**
 * Bundle size of an encrypt-only and a decrypt-only browser build with a raw
 * AES keyring: esbuild, platform browser, minified, then gzip -9.
 *
 * The build first runs strictly (no Node built-in may be reached). When that
 * fails, the row records which built-ins the bundle still needs and from which
 * source files, and the size is measured again with those left external, so
 * the figure is still tracked until a browser backend removes the need.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { gzipSync } from 'node:zlib'
import { ROOT, TMP } from '../contenders.mjs'

/** The browser entry once it exists, else the shared one. */
function browserEntry() {
  for (const candidate of ['src/entry/web.ts', 'src/web.ts', 'src/index.ts']) if (existsSync(join(ROOT, candidate))) return join(ROOT, candidate)
  throw new Error('no entry found')
}

/** @type {Record<string, (entry: string) => string>} */
const PROGRAMS = {
  'encrypt-only': (entry) => `import { createClient, RawAesKeyring } from ${JSON.stringify(entry)}
export async function encrypt(wrappingKey, plaintext, encryptionContext) {
  const keyring = new RawAesKeyring({ keyNamespace: 'app', keyName: 'key-1', wrappingKey })
  return (await createClient().encrypt(keyring, plaintext, { encryptionContext })).ciphertext
}
`,
  'decrypt-only': (entry) => `import { createClient, RawAesKeyring } from ${JSON.stringify(entry)}
export async function decrypt(wrappingKey, ciphertext, encryptionContext) {
  const keyring = new RawAesKeyring({ keyNamespace: 'app', keyName: 'key-1', wrappingKey })
  return (await createClient().decrypt(keyring, ciphertext, { encryptionContext })).plaintext
}
`,
}

/**
 * @param {typeof import('esbuild').build} build
 * @param {string} entryFile
 * @param {string[]} external
 */
async function bundle(build, entryFile, external) {
  const result = await build({
    entryPoints: [entryFile],
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    // The KMS SDK is loaded lazily by the KMS keyrings; a raw AES app never fetches it.
    external: ['@aws-sdk/*', ...external],
    logLevel: 'silent',
  })
  return result
}

/**
 * Node built-ins the bundle imports, each with the source files that import it.
 * @param {import('esbuild').Metafile} metafile
 */
function nodeImports(metafile) {
  /** @type {Record<string, string[]>} */
  const needs = {}
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const imp of input.imports) {
      if (imp.external && (imp.path.startsWith('node:') || /^(crypto|stream|buffer|util|fs|path)$/.test(imp.path))) {
        ;(needs[imp.path] ??= []).push(file)
      }
    }
  }
  return needs
}

/**
 * One browser program: its sizes in bytes, and the node: modules it still imports (by the files that import them).
 * @typedef {{ case: 'bundle', program: string, entry: string, browserReady: boolean, minified: number, gzip: number, needs: Record<string, string[]>, errors: string[], kmsSdkBundled: boolean }} Row
 */

/**
 * @param {import('../harness.mjs').CaseOptions} options
 * @returns {Promise<Row[]>}
 */
export async function run({ log }) {
  const { build } = await import('esbuild')
  mkdirSync(TMP, { recursive: true })
  const entry = browserEntry()
  /** @type {Row[]} */
  const rows = []
  for (const [name, program] of Object.entries(PROGRAMS)) {
    const entryFile = join(TMP, `bundle-${name}.mjs`)
    writeFileSync(entryFile, program(entry))
    let browserReady = true
    /** @type {string[]} */
    let errors = []
    let result
    try {
      result = await bundle(build, entryFile, [])
    } catch (e) {
      browserReady = false
      const { errors: messages = [] } = /** @type {{ errors?: import('esbuild').Message[] }} */ (e)
      errors = messages.map((x) => `${x.text}${x.location ? ` (${x.location.file})` : ''}`)
      result = await bundle(build, entryFile, ['node:*'])
    }
    const [output] = result.outputFiles
    if (!output) throw new Error(`bundle ${name}: esbuild wrote no output`)
    const code = output.contents
    const needs = nodeImports(result.metafile)
    /** @type {Row} */
    const row = {
      case: 'bundle',
      program: name,
      entry: relative(ROOT, entry),
      browserReady,
      minified: code.length,
      gzip: gzipSync(code, { level: 9 }).length,
      needs,
      errors: errors.slice(0, 5),
      kmsSdkBundled: Object.keys(result.metafile.inputs).some((f) => f.includes('@aws-sdk')),
    }
    rows.push(row)
    const need = Object.entries(needs).map(([m, files]) => `${m} (from ${files.map((f) => relative(ROOT, join(ROOT, f))).join(', ')})`)
    log(`bundle ${name}: ${(row.minified / 1024).toFixed(1)} KiB minified, ${(row.gzip / 1024).toFixed(1)} KiB gzip; ${browserReady ? 'browser-ready' : `NOT browser-ready, needs ${need.join('; ')}`}`)
  }
  return rows
}
