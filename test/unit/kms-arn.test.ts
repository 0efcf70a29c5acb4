import { describe, expect, it } from 'vitest'
import { isMultiRegionKey, mrkMatch, parseKmsArn } from '../../src/index.js'

describe('KMS identifiers', () => {
  it('parses key and alias ARNs, splitting the resource on the first slash', () => {
    expect(parseKmsArn('arn:aws:kms:us-west-2:111122223333:key/1234')).toEqual({ partition: 'aws', service: 'kms', region: 'us-west-2', account: '111122223333', resourceType: 'key', resourceId: '1234' })
    expect(parseKmsArn('arn:aws-cn:kms:cn-north-1:1:alias/a/b')).toMatchObject({ resourceType: 'alias', resourceId: 'a/b' })
  })

  it('rejects malformed ARNs', () => {
    for (const bad of ['arn:aws:kms:us-west-2:111122223333:key', 'arn:aws:s3:us-west-2:1:key/x', 'arn::kms:r:1:key/x', 'arn:aws:kms::1:key/x', 'arn:aws:kms:r::key/x', 'arn:aws:kms:r:1:user/x', 'arn:aws:kms:r:1:key/', 'aws:kms:r:1:key/x:extra']) {
      expect(parseKmsArn(bad), bad).toBeUndefined()
    }
  })

  it('recognises multi-region keys; aliases never are', () => {
    expect(isMultiRegionKey('arn:aws:kms:us-west-2:1:key/mrk-abc')).toBe(true)
    expect(isMultiRegionKey('mrk-abc')).toBe(true)
    expect(isMultiRegionKey('arn:aws:kms:us-west-2:1:alias/mrk-abc')).toBe(false)
    expect(isMultiRegionKey('alias/mrk-abc')).toBe(false)
    expect(isMultiRegionKey('arn:aws:kms:us-west-2:1:key/abc')).toBe(false)
  })

  it('matches MRK replicas across regions, and nothing else', () => {
    const west = 'arn:aws:kms:us-west-2:1:key/mrk-abc'
    expect(mrkMatch(west, 'arn:aws:kms:eu-west-1:1:key/mrk-abc')).toBe(true)
    expect(mrkMatch(west, 'arn:aws:kms:eu-west-1:2:key/mrk-abc')).toBe(false)
    expect(mrkMatch(west, 'arn:aws-cn:kms:eu-west-1:1:key/mrk-abc')).toBe(false)
    expect(mrkMatch('arn:aws:kms:us-west-2:1:key/abc', 'arn:aws:kms:eu-west-1:1:key/abc')).toBe(false)
    expect(mrkMatch('mrk-abc', 'mrk-abc')).toBe(true)
  })
})
