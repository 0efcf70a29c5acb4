/**
 * The web stream path must load in a browser: nothing src/streams/web.ts
 * imports, directly or not, may import a Node built-in; and only
 * src/streams/node.ts imports node:stream within the library (the Node-only
 * command line in src/cli/ may use it too).
 */
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { builtinsReached, filesUnder as files, importGraph as graph, importsOf, SRC as src } from '../support/import-graph.js'

describe('web stream isolation', () => {
  it('src/streams/web.ts reaches no Node built-in', () => {
    const reached = graph(join(src, 'streams', 'web.ts'))
    expect(reached.size).toBeGreaterThan(5)
    expect(builtinsReached(reached)).toEqual([])
  })

  it('the walk does see Node built-ins where they are (so the check above can fail)', () => {
    const reached = graph(join(src, 'streams', 'node.ts'))
    expect([...reached.values()].flat()).toContain('node:stream')
  })

  it('only src/streams/node.ts imports node:stream (outside the CLI)', () => {
    const importers = files(src)
      .filter((f) => f.endsWith('.ts') && !relative(src, f).startsWith(`cli${'/'}`))
      .filter((f) => importsOf(f).some((s) => s === 'node:stream' || s.startsWith('node:stream/')))
      .map((f) => relative(src, f))
    expect(importers).toEqual([join('streams', 'node.ts')])
  })
})
