// SHA-1 (FIPS 180-4), streaming: auth signatures (HMAC-SHA1) and OTA image checks.
import { mdHasher, Hasher } from "./md";

function sha1Block(h: Int32Array, w: Int32Array): void {
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (let i = 0; i < 80; i++) {
    if (i > 15) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = x << 1 | x >>> 31;
    }
    const t = (a << 5 | a >>> 27) + e + w[i] + (i < 20 ? (b & c | ~b & d) + 0x5a827999
      : i < 40 ? (b ^ c ^ d) + 0x6ed9eba1
        : i < 60 ? (b & c | b & d | c & d) - 0x70e44324
          : (b ^ c ^ d) - 0x359d3e2a);
    e = d;
    d = c;
    c = b << 30 | b >>> 2;
    b = a;
    a = t | 0;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

/** A streaming SHA-1: `update(chunk)` any number of times, then `digestHex()` (or raw `digest()`). */
export function createSha1(): Hasher {
  return mdHasher([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0], sha1Block, false);
}

/** SHA-1 of a byte string, lowercase hex. */
export function sha1Hex(msg: string): string {
  const s = createSha1();
  s.update(msg);
  return s.digestHex();
}
