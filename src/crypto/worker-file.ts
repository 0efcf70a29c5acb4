/**
 * Where a built worker sits: dist/crypto/<name>.mjs, found from this module's
 * own location (tsup puts the library's chunks at the root of dist/; in the
 * CommonJS build its shim gives import.meta.url from __filename). From src/
 * (tests) no such file exists: tests give the pools a worker they built.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Undefined when this module's location is unknown: an ESM build bundled into CommonJS leaves import.meta empty, and the library must still load. */
export function builtWorkerFile(name: string): URL | undefined {
  try {
    return new URL(`./crypto/${name}.mjs`, import.meta.url)
  } catch {
    return undefined
  }
}

/** Why the worker file `file` (a `what`) cannot be used, or undefined when it is there. */
export function missingWorkerFile(file: URL | undefined, what: string): string | undefined {
  const then = 'its work runs on the calling thread (spec/backends.md#worker-files-bundles-and-createnodebackend)'
  if (!file) return `the library cannot tell where its ${what} file is (import.meta.url is empty: an ESM build bundled as CommonJS?); ${then}`
  if (file.protocol !== 'file:' || existsSync(fileURLToPath(file))) return undefined
  return `the ${what} file ${fileURLToPath(file)} is missing (a bundle that left it behind?); ${then}`
}

/** Failed workers (failed, exited or stalled) after which a pool starts none again in this process: one policy for the frame and signature workers (spec/backends.md#worker-failures). */
export const MAX_WORKER_FAILURES = 3
