#!/usr/bin/env node
// @ts-check
// Rebuilds test-vectors/<set>.tar.gz from ../shared/test-vectors (beside the checkout or a folder above
// it), or from the folder given as the first argument, and rewrites test-vectors/SHA256SUMS. Each source file is checked against the set's own
// SHA256SUMS first, so only the bytes upstream documented get committed.
// The archive is deterministic: ustar entries sorted by path, mtime 0, uid/gid 0, mode 0644, gzip level 9.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { constants, gzipSync } from 'node:zlib'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const source = resolve(process.argv[2] ?? findShared())
const SETS = ['public', 'wycheproof']

/** ../shared/test-vectors beside the checkout or beside any folder above it (git worktrees nest). */
function findShared() {
  for (let dir = repo; dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dir, '..', 'shared', 'test-vectors')
    if (existsSync(candidate)) return candidate
  }
  throw new Error('no ../shared/test-vectors found; pass the folder as the first argument')
}

/** @param {Uint8Array} bytes */
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

/**
 * @param {string} root
 * @returns {string[]} the regular files under root, as '/'-separated paths relative to it
 */
function listFiles(root, dir = root) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return listFiles(root, path)
    if (!entry.isFile()) throw new Error(`${path}: not a regular file`)
    return [relative(root, path).split(sep).join('/')]
  })
}

/**
 * Every file but SHA256SUMS is listed in it with the right hash, and nothing listed is missing.
 * @param {string} root
 * @param {string[]} files
 */
function verifySums(root, files) {
  const listed = new Map()
  for (const line of readFileSync(join(root, 'SHA256SUMS'), 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](?:\.\/)?(.+)$/.exec(line)
    if (m) listed.set(m[2], m[1])
  }
  const problems = []
  for (const file of files) {
    if (file === 'SHA256SUMS') continue
    const want = listed.get(file)
    if (!want) problems.push(`${file}: not in SHA256SUMS`)
    else if (want !== sha256(readFileSync(join(root, file)))) problems.push(`${file}: sha256 differs`)
    listed.delete(file)
  }
  for (const file of listed.keys()) problems.push(`${file}: listed but missing`)
  if (problems.length) throw new Error(`${root}:\n  ${problems.join('\n  ')}`)
}

/** @param {Buffer} header @param {number} offset @param {number} length @param {number} value */
function octal(header, offset, length, value) {
  header.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'ascii')
}

/** @param {string} path @param {number} size */
function tarHeader(path, size) {
  const header = Buffer.alloc(512)
  let name = path
  let prefix = ''
  if (Buffer.byteLength(path) > 100) {
    // ustar splits a long path at a '/' into prefix (155) and name (100).
    const cut = path.lastIndexOf('/', 155)
    if (cut < 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) throw new Error(`${path}: path too long for ustar`)
    prefix = path.slice(0, cut)
    name = path.slice(cut + 1)
  }
  header.write(name, 0, 100, 'utf8')
  octal(header, 100, 8, 0o644)
  octal(header, 108, 8, 0)
  octal(header, 116, 8, 0)
  octal(header, 124, 12, size)
  octal(header, 136, 12, 0)
  header.fill(' ', 148, 156)
  header.write('0', 156, 1, 'ascii')
  header.write('ustar\u000000', 257, 8, 'ascii')
  header.write(prefix, 345, 155, 'utf8')
  let sum = 0
  for (const byte of header) sum += byte
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii')
  return header
}

/** @param {string} root @param {string} set @param {string[]} files */
function tar(root, set, files) {
  const parts = []
  for (const file of files) {
    const bytes = readFileSync(join(root, file))
    parts.push(tarHeader(`${set}/${file}`, bytes.length), bytes, Buffer.alloc((512 - (bytes.length % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

const sums = []
for (const set of SETS) {
  const root = join(source, set)
  if (!statSync(root).isDirectory()) throw new Error(`${root}: not a folder`)
  const files = listFiles(root).sort()
  verifySums(root, files)
  const archive = gzipSync(tar(root, set, files), { level: constants.Z_BEST_COMPRESSION })
  writeFileSync(join(repo, 'test-vectors', `${set}.tar.gz`), archive)
  sums.push(`${sha256(archive)}  ${set}.tar.gz`)
  console.log(`${set}.tar.gz: ${files.length} files, ${archive.length} bytes, sha256 ${sha256(archive)}`)
}
writeFileSync(join(repo, 'test-vectors', 'SHA256SUMS'), sums.join('\n') + '\n')
