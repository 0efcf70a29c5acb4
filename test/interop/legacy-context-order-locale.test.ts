/**
 * The third order of spec/hierarchy.md#context-order: a peer running under
 * another default locale (Swedish sorts ä after z; en-US next to a) wrote its
 * AAD in that locale's order. Each side runs in a child process with its LANG.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { expect, it } from 'vitest'

const CHILD = join(import.meta.dirname, '..', 'support', 'legacy-locale-child.mjs')
/** Byte order B a z ä; en-US a ä B z; Swedish a B z ä: three different AADs. */
const CONTEXT = JSON.stringify({ 'ä': '1', z: '2', a: '3', B: '4' })

function child(lang: string, ...args: string[]): string {
  return execFileSync(process.execPath, [CHILD, ...args], { env: { ...process.env, LANG: lang, LC_ALL: lang }, encoding: 'utf8' }).trim()
}

it('decrypts what the peer wrote under a Swedish default locale when running under it, and not under en-US', () => {
  const message = child('sv_SE.UTF-8', 'encrypt', '', CONTEXT)
  expect(child('sv_SE.UTF-8', 'decrypt', message)).toBe('hello')
  expect(child('en_US.UTF-8', 'decrypt', message)).toBe('ERR_NO_MATCHING_KEY')
})
