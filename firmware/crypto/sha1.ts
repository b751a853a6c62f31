// SHA-1 (FIPS 180-4), streaming: auth signatures (HMAC-SHA1) and OTA image checks. Self-contained
// instead of built on md.ts: it is the one hash every firmware carries, and the byte budget of
// SHA-1 + HMAC (build/budgets.json) has no room for the shared driver's byte-order generality.
// Inputs must stay below 256 MB (an ESP32 has 4 MB of flash): see the state adds and the padding.
import type { Hasher } from "./md";

// Message schedule: scratch of one compression, shared because compressions never interleave.
const w = /* @__PURE__ */ new Int32Array(80);

/** A streaming SHA-1: `update(chunk)` any number of times, then `digestHex()` (or raw `digest()`). */
export const createSha1 = (): Hasher => {
  // State H0..H4 (FIPS 180-4 5.3.1; H2 = ~H0, H3 = ~H1); buffered bytes; byte count.
  let h0 = 0x67452301, h1 = 0xefcdab89 | 0, h2 = ~h0, h3 = ~h1, h4 = 0xc3d2e1f0 | 0, buf = "", len = 0;
  /** The first `count` bytes of big-endian words, raw or (`hex` truthy) as lowercase hex. */
  const wordBytes = (words: ArrayLike<number>, count: number, hex?: number): string => {
    let out = "", i = 0, x;
    while (i < count) {
      x = words[i >> 2] >>> (~i++ << 3 & 24) & 255;
      out += hex ? (x + 256).toString(16).slice(1) : String.fromCharCode(x);
    }
    return out;
  };
  // With a `pad` byte, `chunk` is an HMAC key block (Hasher.update): given to a new hasher, at most
  // 64 bytes, zero-padded to one block for free (charCodeAt past the end is NaN, and NaN << n is 0).
  const update = (chunk: string, pad?: number): Hasher => {
    len += pad ? 64 : chunk.length;
    const s = buf += chunk;
    // Bound once per update: shorter than a method call per byte, and no property lookup.
    const byte = s.charCodeAt.bind(s);
    let i = 0;
    // The pad byte in each byte of a word. Absent pad: 0, not undefined, so the XOR below stays on
    // the engines' integer path.
    pad = (pad as number) * 0x1010101 | 0;
    // Whole 64-byte blocks (byte 63 exists), or the key block; words are read straight from the
    // string, i walks the block.
    for (; s[i + 63] || pad; pad = 0) {
      let a = h0, b = h1, c = h2, d = h3, e = h4, j = 0, x;
      for (; j < 80; j++) {
        w[j] = x = j < 16
          ? (byte(i++) << 24 | byte(i++) << 16 | byte(i++) << 8 | byte(i++)) ^ (pad as number)
          : (x = w[j - 3] ^ w[j - 8] ^ w[j - 14] ^ w[j - 16]) << 1 | x >>> 31;
        // Two tests pick the round function and constant (Ch, parity, Maj, parity); one `j % 40` test
        // for both parity quarters would be 2 bytes smaller and 1-2 % slower on QuickJS.
        x += (a << 5 | a >>> 27) + e + (j < 40
          ? j < 20 ? (d ^ b & (c ^ d)) + 0x5a827999 : (b ^ c ^ d) + 0x6ed9eba1
          : j < 60 ? (b & c | d & (b | c)) - 0x70e44324 : (b ^ c ^ d) - 0x359d3e2a);
        e = d;
        d = c;
        c = b << 30 | b >>> 2;
        b = a;
        a = x | 0;
      }
      // No `| 0` here (10 bytes): the state may grow past int32, but stays an exact integer in a
      // double (each block adds less than 2^31; 2^22 blocks = 256 MB keep it under 2^53), and every
      // later use wraps it: bitwise ops, `x | 0` above, `>>>` in wordBytes.
      h0 += a;
      h1 += b;
      h2 += c;
      h3 += d;
      h4 += e;
    }
    buf = s.slice(i);
    return self;
  };
  // Pads 0x80, then zeros up to 56 mod 64, then the bit length as 8 bytes; its high word is 0 below
  // 512 MB, so it is in the zeros. `hex` truthy: lowercase hex (digestHex is digest(1)).
  const digest = (hex?: number): string =>
    wordBytes(update("\x80" + wordBytes([len << 3], 4).padStart((55 - len & 63) + 8, "\0")) && [h0, h1, h2, h3, h4], 20, hex);
  const self: Hasher = { update, digest, digestHex: () => digest(1) };
  return self;
};

/** SHA-1 of a byte string, lowercase hex. */
export const sha1Hex = (msg: string): string => createSha1().update(msg).digestHex();
