/**
 * Stream interoperability with the peer, @aws-crypto/client-node 5.x: its
 * encryptStream output through our decryptors, and our encryptors' output
 * through its decryptStream, for every suite, at frame-boundary lengths.
 */
import { describe, expect, it } from 'vitest'
import { ALL_SUITES } from '../../src/index.js'
import { patterned } from '../support/keys.js'
import { peerAllow, peerForbid } from '../support/peer.js'
import { chunked, clientFor, keyring, peerKeyring, randomSizes, same, throughNode, throughWeb } from './helpers.js'

const F = 1024
const LENGTHS = [0, F, 3 * F + 7]

describe.each(ALL_SUITES.map((s) => [s.name, s] as const))('%s', (_name, suite) => {
  const peer = suite.committing ? peerAllow : peerForbid
  const client = clientFor(suite)
  const context = { interop: 'streams', 'é': 'ü' }

  it('peer encryptStream -> our decryptStream and decryptWebStream', async () => {
    for (const length of LENGTHS) {
      const plaintext = patterned(length, 11)
      const message = await throughNode(chunked(plaintext, [500]), peer.encryptStream(peerKeyring, { suiteId: suite.id, frameLength: F, encryptionContext: context }))
      const decrypt = client.decryptStream(keyring)
      expect(same(await throughNode(chunked(message, randomSizes(length, 16, 2 * F)), decrypt), plaintext), `node len=${length}`).toBe(true)
      const header = await decrypt.header
      expect(header.suiteId).toBe(suite.id)
      expect(header.encryptionContext).toMatchObject(context)
      expect(same(await throughWeb(chunked(message, [1, 211, 3 * F]), client.decryptWebStream(keyring)), plaintext), `web len=${length}`).toBe(true)
    }
  })

  it('our encryptStream and encryptWebStream -> peer decryptStream', async () => {
    for (const length of LENGTHS) {
      const plaintext = patterned(length, 13)
      const options = { suiteId: suite.id, frameLength: F, encryptionContext: context }
      const fromNode = await throughNode(chunked(plaintext, [777]), client.encryptStream(keyring, options))
      const fromWeb = await throughWeb(chunked(plaintext, [1, 2 * F + 1]), client.encryptWebStream(keyring, options))
      for (const [label, message] of [['node', fromNode], ['web', fromWeb]] as const) {
        const peerDecrypt = peer.decryptStream(peerKeyring)
        const headers: any[] = []
        peerDecrypt.on('MessageHeader', (h: any) => headers.push(h))
        expect(same(await throughNode(chunked(message, [333]), peerDecrypt), plaintext), `${label} len=${length}`).toBe(true)
        expect(headers[0]?.encryptionContext).toMatchObject(context)
      }
    }
  })
})
