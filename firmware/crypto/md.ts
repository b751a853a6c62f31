// Merkle-Damgard driver shared by SHA-1, SHA-256 and MD5: 64-byte blocks, padding, byte order.
import { toHex } from "./bytes";

/** Incremental hash over byte strings. `digest`/`digestHex` end it: call one of them once. */
export interface Hasher {
  update(chunk: string): void;
  /** Raw digest bytes. */
  digest(): string;
  /** Lowercase hex digest. */
  digestHex(): string;
}

/** Mixes the 16 message words in w[0..15] into the state h; w[16..79] is scratch. */
export type Compress = (h: Int32Array, w: Int32Array) => void;

/** A hasher with initial state `init` whose words are little-endian (MD5) or big-endian (SHA). */
export function mdHasher(init: number[], compress: Compress, littleEndian: boolean): Hasher {
  const h = new Int32Array(init);
  const w = new Int32Array(80);
  // Bit positions of a word's bytes 0..3: one code path for both byte orders.
  const s0 = littleEndian ? 0 : 24, s1 = littleEndian ? 8 : 16, s2 = littleEndian ? 16 : 8, s3 = littleEndian ? 24 : 0;
  let buf = "";
  let len = 0;
  function wordBytes(x: number): string {
    return String.fromCharCode(x >>> s0 & 255, x >>> s1 & 255, x >>> s2 & 255, x >>> s3 & 255);
  }
  function update(chunk: string): void {
    buf += chunk;
    len += chunk.length;
    const n = buf.length - 63;
    let i = 0;
    // Whole blocks only; words are read straight from the string, no per-byte copies.
    for (; i < n; i += 64) {
      for (let j = 0; j < 16; j++) {
        const k = i + j * 4;
        w[j] = buf.charCodeAt(k) << s0 | buf.charCodeAt(k + 1) << s1 | buf.charCodeAt(k + 2) << s2 | buf.charCodeAt(k + 3) << s3;
      }
      compress(h, w);
    }
    buf = buf.substr(i);
  }
  function digest(): string {
    // Bit length as two words; shifts keep it exact in int32 arithmetic (inputs below 512 MB).
    const lo = wordBytes(len << 3);
    const hi = wordBytes(len >>> 29);
    let pad = "\x80";
    while ((len + pad.length) % 64 != 56) pad += "\0";
    update(pad + (littleEndian ? lo + hi : hi + lo));
    let out = "";
    for (let i = 0; i < h.length; i++) out += wordBytes(h[i]);
    return out;
  }
  return { update: update, digest: digest, digestHex: function () { return toHex(digest()); } };
}
