// SHA-1 (FIPS 180-4), streaming: auth signatures (HMAC-SHA1) and OTA image checks. Self-contained
// instead of built on md.ts: it is the one hash every firmware carries, and the byte budget of
// SHA-1 + HMAC (build/budgets.json) has no room for the shared driver's byte-order generality.
import type { Hasher } from "./md";

/** 64 zero bytes, for padding without per-byte string building. */
export let ZEROS = "\0";
while (ZEROS.length < 64) ZEROS += ZEROS;

// Message schedule: scratch of one compression, shared because compressions never interleave.
const w = new Int32Array(80);

/** The first `count` bytes of big-endian words, raw or (`hex` truthy) as lowercase hex. */
const wordBytes = (words: ArrayLike<number>, count: number, hex?: number): string => {
  let out = "", i = 0, x;
  for (; i < count; i++) {
    x = words[i >> 2] >>> (~i << 3 & 24) & 255;
    out += hex ? (x + 256).toString(16).substr(1) : String.fromCharCode(x);
  }
  return out;
};

/** A streaming SHA-1: `update(chunk)` any number of times, then `digestHex()` (or raw `digest()`). */
export const createSha1 = (): Hasher => {
  // State H0..H4 (FIPS 180-4 5.3.1; H2 = ~H0, H3 = ~H1) in int32 variables; buffered bytes; byte count.
  let h0 = 0x67452301, h1 = 0xefcdab89 | 0, h2 = ~h0, h3 = ~h1, h4 = 0xc3d2e1f0 | 0, buf = "", len = 0;
  const self = {
    update: (chunk: string, mask?: number) => {
      len += chunk.length;
      const s = buf += chunk;
      // Bound once per update: shorter than a method call per byte, and no property lookup.
      const byte = s.charCodeAt.bind(s);
      let i = 0;
      // Absent mask: 0, not undefined, so the XOR below stays on the engines' integer path.
      (mask as number) |= 0;
      // Whole 64-byte blocks (byte 63 exists); words are read straight from the string, i walks the block.
      while (s[i + 63]) {
        let a = h0, b = h1, c = h2, d = h3, e = h4, j = 0, x;
        for (; j < 80; j++) {
          w[j] = x = j < 16
            ? (byte(i++) << 24 | byte(i++) << 16 | byte(i++) << 8 | byte(i++)) ^ (mask as number)
            : (x = w[j - 3] ^ w[j - 8] ^ w[j - 14] ^ w[j - 16]) << 1 | x >>> 31;
          // Two tests pick the round function and constant (Ch, parity, Maj, parity).
          x += (a << 5 | a >>> 27) + e + (j < 40
            ? j < 20 ? (d ^ b & (c ^ d)) + 0x5a827999 : (b ^ c ^ d) + 0x6ed9eba1
            : j < 60 ? (b & c | d & (b | c)) - 0x70e44324 : (b ^ c ^ d) - 0x359d3e2a);
          e = d;
          d = c;
          c = b << 30 | b >>> 2;
          b = a;
          a = x | 0;
        }
        h0 = h0 + a | 0;
        h1 = h1 + b | 0;
        h2 = h2 + c | 0;
        h3 = h3 + d | 0;
        h4 = h4 + e | 0;
      }
      buf = s.substr(i);
      return self;
    },
    // Pads (0x80, zeros up to 56 mod 64, the bit length: exact in int32 shifts below 512 MB).
    // `hex` is internal: digestHex is digest(1).
    digest: (hex?: number) => wordBytes(self.update("\x80" + ZEROS.substr(0, 55 - len & 63) + wordBytes([len >>> 29, len << 3], 8)) &&
      [h0, h1, h2, h3, h4], 20, hex),
    digestHex: () => self.digest(1),
  };
  return self;
};

/** SHA-1 of a byte string, lowercase hex. */
export const sha1Hex = (msg: string): string => createSha1().update(msg).digestHex();
