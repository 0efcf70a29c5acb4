/** Results of a vector run and the one closing line every run prints. */

export interface TestResult {
  readonly id: string
  readonly status: 'passed' | 'failed' | 'skipped'
  /** Why a test failed or was skipped; skips always say why. */
  readonly reason?: string
}

export interface Summary {
  readonly passed: number
  readonly failed: number
  readonly skipped: number
}

/**
 * Counts passed, failed and skipped results.
 * @example
 * ```ts
 * const summary = summarize(await runDecryptManifest('manifest.json'))
 * ```
 * @throws never.
 */
export function summarize(results: readonly TestResult[]): Summary {
  let passed = 0
  let failed = 0
  let skipped = 0
  for (const r of results) {
    if (r.status === 'passed') passed++
    else if (r.status === 'failed') failed++
    else skipped++
  }
  return { passed, failed, skipped }
}

/**
 * The last line the CLI prints: "N passed, N failed, N skipped".
 * @example
 * ```ts
 * console.log(summaryLine(summarize(results)))
 * ```
 * @throws never.
 */
export function summaryLine({ passed, failed, skipped }: Summary): string {
  return `${passed} passed, ${failed} failed, ${skipped} skipped`
}

/** Runs `work` over `items` with at most `concurrency` in flight, in input order for the results. */
export async function runPool<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>, onResult?: (r: R) => void): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      const result = await work(items[index]!)
      results[index] = result
      onResult?.(result)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker))
  return results
}
