/**
 * Library errors in the words of the command line (spec/errors.md#cli-wording): the library names
 * its API options (`unsignedOnly`, `suiteId`, `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`), a CLI user typed
 * flags. Each rule rewrites one phrase into the flag the command takes, or into words without a
 * flag when the command has none for it; the code and everything else in the message stay.
 */
import { printable } from '../errors.js'
import { isEnvelopeError } from '../index.js'

const POLICY = /\b(FORBID_ENCRYPT_ALLOW_DECRYPT|REQUIRE_ENCRYPT_ALLOW_DECRYPT|REQUIRE_ENCRYPT_REQUIRE_DECRYPT)\b/g
const cliPolicy = (policy: string) => policy.toLowerCase().replaceAll('_', '-')

/** API limit names -> the flag that sets them (or what they are, when no flag does). */
const LIMITS: Readonly<Record<string, { flag?: string; words: string }>> = {
  maxEncryptedDataKeys: { flag: 'max-encrypted-data-keys', words: 'the limit on encrypted data keys' },
  maxHeaderSize: { words: 'the header size limit (1 MiB)' },
  maxBodySize: { words: 'the body size limit' },
}

type Rule = (text: string, flags: ReadonlySet<string>) => string

const RULES: readonly Rule[] = [
  (t, f) => t.replace(/decode it to bytes first \(or use the CLI --decode flag\)/, f.has('decode') ? 'add --decode' : 'decode it to bytes first (base64 -d)'),
  (t, f) => t.replace(/\bunsignedOnly is set\b/, f.has('decrypt-unsigned') ? '--decrypt-unsigned is set' : 'only unsigned messages are accepted'),
  (t, f) => t.replace(/\bsuiteId (0x[0-9a-f]{4})/g, f.has('algorithm') ? '--algorithm $1' : 'suite $1'),
  // assertEncryptAllowed names the suite first: on encrypt that is the one --algorithm chose.
  (t, f) => (f.has('algorithm') ? t.replace(/^suite (0x[0-9a-f]{4}) is (not )?key-committing/, '--algorithm $1 is $2key-committing') : t),
  // rewrap writes the input's suite, so reading a non-committing message is not enough: the policy
  // must allow writing it too, which only forbid-encrypt-allow-decrypt does.
  (t, f) => (f.has('to-wrapping-keys') ? t.replace(/\(use REQUIRE_ENCRYPT_ALLOW_DECRYPT to read older messages\)/, '(rewrap writes the same suite: use FORBID_ENCRYPT_ALLOW_DECRYPT to rewrap it)') : t),
  // A suite the policy will not write: name the policy that writes it.
  (t) =>
    t
      .replace(/ requires key commitment on encrypt$/, ' requires key commitment on encrypt (use FORBID_ENCRYPT_ALLOW_DECRYPT to write it)')
      .replace(/ forbids key commitment on encrypt$/, ' forbids key commitment on encrypt (use REQUIRE_ENCRYPT_REQUIRE_DECRYPT to write it)'),
  (t, f) =>
    t
      .replace(/\bcommitment policy (\w+)/g, (_, p: string) => (f.has('commitment-policy') ? `--commitment-policy ${cliPolicy(p)}` : `commitment policy ${cliPolicy(p)}`))
      .replace(/\buse (\w+_DECRYPT)\b/g, (_, p: string) => (f.has('commitment-policy') ? `use --commitment-policy ${cliPolicy(p)}` : `use ${cliPolicy(p)}`))
      .replace(POLICY, cliPolicy),
  (t, f) =>
    t.replace(/^(\w+) exceeded:/, (whole, limit: string) => {
      const known = LIMITS[limit]
      if (!known) return whole
      return `${known.flag && f.has(known.flag) ? `--${known.flag}` : known.words} exceeded:`
    }),
  // A first byte that is no version of ours: most likely not a message at all (a plaintext, a wrong file).
  (t) => t.replace(/^unsupported message format version 0x(?!0[12]\b)[0-9a-f]{2} \(at byte 0\)/, '$&: not an encrypted message (it does not start like one)'),
  (t) => t.replace(/\bKmsRsaKeyring\b/g, 'provider=aws-kms-rsa'),
  // Keyring options a -w spec sets through its key=, recipient= and sender= fields.
  (t) => t.replace(/\b(generatorKeyId|keyIds|keyId)\b/g, 'key='),
  (t) => t.replace(/\brecipient(PublicKey|PrivateKey)\b/g, 'recipient=').replace(/\bsenderPrivateKey\b/g, 'sender='),
]

/** `message` (a library error's) in CLI terms for a command taking `flags`. */
export function inCliTerms(message: string, flags: ReadonlySet<string>): string {
  return RULES.reduce((text, rule) => rule(text, flags), message)
}

/**
 * What the CLI prints for `error` (after "envelope: "): an EnvelopeError as `CODE: message` in CLI
 * terms, anything else as its message; printable (spec/errors.md#printable-text), where only an
 * EnvelopeError's own line breaks (the attempt list) survive.
 */
export function errorText(error: unknown, flags: ReadonlySet<string>): string {
  if (!isEnvelopeError(error)) return printable(String((error as Error)?.message ?? error))
  return `${error.code}: ${inCliTerms(error.message, flags)}`.split('\n').map(printable).join('\n')
}
