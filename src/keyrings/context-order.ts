/**
 * The JS peer's legacy context order (spec/hierarchy.md#context-order). The
 * peer's raw AES and hierarchical keyrings, unless built with
 * `utf8Sorting: true`, sort the encryption context in their key-wrap AAD with
 * `String.prototype.localeCompare` instead of by UTF-8 bytes. The pairs are
 * the same, only their order differs, so accepting that order on decrypt
 * authenticates exactly the same context.
 */
import { equalBytes } from '../format/bytes.js'
import { encodeEncryptionContext, encodeEncryptionContextInOrder, type EncryptionContext } from '../format/encryption-context.js'

/**
 * - `'decrypt'` (default): write byte order; on decrypt, when the byte-order AAD
 *   does not unwrap a key, also try the peer's locale order.
 * - `'off'`: byte order only, as every other ESDK.
 * - `'encrypt-and-decrypt'`: also write the peer's order (under `en-US`), for
 *   readers still on the peer's default during a migration. Other ESDKs and
 *   the peer with `utf8Sorting: true` cannot read those keys when the orders differ.
 */
export type LegacyContextOrder = 'decrypt' | 'off' | 'encrypt-and-decrypt'

const MODES: readonly LegacyContextOrder[] = ['decrypt', 'off', 'encrypt-and-decrypt']

export function checkLegacyContextOrder(value: unknown): LegacyContextOrder {
  if (value === undefined) return 'decrypt'
  if (!MODES.includes(value as LegacyContextOrder)) throw new TypeError(`legacyContextOrder must be one of ${MODES.map((m) => `'${m}'`).join(', ')}`)
  return value as LegacyContextOrder
}

type Compare = (a: string, b: string) => number

let orders: Compare[] | undefined

/**
 * The peer calls localeCompare with no locale: `en-US` is what most
 * deployments run; the runtime's default is what this process would do.
 * Built once: a collator costs far more than a comparison.
 */
function legacyOrders(): Compare[] {
  if (orders) return orders
  if (typeof Intl === 'undefined' || typeof Intl.Collator !== 'function') return (orders = [(a, b) => a.localeCompare(b)])
  const enUs = new Intl.Collator('en-US')
  const runtime = new Intl.Collator()
  orders = [enUs.compare]
  if (runtime.resolvedOptions().locale !== enUs.resolvedOptions().locale) orders.push(runtime.compare)
  return orders
}

/** The AAD a keyring writes on encrypt. */
export function encryptAad(context: EncryptionContext, mode: LegacyContextOrder): Uint8Array {
  return mode === 'encrypt-and-decrypt' ? encodeEncryptionContextInOrder(context, legacyOrders()[0]!) : encodeEncryptionContext(context)
}

/**
 * The AADs a keyring tries on decrypt, each built on first use: byte order
 * first, then (unless off) en-US locale order, then the runtime locale's
 * order, each only when its bytes differ from every earlier one.
 */
export class DecryptAads {
  readonly #context: EncryptionContext
  readonly #mode: LegacyContextOrder
  #canonical: Uint8Array | undefined
  #legacy: Uint8Array[] | undefined

  constructor(context: EncryptionContext, mode: LegacyContextOrder) {
    this.#context = context
    this.#mode = mode
  }

  get canonical(): Uint8Array {
    this.#canonical ??= encodeEncryptionContext(this.#context)
    return this.#canonical
  }

  /** The legacy orders that differ from byte order: empty when off, or when the context sorts the same either way. */
  get legacy(): readonly Uint8Array[] {
    if (this.#legacy) return this.#legacy
    const list: Uint8Array[] = []
    if (this.#mode !== 'off') {
      const canonical = this.canonical
      for (const order of legacyOrders()) {
        const aad = encodeEncryptionContextInOrder(this.#context, order)
        if (!equalBytes(aad, canonical) && !list.some((known) => equalBytes(known, aad))) list.push(aad)
      }
    }
    this.#legacy = list
    return list
  }
}
