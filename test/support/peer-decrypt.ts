/**
 * Decrypts an awses-decrypt manifest (v2/v3) with the peer implementation,
 * @aws-crypto/client-node: our generated vectors, checked by code we did not
 * write. Raw keys always; KMS master keys (aws-kms, aws-kms-mrk-aware,
 * aws-kms-mrk-aware-discovery) when `kmsEndpoint` names a KMS, else skipped.
 */
import { constants } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import {
  AwsKmsMrkAwareSymmetricDiscoveryKeyringNode,
  AwsKmsMrkAwareSymmetricKeyringNode,
  buildClient,
  CommitmentPolicy,
  getClient,
  KMS,
  KmsKeyringNode,
  MultiKeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  RawRsaKeyringNode,
} from '@aws-crypto/client-node'

const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)
const pkcs1Allowed = process.execArgv.includes('--security-revert=CVE-2023-46809')

export interface PeerSummary {
  passed: number
  failed: number
  skipped: number
  failures: string[]
}

export interface PeerDecryptOptions {
  /** A KMS endpoint (the local server's); the peer's KMS clients go there with placeholder credentials. */
  readonly kmsEndpoint?: string
}

export async function peerDecryptManifest(path: string, options: PeerDecryptOptions = {}): Promise<PeerSummary> {
  const base = dirname(path)
  const read = (uri: string) => readFileSync(join(base, uri.slice('file://'.length)))
  const manifest = JSON.parse(readFileSync(path, 'utf8'))
  const keys = JSON.parse(read(manifest.keys).toString()).keys
  const summary: PeerSummary = { passed: 0, failed: 0, skipped: 0, failures: [] }
  const { kmsEndpoint } = options
  const kmsConfig = { endpoint: kmsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
  const kmsIn = (region: string) => new KMS({ ...kmsConfig, region })
  const regionOfArn = (arn: string) => arn.split(':')[3]!

  const kmsKeyringOf = (mk: any, key: any): any => {
    if (mk.type === 'aws-kms') return new KmsKeyringNode({ generatorKeyId: key['key-id'], clientProvider: getClient(KMS, kmsConfig) })
    if (mk.type === 'aws-kms-mrk-aware') return new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: key['key-id'], client: kmsIn(regionOfArn(key['key-id'])) })
    if (mk.type === 'aws-kms-mrk-aware-discovery') {
      const filter = mk['aws-kms-discovery-filter']
      return new AwsKmsMrkAwareSymmetricDiscoveryKeyringNode({
        client: kmsIn(mk['default-mrk-region']),
        ...(filter ? { discoveryFilter: { partition: filter.partition, accountIDs: filter['account-ids'] } } : {}),
      })
    }
    return undefined
  }

  const keyringOf = (mk: any): any => {
    const key = keys[mk.key]
    if (mk.type !== 'raw') return kmsEndpoint ? kmsKeyringOf(mk, key) : undefined
    if (mk['encryption-algorithm'] === 'aes') {
      const material = new Uint8Array(Buffer.from(key.material, 'base64'))
      const wrappingSuite = { 16: RawAesWrappingSuiteIdentifier.AES128_GCM_IV12_TAG16_NO_PADDING, 24: RawAesWrappingSuiteIdentifier.AES192_GCM_IV12_TAG16_NO_PADDING, 32: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING }[material.length as 16]
      return new RawAesKeyringNode({ keyNamespace: mk['provider-id'], keyName: key['key-id'], unencryptedMasterKey: material, wrappingSuite, utf8Sorting: true })
    }
    if (key.type !== 'private') return undefined
    const oaep = mk['padding-algorithm'] === 'oaep-mgf1'
    return new RawRsaKeyringNode({
      keyNamespace: mk['provider-id'],
      keyName: key['key-id'],
      rsaKey: { privateKey: key.material },
      padding: oaep ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING,
      ...(oaep ? { oaepHash: mk['padding-hash'] } : {}),
    })
  }

  for (const [id, test] of Object.entries<any>(manifest.tests)) {
    const usable = test['master-keys'].filter((mk: any) => pkcs1Allowed || mk['padding-algorithm'] !== 'pkcs1')
    const keyrings = usable.map(keyringOf).filter(Boolean)
    if (keyrings.length === 0) {
      summary.skipped++
      continue
    }
    const keyring = keyrings.length === 1 ? keyrings[0] : new MultiKeyringNode({ children: keyrings })
    const ciphertext = read(test.ciphertext)
    let plaintext: Buffer | undefined
    try {
      if (test['decryption-method'] === 'streaming-unsigned-only') {
        const chunks: Buffer[] = []
        for await (const c of Readable.from([ciphertext]).pipe(peer.decryptUnsignedMessageStream(keyring))) chunks.push(c)
        plaintext = Buffer.concat(chunks)
      } else {
        plaintext = (await peer.decrypt(keyring, ciphertext)).plaintext
      }
    } catch {
      plaintext = undefined
    }
    const expected = test.result.output ? read(test.result.output.plaintext) : undefined
    const ok = expected === undefined ? plaintext === undefined : plaintext !== undefined && plaintext.equals(expected)
    if (ok) summary.passed++
    else {
      summary.failed++
      if (summary.failures.length < 5) summary.failures.push(id)
    }
  }
  return summary
}
