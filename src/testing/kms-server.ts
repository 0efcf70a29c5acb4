/**
 * A KMS-compatible server for offline development and tests (docs/kms-local.md).
 * It speaks the AWS KMS JSON 1.1 protocol over HTTP on loopback, so the real
 * @aws-sdk/client-kms (or any SDK) talks to it unchanged when pointed at its
 * endpoint. Request signatures are not verified: any credentials work. The
 * region of a request is read from its SigV4 credential scope.
 *
 * Its ciphertexts are AES-256-GCM under the key's material, bound to the
 * encryption context; replicas of a multi-region key share material, so a
 * ciphertext from one region decrypts in another. Never use it for real data.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { hostName, listenOnLoopback, LOOPBACK_HOSTS, readBoundedBody, serverLimits, writeAtomically } from './loopback.js'
import { encodeEncryptionContext } from '../format/encryption-context.js'
import {
  checkMaterial,
  deriveSharedSecret,
  encryptionAlgorithm,
  generateMaterial,
  PERSIST_VERSION,
  publicKeyFields,
  readPersisted,
  requireSymmetric,
  rsaDecrypt,
  rsaEncrypt,
  specFields,
  type LocalKeySpecName,
} from './kms-asymmetric.js'
import { envelopeForRecipient, recipientOf, type LocalKmsAttestationOptions, type RequireAttestation } from './kms-attestation.js'

export type KmsOperation = 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext' | 'Encrypt' | 'Decrypt' | 'ReEncrypt' | 'DescribeKey' | 'GetPublicKey' | 'DeriveSharedSecret'
const OPERATIONS: readonly KmsOperation[] = ['GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'Encrypt', 'Decrypt', 'ReEncrypt', 'DescribeKey', 'GetPublicKey', 'DeriveSharedSecret']
export type { LocalKeySpecName } from './kms-asymmetric.js'

export interface LocalKeySpec {
  /** Key id; `mrk-…` makes a multi-region key. Default: a random UUID. */
  readonly id?: string
  readonly account?: string
  /** Regions the key exists in: more than one only for multi-region keys (replicas). */
  readonly regions?: readonly string[]
  readonly aliases?: readonly string[]
  readonly enabled?: boolean
  /** Operations this key allows; default all. E.g. ['Encrypt', 'GenerateDataKey'] for an encrypt-only key. */
  readonly operations?: readonly KmsOperation[]
  /**
   * SYMMETRIC_DEFAULT (default); RSA_2048/3072/4096 (KeyUsage ENCRYPT_DECRYPT); ECC_NIST_P256/P384/P521
   * (KeyUsage KEY_AGREEMENT). See docs/kms-local.md#asymmetric-keys.
   */
  readonly keySpec?: LocalKeySpecName
  /** Symmetric: 32 bytes of key material, base64. Asymmetric: the PKCS#8 DER private key, base64. Default random. */
  readonly material?: string
  /** Decrypt and GenerateDataKey need a Nitro attestation document matching these conditions (docs/nitro.md). */
  readonly requireAttestation?: RequireAttestation
}

export interface LocalKey {
  readonly id: string
  readonly account: string
  readonly regions: string[]
  readonly aliases: string[]
  enabled: boolean
  operations: KmsOperation[]
  readonly keySpec: LocalKeySpecName
  readonly material: string
  readonly requireAttestation?: RequireAttestation
}

export interface Fault {
  /** Restrict to one operation and/or key id; default any. */
  readonly operation?: KmsOperation
  readonly keyId?: string
  /** throttle: 400 ThrottlingException; internal: 500 KMSInternalException; latency: delay then serve. */
  readonly kind: 'throttle' | 'internal' | 'latency'
  /** How many requests it applies to; default 1. */
  times?: number
  readonly delayMs?: number
}

export interface CallRecord {
  readonly operation: string
  readonly region: string
  readonly keyArn: string | undefined
  readonly status: number
}

export interface LocalKmsOptions {
  readonly host?: string
  /** 0 (default) picks a free port. */
  readonly port?: number
  readonly defaultRegion?: string
  readonly defaultAccount?: string
  readonly keys?: readonly LocalKeySpec[]
  /**
   * Load keys from this JSON file if it exists, and save them there on every change: mode 0600,
   * written to a temporary file and renamed over it, so a crash never leaves it truncated.
   */
  readonly persistPath?: string
  /** Most bytes a request body may hold; larger ones get 413. Default 1 MiB (KMS's largest field, Plaintext, is 4 KiB). */
  readonly maxRequestBytes?: number
  /**
   * Most milliseconds a client may take to send a whole request (headers and body); a slower one is
   * answered 408 and disconnected, so stalled connections cannot pile up. Default 10 s. Answers
   * delayed by fault injection are not affected.
   */
  readonly requestTimeoutMs?: number
  /** Accept KMS `Recipient` (Nitro Enclaves) with documents from these test roots (docs/nitro.md#local-kms). */
  readonly attestation?: LocalKmsAttestationOptions
}

export interface LocalKms {
  readonly endpoint: string
  readonly defaultRegion: string
  readonly defaultAccount: string
  /** Creates a key and returns its ARN in its first region. */
  createKey(spec?: LocalKeySpec): string
  /**
   * Creates the key `spec.id` (in `spec.account`) if it does not exist yet; otherwise adds the
   * spec's regions and aliases to it and applies its `operations` and `enabled`, keeping the key
   * material. Returns the key's ARN in its first region. Provisioning twice is harmless.
   */
  ensureKey(spec: LocalKeySpec & { readonly id: string }): string
  /** A copy of the key an id, ARN or alias ARN names, or undefined when there is none. */
  getKey(keyIdOrArn: string): LocalKey | undefined
  /** The ARN of a key in a region (default: its first region). */
  arn(keyId: string, region?: string): string
  /** Enables or disables a key (a disabled key refuses every operation, as KMS does). */
  setEnabled(keyIdOrArn: string, enabled: boolean): void
  /** Sets the operations a key allows. */
  setOperations(keyIdOrArn: string, operations: readonly KmsOperation[]): void
  /** Injects a throttle, an internal error or latency into matching requests. */
  addFault(fault: Fault): void
  /** Removes every pending fault. */
  clearFaults(): void
  readonly calls: readonly CallRecord[]
  /** Calls that reached a handler (faults included), filtered by operation and key ARN. */
  countCalls(filter?: { operation?: string; keyArn?: string; region?: string }): number
  /** Forgets the recorded calls. */
  resetCalls(): void
  /** Config for an AWS SDK v3 client pointed at this server. */
  clientConfig(region?: string): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } }
  /** Stops the server, closing open connections. */
  close(): Promise<void>
}

export class KmsFailure extends Error {
  readonly type: string
  readonly status: number
  constructor(type: string, message: string, status = 400) {
    super(message)
    this.type = type
    this.status = status
  }
}

const BLOB_VERSION = 1

/**
 * A browser page's Origin when it is served from loopback (`http://localhost:5173`…), so a page under
 * development may call this server; any other origin gets no CORS grant (docs/kms-local.md#browsers).
 */
function loopbackOrigin(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^https?:\/\/(\[[0-9a-f:.]+\]|[^/:[\]]+)(?::\d{1,5})?$/i.exec(header)
  return match && LOOPBACK_HOSTS.includes(match[1]!.toLowerCase()) ? header : undefined
}


/**
 * Starts the KMS-compatible local server on loopback (docs/kms-local.md); never for real data.
 * @example
 * ```ts
 * const kms = await startLocalKms()
 * const keyring = new KmsKeyring({ generatorKeyId: kms.createKey({}), clientProvider: defaultClientProvider(kms.clientConfig()) })
 * ```
 * @throws {Error} the port is taken, or a --persist file cannot be read.
 */
export async function startLocalKms(options: LocalKmsOptions = {}): Promise<LocalKms> {
  const defaultRegion = options.defaultRegion ?? 'us-west-2'
  const defaultAccount = options.defaultAccount ?? '111122223333'
  const { maxRequestBytes, requestTimeoutMs, servedHosts } = serverLimits(options)
  const keys = new Map<string, LocalKey>()
  const faults: Fault[] = []
  const calls: CallRecord[] = []

  const save = () => {
    if (options.persistPath) writeAtomically(options.persistPath, JSON.stringify({ version: PERSIST_VERSION, keys: [...keys.values()] }, null, 2))
  }
  const add = (spec: LocalKeySpec = {}): LocalKey => {
    const id = spec.id ?? randomUUID()
    const keySpec = spec.keySpec ?? 'SYMMETRIC_DEFAULT'
    const material = spec.material ?? generateMaterial(keySpec)
    checkMaterial(keySpec, material)
    const regions = [...(spec.regions ?? [defaultRegion])]
    if (regions.length > 1 && !id.startsWith('mrk-')) throw new RangeError('only multi-region keys (id mrk-…) exist in several regions')
    const key: LocalKey = {
      id,
      account: spec.account ?? defaultAccount,
      regions,
      aliases: [...(spec.aliases ?? [])],
      enabled: spec.enabled ?? true,
      operations: [...(spec.operations ?? OPERATIONS)],
      keySpec,
      material,
      ...(spec.requireAttestation ? { requireAttestation: spec.requireAttestation } : {}),
    }
    checkAliases(key, key.aliases, key.regions)
    keys.set(`${key.account}/${id}`, key)
    return key
  }
  /** An alias names one key per account and region. */
  const checkAliases = (owner: LocalKey, aliases: readonly string[], regions: readonly string[]) => {
    for (const alias of aliases) {
      if (!alias.startsWith('alias/') || alias.length === 'alias/'.length) throw new RangeError(`alias ${JSON.stringify(alias)} must look like alias/NAME`)
      for (const other of keys.values()) {
        if (other.account !== owner.account || other.id === owner.id || !other.aliases.includes(alias)) continue
        const region = regions.find((r) => other.regions.includes(r))
        if (region) throw new RangeError(`${alias} already names key ${other.id} in ${region}`)
      }
    }
  }
  const ensure = (spec: LocalKeySpec & { readonly id: string }): LocalKey => {
    const existing = keys.get(`${spec.account ?? defaultAccount}/${spec.id}`)
    if (!existing) return add(spec)
    if (spec.material !== undefined && spec.material !== existing.material) throw new RangeError(`key ${spec.id} exists with other key material`)
    if (spec.keySpec !== undefined && spec.keySpec !== existing.keySpec) throw new RangeError(`key ${spec.id} exists as a ${existing.keySpec} key`)
    const regions = [...new Set([...existing.regions, ...(spec.regions ?? [])])]
    if (regions.length > 1 && !spec.id.startsWith('mrk-')) throw new RangeError('only multi-region keys (id mrk-…) exist in several regions')
    const aliases = [...new Set([...existing.aliases, ...(spec.aliases ?? [])])]
    checkAliases(existing, aliases, regions)
    existing.regions.splice(0, existing.regions.length, ...regions)
    existing.aliases.splice(0, existing.aliases.length, ...aliases)
    if (spec.operations !== undefined) existing.operations = [...spec.operations]
    if (spec.enabled !== undefined) existing.enabled = spec.enabled
    return existing
  }
  if (options.persistPath) {
    try {
      for (const k of readPersisted<LocalKey>(JSON.parse(readFileSync(options.persistPath, 'utf8')))) keys.set(`${k.account}/${k.id}`, k)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
  }
  for (const spec of options.keys ?? []) add(spec)
  save()

  const arnOf = (key: LocalKey, region: string) => `arn:aws:kms:${region}:${key.account}:key/${key.id}`

  /** Resolves a KeyId (ARN, alias ARN, alias name, key id) as seen from `region`. */
  const resolve = (keyId: unknown, region: string): { key: LocalKey; region: string } => {
    if (typeof keyId !== 'string' || keyId.length === 0) throw new KmsFailure('ValidationException', 'KeyId is required')
    let account = defaultAccount
    let resource = keyId
    let keyRegion = region
    if (keyId.startsWith('arn:')) {
      const parts = keyId.split(':')
      if (parts.length !== 6 || parts[2] !== 'kms') throw new KmsFailure('NotFoundException', `invalid arn ${keyId}`)
      keyRegion = parts[3]!
      account = parts[4]!
      resource = parts[5]!
    }
    if (resource.startsWith('alias/')) {
      for (const key of keys.values()) {
        if (key.account === account && key.aliases.includes(resource) && key.regions.includes(keyRegion)) return { key, region: keyRegion }
      }
      throw new KmsFailure('NotFoundException', `Alias ${keyId} is not found.`)
    }
    const id = resource.startsWith('key/') ? resource.slice(4) : resource
    const key = keys.get(`${account}/${id}`)
    if (!key || !key.regions.includes(keyRegion)) throw new KmsFailure('NotFoundException', `Key '${keyId}' does not exist`)
    return { key, region: keyRegion }
  }

  const usable = (key: LocalKey, operation: KmsOperation, arn: string) => {
    if (!key.enabled) throw new KmsFailure('DisabledException', `${arn} is disabled.`)
    if (!key.operations.includes(operation)) {
      throw new KmsFailure('AccessDeniedException', `User is not authorized to perform: kms:${operation} on resource: ${arn}`)
    }
  }

  const aad = (key: LocalKey, context: unknown): Buffer => {
    if (context !== undefined && (typeof context !== 'object' || context === null)) throw new KmsFailure('ValidationException', 'EncryptionContext must be a map')
    const ec = encodeEncryptionContext((context ?? {}) as Record<string, string>)
    return Buffer.concat([Buffer.from(`${key.account}/${key.id}\n`), ec])
  }

  // blob = version ‖ uint8 len ‖ "account/id" ‖ IV(12) ‖ ciphertext ‖ tag(16)
  const seal = (key: LocalKey, plaintext: Buffer, context: unknown): Buffer => {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(key.material, 'base64'), iv)
    cipher.setAAD(aad(key, context))
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()])
    const ref = Buffer.from(`${key.account}/${key.id}`)
    return Buffer.concat([Buffer.from([BLOB_VERSION, ref.length]), ref, iv, ct, cipher.getAuthTag()])
  }

  const open = (blob: Buffer, context: unknown, region: string, requested: unknown): { key: LocalKey; plaintext: Buffer } => {
    const invalid = () => new KmsFailure('InvalidCiphertextException', 'The ciphertext is invalid or was not encrypted under this key and context.')
    // A blob from AWS KMS (or another server) names no key held here: say so, since that is the usual mistake.
    const foreign = () => new KmsFailure('InvalidCiphertextException', 'The ciphertext names no key this local KMS holds: ciphertexts from AWS KMS (or from an earlier local KMS that was not persisted) cannot be decrypted here.')
    if (blob.length < 2 || blob[0] !== BLOB_VERSION || blob.length < 2 + blob[1]!) throw foreign()
    const ref = blob.subarray(2, 2 + blob[1]!).toString()
    const key = keys.get(ref)
    if (!key) throw foreign()
    if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw invalid()
    if (!key.regions.includes(region)) throw invalid()
    if (requested !== undefined) {
      const wanted = resolve(requested, region)
      if (wanted.key !== key || wanted.region !== region) throw new KmsFailure('IncorrectKeyException', 'The key ID in the request does not identify the key that encrypted the ciphertext.')
    }
    const body = blob.subarray(2 + blob[1]!)
    if (body.length < 28) throw invalid()
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(key.material, 'base64'), body.subarray(0, 12))
    decipher.setAAD(aad(key, context))
    decipher.setAuthTag(body.subarray(body.length - 16))
    try {
      return { key, plaintext: Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]) }
    } catch {
      throw invalid()
    }
  }

  const dataKeyLength = (input: any): number => {
    if (input.NumberOfBytes !== undefined) {
      if (!Number.isInteger(input.NumberOfBytes) || input.NumberOfBytes < 1 || input.NumberOfBytes > 1024) throw new KmsFailure('ValidationException', 'NumberOfBytes must be 1..1024')
      return input.NumberOfBytes
    }
    if (input.KeySpec === 'AES_256') return 32
    if (input.KeySpec === 'AES_128') return 16
    throw new KmsFailure('ValidationException', 'NumberOfBytes or KeySpec is required')
  }

  const b64 = (value: unknown, field: string): Buffer => {
    if (typeof value !== 'string') throw new KmsFailure('ValidationException', `${field} is required`)
    return Buffer.from(value, 'base64')
  }

  /**
   * The RSA Decrypt a request asks for (an asymmetric EncryptionAlgorithm, or a KeyId naming an
   * asymmetric key), or undefined for a symmetric one, which keeps its own checks and errors.
   */
  const openAsymmetric = (keyId: unknown, algorithmField: unknown, context: unknown, blob: unknown, region: string) => {
    const algorithm = encryptionAlgorithm(algorithmField)
    let found: { key: LocalKey; region: string } | undefined
    if (algorithm === 'SYMMETRIC_DEFAULT') {
      try {
        found = keyId === undefined ? undefined : resolve(keyId, region)
      } catch {
        return undefined
      }
      if (!found || found.key.keySpec === 'SYMMETRIC_DEFAULT') return undefined
    } else {
      // An RSA ciphertext carries no key reference: AWS KMS needs the key named.
      if (keyId === undefined) throw new KmsFailure('ValidationException', `KeyId is required with EncryptionAlgorithm ${algorithm}`)
      found = resolve(keyId, region)
    }
    const arn = arnOf(found.key, found.region)
    usable(found.key, 'Decrypt', arn)
    return { key: found.key, arn, algorithm, plaintext: rsaDecrypt(found.key, arn, algorithm, context, b64(blob, 'CiphertextBlob')) }
  }

  /** Encrypt under any ENCRYPT_DECRYPT key: AES-GCM for symmetric keys, RSA-OAEP for RSA keys. */
  const sealAny = (key: LocalKey, arn: string, algorithmField: unknown, context: unknown, plaintext: Buffer) => {
    const algorithm = encryptionAlgorithm(algorithmField)
    if (key.keySpec === 'SYMMETRIC_DEFAULT' && algorithm === 'SYMMETRIC_DEFAULT') return { blob: seal(key, plaintext, context), algorithm }
    return { blob: rsaEncrypt(key, arn, algorithm, context, plaintext), algorithm }
  }
  const recipientFor = (input: any, key: LocalKey, arn: string, operation: 'Decrypt' | 'GenerateDataKey') =>
    recipientOf(options.attestation, input.Recipient, key.requireAttestation, operation === 'Decrypt', arn, (type, message) => {
      throw new KmsFailure(type, message)
    })

  const handlers: Record<KmsOperation, (input: any, region: string) => { result: object; arn?: string }> = {
    GenerateDataKey(input, region) {
      const { key, region: r } = resolve(input.KeyId, region)
      const arn = arnOf(key, r)
      usable(key, 'GenerateDataKey', arn)
      requireSymmetric(key, arn, 'GenerateDataKey')
      const recipient = recipientFor(input, key, arn, 'GenerateDataKey')
      const plaintext = randomBytes(dataKeyLength(input))
      const blob = seal(key, plaintext, input.EncryptionContext).toString('base64')
      if (recipient) return { arn, result: { KeyId: arn, CiphertextForRecipient: envelopeForRecipient(recipient, plaintext).toString('base64'), CiphertextBlob: blob } }
      return { arn, result: { KeyId: arn, Plaintext: plaintext.toString('base64'), CiphertextBlob: blob } }
    },
    GenerateDataKeyWithoutPlaintext(input, region) {
      const { key, region: r } = resolve(input.KeyId, region)
      const arn = arnOf(key, r)
      usable(key, 'GenerateDataKeyWithoutPlaintext', arn)
      requireSymmetric(key, arn, 'GenerateDataKeyWithoutPlaintext')
      return { arn, result: { KeyId: arn, CiphertextBlob: seal(key, randomBytes(dataKeyLength(input)), input.EncryptionContext).toString('base64') } }
    },
    Encrypt(input, region) {
      const { key, region: r } = resolve(input.KeyId, region)
      const arn = arnOf(key, r)
      usable(key, 'Encrypt', arn)
      const plaintext = b64(input.Plaintext, 'Plaintext')
      if (plaintext.length === 0 || plaintext.length > 4096) throw new KmsFailure('ValidationException', 'Plaintext must be 1..4096 bytes')
      const sealed = sealAny(key, arn, input.EncryptionAlgorithm, input.EncryptionContext, plaintext)
      return { arn, result: { KeyId: arn, CiphertextBlob: sealed.blob.toString('base64'), EncryptionAlgorithm: sealed.algorithm } }
    },
    Decrypt(input, region) {
      const rsa = openAsymmetric(input.KeyId, input.EncryptionAlgorithm, input.EncryptionContext, input.CiphertextBlob, region)
      if (rsa) {
        // Attestation conditions hold for RSA keys too: no plaintext without a matching document.
        const recipient = recipientFor(input, rsa.key, rsa.arn, 'Decrypt')
        if (recipient) return { arn: rsa.arn, result: { KeyId: rsa.arn, CiphertextForRecipient: envelopeForRecipient(recipient, rsa.plaintext).toString('base64'), EncryptionAlgorithm: rsa.algorithm } }
        return { arn: rsa.arn, result: { KeyId: rsa.arn, Plaintext: rsa.plaintext.toString('base64'), EncryptionAlgorithm: rsa.algorithm } }
      }
      const { key, plaintext } = open(b64(input.CiphertextBlob, 'CiphertextBlob'), input.EncryptionContext, region, input.KeyId)
      const arn = arnOf(key, region)
      usable(key, 'Decrypt', arn)
      const recipient = recipientFor(input, key, arn, 'Decrypt')
      if (recipient) return { arn, result: { KeyId: arn, CiphertextForRecipient: envelopeForRecipient(recipient, plaintext).toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } }
      return { arn, result: { KeyId: arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } }
    },
    ReEncrypt(input, region) {
      const rsa = openAsymmetric(input.SourceKeyId, input.SourceEncryptionAlgorithm, input.SourceEncryptionContext, input.CiphertextBlob, region)
      const source = rsa ?? open(b64(input.CiphertextBlob, 'CiphertextBlob'), input.SourceEncryptionContext, region, input.SourceKeyId)
      const sourceArn = rsa?.arn ?? arnOf(source.key, region)
      usable(source.key, 'Decrypt', sourceArn)
      const { key, region: r } = resolve(input.DestinationKeyId, region)
      const arn = arnOf(key, r)
      usable(key, 'Encrypt', arn)
      const sealed = sealAny(key, arn, input.DestinationEncryptionAlgorithm, input.DestinationEncryptionContext, source.plaintext)
      return {
        arn,
        result: {
          KeyId: arn,
          SourceKeyId: sourceArn,
          CiphertextBlob: sealed.blob.toString('base64'),
          SourceEncryptionAlgorithm: rsa?.algorithm ?? 'SYMMETRIC_DEFAULT',
          DestinationEncryptionAlgorithm: sealed.algorithm,
        },
      }
    },
    DescribeKey(input, region) {
      const { key, region: r } = resolve(input.KeyId, region)
      const arn = arnOf(key, r)
      return {
        arn,
        result: {
          KeyMetadata: {
            KeyId: key.id,
            Arn: arn,
            AWSAccountId: key.account,
            Enabled: key.enabled,
            KeyState: key.enabled ? 'Enabled' : 'Disabled',
            ...specFields(key.keySpec),
            KeyManager: 'CUSTOMER',
            Origin: 'AWS_KMS',
            MultiRegion: key.id.startsWith('mrk-'),
          },
        },
      }
    },
    GetPublicKey(input, region) {
      const { key, region: r } = resolve(input.KeyId, region)
      const arn = arnOf(key, r)
      usable(key, 'GetPublicKey', arn)
      return { arn, result: publicKeyFields(key, arn) }
    },
    DeriveSharedSecret(input, region) {
      const { key, region: r } = resolve(input.KeyId, region)
      const arn = arnOf(key, r)
      usable(key, 'DeriveSharedSecret', arn)
      const secret = deriveSharedSecret(key, arn, input)
      return { arn, result: { KeyId: arn, SharedSecret: secret.toString('base64'), KeyAgreementAlgorithm: 'ECDH', KeyOrigin: 'AWS_KMS' } }
    },
  }

  const regionOfRequest = (req: IncomingMessage): string => {
    const auth = String(req.headers.authorization ?? '')
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/kms\//.exec(auth)
    return scope?.[1] ?? defaultRegion
  }

  const takeFault = (operation: string, keyId: unknown): Fault | undefined => {
    const index = faults.findIndex(
      (f) => (f.operation === undefined || f.operation === operation) && (f.keyId === undefined || (typeof keyId === 'string' && keyId.includes(f.keyId))),
    )
    if (index < 0) return undefined
    const fault = faults[index]!
    fault.times = (fault.times ?? 1) - 1
    if (fault.times <= 0) faults.splice(index, 1)
    return fault
  }

  const reply = (res: ServerResponse, status: number, body: object, close = false) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), ...(close ? { connection: 'close' } : {}) })
    res.end(JSON.stringify(body))
  }

  // Stalled requests are looked for this often (Node's default, 30 s, would let them linger far past the timeout).
  const server: Server = createServer({ connectionsCheckingInterval: Math.min(1000, requestTimeoutMs) }, (req, res) => {
    // Refusals close the connection and discard the body unread, holding none of it.
    const refuse = (status: number, type: string, message: string) => {
      req.resume()
      reply(res, status, { __type: type, message }, true)
    }
    const host = hostName(req.headers.host)
    if (host === undefined || !servedHosts.has(host)) {
      return refuse(403, 'AccessDeniedException', `this local KMS answers only requests for ${[...servedHosts].join(', ')} (Host header)`)
    }
    // CORS: loopback pages get their preflight answered and may read replies; other origins are refused.
    const origin = req.headers.origin
    if (origin !== undefined) {
      if (loopbackOrigin(origin) === undefined) return refuse(403, 'AccessDeniedException', 'this local KMS answers browser requests only from loopback origins')
      res.setHeader('access-control-allow-origin', origin)
      res.setHeader('vary', 'Origin')
      if (req.method === 'OPTIONS') {
        req.resume()
        res.writeHead(204, {
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? 'content-type, x-amz-target'),
          'access-control-max-age': '600',
        })
        return res.end()
      }
    }
    const tooLarge = () => refuse(413, 'ValidationException', `request body larger than ${maxRequestBytes} bytes`)
    const serve = async (body: Buffer) => {
      const region = regionOfRequest(req)
      const target = String(req.headers['x-amz-target'] ?? '')
      const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : ''
      let input: any
      try {
        input = JSON.parse(body.toString('utf8') || '{}')
      } catch {
        return reply(res, 400, { __type: 'SerializationException', message: 'request body is not JSON' })
      }
      const record = (status: number, arn?: string) => calls.push({ operation, region, keyArn: arn ?? (typeof input.KeyId === 'string' ? input.KeyId : undefined), status })
      const fault = takeFault(operation, input.KeyId)
      if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, fault.delayMs ?? 100))
      if (fault?.kind === 'throttle') {
        record(400)
        return reply(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' })
      }
      if (fault?.kind === 'internal') {
        record(500)
        return reply(res, 500, { __type: 'KMSInternalException', message: 'Internal error (injected)' })
      }
      const handler = (handlers as Record<string, (typeof handlers)[KmsOperation]>)[operation]
      if (!handler) {
        record(400)
        return reply(res, 400, { __type: 'UnknownOperationException', message: `unsupported operation ${target}` })
      }
      try {
        const { result, arn } = handler(input, region)
        record(200, arn)
        reply(res, 200, result)
      } catch (e) {
        const failure = e instanceof KmsFailure ? e : new KmsFailure('KMSInternalException', String(e), 500)
        record(failure.status)
        reply(res, failure.status, { __type: failure.type, message: failure.message })
      }
    }
    readBoundedBody(req, maxRequestBytes, tooLarge, (body) => void serve(body))
  })
  // Slow-request bounds (slowloris): the whole request, headers included, within requestTimeoutMs.
  server.requestTimeout = requestTimeoutMs
  server.headersTimeout = requestTimeoutMs

  const endpoint = await listenOnLoopback(server, options.port, options.host)
  const find = (keyIdOrArn: string): LocalKey => resolve(keyIdOrArn, keyIdOrArn.startsWith('arn:') ? keyIdOrArn.split(':')[3]! : defaultRegion).key

  return {
    endpoint,
    defaultRegion,
    defaultAccount,
    createKey(spec) {
      const key = add(spec)
      save()
      return arnOf(key, key.regions[0]!)
    },
    ensureKey(spec) {
      const key = ensure(spec)
      save()
      return arnOf(key, key.regions[0]!)
    },
    getKey(keyIdOrArn) {
      let key: LocalKey
      try {
        key = find(keyIdOrArn)
      } catch {
        return undefined
      }
      return { ...key, regions: [...key.regions], aliases: [...key.aliases], operations: [...key.operations] }
    },
    arn(keyId, region) {
      const key = [...keys.values()].find((k) => k.id === keyId)
      if (!key) throw new Error(`no key ${keyId}`)
      return arnOf(key, region ?? key.regions[0]!)
    },
    setEnabled(keyIdOrArn, enabled) {
      find(keyIdOrArn).enabled = enabled
      save()
    },
    setOperations(keyIdOrArn, operations) {
      find(keyIdOrArn).operations = [...operations]
      save()
    },
    addFault(fault) {
      faults.push({ ...fault })
    },
    clearFaults() {
      faults.length = 0
    },
    calls,
    countCalls(filter = {}) {
      return calls.filter(
        (c) =>
          (filter.operation === undefined || c.operation === filter.operation) &&
          (filter.keyArn === undefined || c.keyArn === filter.keyArn) &&
          (filter.region === undefined || c.region === filter.region),
      ).length
    },
    resetCalls() {
      calls.length = 0
    },
    clientConfig(region = defaultRegion) {
      return { region, endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
    },
    close() {
      return new Promise((r) => {
        server.closeAllConnections()
        server.close(() => r())
      })
    },
  }
}
