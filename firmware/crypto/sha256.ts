// SHA-256 (FIPS 180-4): only for the hmacsha256 signmethod.
import { mdHasher, Hasher } from "./md";

// First 32 bits of the fractional parts of the cube roots of the first 64 primes, as int32.
// Pure: the table is dropped from builds without this hash.
const K = /* @__PURE__ */ new Int32Array([1116352408, 1899447441, -1245643825, -373957723, 961987163, 1508970993, -1841331548,
  -1424204075, -670586216, 310598401, 607225278, 1426881987, 1925078388, -2132889090, -1680079193, -1046744716,
  -459576895, -272742522, 264347078, 604807628, 770255983, 1249150122, 1555081692, 1996064986, -1740746414,
  -1473132947, -1341970488, -1084653625, -958395405, -710438585, 113926993, 338241895, 666307205, 773529912,
  1294757372, 1396182291, 1695183700, 1986661051, -2117940946, -1838011259, -1564481375, -1474664885, -1035236496,
  -949202525, -778901479, -694614492, -200395387, 275423344, 430227734, 506948616, 659060556, 883997877, 958139571,
  1322822218, 1537002063, 1747873779, 1955562222, 2024104815, -2067236844, -1933114872, -1866530822, -1538233109,
  -1090935817, -965641998]);

function rotr(x: number, n: number): number {
  return x >>> n | x << 32 - n;
}

function sha256Block(h: Int32Array, w: Int32Array): void {
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (let i = 0; i < 64; i++) {
    if (i > 15) {
      const u = w[i - 15], v = w[i - 2];
      w[i] = (rotr(u, 7) ^ rotr(u, 18) ^ u >>> 3) + (rotr(v, 17) ^ rotr(v, 19) ^ v >>> 10) + w[i - 7] + w[i - 16];
    }
    const t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + (e & f ^ ~e & g) + K[i] + w[i] | 0;
    const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + (a & b ^ a & c ^ b & c) | 0;
    k = g;
    g = f;
    f = e;
    e = d + t1 | 0;
    d = c;
    c = b;
    b = a;
    a = t1 + t2 | 0;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

/** A streaming SHA-256. */
export function createSha256(): Hasher {
  return mdHasher([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19],
    sha256Block, 24);
}

/** SHA-256 of a byte string, raw 32-byte digest (the LMS verifier's hash where none is native). */
export const sha256 = (s: string): string => createSha256().update(s).digest();
