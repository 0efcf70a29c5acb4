/**
 * A random (v4) UUID, lower-case 8-4-4-4-12, from the runtime's CSPRNG (Node 20+, Deno, Bun,
 * browsers and workers all have `crypto.getRandomValues`). For identifiers (branch key ids and
 * versions), not keys; importing it loads no pure-JS crypto.
 */
export function randomUuid(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
