/**
 * The CLI in its own words (src/cli/words.ts, flags.ts, crypt.ts): errors name the flags the user
 * typed, hints name only flags of the command they are printed for, output names do not stack our
 * suffixes, and -r into its own input directory does not re-process earlier outputs. The built
 * binary (dist/cli/main.js) in child processes, on real files.
 */
import { spawnSync } from 'node:child_process'
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { CRYPT_HELP } from '../../src/cli/crypt.js'
import { flagsOf } from '../../src/cli/flags.js'
import { INSPECT_HELP } from '../../src/cli/inspect.js'
import { REWRAP_HELP } from '../../src/cli/rewrap.js'
import { inCliTerms } from '../../src/cli/words.js'
import { createClient, inspectMessage, KmsRsaKeyring, MultiKeyring, RawAesKeyring } from '../../src/index.js'
import { rsaKeyPair } from '../support/keys.js'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
let dir: string
const aes = 'provider=words key=k file=k.key'

function envelope(args: string[], input?: Buffer | string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, cwd: dir })
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') }
}

/** Every --flag in `text`, except in examples of another command (`envelope encrypt ... --algorithm` in decrypt's help). */
function flagsNamed(text: string, command: string): string[] {
  return text.split('\n').flatMap((line) => {
    const other = /envelope (encrypt|decrypt|rewrap|inspect|vectors|kms-local|ddb-local)\b/.exec(line)
    const own = other && other[1] !== command ? line.slice(0, other.index) : line
    return [...own.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]!)
  })
}

beforeAll(() => {
  expect(existsSync(bin), 'npm run build first').toBe(true)
  dir = mkdtempSync(join(tmpdir(), 'envelope-words-'))
  writeFileSync(join(dir, 'k.key'), randomBytes(32))
  writeFileSync(join(dir, 'doc'), 'hello')
  writeFileSync(join(dir, 'rsa-pub.pem'), rsaKeyPair().publicKey)
})

describe('errors name CLI flags, not API options', () => {
  it('--decrypt-unsigned on a signed message names the flag', () => {
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'signed.enc', '-w', aes]).code).toBe(0)
    const r = envelope(['decrypt', '-i', 'signed.enc', '-o', '-', '-w', aes, '--decrypt-unsigned'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('ERR_SIGNED_NOT_ALLOWED')
    expect(r.stderr).toContain('--decrypt-unsigned is set')
    expect(r.stderr).not.toContain('unsignedOnly')
  })

  it('a suite the policy forbids names --algorithm and --commitment-policy in their CLI spelling', () => {
    const r = envelope(['encrypt', '-i', 'doc', '-o', 'x.enc', '-w', aes, '--algorithm', '0x0014'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('ERR_COMMITMENT_POLICY: --algorithm 0x0014 is not key-committing, and --commitment-policy require-encrypt-require-decrypt requires')
    expect(r.stderr).not.toMatch(/REQUIRE_ENCRYPT|suiteId/)
  })

  it('decrypting a non-committing message names the policy to use as a flag', () => {
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'old.enc', '-w', aes, '--commitment-policy', 'forbid-encrypt-allow-decrypt']).code).toBe(0)
    const r = envelope(['decrypt', '-i', 'old.enc', '-o', '-', '-w', aes])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('use --commitment-policy require-encrypt-allow-decrypt to read older messages')
    expect(r.stderr).not.toMatch(/[A-Z]+_ENCRYPT_/)
  })

  it('too many encrypted data keys names --max-encrypted-data-keys; out of range is a usage error naming it', () => {
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'two.enc', '-w', aes, '-w', 'provider=words key=k2 file=k.key']).code).toBe(0)
    const r = envelope(['decrypt', '-i', 'two.enc', '-o', '-', '-w', aes, '--max-encrypted-data-keys', '1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('ERR_LIMIT_EXCEEDED: --max-encrypted-data-keys exceeded: 2 > 1')
    const keys = { decrypt: ['-w', aes], rewrap: ['--from-wrapping-keys', aes, '--to-wrapping-keys', aes] }
    for (const command of ['decrypt', 'rewrap'] as const) {
      const zero = envelope([command, '-i', 'two.enc', '-o', 'z', ...keys[command], '--max-encrypted-data-keys', '0'])
      expect(zero.code, command).toBe(2)
      expect(zero.stderr).toContain('--max-encrypted-data-keys takes 1 to 65535')
      expect(zero.stderr).not.toContain('maxEncryptedDataKeys')
    }
  })

  it('rewrap takes the lowercase --commitment-policy forms, as its help says', () => {
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'u.enc', '-w', aes, '--algorithm', '0x0478']).code).toBe(0)
    const r = envelope(['rewrap', '-i', 'u.enc', '-o', 'u.new', '--from-wrapping-keys', aes, '--to-wrapping-keys', aes, '--commitment-policy', 'require-encrypt-allow-decrypt'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })

  it('a KMS RSA key with the signed default suite names provider=aws-kms-rsa and --algorithm', () => {
    const spec = 'provider=aws-kms-rsa key=arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab algorithm=RSAES_OAEP_SHA_256 public-key=rsa-pub.pem'
    const r = envelope(['encrypt', '-i', 'doc', '-o', 'r.enc', '-w', spec])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('provider=aws-kms-rsa cannot be used with the signed suite 0x0578')
    expect(r.stderr).toContain('such as --algorithm 0x0478')
    expect(r.stderr).not.toMatch(/suiteId|KmsRsaKeyring/)
  })
})

describe('every flag a hint names is a flag of that command', () => {
  /** Real library errors carrying hints, as the file commands meet them. */
  async function libraryErrors(): Promise<Error[]> {
    const keyring = new RawAesKeyring({ keyNamespace: 'w', keyName: 'k', wrappingKey: new Uint8Array(32) })
    const client = createClient()
    const caught = (p: Promise<unknown> | (() => unknown)) => (typeof p === 'function' ? Promise.resolve().then(p) : p).then(() => expect.unreachable(), (e: Error) => e)
    const signed = (await client.encrypt(keyring, 'x')).ciphertext
    const twoKeys = (await client.encrypt(new MultiKeyring({ generator: keyring, children: [keyring] }), 'x')).ciphertext
    const legacy = (await createClient({ commitmentPolicy: 'FORBID_ENCRYPT_ALLOW_DECRYPT' }).encrypt(keyring, 'x')).ciphertext
    const rsa = new KmsRsaKeyring({ keyId: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', encryptionAlgorithm: 'RSAES_OAEP_SHA_256', publicKey: rsaKeyPair().publicKey })
    return Promise.all([
      caught(() => inspectMessage(new TextEncoder().encode(Buffer.from(signed).toString('base64')))),
      caught(client.decrypt(keyring, signed, { unsignedOnly: true })),
      caught(client.encrypt(keyring, 'x', { suiteId: 0x0014 })),
      caught(client.decrypt(keyring, legacy)),
      caught(createClient({ maxEncryptedDataKeys: 1 }).decrypt(keyring, twoKeys)),
      caught(client.encrypt(rsa, 'x')),
    ])
  }

  it('in the library errors, in CLI terms, for encrypt, decrypt, rewrap and inspect', async () => {
    const errors = await libraryErrors()
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_BASE64_INPUT', 'ERR_SIGNED_NOT_ALLOWED', 'ERR_COMMITMENT_POLICY', 'ERR_COMMITMENT_POLICY', 'ERR_LIMIT_EXCEEDED', 'ERR_SIGNED_NOT_ALLOWED'])
    for (const command of ['encrypt', 'decrypt', 'rewrap', 'inspect']) {
      const flags = flagsOf(command)
      for (const error of errors) {
        const text = inCliTerms(error.message, flags)
        for (const flag of flagsNamed(text, command)) expect(flags.has(flag), `${command}: ${text}`).toBe(true)
        expect(text, command).not.toMatch(/\b(unsignedOnly|suiteId|maxEncryptedDataKeys|KmsRsaKeyring|REQUIRE_ENCRYPT_\w+|FORBID_ENCRYPT_\w+)\b/)
      }
    }
  })

  it('in each command\'s --help', () => {
    for (const [command, help] of [['encrypt', CRYPT_HELP('encrypt')], ['decrypt', CRYPT_HELP('decrypt')], ['rewrap', REWRAP_HELP], ['inspect', INSPECT_HELP]] as const) {
      const flags = flagsOf(command)
      for (const flag of flagsNamed(help, command)) expect(flags.has(flag), `${command} --help names --${flag}`).toBe(true)
    }
  })

  it('envelope inspect of a base64 file does not suggest --decode, which it does not take; decrypt does', () => {
    writeFileSync(join(dir, 'signed.b64'), Buffer.from(readFileSync(join(dir, 'signed.enc'))).toString('base64'))
    const inspect = envelope(['inspect', 'signed.b64'])
    expect(inspect.code).toBe(1)
    expect(inspect.stderr).toContain('ERR_BASE64_INPUT')
    expect(inspect.stderr).not.toContain('--decode')
    expect(envelope(['inspect', '--json', 'signed.b64']).stdout).not.toContain('--decode')
    expect(envelope(['decrypt', '-i', 'signed.b64', '-o', '-', '-w', aes]).stderr).toContain('add --decode')
  })
})

describe('paths, input and numbers in the user\'s terms', () => {
  it('a missing output directory is reported by the path given, not a temporary name', () => {
    const r = envelope(['encrypt', '-i', 'doc', '-o', 'no-such-dir/doc.enc', '-w', aes])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('envelope: output no-such-dir/doc.enc: no such directory no-such-dir\n')
  })

  it('--decode on input that is not base64 says so; on a binary message it says to drop --decode', () => {
    const text = envelope(['decrypt', '-i', '-', '-o', '-', '-w', aes, '--decode'], 'this is not base64!\n')
    expect(text.code).toBe(1)
    expect(text.stderr).toContain('input from stdin is not base64')
    const binary = envelope(['decrypt', '-i', 'signed.enc', '-o', '-', '-w', aes, '--decode'])
    expect(binary.code).toBe(1)
    expect(binary.stderr).toContain('input signed.enc is not base64: it looks like a binary message, drop --decode')
    // base64 as `base64` writes it, in lines of 76, still decodes.
    const wrapped = Buffer.from(readFileSync(join(dir, 'signed.enc'))).toString('base64').replace(/.{76}/g, '$&\n')
    expect(envelope(['decrypt', '-i', '-', '-o', '-', '-w', aes, '--decode'], wrapped)).toMatchObject({ code: 0, stdout: 'hello' })
  })

  it('--frame-length 0 or past 2^32 - 1 is a usage error saying what is allowed', () => {
    for (const n of ['0', String(2 ** 32)]) {
      const r = envelope(['encrypt', '-i', 'doc', '-o', 'f.enc', '-w', aes, '--frame-length', n])
      expect(r.code, n).toBe(2)
      expect(r.stderr).toContain('--frame-length takes 1 to 4294967295 (2^32 - 1) plaintext bytes per frame; the CLI writes framed messages only')
      expect(r.stderr).not.toContain('frameLength')
    }
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'f.enc', '-w', aes, '--frame-length', String(2 ** 32 - 1)]).code).toBe(0)
  })
})

describe('ECDH key files: the PEM type or DER form is read, not guessed', () => {
  beforeAll(() => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    writeFileSync(join(dir, 'sec1.pem'), privateKey.export({ type: 'sec1', format: 'pem' }))
    writeFileSync(join(dir, 'sec1.der'), privateKey.export({ type: 'sec1', format: 'der' }))
    writeFileSync(join(dir, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }))
    writeFileSync(join(dir, 'rsa-pkcs1.pem'), createPrivateKey(rsaKeyPair().privateKey).export({ type: 'pkcs1', format: 'pem' }))
    writeFileSync(join(dir, 'rsa-priv.pem'), rsaKeyPair().privateKey)
    writeFileSync(join(dir, 'notes.txt'), 'not a key at all\n')
  })

  it('a SEC1 EC PRIVATE KEY (PEM or DER) is an ERR_INVALID_KEY with the openssl command that converts it', () => {
    for (const [file, command] of [['sec1.pem', 'openssl pkcs8 -topk8 -nocrypt -in sec1.pem'], ['sec1.der', 'openssl pkcs8 -topk8 -nocrypt -inform DER -in sec1.der']]) {
      for (const mode of ['encrypt', 'decrypt']) {
        const r = envelope([mode, '-i', 'doc', '-o', 'e.out', '-w', `ecdh curve=P-256 recipient=${file}`])
        expect(r.code, `${mode} ${file}`).toBe(1)
        expect(r.stderr).toContain(`ERR_INVALID_KEY: key file ${file} holds`)
        expect(r.stderr).toContain(command)
      }
    }
  })

  it('a key file far larger than any EC key is refused before its PEM blocks are scanned', () => {
    // Unmatched BEGIN lines made the block scan quadratic: 2 MB took the CLI about 50 s.
    const huge = '-----BEGIN PUBLIC KEY-----\n'.repeat(80_000)
    writeFileSync(join(dir, 'huge.pem'), huge)
    const r = envelope(['encrypt', '-i', 'doc', '-o', 'e.out', '-w', 'ecdh curve=P-256 recipient=huge.pem'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`ERR_INVALID_KEY: key file huge.pem is ${huge.length} bytes, more than any EC key file (at most 65536)`)
  })

  it('a PEM that is not an EC key, or a file that is no key, is refused by what it is, not taken as a public key', () => {
    const pkcs1 = envelope(['encrypt', '-i', 'doc', '-o', 'e.out', '-w', 'ecdh curve=P-256 recipient=pub.pem sender=rsa-pkcs1.pem'])
    expect(pkcs1.code).toBe(1)
    expect(pkcs1.stderr).toContain('ERR_INVALID_KEY: key file rsa-pkcs1.pem holds a PEM "RSA PRIVATE KEY", not an EC key')
    // A PKCS#8 or SPKI RSA key has the right form; the keyring refuses it, in the spec's field names.
    const rsa = envelope(['encrypt', '-i', 'doc', '-o', 'e.out', '-w', 'ecdh curve=P-256 recipient=rsa-pub.pem sender=rsa-priv.pem'])
    expect(rsa.code).toBe(1)
    expect(rsa.stderr).toMatch(/ERR_INVALID_KEY: (sender|recipient)= must be/)
    expect(rsa.stderr).not.toMatch(/recipientPublicKey|senderPrivateKey/)
    const text = envelope(['encrypt', '-i', 'doc', '-o', 'e.out', '-w', 'ecdh curve=P-256 recipient=notes.txt'])
    expect(text.code).toBe(1)
    expect(text.stderr).toContain('ERR_INVALID_KEY: key file notes.txt is neither PEM nor a DER key')
    // The SPKI public key it should be still works.
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'e.out', '-w', 'ecdh curve=P-256 recipient=pub.pem']).code).toBe(0)
  })
})

describe('output names: one of our suffixes at most', () => {
  it('decrypt appends .decrypted to every name; rewrap replaces .encrypted and .rewrapped with .rewrapped', () => {
    mkdirSync(join(dir, 'names'))
    writeFileSync(join(dir, 'names/a.txt'), 'a')
    expect(envelope(['encrypt', '-r', '-i', 'names', '-o', 'names-enc', '-w', aes, '--algorithm', '0x0478']).code).toBe(0)
    expect(readdirSync(join(dir, 'names-enc'))).toEqual(['a.txt.encrypted'])
    expect(envelope(['decrypt', '-r', '-i', 'names-enc', '-o', 'names-dec', '-w', aes]).code).toBe(0)
    expect(readFileSync(join(dir, 'names-dec/a.txt.encrypted.decrypted'), 'utf8')).toBe('a')
    expect(envelope(['rewrap', '-r', '-i', 'names-enc', '-o', 'names-new', '--from-wrapping-keys', aes, '--to-wrapping-keys', aes]).code).toBe(0)
    expect(readdirSync(join(dir, 'names-new'))).toEqual(['a.txt.rewrapped'])
    expect(envelope(['rewrap', '-r', '-i', 'names-new', '-o', 'names-new2', '--from-wrapping-keys', aes, '--to-wrapping-keys', aes]).code).toBe(0)
    expect(readdirSync(join(dir, 'names-new2'))).toEqual(['a.txt.rewrapped'])
    // One file into a directory follows the same rule.
    mkdirSync(join(dir, 'one'))
    expect(envelope(['decrypt', '-i', 'names-new2/a.txt.rewrapped', '-o', 'one', '-w', aes]).code).toBe(0)
    expect(readFileSync(join(dir, 'one/a.txt.rewrapped.decrypted'), 'utf8')).toBe('a')
    // --suffix is appended as given.
    expect(envelope(['encrypt', '-i', 'doc', '-o', 'one/doc.msg', '-w', aes]).code).toBe(0)
    expect(envelope(['decrypt', '-i', 'one/doc.msg', '-o', 'one', '-w', aes]).code).toBe(0)
    expect(envelope(['decrypt', '-i', 'names-enc/a.txt.encrypted', '-o', 'one', '-w', aes, '--suffix', '.out']).code).toBe(0)
    expect(readdirSync(join(dir, 'one')).sort()).toEqual(['a.txt.encrypted.out', 'a.txt.rewrapped.decrypted', 'doc.msg', 'doc.msg.decrypted'])
  })
})

describe('-r with the output directory inside the input', () => {
  it('encrypt -r -i d -o d twice: the second run skips the first run\'s outputs and reports them', () => {
    mkdirSync(join(dir, 'same/sub'), { recursive: true })
    writeFileSync(join(dir, 'same/a'), 'a')
    writeFileSync(join(dir, 'same/sub/b'), 'b')
    expect(envelope(['encrypt', '-r', '-i', 'same', '-o', 'same', '-w', aes]).code).toBe(0)
    const again = envelope(['encrypt', '-r', '-i', 'same', '-o', './same/', '-w', aes])
    expect(again.code).toBe(0)
    expect(again.stderr).toContain('same/a.encrypted: an output of envelope encrypt in the output directory, skipped')
    expect(again.stderr).toContain('2 files skipped (outputs of envelope encrypt)')
    expect(readdirSync(join(dir, 'same')).sort()).toEqual(['a', 'a.encrypted', 'sub'])
    expect(readdirSync(join(dir, 'same/sub')).sort()).toEqual(['b', 'b.encrypted'])
  })

  it('an output folder inside the input is skipped', () => {
    mkdirSync(join(dir, 'nest'))
    writeFileSync(join(dir, 'nest/a'), 'a')
    expect(envelope(['encrypt', '-r', '-i', 'nest', '-o', 'nest/out', '-w', aes]).code).toBe(0)
    expect(envelope(['encrypt', '-r', '-i', 'nest', '-o', 'nest/out', '-w', aes]).code).toBe(0)
    expect(readdirSync(join(dir, 'nest/out'))).toEqual(['a.encrypted'])
  })
})
