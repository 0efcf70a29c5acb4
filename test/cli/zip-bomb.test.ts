/** `envelope vectors decrypt --manifest x.zip` on a zip bomb, through the real binary (dist/cli/main.js). */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { buildZip } from '../support/zip.js'

const bin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

it('a manifest.json that inflates past 64 MiB while its headers claim 2 bytes fails with ERR_LIMIT_EXCEEDED', () => {
  expect(existsSync(bin), 'npm test builds dist/ first').toBe(true)
  const dir = mkdtempSync(join(tmpdir(), 'envelope-zip-cli-'))
  const path = join(dir, 'bomb.zip')
  // About 65 KiB on disk.
  writeFileSync(path, buildZip([{ name: 'manifest.json', data: Buffer.alloc(64 * 1024 * 1024 + 1), declaredSize: 2 }]))
  const r = spawnSync(process.execPath, [bin, 'vectors', 'decrypt', '--manifest', path], { encoding: 'utf8' })
  expect(r.status).toBe(1)
  expect(r.stderr).toContain('ERR_LIMIT_EXCEEDED: maxZipEntrySize exceeded: 67108865 > 67108864')
  expect(r.stderr).toContain('inflating stopped there')
})
