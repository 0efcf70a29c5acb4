import { defineConfig } from 'vitest/config'
import { CONFORMANCE, ISOLATED, SAMPLED_IN_FAST } from './test/support/tiers.js'

/** The fast tier's two projects (`npm run test:fast` runs both). */
const FAST = {
  env: { ENVELOPE_MUTATIONS: 'sample' },
  // A worker per core: vitest's default leaves one core out, which on two cores runs one file at a time.
  // Projects whose maxWorkers differ need their own `sequence.groupOrder` (fast runs first).
  maxWorkers: '100%',
  sequence: { groupOrder: 0 },
}

/**
 * Two tiers (README "Two commands"): `fast` and `fast-isolated` are the edit-test loop (`npm run test:fast`,
 * budget: under a minute on two cores); `conformance` runs the vector manifests on every backend, the peer, the
 * browser, the package, the CLI and the runner, and everything that starts a child process
 * (spec/conformance.md#test-tiers). `npm test` runs both. The mutation and garbage tests check a seeded
 * sample of their cases in `fast` and every one in `conformance`.
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/dist-setup.ts', 'test/support/vectors-setup.ts', 'test/support/keys-setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: [...CONFORMANCE, ...ISOLATED], isolate: false, ...FAST },
      },
      { extends: true, test: { name: 'fast-isolated', include: ISOLATED, ...FAST } },
      {
        extends: true,
        test: { name: 'conformance', include: [...CONFORMANCE, ...SAMPLED_IN_FAST], env: { ENVELOPE_MUTATIONS: 'all' }, sequence: { groupOrder: 1 } },
      },
    ],
  },
})
