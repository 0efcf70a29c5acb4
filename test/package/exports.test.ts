/**
 * The published shape (spec/backends.md#selection): publint and
 * @arethetypeswrong/cli on the packed package, the `exports` conditions
 * picking the Node or the web build, and the web build reaching no Node
 * built-in and no KMS SDK at import. Runs on dist/ (npm test builds first).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const bin = (name: string) => join(root, 'node_modules', '.bin', name)

function run(command: string, args: string[]) {
  return spawnSync(command, args, { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })
}

const NODE_BUILTIN = /(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](?:node:[a-z_/]+|(?:stream|crypto|buffer|fs|path|util|zlib|worker_threads|child_process|os|events|module)(?:\/[a-z]+)?)["']/

describe('package', () => {
  it('is built', () => {
    expect(existsSync(join(root, 'dist', 'web', 'index.js')), 'build first (npm test does)').toBe(true)
  })

  it('passes publint', () => {
    const result = run(bin('publint'), [])
    expect(result.status, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toContain('All good!')
  })

  it('passes @arethetypeswrong/cli on the packed tarball', () => {
    // Packed without lifecycle scripts: prepack would delete and rebuild dist/ under the other test files reading it.
    const out = mkdtempSync(join(tmpdir(), 'envelope-pack-'))
    try {
      const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out])
      expect(pack.status, pack.stdout + pack.stderr).toBe(0)
      const [packed] = JSON.parse(pack.stdout) as { filename: string }[]
      const result = run(bin('attw'), [join(out, packed!.filename)])
      expect(result.status, result.stdout + result.stderr).toBe(0)
      expect(result.stdout).toContain('No problems found')
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  }, 300_000)

  it('the web build imports no Node built-in and no KMS SDK statically', () => {
    const built = files(join(root, 'dist', 'web')).filter((f) => /\.(c?js)$/.test(f))
    expect(built.length).toBeGreaterThan(3)
    for (const file of built) {
      const text = readFileSync(file, 'utf8')
      expect(NODE_BUILTIN.test(text), file).toBe(false)
      expect(/from\s*["']@aws-sdk\/client-kms["']|require\(["']@aws-sdk\/client-kms["']\)/.test(text), file).toBe(false)
    }
    // Control: the Node build does import node built-ins, so the pattern can match.
    expect(files(join(root, 'dist')).some((f) => f.endsWith('.js') && !f.includes(`${join('dist', 'web')}`) && NODE_BUILTIN.test(readFileSync(f, 'utf8')))).toBe(true)
  })

  const probe = `const m = await import('envelope-sdk'); const b = await import('envelope-sdk/crypto'); const c = m.createClient();
    console.log(JSON.stringify({ node: typeof b.nodeBackend, encryptStream: typeof c.encryptStream, web: typeof c.encryptWebStream, noble: typeof b.nobleBackend, rootBackends: typeof m.nodeBackend + typeof m.nobleBackend }))`

  it.each([
    ['node (default in Node)', [], { node: 'object', encryptStream: 'function', web: 'function', noble: 'object', rootBackends: 'undefinedundefined' }],
    ['browser', ['--conditions=browser'], { node: 'undefined', encryptStream: 'undefined', web: 'function', noble: 'object', rootBackends: 'undefinedundefined' }],
    ['worker', ['--conditions=worker'], { node: 'undefined', encryptStream: 'undefined', web: 'function', noble: 'object', rootBackends: 'undefinedundefined' }],
  ] as const)('the %s condition resolves to its build', (_name, flags, expected) => {
    const result = run(process.execPath, [...flags, '--input-type=module', '-e', probe])
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual(expected)
  })

  it('`.` exports the same names from the Node and the web build, ESM and CommonJS; a client differs only by the Node streams', () => {
    const file = (...parts: string[]) => JSON.stringify(join(root, 'dist', ...parts))
    const script = `
      const names = (m) => Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort()
      const methods = (client) => Object.keys(client).sort()
      Promise.all([import(${file('index.js')}), import(${file('web', 'index.js')})]).then(([node, web]) => {
        const nodeCjs = require(${file('index.cjs')})
        const webCjs = require(${file('web', 'index.cjs')})
        console.log(JSON.stringify({
          names: [names(node), names(web), names(nodeCjs), names(webCjs)],
          clients: [methods(node.createClient()), methods(web.createClient()), methods(nodeCjs.createClient()), methods(webCjs.createClient())],
        }))
      })`
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    expect(result.stderr).toBe('')
    const { names, clients } = JSON.parse(result.stdout) as { names: string[][]; clients: string[][] }
    expect(names[0]).toContain('createClient')
    expect(names[0]!.length).toBeGreaterThan(40)
    expect(names[1]).toEqual(names[0])
    expect(names[2]).toEqual(names[0])
    expect(names[3]).toEqual(names[0])
    const [nodeClient, webClient] = clients
    expect(nodeClient!.filter((name) => !webClient!.includes(name))).toEqual(['decryptStream', 'encryptStream', 'rewrapStream'])
    expect(webClient!.filter((name) => !nodeClient!.includes(name))).toEqual([])
    expect(clients[2]).toEqual(nodeClient)
    expect(clients[3]).toEqual(webClient)
  })

  it('require() works for both builds, and envelope-sdk/crypto shares the Node build’s classes', () => {
    const cjs = run(process.execPath, ['-e', `const a = require('envelope-sdk'); const b = require('envelope-sdk/crypto'); console.log(typeof a.createClient, typeof b.nobleBackend)`])
    expect(cjs.stdout.trim()).toBe('function object')
    const web = run(process.execPath, ['--conditions=browser', '-e', `const a = require('envelope-sdk'); const b = require('envelope-sdk/crypto'); console.log(typeof a.createClient, typeof b.createWebCryptoBackend)`])
    expect(web.stdout.trim()).toBe('function function')
    // One EnvelopeError class across the main entry and the crypto subpath (no dual copies on Node).
    const shared = run(process.execPath, [
      '--input-type=module',
      '-e',
      `const { EnvelopeError } = await import('envelope-sdk'); const { nobleBackend } = await import('envelope-sdk/crypto')
       try { nobleBackend.importVerificationKey('P-256', new Uint8Array(33)) } catch (e) { console.log(e instanceof EnvelopeError) }`,
    ])
    expect(shared.stdout.trim()).toBe('true')
  })
})

describe('isEnvelopeError across copies of the package', () => {
  it('recognises an error from the CommonJS build in the ESM build and back (a brand, not instanceof)', () => {
    const script = `
      const cjs = require(${JSON.stringify(join(root, 'dist', 'index.cjs'))})
      import(${JSON.stringify(join(root, 'dist', 'index.js'))}).then((esm) => {
        const fromCjs = new cjs.LimitError('x', 2, 1)
        const fromEsm = new esm.KeyringError('y')
        const fake = Object.assign(new Error('z'), { code: 'ERR_KEYRING' })
        console.log(JSON.stringify([
          fromCjs instanceof esm.EnvelopeError, esm.isEnvelopeError(fromCjs), cjs.isEnvelopeError(fromEsm),
          esm.isEnvelopeError(fake), esm.isEnvelopeError({ code: 'ERR_KEYRING' }),
        ]))
      })`
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual([false, true, true, false, false])
  })
})
