/** Starts the local KMS server for a test file and builds real SDK clients pointed at it. */
import { KMS, KMSClient } from '@aws-sdk/client-kms'
import { afterAll, beforeAll } from 'vitest'
import { startLocalKms, type LocalKms, type LocalKmsOptions } from '../../src/testing/index.js'
import type { KmsClientProvider } from '../../src/index.js'

export function useLocalKms(options: LocalKmsOptions = {}): () => LocalKms {
  let kms: LocalKms | undefined
  beforeAll(async () => {
    kms = await startLocalKms(options)
  })
  afterAll(async () => {
    await kms?.close()
  })
  return () => kms!
}

/** Our provider: a real KMSClient per region, at the local endpoint. */
export function localProvider(kms: LocalKms, extra: Record<string, unknown> = {}): KmsClientProvider {
  const clients = new Map<string, KMSClient>()
  return (region) => {
    const r = region ?? kms.defaultRegion
    let client = clients.get(r)
    if (!client) {
      client = new KMSClient({ ...kms.clientConfig(r), ...extra })
      clients.set(r, client)
    }
    return client
  }
}

/** The peer's client shape (the aggregated KMS class) for a region. */
export function peerClient(kms: LocalKms, region = kms.defaultRegion): KMS {
  return new KMS(kms.clientConfig(region))
}
