/**
 * Which test files run in which vitest project (vitest.config.ts; spec/conformance.md#test-tiers):
 * each entry names one file, or a folder followed by the glob of all its test files
 * (test/unit/tiers.test.ts holds entries to those two shapes, which it matches without a glob library).
 */
export const CONFORMANCE = [
  // vector manifests, known answers and Wycheproof, on every backend
  'test/vectors/**/*.test.ts',
  'test/wycheproof/**/*.test.ts',
  'test/backends/manifests.test.ts',
  'test/backends/static.test.ts',
  // the peer (@aws-crypto/client-node), every suite x keyring x backend
  'test/interop/**/*.test.ts',
  'test/backends/interop.test.ts',
  'test/streams/interop.test.ts',
  // the peer's key store, and dynalite, against our key store and local DynamoDB
  'test/keystore/peer.test.ts',
  'test/keystore/ddb-differential.test.ts',
  // child processes: the frame worker frozen for real (the built package's and the CLI's are below)
  'test/backends/frame-worker-stall-process.test.ts',
  // the built package (in child processes too), the CLI and the manifest runner, a real browser
  'test/package/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/runner/**/*.test.ts',
  'test/browser/**/*.test.ts',
  // the bench's command line and the goals case's contenders, run as child processes
  'test/bench/run-cli.test.ts',
  'test/bench/goals-case.test.ts',
  // Node 22 and 24, Bun, Deno and workerd, installed on first use (test/runtimes/setup.mjs), and the
  // whole fast tier again on Node 24
  'test/runtimes/**/*.test.ts',
]

/** Fast runs a seeded sample of their cases (ENVELOPE_MUTATIONS=sample), conformance runs all of them. */
export const SAMPLED_IN_FAST = ['test/hostile/mutations.test.ts', 'test/hostile/garbage.test.ts']

/**
 * Fast files that need modules of their own (the `fast-isolated` project): they mock a module
 * (`vi.mock`) or replace process-wide state (the random pool). The rest of the fast tier shares
 * modules between the files a worker runs (`isolate: false`): loading src/ anew for each file cost
 * about a second of CPU per file, more than half of the tier.
 */
export const ISOLATED = [
  'test/backends/no-aes192.test.ts',
  'test/streams/header-parse.test.ts',
  'test/unit/random-pool.test.ts',
]
