// @ts-check
/**
 * The checks every runtime of the matrix runs (test/runtimes/matrix.test.ts), in plain JavaScript so
 * that Node, Bun, Deno and workerd load it as it is. `sdk` is the package as the runtime resolved it
 * (its "node" or "worker" build); `input` is what the host test wrote: keys, one plaintext, and
 * messages the peer (@aws-crypto/client-node) encrypted. Returns counts and the first failures.
 */

/** @typedef {typeof import('envelope-sdk')} Sdk */
/** @typedef {'aes-128' | 'aes-192' | 'aes-256' | 'rsa-oaep-sha256'} KeyringName */
/**
 * @typedef {object} MatrixInput what matrix.test.ts writes; bytes are base64
 * @property {Record<'aes-128' | 'aes-192' | 'aes-256', string>} aes
 * @property {{ publicKey: string, privateKey: string }} rsa PEM
 * @property {string} plaintext
 * @property {{ name: string, keyring: KeyringName, committing: boolean, ciphertext: string }[]} peer
 * @property {{ path: string, count: number }[]} manifests
 * @property {string[]} [only] the groups to run (all when absent)
 * @property {KmsTarget} [kms] for workerd: the host's local KMS
 */
/** @typedef {{ endpoint: string, keyArn: string, region: string }} KmsTarget */
/** @typedef {{ passed: number, failed: number, skipped: number }} Count */

/** @param {string} text */
export function fromB64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function equal(a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** @param {AsyncIterable<Uint8Array>} readable */
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

/**
 * `bytes` in uneven chunks through a web TransformStream.
 * @param {TransformStream<Uint8Array, Uint8Array>} transform
 * @param {Uint8Array} bytes
 */
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
  /** @type {Record<string, Count>} */
  counts = {}
  /** @type {string[]} */
  failures = []

  /** @param {string} group @param {string} name @param {() => Promise<void>} fn */
  async check(group, name, fn) {
    const count = (this.counts[group] ??= { passed: 0, failed: 0, skipped: 0 })
    try {
      await fn()
      count.passed++
    } catch (error) {
      count.failed++
      const { code = '', message = error } = /** @type {{ code?: string, message?: string }} */ (error ?? {})
      if (this.failures.length < 20) this.failures.push(`${group} ${name}: ${code} ${message}`)
    }
  }

  /** @param {string} group @param {Count} counts @param {string[]} [failures] */
  add(group, { passed, failed, skipped }, failures = []) {
    const count = (this.counts[group] ??= { passed: 0, failed: 0, skipped: 0 })
    count.passed += passed
    count.failed += failed
    count.skipped += skipped
    for (const f of failures) if (this.failures.length < 20) this.failures.push(`${group} ${f}`)
  }
}

/**
 * @param {Sdk} sdk
 * @param {MatrixInput} input
 * @returns {Record<KeyringName, import('envelope-sdk').Keyring>}
 */
export function keyrings(sdk, input) {
  /** @param {keyof MatrixInput['aes']} name */
  const aes = (name) => new sdk.RawAesKeyring({ keyNamespace: 'matrix', keyName: name, wrappingKey: fromB64(input.aes[name]) })
  return {
    'aes-128': aes('aes-128'),
    'aes-192': aes('aes-192'),
    'aes-256': aes('aes-256'),
    'rsa-oaep-sha256': new sdk.RawRsaKeyring({ keyNamespace: 'matrix', keyName: 'rsa-oaep-sha256', padding: 'oaep-sha256', ...input.rsa }),
  }
}

/** @param {boolean} committing @returns {import('envelope-sdk').CommitmentPolicy} */
const policy = (committing) => (committing ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT')

/** @param {unknown} actual @param {Uint8Array} expected @param {string} what */
function expectBytes(actual, expected, what) {
  if (!(actual instanceof Uint8Array)) throw new Error(`${what}: not a Uint8Array`)
  if (!equal(actual, expected)) throw new Error(`${what}: wrong plaintext (${actual.length} bytes, expected ${expected.length})`)
}

/**
 * Every suite under every keyring: one-shot and web-stream encryption, each decrypted one-shot and
 * through decryptWebStream. Then each peer message, one-shot and streamed.
 * @param {Sdk} sdk
 * @param {MatrixInput} input
 * @param {Tally} tally
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

/**
 * A KMS keyring on the local KMS at `endpoint` (key `keyArn`): one message each way, one-shot and streamed.
 * @param {Sdk} sdk
 * @param {KmsTarget} kms
 * @param {Tally} tally
 */
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
