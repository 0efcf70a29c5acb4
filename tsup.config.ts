import { defineConfig } from 'tsup'

export default defineConfig([
  {
    // The Node build ("node" condition). envelope-sdk/crypto is built here too, so on Node it shares
    // one copy of every class (errors above all) with the main entry.
    entry: { index: 'src/index.ts', 'crypto/index': 'src/entry/crypto-node.ts', 'runner/index': 'src/runner/index.ts', 'testing/index': 'src/testing/index.ts', 'nitro/index': 'src/entry/nitro.ts' },
    external: ['@aws-sdk/client-kms', '@aws-sdk/client-dynamodb'],
    // cborg is ESM-only (no "require" export), so it is bundled: the CommonJS build can load it too.
    // Only envelope-sdk/nitro and the local KMS server import it; test/package/lazy-nitro.test.ts checks the main entry does not.
    noExternal: ['cborg'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: false,
    clean: false,
    target: 'node20',
    platform: 'node',
    splitting: true,
    treeshake: true,
    // import.meta.url in the CommonJS build, from __filename: node-frame-worker.ts finds the worker file with it.
    shims: true,
  },
  {
    // The worker threads, each one file that imports nothing of ours at run time: started by path
    // from the library's chunks at the root of dist/ (spec/backends.md#parallel-frames).
    // .mjs: ESM wherever the file is copied, whatever package.json is nearest.
    entry: { 'crypto/frame-worker': 'src/crypto/frame-worker.ts', 'crypto/hash-worker': 'src/crypto/hash-worker.ts' },
    format: ['esm'],
    outExtension: () => ({ js: '.mjs' }),
    sourcemap: false,
    clean: false,
    target: 'node20',
    platform: 'node',
    splitting: false,
  },
  {
    // The web build ("browser", "worker" and "default" conditions): nothing from node:* may be reached
    // (spec/backends.md#selection). tsup would leave such an import external, not fail, so
    // test/package/exports.test.ts checks the built files.
    entry: { index: 'src/entry/web.ts', 'crypto/index': 'src/entry/crypto.ts' },
    outDir: 'dist/web',
    external: ['@aws-sdk/client-kms', '@aws-sdk/client-dynamodb'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: false,
    clean: false,
    target: 'es2022',
    platform: 'browser',
    splitting: true,
    treeshake: true,
  },
  {
    entry: { 'cli/main': 'src/cli/main.ts' },
    external: ['@aws-sdk/client-kms', '@aws-sdk/client-dynamodb'],
    format: ['esm'],
    sourcemap: false,
    target: 'node20',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  },
])
