// Leighton-Micali hash-based signatures (RFC 8554): verification of LMS and HSS signatures with
// SHA-256 (n = m = 32), every LM-OTS Winternitz width (W1, W2, W4, W8) and tree height (H5..H25).
// One pass over the signature byte string: no arrays, no per-element objects; one chain value is
// alive at a time. The hash is a parameter, SHA-256 of a byte string to its 32 raw bytes: on a
// board the interpreter's native one (hundreds of hashes: the interpreted one takes minutes there),
// elsewhere ./sha256.ts's `sha256`.

/** Big-endian u32 of `s` at byte `o`, as a non-negative number. */
function u32(s: string, o: number): number {
  return (s.charCodeAt(o) << 24 | s.charCodeAt(o + 1) << 16 | s.charCodeAt(o + 2) << 8 | s.charCodeAt(o + 3)) >>> 0;
}

/** `n` (< 2^32) as 4 big-endian bytes. */
function str32(n: number): string {
  return String.fromCharCode(n >>> 24 & 255, n >>> 16 & 255, n >>> 8 & 255, n & 255);
}

/** SHA-256 of a byte string to its 32 raw bytes. */
export type Hash256 = (s: string) => string;

/** Number of chains p of the LM-OTS type (1..4: W1, W2, W4, W8; RFC 8554 4.1 and Appendix B). */
function chains(ots: number): number {
  const w = 1 << ots - 1;
  let v = 0;
  // v: bits of the largest checksum ((2^w - 1) * 256/w), in w-bit digits
  for (let x = ((1 << w) - 1) * 256 / w; x; x >>>= 1) v++;
  return 256 / w + Math.ceil(v / w);
}

/** Byte length of the LMS signature at byte `o` of `sig`, from its own types (0: unknown types). */
function lmsLength(sig: string, o: number): number {
  const ots = u32(sig, o + 4);
  if (ots < 1 || ots > 4) return 0;
  const p = chains(ots);
  const h = (u32(sig, o + 40 + 32 * p) - 4) * 5;
  return h < 5 || h > 25 ? 0 : 12 + 32 * (p + 1 + h);
}

/**
 * Verifies the LMS signature at byte `o` of `sig` for `msg` under the LMS public key `pub`
 * (u32 lms type, u32 ots type, I, T[1]). Returns the offset just past the signature, or -1.
 */
function lmsAt(pub: string, msg: string, sig: string, o: number, sha: Hash256): number {
  const ots = u32(pub, 4);
  const len = lmsLength(sig, o);
  // Types in the signature must be the key's (the length covers the OTS and the tree height).
  if (pub.length != 56 || !len || o + len > sig.length || u32(sig, o + 4) != ots) return -1;
  const w = 1 << ots - 1;
  const u = 256 / w;
  const p = chains(ots);
  const v = p - u;
  const h = (u32(pub, 0) - 4) * 5;
  const top = (1 << w) - 1;
  const q = u32(sig, o);
  if (u32(sig, o + 40 + 32 * p) != u32(pub, 0) || q >= 1 << h) return -1;
  const id = pub.substr(8, 16) + str32(q);
  // Algorithm 4b: Q and its checksum give each chain's start a; the chain runs from y[i] to 2^w - 1.
  const qh = sha(id + "\x81\x81" + sig.substr(o + 8, 32) + msg);
  let sum = 0;
  for (let i = 0; i < u; i++) sum += top - (qh.charCodeAt(i * w >> 3) >> 8 - w - i * w % 8 & top);
  sum = sum << 16 - v * w;
  const qa = qh + String.fromCharCode(sum >> 8 & 255, sum & 255);
  let kc = id + "\x80\x80";
  for (let i = 0; i < p; i++) {
    let z = sig.substr(o + 40 + 32 * i, 32);
    const pre = id + String.fromCharCode(i >> 8, i & 255);
    for (let j = qa.charCodeAt(i * w >> 3) >> 8 - w - i * w % 8 & top; j < top; j++) z = sha(pre + String.fromCharCode(j) + z);
    kc += z;
  }
  // Algorithm 6a: leaf 2^h + q, then up the authentication path to the root.
  let node = (1 << h) + q;
  let t = sha(pub.substr(8, 16) + str32(node) + "\x82\x82" + sha(kc));
  for (let i = o + 44 + 32 * p; node > 1; i += 32) {
    const a = sig.substr(i, 32);
    t = sha(pub.substr(8, 16) + str32(node >>> 1) + "\x83\x83" + (node & 1 ? a + t : t + a));
    node = node >>> 1;
  }
  return t === pub.substr(24, 32) ? o + len : -1;
}

/** Byte length of a signature under the one-level HSS public key `pub` (0: not such a key). */
export function hssSignatureBytes(pub: string): number {
  const ots = u32(pub, 8);
  const h = (u32(pub, 4) - 4) * 5;
  return pub.length == 60 && u32(pub, 0) == 1 && ots > 0 && ots < 5 && h > 4 && h < 26 ? 16 + 32 * (chains(ots) + 1 + h) : 0;
}

/** True when `sig` is a valid LMS signature of `msg` under the LMS public key `pub` (byte strings). */
export function lmsVerify(pub: string, msg: string, sig: string, hash: Hash256): boolean {
  return lmsAt(pub, msg, sig, 0, hash) === sig.length;
}

/**
 * True when `sig` is a valid HSS signature (RFC 8554 6.3) of `msg` under the HSS public key `pub`
 * (u32 levels L, then the top LMS public key): each level signs the next level's public key.
 */
export function hssVerify(pub: string, msg: string, sig: string, sha: Hash256): boolean {
  const levels = u32(pub, 0);
  if (pub.length != 60 || levels < 1 || levels > 8 || u32(sig, 0) + 1 != levels) return false;
  let key = pub.substr(4);
  let o = 4;
  for (let l = 1; l < levels; l++) {
    // The signed public key of the next level follows that level's signature.
    const e = o + lmsLength(sig, o);
    const next = sig.substr(e, 56);
    if (e == o || lmsAt(key, next, sig, o, sha) != e) return false;
    key = next;
    o = e + 56;
  }
  return lmsAt(key, msg, sig, o, sha) === sig.length;
}
