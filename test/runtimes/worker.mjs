// @ts-check
/**
 * The runtime matrix in Cloudflare workerd (test/runtimes/matrix.test.ts bundles this with esbuild
 * under the "workerd"/"worker" conditions and runs it in miniflare). POST the input JSON; the answer
 * is the report. The KMS keyring calls the local KMS the host started, over loopback.
 */
import * as sdk from 'envelope-sdk'
import { kmsCheck, portableChecks, Tally } from './checks.mjs'

export default {
  /** @param {Request} request */
  async fetch(request) {
    /** @type {import('./checks.mjs').MatrixInput} */
    const input = await request.json()
    const tally = new Tally()
    await portableChecks(sdk, input, tally)
    if (input.kms) await kmsCheck(sdk, input.kms, tally)
    return Response.json({ runtime: `workerd ${navigator.userAgent}`, counts: tally.counts, failures: tally.failures })
  },
}
