/**
 * Reading the vendored Wycheproof files (test-vectors/wycheproof.tar.gz, C2SP/wycheproof
 * testvectors_v1) and keeping count of what ran, so a file whose tests silently stop running fails.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EnvelopeError } from '../../src/errors.js'
import { bytesToHex } from '../support/helpers.js'
import { WYCHEPROOF_VECTORS } from '../support/vectors.js'

export type Result = 'valid' | 'invalid' | 'acceptable'

export interface WycheproofTest {
  readonly tcId: number
  readonly comment: string
  readonly flags: readonly string[]
  readonly result: Result
  readonly [field: string]: any
}

export interface WycheproofGroup {
  readonly tests: readonly WycheproofTest[]
  readonly [field: string]: any
}

export interface WycheproofFile {
  readonly algorithm: string
  readonly numberOfTests: number
  readonly testGroups: readonly WycheproofGroup[]
}

export function readWycheproof(name: string): WycheproofFile {
  const file = JSON.parse(readFileSync(join(WYCHEPROOF_VECTORS, name), 'utf8')) as WycheproofFile
  const count = file.testGroups.reduce((n, g) => n + g.tests.length, 0)
  if (count !== file.numberOfTests) throw new Error(`${name}: ${count} tests, header says ${file.numberOfTests}`)
  return file
}

/** For failure messages: the bytes a backend returned, if any, as hex. */
export const toHex = (bytes: Uint8Array | undefined): string | undefined => (bytes ? bytesToHex(bytes) : undefined)

/** What one file did on one backend: tests run per result, tests skipped per reason, and failures. */
export class Tally {
  readonly run: Record<Result, number> = { valid: 0, invalid: 0, acceptable: 0 }
  readonly skipped: Record<string, number> = {}
  readonly failures: string[] = []

  skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1
  }

  ran(test: WycheproofTest): void {
    this.run[test.result]++
  }

  fail(test: WycheproofTest, what: string): void {
    this.failures.push(`tcId ${test.tcId} (${test.result}; ${test.flags.join(', ')}; ${test.comment}): ${what}`)
  }

  summary(): { run: Record<Result, number>; skipped: Record<string, number> } {
    return { run: this.run, skipped: this.skipped }
  }
}

/**
 * The acceptable decisions (only the ECDH files hold `acceptable` tests). A new one fails its file
 * until its flag gets a decision here. The first flag of a test with a decision wins.
 * - CompressedPublic: accept; the ECDH keyrings carry compressed points (spec/ecdh.md#keys).
 * - InvalidAsn: reject; der.ts reads strict DER only.
 * - UnnamedCurve: reject; keys must name their curve by OID (RFC 5480), explicit parameters are refused.
 */
export const ACCEPTABLE: Readonly<Record<string, 'accept' | 'reject' | 'either'>> = {
  CompressedPublic: 'accept',
  InvalidAsn: 'reject',
  UnnamedCurve: 'reject',
}

/** The failure is one of ours (typed, with a stable code), not a TypeError or an engine's error. */
export const typed = (error: unknown): boolean => error instanceof EnvelopeError

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)
}

/** accept for valid, reject for invalid, the stated decision for acceptable (undefined: none stated). */
export function expectation(test: WycheproofTest): 'accept' | 'reject' | 'either' | undefined {
  if (test.result === 'valid') return 'accept'
  if (test.result === 'invalid') return 'reject'
  return test.flags.map((flag) => ACCEPTABLE[flag]).find((decision) => decision !== undefined)
}
