/**
 * Decrypts an awses-decrypt manifest (v2/v3, raw keys) with the peer
 * implementation, @aws-crypto/client-node: our generated vectors, checked by
 * code we did not write.
 */
import { constants } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { buildClient, CommitmentPolicy, MultiKeyringNode, RawAesKeyringNode, RawAesWrappingSuiteIdentifier, RawRsaKeyringNode } from '@aws-crypto/client-node'

const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)
const pkcs1Allowed = process.execArgv.includes('--security-revert=CVE-2023-46809')

export interface PeerSummary {
  passed: number
  failed: number
  skipped: number
  failures: string[]
}

export async function peerDecryptManifest(path: string): Promise<PeerSummary> {
  const base = dirname(path)
  const read = (uri: string) => readFileSync(join(base, uri.slice('file://'.length)))
  const manifest = JSON.parse(read('file://manifest.json').toString())
  const keys = JSON.parse(read(manifest.keys).toString()).keys
  const summary: PeerSummary = { passed: 0, failed: 0, skipped: 0, failures: [] }

  const keyringOf = (mk: any): any => {
    const key = keys[mk.key]
    if (mk.type !== 'raw') return undefined
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
