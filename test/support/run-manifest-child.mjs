// Runs one decrypt manifest with the built runner (used under --security-revert=CVE-2023-46809).
import { runDecryptManifest, summarize, summaryLine } from '../../dist/runner/index.js'

const results = await runDecryptManifest(process.argv[2])
for (const r of results) if (r.status !== 'passed') console.log(`${r.status} ${r.id}: ${r.reason}`)
console.log(summaryLine(summarize(results)))
