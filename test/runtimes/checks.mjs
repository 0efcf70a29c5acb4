/**
 * The checks every runtime of the matrix runs (test/runtimes/matrix.test.ts), in plain JavaScript so
 * that Node, Bun, Deno and workerd load it as it is. `sdk` is the package as the runtime resolved it
 * (its "node" or "worker" build); `input` is what the host test wrote: keys, one plaintext, and
 * messages the peer (@aws-crypto/client-node) encrypted. Returns counts and the first failures.
 */

export function fromB64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
}

function equal(a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

async function collect(readable) {
  const parts = []
  let length = 0
  for await (const part of readable) {
    parts.push(part)
    length += part.length
  }
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** `bytes` in uneven chunks through a web TransformStream. */
async function throughWebStream(transform, bytes, chunk = 3001) {
  const source = new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += chunk) controller.enqueue(bytes.slice(i, i + chunk))
      controller.close()
    },
  })
  return collect(source.pipeThrough(transform))
}

export class Tally {
  counts = {}
  failures = []

  async check(group, name, fn) {
    const count = (this.counts[group] ??= { passed: 0, failed: 0, skipped: 0 })
    try {
      await fn()
      count.passed++
    } catch (error) {
      count.failed++
      if (this.failures.length < 20) this.failures.push(`${group} ${name}: ${error?.code ?? ''} ${error?.message ?? error}`)
    }
  }

  add(group, { passed, failed, skipped }, failures = []) {
    const count = (this.counts[group] ??= { passed: 0, failed: 0, skipped: 0 })
    count.passed += passed
    count.failed += failed
    count.skipped += skipped
    for (const f of failures) if (this.failures.length < 20) this.failures.push(`${group} ${f}`)
  }
}

export function keyrings(sdk, input) {
  const aes = (name) => new sdk.RawAesKeyring({ keyNamespace: 'matrix', keyName: name, wrappingKey: fromB64(input.aes[name]) })
  return {
    'aes-128': aes('aes-128'),
    'aes-192': aes('aes-192'),
    'aes-256': aes('aes-256'),
    'rsa-oaep-sha256': new sdk.RawRsaKeyring({ keyNamespace: 'matrix', keyName: 'rsa-oaep-sha256', padding: 'oaep-sha256', ...input.rsa }),
  }
}

const policy = (committing) => (committing ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT')

function expectBytes(actual, expected, what) {
  if (!(actual instanceof Uint8Array)) throw new Error(`${what}: not a Uint8Array`)
  if (!equal(actual, expected)) throw new Error(`${what}: wrong plaintext (${actual.length} bytes, expected ${expected.length})`)
}

/**
 * Every suite under every keyring: one-shot and web-stream encryption, each decrypted one-shot and
 * through decryptWebStream. Then each peer message, one-shot and streamed.
 */
export async function portableChecks(sdk, input, tally) {
  const rings = keyrings(sdk, input)
  const plaintext = fromB64(input.plaintext)
  for (const suite of sdk.ALL_SUITES) {
    const client = sdk.createClient({ commitmentPolicy: policy(suite.committing) })
    for (const [ringName, keyring] of Object.entries(rings)) {
      const options = { suiteId: suite.id, frameLength: 4096, encryptionContext: { runtime: 'matrix', suite: suite.name } }
      await tally.check('round trip', `${suite.name} ${ringName}`, async () => {
        const { ciphertext } = await client.encrypt(keyring, plaintext, options)
        expectBytes((await client.decrypt(keyring, ciphertext)).plaintext, plaintext, 'one-shot')
        expectBytes(await throughWebStream(client.decryptWebStream(keyring), ciphertext), plaintext, 'decryptWebStream')
        const streamed = await throughWebStream(client.encryptWebStream(keyring, { ...options, plaintextLength: plaintext.length }), plaintext)
        expectBytes((await client.decrypt(keyring, streamed)).plaintext, plaintext, 'encryptWebStream then one-shot')
      })
    }
  }
  for (const message of input.peer) {
    const client = sdk.createClient({ commitmentPolicy: policy(message.committing) })
    const keyring = rings[message.keyring]
    const ciphertext = fromB64(message.ciphertext)
    await tally.check('peer', message.name, async () => {
      expectBytes((await client.decrypt(keyring, ciphertext)).plaintext, plaintext, 'one-shot')
      expectBytes(await throughWebStream(client.decryptWebStream(keyring), ciphertext, 777), plaintext, 'decryptWebStream')
    })
  }
}

/** A KMS keyring on the local KMS at `endpoint` (key `keyArn`): one message each way, one-shot and streamed. */
export async function kmsCheck(sdk, { endpoint, keyArn, region }, tally) {
  const clientProvider = sdk.defaultClientProvider({ region, endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
  const keyring = new sdk.KmsKeyring({ generatorKeyId: keyArn, clientProvider })
  const client = sdk.createClient()
  const plaintext = new TextEncoder().encode('local KMS from every runtime')
  await tally.check('kms', 'round trip', async () => {
    const { ciphertext } = await client.encrypt(keyring, plaintext)
    expectBytes((await client.decrypt(keyring, ciphertext)).plaintext, plaintext, 'one-shot')
    expectBytes(await throughWebStream(client.decryptWebStream(keyring), ciphertext), plaintext, 'decryptWebStream')
  })
}
