/**
 * One printing rule for everything that holds key material (AES, signing and
 * RSA keys, keyrings): JSON.stringify and util.inspect show the type and the
 * public facts, never key bytes (SECURITY.md, no secret in anything printable).
 */

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

export type PublicFacts = Readonly<Record<string, string | number>>

export abstract class Redacted {
  /** The type name shown, and the facts that are safe to print. */
  protected abstract publicFacts(): readonly [type: string, facts: PublicFacts]

  /** The type and its public facts; never the key. */
  toJSON(): object {
    const [type, facts] = this.publicFacts()
    return { type, ...facts }
  }

  /** What console.log and util.inspect show: public facts, the key as [redacted]. */
  [INSPECT](): string {
    const [type, facts] = this.publicFacts()
    const shown = Object.entries(facts).map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    return `${type} { ${[...shown, 'key: [redacted]'].join(', ')} }`
  }
}
