/**
 * docs/migrating.md: every "after" block runs, as a user's ES module importing
 * 'envelope-sdk' (the built package, linked into a scratch node_modules), with
 * KMS through the local server. Every runtime export of the peer's client-node
 * is named in the mapping.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalKms, type LocalKms } from '../../dist/testing/index.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const guide = readFileSync(join(root, 'docs/migrating.md'), 'utf8')
const afterBlocks = [...guide.matchAll(/```js after\n([\s\S]*?)```/g)].map((m) => m[1]!)

function runModule(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Asynchronous: the local KMS answering the child lives in this process.
    const child = spawn(process.execPath, [file], { env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('docs/migrating.md', () => {
  let kms: LocalKms
  let dir: string
  let env: Record<string, string>
  beforeAll(async () => {
    kms = await startLocalKms()
    dir = mkdtempSync(join(tmpdir(), 'envelope-migrating-'))
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(root, join(dir, 'node_modules', 'envelope-sdk'), 'dir')
    env = {
      KMS_KEY_ARN: kms.createKey({}),
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      AWS_REGION: kms.defaultRegion,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    }
  })
  afterAll(() => kms?.close())

  it('has the five common uses, each with a runnable "after" block', () => {
    expect(afterBlocks).toHaveLength(5)
  })

  it.each(afterBlocks.map((code, i) => [i + 1, code] as const))('"after" block %i runs against the built package', async (i, code) => {
    const file = join(dir, `after-${i}.mjs`)
    writeFileSync(file, code)
    const r = await runModule(file, env)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })

  it('maps every runtime export of @aws-crypto/client-node', () => {
    const peer = createRequire(import.meta.url)('@aws-crypto/client-node') as Record<string, unknown>
    const missing = Object.keys(peer).filter((name) => !new RegExp(`\\b${name}\\b`).test(guide))
    expect(missing).toEqual([])
  })
})
