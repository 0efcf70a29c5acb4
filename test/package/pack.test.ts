/**
 * What `npm pack` would publish, from the file list npm computes (dist/ as built; prepack rebuilds it
 * from clean for a real pack, so --ignore-scripts here keeps this test from rebuilding under others).
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

function packList(): { files: { path: string; size: number }[]; unpackedSize: number } {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const r = spawnSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(r.stdout)[0]
}

describe('npm pack', () => {
  const packed = packList()
  const paths = packed.files.map((f) => f.path)

  it('ships no tests, no TypeScript sources and no source maps', () => {
    expect(paths.filter((p) => /^(test|src|bench|scripts|examples|test-vectors)\//.test(p))).toEqual([])
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([])
    // The generated API reference (npm run docs) is for the website, not the tarball.
    expect(paths.filter((p) => p.startsWith('docs/api/'))).toEqual([])
    // Source maps were 66 % of the unpacked size (4.5 MB with, 1.5 MB without) for unminified code.
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([])
    for (const file of paths.filter((p) => /\.(c|m)?js$/.test(p))) {
      expect(readFileSync(join(root, file), 'utf8'), `${file} points at no missing map`).not.toContain('sourceMappingURL')
    }
  })

  it('ships the entry points, the bin, both worker files, spec/ and docs/', () => {
    for (const file of ['package.json', 'README.md', 'LICENSE', 'SECURITY.md', 'CHANGELOG.md', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/web/index.js', 'dist/cli/main.js', 'dist/crypto/frame-worker.mjs', 'dist/crypto/hash-worker.mjs', 'spec/errors.md', 'docs/kms-local.md', 'docs/migrating.md']) {
      expect(paths, file).toContain(file)
    }
    const targets = JSON.stringify(pkg.exports).match(/\.\/dist\/[^"]+/g)!
    for (const target of [...targets, pkg.main, pkg.module, pkg.types, pkg.bin.envelope]) expect(paths, target).toContain(target.replace(/^\.\//, ''))
  })

  it('names its repository, homepage and issue tracker', () => {
    expect(pkg.repository).toEqual({ type: 'git', url: 'git+https://github.com/envelope-sdk/envelope-sdk.git' })
    expect(pkg.homepage).toMatch(/^https:\/\/github\.com\/envelope-sdk\/envelope-sdk/)
    expect(pkg.bugs.url).toBe('https://github.com/envelope-sdk/envelope-sdk/issues')
  })

  it('has a README whose links work on the npm page: absolute URLs, or files the package ships', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    expect(readme).toMatch(/^npm install envelope-sdk\b/m)
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!)
    expect(links.length).toBeGreaterThan(0)
    for (const link of links) {
      if (/^https:\/\//.test(link) || link.startsWith('#')) continue
      expect(paths, `README link ${link}`).toContain(link.replace(/^\.\//, '').replace(/#.*$/, ''))
    }
  })
})
