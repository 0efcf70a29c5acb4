/**
 * The `provider=aws-kms-rsa` wrapping key spec (spec/keyrings.md#aws-kms-rsa):
 *   provider=aws-kms-rsa key=ARN algorithm=RSAES_OAEP_SHA_256 [public-key=FILE] [endpoint=URL]
 * Encrypt needs the key's public key (PEM or DER, as GetPublicKey returns it) and calls no KMS;
 * decrypt calls KMS Decrypt.
 */
import { readFileSync } from 'node:fs'
import { defaultClientProvider, KmsRsaKeyring, type KmsRsaEncryptionAlgorithm } from '../index.js'
import { endpointConfig, readNamedFile, UsageError } from './usage.js'
import { inCliTerms } from './words.js'

const FIELDS = ['provider', 'key', 'algorithm', 'public-key', 'endpoint']

export const KMS_RSA_SPEC_HELP = `  provider=aws-kms-rsa key=ARN algorithm=RSAES_OAEP_SHA_1|RSAES_OAEP_SHA_256 [public-key=FILE] [endpoint=URL]
      a KMS RSA key (spec/keyrings.md#aws-kms-rsa): encrypt wraps with its public key FILE (PEM or DER,
      from aws kms get-public-key) and calls no KMS; decrypt calls KMS Decrypt. Signed suites are
      refused, so encrypt with an unsigned one, e.g.
      envelope encrypt -i f -o f.enc --algorithm 0x0478 -w "provider=aws-kms-rsa key=arn:aws:kms:us-west-2:111122223333:key/ID algorithm=RSAES_OAEP_SHA_256 public-key=pub.pem"`

export function kmsRsaKeyringFromSpec(pairs: ReadonlyMap<string, readonly string[]>, mode: 'encrypt' | 'decrypt'): KmsRsaKeyring {
  for (const [name, values] of pairs) {
    if (!FIELDS.includes(name)) throw new UsageError(`--wrapping-keys: provider=aws-kms-rsa takes no ${name}= (its fields: ${FIELDS.join(', ')})`)
    if (values.length > 1) throw new UsageError(`--wrapping-keys: ${name} given more than once`)
  }
  const keyId = pairs.get('key')?.[0]
  const algorithm = pairs.get('algorithm')?.[0]
  if (!keyId || !algorithm) throw new UsageError('--wrapping-keys: provider=aws-kms-rsa needs key=<key ARN> and algorithm=RSAES_OAEP_SHA_1|RSAES_OAEP_SHA_256')
  const publicKeyFile = pairs.get('public-key')?.[0]
  if (mode === 'encrypt' && !publicKeyFile) {
    throw new UsageError('--wrapping-keys: provider=aws-kms-rsa encrypts with the key\'s public key: add public-key=FILE (aws kms get-public-key --key-id ARN)')
  }
  const endpoint = pairs.get('endpoint')?.[0]
  let publicKey: string | Uint8Array | undefined
  if (publicKeyFile && mode === 'encrypt') {
    const bytes = readNamedFile(publicKeyFile, 'key file', (p) => readFileSync(p))
    const text = bytes.toString('latin1')
    publicKey = text.includes('-----BEGIN') ? text : new Uint8Array(bytes)
  }
  try {
    return new KmsRsaKeyring({
      keyId,
      encryptionAlgorithm: algorithm as KmsRsaEncryptionAlgorithm,
      ...(publicKey !== undefined ? { publicKey } : {}),
      clientProvider: defaultClientProvider(endpointConfig(endpoint)),
    })
  } catch (e) {
    if (e instanceof TypeError) throw new UsageError(`--wrapping-keys: ${inCliTerms(e.message, new Set())}`)
    throw e
  }
}
