/**
 * The worker threads built from src/ for tests that import src/: the library
 * finds dist/crypto/frame-worker.mjs and hash-worker.mjs next to its built
 * files, and Node 20 runs no .ts worker, so these tests give their FramePool
 * or HashWorker these files instead.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const built = new Map<string, Promise<URL>>()

/** Builds src/crypto/<name>.ts once per test file into a temporary .mjs and gives its URL. */
export function builtWorkerFile(name: 'frame-worker' | 'hash-worker'): Promise<URL> {
  let file = built.get(name)
  if (!file) {
    file = (async () => {
      const outfile = join(mkdtempSync(join(tmpdir(), `${name}-`)), `${name}.mjs`)
      const entry = fileURLToPath(new URL(`../../src/crypto/${name}.ts`, import.meta.url))
      await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'error' })
      return pathToFileURL(outfile)
    })()
    built.set(name, file)
  }
  return file
}
