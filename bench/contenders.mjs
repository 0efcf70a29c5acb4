// @ts-check
/**
 * The three contenders every throughput case runs side by side:
 * - ours: envelope-sdk, from dist/ (what `npm run bench` builds) or, with
 *   --src, from src/ bundled on the fly by esbuild (for work on the hot path
 *   without rebuilding dist/);
 * - peer: @aws-crypto/client-node, set up as a conformant deployment uses it
 *   (raw AES keyring with utf8Sorting);
 * - limit: a bare node:crypto AES-256-GCM loop over the same frames, with no
 *   message format around it: no header, no keyring, no copy of the output;
 *   and `limit 2 threads`, the same loop split between this thread and a
 *   worker, for where ours uses two (spec/backends.md#parallel-frames).
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { assertSameBytes } from './harness.mjs'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const TMP = join(ROOT, 'bench', 'results', 'tmp')
const require = createRequire(join(ROOT, 'package.json'))

/** @typedef {typeof import('../dist/index.js')} Ours what `ours` exports (dist/, or src/ bundled: the same names) */
/** @typedef {typeof import('@aws-crypto/client-node')} Peer */
/** @typedef {{ 'crypto': typeof import('../dist/crypto/index.js'), 'testing': typeof import('../dist/testing/index.js') }} Subpaths */
/** @typedef {(bytes: Uint8Array) => Promise<Uint8Array>} Codec encrypt (plaintext to message) or decrypt (message to plaintext) */
/** @typedef {ReturnType<typeof makeSides>} Sides */

export const SUITES = { 0x0178: 'AES_256_GCM_IV12_TAG16_HKDF_SHA256', 0x0478: 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY', 0x0578: 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384' }
export const CONTEXT = Object.freeze({ purpose: 'bench', tenant: 'example' })

/**
 * Bundles one of our source files, and what it imports, into one ESM file under TMP (dependencies of the package stay external).
 * @param {string} entryPoint
 * @param {string} outfile
 */
async function bundleSrc(entryPoint, outfile) {
  const { build } = await import('esbuild')
  mkdirSync(TMP, { recursive: true })
  await build({
    entryPoints: [entryPoint],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    external: ['@aws-sdk/*'],
    logLevel: 'error',
  })
  return outfile
}

/**
 * Path of the module that `ours` is loaded from, built first when `src` is set.
 * @param {{ src?: boolean }} [options]
 */
export async function ourEntry({ src = false } = {}) {
  if (!src) {
    const dist = join(ROOT, 'dist', 'index.js')
    if (!existsSync(dist)) throw new Error('dist/index.js is missing: run `npm run bench` (it builds first) or pass --src')
    return dist
  }
  return bundleSrc(join(ROOT, 'src', 'index.ts'), join(TMP, 'ours-src.mjs'))
}

/** @param {{ src?: boolean }} [options] @returns {Promise<Ours>} */
export async function loadOurs(options) {
  return import(pathToFileURL(await ourEntry(options)).href)
}

/** Source of each subpath export a case may need beside the main entry. */
const SUBPATH_SOURCES = { crypto: join('src', 'entry', 'crypto-node.ts'), testing: join('src', 'testing', 'index.ts') }

/**
 * The main entry's exports plus those of a subpath (`crypto`: the backends;
 * `testing`: the local KMS server). From dist/ the two share their chunks, as
 * they do for a user of the package. With `src`, both are bundled into one file,
 * so they share one copy of every module (a backend made by one copy is used by
 * the client of the same copy).
 * @template {keyof Subpaths} S
 * @param {S} subpath
 * @param {{ src?: boolean }} [options]
 * @returns {Promise<Ours & Subpaths[S]>}
 */
export async function loadOursWith(subpath, { src = false } = {}) {
  const source = SUBPATH_SOURCES[subpath]
  if (!source) throw new Error(`unknown subpath ${subpath}`)
  if (!src) {
    const file = join(ROOT, 'dist', subpath, 'index.js')
    if (!existsSync(file)) throw new Error(`dist/${subpath}/index.js is missing: run \`npm run bench\` (it builds first) or pass --src`)
    return { ...(await loadOurs()), ...(await import(pathToFileURL(file).href)) }
  }
  mkdirSync(TMP, { recursive: true })
  const entry = join(TMP, `ours-src-${subpath}-entry.mjs`)
  writeFileSync(entry, `export * from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))}\nexport * from ${JSON.stringify(join(ROOT, source))}\n`)
  return import(pathToFileURL(await bundleSrc(entry, join(TMP, `ours-src-${subpath}.mjs`))).href)
}

/** @returns {Peer} */
export function loadPeer() {
  return require('@aws-crypto/client-node')
}

/** @param {number} suiteId */
export function policyFor(suiteId) {
  return suiteId === 0x0178 ? 'FORBID_ENCRYPT_ALLOW_DECRYPT' : 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT'
}

/**
 * The peer's raw AES keyring as a conformant deployment sets it up (also used by cases/stream-child.mjs).
 * @param {Peer} peer
 * @param {Uint8Array} wrappingKey
 */
export function peerAesKeyring(peer, wrappingKey) {
  return new peer.RawAesKeyringNode({
    keyNamespace: 'bench',
    keyName: 'aes-256',
    unencryptedMasterKey: wrappingKey,
    wrappingSuite: peer.RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    // The peer's spec-conformant context order (its default is locale order).
    utf8Sorting: true,
  })
}

/**
 * Before anything is timed: ours reads ours and the peer's message, the peer reads ours. Returns our message.
 * @param {{ ours: { encrypt: Codec, decrypt: Codec }, peer: { encrypt: Codec, decrypt: Codec } }} sides
 * @param {Uint8Array} plaintext
 */
export async function crossCheck(sides, plaintext) {
  const mine = await sides.ours.encrypt(plaintext)
  const theirs = await sides.peer.encrypt(plaintext)
  assertSameBytes(await sides.ours.decrypt(mine), plaintext, 'ours decrypts ours')
  assertSameBytes(await sides.ours.decrypt(theirs), plaintext, 'ours decrypts the peer')
  assertSameBytes(await sides.peer.decrypt(mine), plaintext, 'the peer decrypts ours')
  return mine
}

/**
 * Clients and keyrings for one suite, sharing one 256-bit wrapping key.
 * `encrypt(bytes) -> ciphertext` and `decrypt(ciphertext) -> plaintext` for each side.
 * @param {Ours} ours
 * @param {Peer} peer
 * @param {number} suiteId
 * @param {number} frameLength
 */
export function makeSides(ours, peer, suiteId, frameLength, wrappingKey = new Uint8Array(randomBytes(32))) {
  const policy = policyFor(suiteId)
  const ourClient = ours.createClient({ commitmentPolicy: policy })
  const ourKeyring = new ours.RawAesKeyring({ keyNamespace: 'bench', keyName: 'aes-256', wrappingKey })
  const peerClient = peer.buildClient(peer.CommitmentPolicy[policy])
  const peerKeyring = peerAesKeyring(peer, wrappingKey)
  const options = { suiteId, frameLength, encryptionContext: CONTEXT }
  return {
    ours: {
      /** @type {Codec} */
      encrypt: async (bytes) => (await ourClient.encrypt(ourKeyring, bytes, options)).ciphertext,
      /** @type {Codec} */
      decrypt: async (message) => (await ourClient.decrypt(ourKeyring, message)).plaintext,
      client: ourClient,
      keyring: ourKeyring,
    },
    peer: {
      /** @type {Codec} */
      encrypt: async (bytes) => (await peerClient.encrypt(peerKeyring, bytes, options)).result,
      /** @type {Codec} */
      decrypt: async (message) => (await peerClient.decrypt(peerKeyring, message)).plaintext,
      client: peerClient,
      keyring: peerKeyring,
    },
    options,
    wrappingKey,
  }
}

/**
 * The limit: for each frame, createCipheriv + setAAD + update + final +
 * getAuthTag with a key object made once, as the format requires (one fresh
 * cipher per frame IV). The AAD has the size of a real v2 frame AAD. Frames
 * are numbered from `firstSequence`; `keyBytes` and `sealed` let a second
 * thread run the same loop (makeTwoThreadLimit).
 * @param {Uint8Array} plaintext
 * @param {number} frameLength
 * @param {number} [firstSequence]
 */
export function makeLimit(plaintext, frameLength, firstSequence = 1) {
  const keyBytes = new Uint8Array(randomBytes(32))
  const key = createSecretKey(keyBytes)
  const iv = new Uint8Array(12)
  const aad = new Uint8Array(32 + 'AWSKMSEncryptionClient Frame'.length + 12)
  /** @type {Uint8Array[]} */
  const frames = []
  for (let p = 0; p < plaintext.length || (p === 0 && frames.length === 0); p += frameLength) {
    frames.push(plaintext.subarray(p, Math.min(plaintext.length, p + frameLength)))
    if (plaintext.length === 0) break
  }
  /** @param {number} seq */
  const setSeq = (seq) => {
    new DataView(iv.buffer).setUint32(8, seq)
    new DataView(aad.buffer).setUint32(aad.length - 12, seq)
  }
  const sealed = frames.map((frame, i) => {
    setSeq(firstSequence + i)
    const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
    c.setAAD(aad)
    const ct = Buffer.concat([c.update(frame), c.final()])
    return { ct, tag: c.getAuthTag() }
  })
  /**
   * Every frame sealed as the format requires; each frame's ciphertext ‖ tag written into `out` when given.
   * @template {Uint8Array | undefined} T
   * @param {T} out
   */
  const seal = (out) => {
    let o = 0
    for (const [i, frame] of frames.entries()) {
      setSeq(firstSequence + i)
      const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
      c.setAAD(aad)
      const ct = c.update(frame)
      c.final()
      const tag = c.getAuthTag()
      if (out) {
        out.set(ct, o)
        out.set(tag, o + ct.length)
        o += ct.length + 16
      }
    }
    return out
  }
  /**
   * Every frame opened (a wrong tag throws); each frame's plaintext written into `out` when given.
   * @template {Uint8Array | undefined} T
   * @param {T} out
   */
  const open = (out) => {
    let o = 0
    for (const [i, { ct, tag }] of sealed.entries()) {
      setSeq(firstSequence + i)
      const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
      d.setAuthTag(tag)
      d.setAAD(aad)
      const pt = d.update(ct)
      d.final()
      if (out) {
        out.set(pt, o)
        o += pt.length
      }
    }
    return out
  }
  return {
    keyBytes,
    sealed,
    aadLength: aad.length,
    encrypt() {
      seal(undefined)
    },
    decrypt() {
      open(undefined)
    },
    /**
     * The limit writing what it seals into one fresh buffer of the frames' total size (ciphertext
     * and tag per frame), as any one-shot API that returns bytes must: the part of ours/limit that
     * is memory, not format (on a VM whose page faults are slow, a fresh 16 MiB costs as much as sealing it).
     */
    encryptToBuffer() {
      return seal(new Uint8Array(plaintext.length + frames.length * 16))
    },
    /** The same for decrypt: the plaintext of every frame into one fresh buffer. */
    decryptToBuffer() {
      return open(new Uint8Array(plaintext.length))
    },
    /** The limit's own round trip, checked like the other contenders before timing. */
    roundTrip() {
      const parts = sealed.map(({ ct, tag }, i) => {
        setSeq(firstSequence + i)
        const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
        d.setAuthTag(tag)
        d.setAAD(aad)
        return Buffer.concat([d.update(ct), d.final()])
      })
      return Buffer.concat(parts)
    },
  }
}

/**
 * The two-thread limit: this thread runs the limit's loop over the first half
 * of the frames while a worker (limit-worker.mjs) runs it over the second
 * half, held in shared memory since setup, so a call copies nothing. Each call
 * is one message to the worker and one answer. `close()` stops the worker.
 * Whole frames only (the message size a multiple of the frame length).
 * @param {Uint8Array} plaintext
 * @param {number} frameLength
 */
export async function makeTwoThreadLimit(plaintext, frameLength) {
  const count = plaintext.length / frameLength
  if (!Number.isInteger(count) || count < 2) throw new Error('the two-thread limit needs at least two whole frames')
  const half = Math.ceil(count / 2)
  const here = makeLimit(plaintext.subarray(0, half * frameLength), frameLength)
  const there = makeLimit(plaintext.subarray(half * frameLength), frameLength, half + 1)
  // The worker's half, as plaintext and as ciphertext ‖ tag per frame, in shared memory.
  const shared = new SharedArrayBuffer((count - half) * frameLength)
  const sealed = new SharedArrayBuffer((count - half) * (frameLength + 16))
  new Uint8Array(shared).set(plaintext.subarray(half * frameLength))
  for (const [i, { ct, tag }] of there.sealed.entries()) {
    new Uint8Array(sealed).set(ct, i * (frameLength + 16))
    new Uint8Array(sealed).set(tag, i * (frameLength + 16) + frameLength)
  }
  const worker = new Worker(new URL('./limit-worker.mjs', import.meta.url), {
    workerData: { keyBytes: there.keyBytes, plaintext: shared, sealed, frameLength, firstSequence: half + 1, aadLength: there.aadLength },
  })
  await once(worker, 'online')
  /** @param {'encrypt' | 'decrypt'} op @param {() => void} loop this thread's half */
  const call = async (op, loop) => {
    const answered = once(worker, 'message')
    worker.postMessage(op)
    loop()
    const [reply] = await answered
    if (reply !== op) throw new Error(`the two-thread limit's worker answered ${reply}`)
  }
  return {
    encrypt: () => call('encrypt', () => here.encrypt()),
    // A wrong tag throws: on this thread as the limit's does, on the worker's it ends the thread and the call rejects.
    decrypt: () => call('decrypt', () => here.decrypt()),
    close: () => worker.terminate(),
  }
}
