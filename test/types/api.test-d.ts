/**
 * The public types of both builds, pinned (checked by tsc: test/package/typecheck.test.ts runs it
 * over tests, examples and bench). A Node client is the web client plus the two Node stream
 * methods; decrypt's plaintext is a Uint8Array on both.
 */
import { expectTypeOf } from 'vitest'
import type { Duplex } from 'node:stream'
import * as node from '../../src/entry/node.js'
import * as web from '../../src/entry/web.js'

type NodeClient = ReturnType<typeof node.createClient>
type WebClient = ReturnType<typeof web.createClient>

expectTypeOf<NodeClient>().toEqualTypeOf<node.Client>()
expectTypeOf<WebClient>().toEqualTypeOf<web.Client>()
expectTypeOf<Exclude<keyof NodeClient, keyof WebClient>>().toEqualTypeOf<'encryptStream' | 'decryptStream' | 'rewrapStream'>()
expectTypeOf<Exclude<keyof WebClient, keyof NodeClient>>().toEqualTypeOf<never>()
expectTypeOf<Omit<NodeClient, 'encryptStream' | 'decryptStream' | 'rewrapStream'>>().toEqualTypeOf<WebClient>()
expectTypeOf<ReturnType<NodeClient['encryptStream']>>().toExtend<Duplex>()

// The same value names from both entries (the runtime lists are compared in test/package/exports.test.ts).
expectTypeOf<Exclude<keyof typeof node, keyof typeof web>>().toEqualTypeOf<never>()
expectTypeOf<Exclude<keyof typeof web, keyof typeof node>>().toEqualTypeOf<never>()

expectTypeOf<Awaited<ReturnType<NodeClient['decrypt']>>['plaintext']>().toEqualTypeOf<Uint8Array>()
expectTypeOf<Awaited<ReturnType<WebClient['decrypt']>>['plaintext']>().toEqualTypeOf<Uint8Array>()
expectTypeOf<Parameters<typeof node.createClient>>().toEqualTypeOf<Parameters<typeof web.createClient>>()
