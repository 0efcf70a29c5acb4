// @ts-check
// The enclave side: a decrypt service. It receives ciphertext from the parent, asks KMS for the
// data key with its attestation document (Recipient), and answers with a result computed inside
// the enclave, never with the plaintext.
//
// On a real Nitro enclave the socket is vsock (the parent is the only peer) and KMS is reached
// through a vsock proxy on the parent; the document comes from the NSM device (docs/nitro.md).
import { createServer } from 'node:http'
import { createClient, isEnvelopeError, KmsKeyring } from 'envelope-sdk'

/**
 * @param {object} options
 * @param {string} options.keyArn the KMS key whose policy requires this enclave's PCRs
 * @param {() => Promise<Uint8Array>} options.attestationDocument a fresh NSM document per KMS call, with the enclave's RSA public key
 * @param {unknown} options.privateKey the enclave's RSA private key (never leaves the enclave)
 * @param {import('envelope-sdk').KmsClientProvider} [options.clientProvider] KMS clients (through the vsock proxy on Nitro)
 */
export async function startEnclaveService({ keyArn, attestationDocument, privateKey, clientProvider }) {
  const keyring = new KmsKeyring({ generatorKeyId: keyArn, clientProvider, recipient: { attestationDocument, privateKey } })
  const client = createClient()
  const server = createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    try {
      // Against wrapped-key substitution: only messages made for this service's purpose, checked by the
      // library before any plaintext is released (spec/nitro.md#wrapped-key-substitution).
      const { plaintext } = await client.decrypt(keyring, Buffer.concat(chunks), { encryptionContext: { purpose: 'word-count' } })
      const words = new TextDecoder().decode(plaintext).split(/\s+/).filter(Boolean).length
      plaintext.fill(0)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ words }))
    } catch (e) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: isEnvelopeError(e) ? e.code : 'ERR', message: e instanceof Error ? e.message : String(e) }))
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)))
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address()) // TCP, so never a pipe name
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(resolve)) }
}
