/**
 * The frame worker built from src/ for tests that import src/: the library
 * finds dist/crypto/frame-worker.mjs next to its built files, and Node 20 runs
 * no .ts worker, so these tests give their FramePool this file instead.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

let built: Promise<URL> | undefined

/** Builds src/crypto/frame-worker.ts once per test file into a temporary .mjs and gives its URL. */
export function frameWorkerFile(): Promise<URL> {
  built ??= (async () => {
    const outfile = join(mkdtempSync(join(tmpdir(), 'frame-worker-')), 'frame-worker.mjs')
    const entry = fileURLToPath(new URL('../../src/crypto/frame-worker.ts', import.meta.url))
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'error' })
    return pathToFileURL(outfile)
  })()
  return built
}
