// Merkle-Damgard driver of SHA-256 and MD5 (SHA-1 keeps its own smaller copy): 64-byte blocks, padding, byte order.
import { toHex } from "./bytes";

/** Incremental hash over byte strings. `digest`/`digestHex` end it: call one of them once. */
export interface Hasher {
  /**
   * Adds bytes; returns the hasher. A nonzero `pad` byte makes `chunk` an HMAC key block: only on a
   * new hasher, at most 64 bytes, zero-padded to 64 and XORed with `pad` in every byte (RFC 2104's
   * ipad 0x36 / opad 0x5c), a whole word at a time.
   */
  update(chunk: string, pad?: number): Hasher;
  /** Raw digest bytes. */
  digest(): string;
  /** Lowercase hex digest. */
  digestHex(): string;
}

/** Mixes the 16 message words in w[0..15] into the state h; w[16..79] is scratch. */
export type Compress = (h: Int32Array, w: Int32Array) => void;

/**
 * A hasher with initial state `init`. `firstShift` is 24 for big-endian words (SHA) and 0 for
 * little-endian words (MD5): byte k of a word sits at bit `firstShift ^ 8k`, one code path for both.
 */
export function mdHasher(init: number[], compress: Compress, firstShift: number): Hasher {
  const h = new Int32Array(init);
  const w = new Int32Array(80);
  const s1 = firstShift ^ 8, s2 = firstShift ^ 16, s3 = firstShift ^ 24;
  let buf = "";
  let len = 0;
  const wordBytes = (x: number) => String.fromCharCode(x >>> firstShift & 255, x >>> s1 & 255, x >>> s2 & 255, x >>> s3 & 255);
  const self: Hasher = {
    update: (chunk: string, pad?: number) => {
      if (pad) while (chunk.length < 64) chunk += "\0";
      buf += chunk;
      len += chunk.length;
      // The pad byte in each byte of a word; absent: 0, not undefined (the XOR stays on integers).
      const mask = (pad as number) * 0x1010101 | 0;
      let i = 0;
      // Whole blocks only; words are read straight from the string, no per-byte copies.
      for (; i + 64 <= buf.length; i += 64) {
        for (let j = 0; j < 16; j++) {
          const k = i + j * 4;
          w[j] = (buf.charCodeAt(k) << firstShift | buf.charCodeAt(k + 1) << s1 | buf.charCodeAt(k + 2) << s2 |
            buf.charCodeAt(k + 3) << s3) ^ mask;
        }
        compress(h, w);
      }
      buf = buf.substr(i);
      return self;
    },
    digest: () => {
      // Bit length as two words; shifts keep it exact in int32 arithmetic (inputs below 512 MB).
      const n = len;
      buf += "\x80";
      while (buf.length % 64 != 56) buf += "\0";
      self.update(firstShift ? wordBytes(n >>> 29) + wordBytes(n << 3) : wordBytes(n << 3) + wordBytes(n >>> 29));
      let out = "";
      for (let i = 0; i < h.length; i++) out += wordBytes(h[i]);
      return out;
    },
    digestHex: () => toHex(self.digest()),
  };
  return self;
}
