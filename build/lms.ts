// LMS signing (RFC 8554) for the release tool, with Node's crypto: key generation from a seed
// (RFC 8554 Appendix A), signatures and the one-level HSS encoding the device verifies.
// Stateful: a leaf (one-time key) must never sign twice; build/release.ts keeps the state on disk.
// No maintained npm package implements LMS, hence this file; its output is checked against the
// RFC's test vectors and against the device's verifier (test/crypto/lms.test.ts).
import * as crypto from "node:crypto";

/** LM-OTS types with SHA-256, n = 32: typecode -> Winternitz width. */
export const OTS_W: { [type: number]: number } = { 1: 1, 2: 2, 3: 4, 4: 8 };
/** LMS types with SHA-256, m = 32: typecode -> tree height. */
export const LMS_H: { [type: number]: number } = { 5: 5, 6: 10, 7: 15, 8: 20, 9: 25 };

/** The private state of one LMS key. */
export interface LmsKey {
  lmsType: number;
  otsType: number;
  /** Key pair identifier I (16 bytes). */
  id: Buffer;
  /** Secret seed (32 bytes) of every one-time key. */
  seed: Buffer;
  /** Next unused leaf. */
  q: number;
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const u16 = (n: number) => Buffer.from([n >> 8 & 255, n & 255]);
const sha = (...parts: Buffer[]) => {
  const h = crypto.createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Chains p and checksum shift ls of an LM-OTS type (RFC 8554 4.1). */
export function otsParams(otsType: number): { w: number; p: number; ls: number } {
  const w = OTS_W[otsType];
  if (!w) throw new Error(`unknown LM-OTS type ${otsType}`);
  const u = Math.ceil(256 / w);
  const v = Math.ceil((Math.floor(Math.log2((2 ** w - 1) * u)) + 1) / w);
  return { w, p: u + v, ls: 16 - v * w };
}

function coef(s: Buffer, i: number, w: number): number {
  return (2 ** w - 1) & (s[Math.floor(i * w / 8)] >> (8 - (w * (i % (8 / w)) + w)));
}

function chain(id: Buffer, q: number, i: number, from: number, to: number, x: Buffer): Buffer {
  let t = x;
  for (let j = from; j < to; j++) t = sha(id, u32(q), u16(i), Buffer.from([j]), t);
  return t;
}

/** The one-time public key K of leaf q (Algorithm 1, with Appendix A's pseudorandom x). */
function otsPublic(k: LmsKey, q: number): Buffer {
  const { w, p } = otsParams(k.otsType);
  const h = crypto.createHash("sha256").update(k.id).update(u32(q)).update(u16(0x8080));
  for (let i = 0; i < p; i++) h.update(chain(k.id, q, i, 0, 2 ** w - 1, sha(k.id, u32(q), u16(i), Buffer.from([0xff]), k.seed)));
  return h.digest();
}

/** Every node of the Merkle tree, index r = 1 (root) .. 2^(h+1) - 1. */
function tree(k: LmsKey): Buffer[] {
  const h = LMS_H[k.lmsType];
  if (!h) throw new Error(`unknown LMS type ${k.lmsType}`);
  const leaves = 2 ** h;
  const t: Buffer[] = new Array(2 * leaves);
  for (let q = 0; q < leaves; q++) t[leaves + q] = sha(k.id, u32(leaves + q), u16(0x8282), otsPublic(k, q));
  for (let r = leaves - 1; r >= 1; r--) t[r] = sha(k.id, u32(r), u16(0x8383), t[2 * r], t[2 * r + 1]);
  return t;
}

/** A new key from fresh random I and seed. */
export function generateLmsKey(lmsType: number, otsType: number): LmsKey {
  if (!LMS_H[lmsType]) throw new Error(`unknown LMS type ${lmsType}`);
  otsParams(otsType);
  return { lmsType, otsType, id: crypto.randomBytes(16), seed: crypto.randomBytes(32), q: 0 };
}

/** The LMS public key: u32 type, u32 ots type, I, root. */
export function lmsPublicKey(k: LmsKey, nodes = tree(k)): Buffer {
  return Buffer.concat([u32(k.lmsType), u32(k.otsType), k.id, nodes[1]]);
}

/** Signatures the key has left. */
export function lmsRemaining(k: LmsKey): number {
  return 2 ** LMS_H[k.lmsType] - k.q;
}

/**
 * The LMS signature of `msg` with leaf `q` (a pure function: the caller owns the state and must
 * have stored q + 1 before it lets the signature out). `c` is the randomizer (random by default).
 */
export function lmsSignAt(k: LmsKey, q: number, msg: Buffer, c: Buffer = crypto.randomBytes(32), nodes = tree(k)): Buffer {
  const h = LMS_H[k.lmsType];
  if (q < 0 || q >= 2 ** h) throw new Error(`leaf ${q} does not exist in a tree of ${2 ** h}`);
  const { w, p, ls } = otsParams(k.otsType);
  const qh = sha(k.id, u32(q), u16(0x8181), c, msg);
  let sum = 0;
  for (let i = 0; i < 256 / w; i++) sum += 2 ** w - 1 - coef(qh, i, w);
  const qa = Buffer.concat([qh, u16(sum << ls)]);
  const y: Buffer[] = [];
  for (let i = 0; i < p; i++) y.push(chain(k.id, q, i, 0, coef(qa, i, w), sha(k.id, u32(q), u16(i), Buffer.from([0xff]), k.seed)));
  const path: Buffer[] = [];
  for (let r = 2 ** h + q; r > 1; r = r >> 1) path.push(nodes[r ^ 1]);
  return Buffer.concat([u32(q), u32(k.otsType), c, ...y, u32(k.lmsType), ...path]);
}

/** One-level HSS public key (u32 L = 1, then the LMS key): what devices hold. */
export function hssPublicKey(k: LmsKey, nodes = tree(k)): Buffer {
  return Buffer.concat([u32(1), lmsPublicKey(k, nodes)]);
}

/** One-level HSS signature (u32 Nspk = 0, then the LMS signature). */
export function hssSignAt(k: LmsKey, q: number, msg: Buffer, c?: Buffer, nodes = tree(k)): Buffer {
  return Buffer.concat([u32(0), lmsSignAt(k, q, msg, c, nodes)]);
}

/** Signature bytes of a one-level HSS signature with these types. */
export function hssSignatureBytes(lmsType: number, otsType: number): number {
  return 4 + 12 + 32 * (otsParams(otsType).p + 1 + LMS_H[lmsType]);
}

/** The state file's JSON form (hex), and back. */
export function keyToJson(k: LmsKey): string {
  return JSON.stringify({ lmsType: k.lmsType, otsType: k.otsType, id: k.id.toString("hex"), seed: k.seed.toString("hex"), q: k.q });
}

export function keyFromJson(text: string): LmsKey {
  const o = JSON.parse(text);
  const k: LmsKey = { lmsType: o.lmsType, otsType: o.otsType, id: Buffer.from(String(o.id), "hex"), seed: Buffer.from(String(o.seed), "hex"), q: o.q };
  if (!LMS_H[k.lmsType] || !OTS_W[k.otsType] || k.id.length !== 16 || k.seed.length !== 32 || !Number.isInteger(k.q) || k.q < 0) {
    throw new Error("not an LMS private key state");
  }
  return k;
}

/** Nodes of the tree, for callers that sign several times with one key (tests). */
export const lmsTree = tree;
