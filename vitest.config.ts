import { defineConfig } from 'vitest/config'

/**
 * Two tiers (README "Two commands"): `fast` is the edit-test loop (`npm run test:fast`, budget: under a
 * minute on two idle cores); `conformance` runs the vector manifests on every backend, the peer, the
 * browser, the package, the CLI and the runner, and everything that starts a child process
 * (spec/conformance.md#test-tiers). `npm test` runs both. The mutation and garbage tests check a seeded
 * sample of their cases in `fast` and every one in `conformance`.
 */
const CONFORMANCE = [
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
  // Node 22 and 24, Bun, Deno and workerd, installed on first use (test/runtimes/setup.mjs)
  'test/runtimes/**/*.test.ts',
]

/** Fast runs a seeded sample of their cases (ENVELOPE_MUTATIONS=sample), conformance runs all of them. */
const SAMPLED_IN_FAST = ['test/hostile/mutations.test.ts', 'test/hostile/garbage.test.ts']

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/dist-setup.ts', 'test/support/vectors-setup.ts', 'test/support/keys-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: CONFORMANCE,
          env: { ENVELOPE_MUTATIONS: 'sample' },
          // A worker per core: vitest's default leaves one core out, which on two cores runs one file at a
          // time. Projects whose maxWorkers differ need their own `sequence.groupOrder` (fast runs first).
          maxWorkers: '100%',
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'conformance', include: [...CONFORMANCE, ...SAMPLED_IN_FAST], env: { ENVELOPE_MUTATIONS: 'all' }, sequence: { groupOrder: 1 } },
      },
    ],
  },
})
