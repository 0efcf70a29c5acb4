/**
 * A real browser for test/browser: Debian's Chromium (/usr/bin/chromium, which
 * .ci/run installs; nothing is downloaded) driven by playwright-core, a fresh
 * profile per run, and a loopback HTTP server that serves the browser build of
 * the package (bundled by esbuild through the `exports` "browser" condition)
 * and any bytes a test registers.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
const root = fileURLToPath(new URL('../..', import.meta.url))

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const PAGE = `<!doctype html><meta charset="utf-8"><title>envelope-sdk browser test</title>
<script type="module" src="/bundle.js"></script>`

export interface BrowserSession {
  readonly page: Page
  readonly origin: string
  /** Bytes the page can fetch at `origin + path`. */
  serve(path: string, body: Uint8Array): void
  /** Bytes of the bundle the page runs (esbuild, minified). */
  readonly bundleBytes: number
  close(): Promise<void>
}

/** The package as a browser bundler sees it: `import 'envelope-sdk'` resolved with the "browser" condition. */
async function bundle(): Promise<Uint8Array> {
  if (!existsSync(join(root, 'dist', 'web', 'index.js'))) throw new Error('dist/web is missing: build first (npm test does)')
  const result = await build({
    stdin: { contents: `import * as sdk from 'envelope-sdk'\nimport * as backends from 'envelope-sdk/crypto'\nglobalThis.envelope = sdk\nglobalThis.envelopeBackends = backends\n`, resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    // Loaded only by the KMS keyrings, which these tests never call.
    external: ['@aws-sdk/client-kms'],
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.contents
}

export async function openBrowser(): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)`)
  const script = await bundle()
  const routes = new Map<string, { type: string; body: Uint8Array }>([
    ['/', { type: 'text/html; charset=utf-8', body: new TextEncoder().encode(PAGE) }],
    ['/bundle.js', { type: 'text/javascript; charset=utf-8', body: script }],
  ])
  const server: Server = createServer((request, response) => {
    const route = routes.get(new URL(request.url ?? '/', 'http://x').pathname)
    if (!route) {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { 'content-type': route.type, 'content-length': route.body.length, 'cache-control': 'no-store' })
    response.end(route.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const profile = mkdtempSync(join(tmpdir(), 'envelope-chromium-'))
  let context: BrowserContext | undefined
  try {
    // launchPersistentContext is how playwright takes a --user-data-dir: a fresh one per run.
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS })
    const page = context.pages()[0] ?? (await context.newPage())
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(String(e)))
    await page.goto(origin + '/')
    await page.waitForFunction(() => (globalThis as { envelope?: unknown }).envelope !== undefined, undefined, { timeout: 20_000 }).catch(() => {
      throw new Error(`the bundle did not load: ${errors.join('; ')}`)
    })
    const opened = context
    return {
      page,
      origin,
      bundleBytes: script.length,
      serve: (path, body) => void routes.set(path, { type: 'application/octet-stream', body }),
      async close() {
        await opened.close()
        await new Promise((resolve) => server.close(resolve))
        rmSync(profile, { recursive: true, force: true })
      },
    }
  } catch (e) {
    await context?.close()
    server.close()
    rmSync(profile, { recursive: true, force: true })
    throw e
  }
}
