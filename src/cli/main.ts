import { createClient } from '../index.js'

// Placeholder replaced by the conformance runner and file CLI (issue 3).
const [command] = process.argv.slice(2)
if (command === '--version' || command === 'version') {
  console.log('envelope-sdk 0.1.0')
} else {
  void createClient
  console.error('usage: envelope --version')
  process.exitCode = command === undefined || command === '--help' ? 0 : 2
}
