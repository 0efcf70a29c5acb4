/**
 * Importing envelope-sdk, building a BranchKeyStore or using any other keyring
 * must not load @aws-sdk/client-dynamodb; the store's first call must. Checked
 * on the built package in child processes, ESM and CJS, with a loader hook that
 * refuses the SDK: each step succeeds only if nothing asks for it.
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
  if (specifier.includes('@aws-sdk/client-dynamodb')) throw new Error('REFUSED @aws-sdk/client-dynamodb')
  return next(specifier, context)
}\`))
`)}`

function run(code: string, type: 'module' | 'commonjs') {
  const args = type === 'module' ? ['--import', refuseSdk, '--input-type=module', '-e', code] : ['-e', code]
  return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' })
}

const ARN = 'arn:aws:kms:us-west-2:111122223333:key/k'

describe('@aws-sdk/client-dynamodb is loaded lazily', () => {
  it('the ESM entry imports, builds a store and encrypts with another keyring without it; a store call asks for it', () => {
    expect(existsSync(`${root}/dist/index.js`), 'build first (npm test does)').toBe(true)
    const plain = run(
      `const m = await import('envelope-sdk')
       new m.BranchKeyStore({ tableName: 't', kmsKeyArn: '${ARN}' })
       const keyring = new m.RawAesKeyring({ keyNamespace: 'n', keyName: 'k', wrappingKey: new Uint8Array(32) })
       const { ciphertext } = await m.createClient().encrypt(keyring, 'x')
       console.log(ciphertext.length > 0 ? 'ok' : 'empty')`,
      'module',
    )
    expect(plain.stderr).not.toContain('REFUSED')
    expect(plain.stdout.trim()).toBe('ok')
    // Control: the hook does refuse the SDK once the store talks to its table, so the check above can fail.
    const call = run(
      `const { BranchKeyStore } = await import('envelope-sdk')
       const store = new BranchKeyStore({ tableName: 't', kmsKeyArn: '${ARN}' })
       try { await store.getActiveBranchKey('b') } catch (e) { console.log(e.code, String(e.cause?.message ?? e.message)) }`,
      'module',
    )
    expect(call.stdout).toContain('ERR_UNSUPPORTED')
    expect(call.stdout).toContain('REFUSED @aws-sdk/client-dynamodb')
  })

  it('the CJS entry requires without it', () => {
    const result = run(
      `const Module = require('node:module'); const load = Module._load
       Module._load = function (request, ...rest) { if (request.includes('@aws-sdk/client-dynamodb')) throw new Error('REFUSED'); return load.call(this, request, ...rest) }
       const m = require('envelope-sdk'); new m.BranchKeyStore({ tableName: 't', kmsKeyArn: '${ARN}' }); console.log(typeof m.BranchKeyStore)`,
      'commonjs',
    )
    expect(result.stderr).not.toContain('REFUSED')
    expect(result.stdout.trim()).toBe('function')
  })
})
