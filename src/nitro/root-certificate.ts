/**
 * The AWS Nitro Enclaves root certificate (G1), DER: CN=aws.nitro-enclaves,
 * OU=AWS, O=Amazon, C=US, valid 2019-10-28T13:28:05Z to 2049-10-28T14:28:05Z,
 * ECDSA P-384. SHA-256 641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b,
 * the certificate of AWS's AWS_NitroEnclaves_Root-G1.zip (test/nitro/attestation.test.ts checks the hash).
 */
import { fromBase64 } from '../encoding.js'

const BASE64 =
  'MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTELMAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYDVQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQLDANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEGBSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZEh8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkFR+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYCMQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPWrfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6NIwLz3/Y='

/** Every call gets its own copy: a caller that writes into it changes nothing here. */
export function awsNitroRootCertificate(): Uint8Array {
  return fromBase64(BASE64)!
}

/**
 * The AWS Nitro Enclaves root certificate (G1), DER: what verifyAttestationDocument trusts by default.
 * @example
 * ```ts
 * const document = await verifyAttestationDocument(bytes, { rootCertificate: AWS_NITRO_ROOT_CERTIFICATE })
 * ```
 */
export const AWS_NITRO_ROOT_CERTIFICATE: Uint8Array = awsNitroRootCertificate()
