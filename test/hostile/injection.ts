/**
 * The hostile names of the terminal-injection tests (test/hostile/terminal-injection.test.ts, and
 * test/cli/terminal-injection.test.ts for the CLI's own output), and a message that carries them.
 */
import { randomBytes } from 'node:crypto'
import { createClient, MultiKeyring, RawAesKeyring, type Keyring } from '../../src/index.js'
import { withEncryptedDataKey } from '../../src/materials/materials.js'

/** Everything the escaping must remove; the listing's own line breaks are checked separately. */
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/
export const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/

export const EVIL_NAMESPACE = 'ns\x1b[2K\r\x07\nenvelope: decrypted OK'
export const EVIL_KEY_NAME = 'key\x1b]0;pwned\x07\r\n\u202eKO detpyrced\u2028\x9b31m\x7f\u2066'
export const EVIL_ARN = 'arn:aws:kms:us-west-2:111122223333:key/\x1b[1A\x1b[2K\rdecrypted OK\n\x07'
export const EVIL_REGION_ARN = 'arn:aws:kms:us-east-1\x1b[31m\r:111122223333:key/1234abcd-0000-0000-0000-000000000000'

/** Adds aws-kms EDKs naming hostile ARNs, as an attacker writing the header by hand would. */
export const forger: Keyring = {
  async onEncrypt(materials) {
    let result = materials
    for (const arn of [EVIL_ARN, EVIL_REGION_ARN]) {
      result = withEncryptedDataKey(result, { providerId: 'aws-kms', providerInfo: new TextEncoder().encode(arn), ciphertext: randomBytes(64) })
    }
    return result
  },
  async onDecrypt() {
    throw new Error('custom keyring says\x1b[2K\r\nenvelope: decrypted OK')
  },
}

export async function hostileMessage(): Promise<Uint8Array> {
  const generator = new RawAesKeyring({ keyNamespace: EVIL_NAMESPACE, keyName: EVIL_KEY_NAME, wrappingKey: randomBytes(32) })
  return (await createClient().encrypt(new MultiKeyring({ generator, children: [forger] }), 'secret')).ciphertext
}
