// MD5 (RFC 1321): only for the platform's hmacmd5 signmethod.
import { mdHasher, Hasher } from "./md";

// floor(abs(sin(i + 1)) * 2^32) as int32; a table, because sin() precision differs between engines.
// Pure: the table is dropped from builds without this hash.
const K = /* @__PURE__ */ new Int32Array([-680876936, -389564586, 606105819, -1044525330, -176418897, 1200080426, -1473231341, -45705983,
  1770035416, -1958414417, -42063, -1990404162, 1804603682, -40341101, -1502002290, 1236535329, -165796510, -1069501632,
  643717713, -373897302, -701558691, 38016083, -660478335, -405537848, 568446438, -1019803690, -187363961, 1163531501,
  -1444681467, -51403784, 1735328473, -1926607734, -378558, -2022574463, 1839030562, -35309556, -1530992060, 1272893353,
  -155497632, -1094730640, 681279174, -358537222, -722521979, 76029189, -640364487, -421815835, 530742520, -995338651,
  -198630844, 1126891415, -1416354905, -57434055, 1700485571, -1894986606, -1051523, -2054922799, 1873313359, -30611744,
  -1560198380, 1309151649, -145523070, -1120210379, 718787259, -343485551]);
// Rotation amounts: four per round.
const S = /* @__PURE__ */ new Int32Array([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);

function md5Block(h: Int32Array, w: Int32Array): void {
  let a = h[0], b = h[1], c = h[2], d = h[3];
  for (let i = 0; i < 64; i++) {
    const r = i >> 4;
    const f = r == 0 ? b & c | ~b & d : r == 1 ? d & b | ~d & c : r == 2 ? b ^ c ^ d : c ^ (b | ~d);
    const g = r == 0 ? i : r == 1 ? 5 * i + 1 & 15 : r == 2 ? 3 * i + 5 & 15 : 7 * i & 15;
    const x = a + f + K[i] + w[g] | 0;
    const s = S[r * 4 + (i & 3)];
    a = d;
    d = c;
    c = b;
    b = b + (x << s | x >>> 32 - s) | 0;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
}

/** A streaming MD5. */
export function createMd5(): Hasher {
  return mdHasher([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476], md5Block, 0);
}
