/**
 * Importing envelope-sdk must not load @aws-sdk/client-kms; the first KMS call
 * must. Checked on the built package in child processes, ESM and CJS, with a
 * loader hook that refuses the SDK: importing succeeds only if nothing asks for it.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const refuseSdk = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module'
register('data:text/javascript,' + encodeURIComponent(\`
export async function resolve(specifier, context, next) {
  if (specifier.includes('@aws-sdk/client-kms')) throw new Error('REFUSED @aws-sdk/client-kms')
  return next(specifier, context)
}\`))
`)}`

function run(code: string, type: 'module' | 'commonjs') {
  const args = type === 'module' ? ['--import', refuseSdk, '--input-type=module', '-e', code] : ['-e', code]
  return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' })
}

describe('@aws-sdk/client-kms is loaded lazily', () => {
  it('the ESM entry imports without it, and a KMS call asks for it', () => {
    expect(existsSync(`${root}/dist/index.js`), 'build first (npm test does)').toBe(true)
    const plain = run(`const m = await import('envelope-sdk'); if (!m.KmsKeyring) throw new Error('no KmsKeyring'); console.log('ok')`, 'module')
    expect(plain.stderr).not.toContain('REFUSED')
    expect(plain.stdout.trim()).toBe('ok')
    // Control: the hook does refuse the SDK once a keyring needs a client, so the check above can fail.
    const call = run(
      `const { KmsKeyring, createClient } = await import('envelope-sdk')
       const keyring = new KmsKeyring({ generatorKeyId: 'arn:aws:kms:us-west-2:111122223333:key/k' })
       try { await createClient().encrypt(keyring, 'x') } catch (e) { console.log(e.code, String(e.cause?.message ?? e.message)) }`,
      'module',
    )
    expect(call.stdout).toContain('ERR_UNSUPPORTED')
    expect(call.stdout).toContain('REFUSED @aws-sdk/client-kms')
  })

  it('the CJS entry requires without it', () => {
    const result = run(
      `const Module = require('node:module'); const load = Module._load
       Module._load = function (request, ...rest) { if (request.includes('@aws-sdk/client-kms')) throw new Error('REFUSED'); return load.call(this, request, ...rest) }
       const m = require('envelope-sdk'); console.log(typeof m.KmsKeyring)`,
      'commonjs',
    )
    expect(result.stderr).not.toContain('REFUSED')
    expect(result.stdout.trim()).toBe('function')
  })
})
