/** An in-memory branch key source for the hierarchical keyring tests, counting its calls. */
import { randomBytes, randomUUID } from 'node:crypto'
import type { BranchKeyMaterials, BranchKeySource } from '../../src/index.js'

export class MemoryBranchKeys implements BranchKeySource {
  readonly logicalKeyStoreName: string
  readonly calls: { op: 'active' | 'version'; branchKeyId: string; version?: string }[] = []
  /** Every version of every branch key; the last one of each id is active. */
  readonly versions = new Map<string, { version: string; key: Uint8Array }[]>()
  /** When set, every call waits for it (to hold concurrent misses in flight). */
  gate: Promise<void> | undefined
  /** When set, every call throws it. */
  failure: unknown

  constructor(logicalKeyStoreName = 'store') {
    this.logicalKeyStoreName = logicalKeyStoreName
  }

  /** Adds a new active version of `branchKeyId` (creating the key); returns its version. */
  rotate(branchKeyId: string, key: Uint8Array = randomBytes(32), version: string = randomUUID()): string {
    const list = this.versions.get(branchKeyId) ?? []
    list.push({ version, key: new Uint8Array(key) })
    this.versions.set(branchKeyId, list)
    return version
  }

  async getActiveBranchKey(branchKeyId: string): Promise<BranchKeyMaterials> {
    this.calls.push({ op: 'active', branchKeyId })
    await this.gate
    if (this.failure) throw this.failure
    const active = this.versions.get(branchKeyId)?.at(-1)
    if (!active) throw new Error(`no branch key ${branchKeyId}`)
    return this.#materials(branchKeyId, active)
  }

  async getBranchKeyVersion(branchKeyId: string, branchKeyVersion: string): Promise<BranchKeyMaterials> {
    this.calls.push({ op: 'version', branchKeyId, version: branchKeyVersion })
    await this.gate
    if (this.failure) throw this.failure
    const found = this.versions.get(branchKeyId)?.find((v) => v.version === branchKeyVersion)
    if (!found) throw new Error(`no version ${branchKeyVersion} of ${branchKeyId}`)
    return this.#materials(branchKeyId, found)
  }

  /** A copy each time, as a real store decrypts a fresh one: the keyring's cache wipes what it is handed. */
  #materials(branchKeyId: string, { version, key }: { version: string; key: Uint8Array }): BranchKeyMaterials {
    return { branchKeyId, branchKeyVersion: version, branchKey: new Uint8Array(key), encryptionContext: {} }
  }
}

/** A clock tests move by hand. Starts at a nonzero time. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => void (t += ms) }
}
