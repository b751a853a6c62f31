// Published test vectors: SHA-1 (FIPS 180-4 examples, RFC 3174), HMAC-SHA1 and HMAC-MD5 (RFC 2202),
// HMAC-SHA256 (RFC 4231), and the platform's auth-sign vectors (alibaba-http.md). Byte strings.

const rep = (byte: number, n: number) => String.fromCharCode(byte).repeat(n);
const range = (from: number, to: number) => {
  let s = "";
  for (let b = from; b <= to; b++) s += String.fromCharCode(b);
  return s;
};

export interface HashVector { name: string; msg: string; hex: string }
export interface HmacVector { name: string; method: string; key: string; msg: string; hex: string; truncatedTo?: number }

export const SHA1_VECTORS: HashVector[] = [
  { name: "empty", msg: "", hex: "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
  { name: "abc", msg: "abc", hex: "a9993e364706816aba3e25717850c26c9cd0d89d" },
  { name: "448-bit message", msg: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", hex: "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
  { name: "RFC 3174 test 4", msg: "0123456701234567012345670123456701234567012345670123456701234567".repeat(10), hex: "dea356a2cddd90c7a7ecedc5ebb563934f460452" },
];
/** One million "a": built inside the engine under test, so only its digest crosses. */
export const SHA1_MILLION_A = "34aa973cd4c4daa4f61eeb2bdbad27316534016f";

const LARGE_KEY_MSG = "Test Using Larger Than Block-Size Key - Hash Key First";
const LARGE_KEY_DATA_MSG = "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
const RFC4231_7 = "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";

export const HMAC_VECTORS: HmacVector[] = [
  // RFC 2202 section 3: HMAC-SHA1.
  { name: "RFC 2202 sha1 1", method: "hmacsha1", key: rep(0x0b, 20), msg: "Hi There", hex: "b617318655057264e28bc0b6fb378c8ef146be00" },
  { name: "RFC 2202 sha1 2", method: "hmacsha1", key: "Jefe", msg: "what do ya want for nothing?", hex: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
  { name: "RFC 2202 sha1 3", method: "hmacsha1", key: rep(0xaa, 20), msg: rep(0xdd, 50), hex: "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
  { name: "RFC 2202 sha1 4", method: "hmacsha1", key: range(1, 25), msg: rep(0xcd, 50), hex: "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
  { name: "RFC 2202 sha1 5", method: "hmacsha1", key: rep(0x0c, 20), msg: "Test With Truncation", hex: "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
  { name: "RFC 2202 sha1 6", method: "hmacsha1", key: rep(0xaa, 80), msg: LARGE_KEY_MSG, hex: "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
  { name: "RFC 2202 sha1 7", method: "hmacsha1", key: rep(0xaa, 80), msg: LARGE_KEY_DATA_MSG, hex: "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
  // RFC 2202 section 2: HMAC-MD5.
  { name: "RFC 2202 md5 1", method: "hmacmd5", key: rep(0x0b, 16), msg: "Hi There", hex: "9294727a3638bb1c13f48ef8158bfc9d" },
  { name: "RFC 2202 md5 2", method: "hmacmd5", key: "Jefe", msg: "what do ya want for nothing?", hex: "750c783e6ab0b503eaa86e310a5db738" },
  { name: "RFC 2202 md5 3", method: "hmacmd5", key: rep(0xaa, 16), msg: rep(0xdd, 50), hex: "56be34521d144c88dbb8c733f0e8b3f6" },
  { name: "RFC 2202 md5 4", method: "hmacmd5", key: range(1, 25), msg: rep(0xcd, 50), hex: "697eaf0aca3a3aea3a75164746ffaa79" },
  { name: "RFC 2202 md5 5", method: "hmacmd5", key: rep(0x0c, 16), msg: "Test With Truncation", hex: "56461ef2342edc00f9bab995690efd4c" },
  { name: "RFC 2202 md5 6", method: "hmacmd5", key: rep(0xaa, 80), msg: LARGE_KEY_MSG, hex: "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd" },
  { name: "RFC 2202 md5 7", method: "hmacmd5", key: rep(0xaa, 80), msg: LARGE_KEY_DATA_MSG, hex: "6f630fad67cda0ee1fb1f562db3aa53e" },
  // RFC 4231 section 4: HMAC-SHA256.
  { name: "RFC 4231 1", method: "hmacsha256", key: rep(0x0b, 20), msg: "Hi There", hex: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
  { name: "RFC 4231 2", method: "hmacsha256", key: "Jefe", msg: "what do ya want for nothing?", hex: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
  { name: "RFC 4231 3", method: "hmacsha256", key: rep(0xaa, 20), msg: rep(0xdd, 50), hex: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
  { name: "RFC 4231 4", method: "hmacsha256", key: range(1, 25), msg: rep(0xcd, 50), hex: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
  { name: "RFC 4231 5", method: "hmacsha256", key: rep(0x0c, 20), msg: "Test With Truncation", hex: "a3b6167473100ee06e0c796c2955552b", truncatedTo: 32 },
  { name: "RFC 4231 6", method: "hmacsha256", key: rep(0xaa, 131), msg: LARGE_KEY_MSG, hex: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
  { name: "RFC 4231 7", method: "hmacsha256", key: rep(0xaa, 131), msg: RFC4231_7, hex: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
  // alibaba-http.md section 1: the auth sign over the sorted trituple fields.
  ...["hmacmd5", "hmacsha1", "hmacsha256"].map((method) => ({
    name: "alibaba auth " + method,
    method,
    key: "secret",
    msg: "clientId12345deviceNamedeviceproductKeypktimestamp789",
    hex: {
      hmacmd5: "14b198324fe55e1d3c88f2e705e201ee",
      hmacsha1: "fafd82a3d602b37fb0fa8b7892f24a477f851a14",
      hmacsha256: "6074a46a91b1ebb2cc4ea42790ad0e80202c9843859fc292e57c4eb19fad9e57",
    }[method] as string,
  })),
];

/** Message lengths around the padding edges (55/56: length field fits or not; 63/64/65: block). */
export const EDGE_LENGTHS = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 300];

/** Deterministic pseudo-random bytes (xorshift), so a failure can be replayed. */
export function randomBytes(n: number, seed: number): string {
  let x = seed | 1;
  let s = "";
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += String.fromCharCode(x & 255);
  }
  return s;
}
