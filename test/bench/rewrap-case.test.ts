/**
 * bench/cases/rewrap.mjs checks that a rewrapped file has a new message id before it times anything;
 * it reads the id from the header at the start of each file, however long that header is.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
// @ts-expect-error -- a plain-JavaScript bench module (typed by JSDoc, checked by tsconfig.js.json), with no declaration file
import { messageIdOf } from '../../bench/cases/rewrap.mjs'
import * as ours from '../../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'rewrap-case-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const keyring = new ours.RawAesKeyring({ keyNamespace: 'bench', keyName: 'k', wrappingKey: new Uint8Array(32).fill(1) })
/** A context as large as the format allows, so the header alone is longer than 64 KiB. */
const bigContext = { big: 'x'.repeat(65_526) }

it('reads the message id of a header longer than 64 KiB', async () => {
  const { ciphertext } = await ours.createClient().encrypt(keyring, new Uint8Array(10), { suiteId: 0x0478, encryptionContext: bigContext })
  const info = ours.inspectMessage(ciphertext)
  if (!info.complete) throw new Error('a whole message has a whole header')
  expect(ciphertext.length).toBeGreaterThan(1 << 16)
  const path = join(dir, 'big-header.enc')
  writeFileSync(path, ciphertext)
  expect(messageIdOf(ours, path)).toBe(Buffer.from(info.messageId).toString('hex'))
})

it('says so when the file ends inside the header', async () => {
  const { ciphertext } = await ours.createClient().encrypt(keyring, new Uint8Array(10), { suiteId: 0x0478 })
  const path = join(dir, 'cut.enc')
  writeFileSync(path, ciphertext.subarray(0, 40))
  expect(() => messageIdOf(ours, path)).toThrow(`${path}: the file ends inside the message header`)
})
