// @ts-check
// Runs one decrypt manifest with the built runner (used under --security-revert=CVE-2023-46809).
import { runDecryptManifest, summarize, summaryLine } from '../../dist/runner/index.js'

const manifest = process.argv[2]
if (!manifest) throw new Error('usage: run-manifest-child.mjs <manifest path>')
const results = await runDecryptManifest(manifest)
for (const r of results) if (r.status !== 'passed') console.log(`${r.status} ${r.id}: ${r.reason}`)
console.log(summaryLine(summarize(results)))
