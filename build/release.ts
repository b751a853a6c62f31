// `npm run release -- --version X.Y.Z`: builds dist/firmware.js and writes an LMS-signed OTA
// manifest, its signature file and the image to a folder that any static HTTPS host (or the local
// platform) can serve. The signing key is a stateful hash-based key (RFC 8554): every signature
// uses a new leaf, the state is written to disk before a signature leaves this tool, and the tool
// says how many signatures are left. Devices hold only the public key.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { build } from "./build";
import { generateLmsKey, hssPublicKey, hssSignAt, keyFromJson, keyToJson, lmsRemaining, lmsTree, LMS_H, OTS_W, type LmsKey } from "./lms";
import { manifestSignedText, type OtaManifest } from "../firmware/ota";

/** What the device checks (firmware/ota.ts parseManifest): all fields are required. */
export type Manifest = OtaManifest;

/** The text the signature covers: the device's own function, so both sides cannot drift apart. */
export const signedText = manifestSignedText;

/** LMS_SHA256_M32_H10 (1,024 releases) with LMOTS_SHA256_N32_W4: BENCHMARKS.md "OTA signature check". */
export const DEFAULT_LMS_TYPE = 6;
export const DEFAULT_OTS_TYPE = 3;

export function checkVersion(v: string): void {
  if (!/^\d{1,9}(\.\d{1,9}){0,3}$/.test(v)) throw new Error(`version "${v}" is not dotted digits like 1.2.3`);
}

/** The private state of a product's update signing key (JSON file, mode 0600, never in git). */
export interface SigningState {
  key: LmsKey;
  /** Counter of the last release signed (the next one gets counter + 1). */
  counter: number;
}

function stateText(s: SigningState): string {
  const o = JSON.parse(keyToJson(s.key));
  o.counter = s.counter;
  o.note = "LMS private key state: never reuse an older copy of this file (a leaf signing twice breaks the key); never commit it";
  return JSON.stringify(o, null, 2) + "\n";
}

export function readState(file: string): SigningState {
  if (!fs.existsSync(file)) throw new Error(`signing key ${file} not found: create one with --gen-key (once per product)`);
  const text = fs.readFileSync(file, "utf8");
  const counter = JSON.parse(text).counter;
  if (!Number.isInteger(counter) || counter < 0) throw new Error(`${file}: no release counter`);
  return { key: keyFromJson(text), counter };
}

/** Replaces the state file atomically and durably (temp file, fsync, rename, fsync of the folder). */
export function writeState(file: string, s: SigningState): void {
  const tmp = file + ".tmp";
  const fd = fs.openSync(tmp, "w", 0o600);
  try {
    fs.writeSync(fd, stateText(s));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  try {
    const dfd = fs.openSync(path.dirname(path.resolve(file)), "r");
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // folders cannot be opened for fsync on every platform
  }
}

/** The public key file next to the private one: hex of the HSS public key, what devices hold. */
export function publicKeyFile(keyFile: string): string {
  return keyFile.replace(/\.key$/, "") + ".pub";
}

/**
 * A fresh signing key: writes the private state (0600, refuses to replace one) and the public key
 * file (hex). Returns the public key's hex.
 */
export function generateSigningKey(file: string, lmsType = DEFAULT_LMS_TYPE, otsType = DEFAULT_OTS_TYPE): string {
  if (fs.existsSync(file)) throw new Error(`${file} exists: refusing to replace a signing key (devices hold its public key)`);
  const key = generateLmsKey(lmsType, otsType);
  const pub = hssPublicKey(key).toString("hex");
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, stateText({ key, counter: 0 }), { mode: 0o600, flag: "wx" });
  fs.writeFileSync(publicKeyFile(file), pub + "\n");
  return pub;
}

/**
 * Signs `text` with the next unused leaf of the key in `file`: the advanced state (leaf and
 * release counter) is on disk before the signature exists. Returns the signature, the counter the
 * manifest must carry, and the signatures left.
 */
export function signNext(file: string, text: (counter: number) => Buffer): { sig: Buffer; counter: number; left: number } {
  const s = readState(file);
  const q = s.key.q;
  if (lmsRemaining(s.key) <= 0) throw new Error(`${file}: all ${2 ** LMS_H[s.key.lmsType]} signatures are used: generate a new key and re-flash or migrate devices`);
  const counter = s.counter + 1;
  const next: SigningState = { key: { ...s.key, q: q + 1 }, counter };
  writeState(file, next);
  const sig = hssSignAt(s.key, q, text(counter), undefined, lmsTree(s.key));
  return { sig, counter, left: lmsRemaining(next.key) };
}

/** The manifest of `image` (bytes) under release counter `counter`; `sig` names the signature file. */
export function makeManifest(image: Buffer, version: string, counter: number, url: string, sig: string): Manifest {
  checkVersion(version);
  const sha256 = crypto.createHash("sha256").update(image).digest("hex");
  return { version, counter, size: image.length, sha256, url, sig };
}

export interface ReleaseOptions {
  version: string;
  image: Buffer;
  /** The signing key state file. */
  keyFile: string;
  outDir: string;
  /** Base URL of the hosting folder; empty: the manifest names the files relative to itself. */
  baseUrl?: string;
}

/**
 * Signs and writes `firmware-X.Y.Z.js`, `firmware-X.Y.Z.sig`, then `manifest.json` (last, so a
 * host never offers a missing file).
 */
export function writeRelease(o: ReleaseOptions): { manifest: Manifest; manifestFile: string; imageFile: string; sigFile: string; left: number } {
  const name = `firmware-${o.version}`;
  const base = o.baseUrl ? o.baseUrl.replace(/\/+$/, "") + "/" : "";
  let manifest: Manifest | null = null;
  const signed = signNext(o.keyFile, (counter) => {
    manifest = makeManifest(o.image, o.version, counter, base + name + ".js", base + name + ".sig");
    return Buffer.from(signedText(manifest.version, manifest.counter, manifest.size, manifest.sha256), "latin1");
  });
  const m = manifest as unknown as Manifest;
  fs.mkdirSync(o.outDir, { recursive: true });
  const imageFile = path.join(o.outDir, name + ".js");
  const sigFile = path.join(o.outDir, name + ".sig");
  const manifestFile = path.join(o.outDir, "manifest.json");
  fs.writeFileSync(imageFile, o.image);
  fs.writeFileSync(sigFile, signed.sig);
  const tmp = manifestFile + ".tmp";
  fs.writeFileSync(tmp, JSON.stringify(m, null, 2) + "\n");
  fs.renameSync(tmp, manifestFile);
  return { manifest: m, manifestFile, imageFile, sigFile, left: signed.left };
}

// ---- Migration from HMAC-signed updates (firmware before LMS signing) ----

/** What HMAC-era firmware verifies: its manifest and the text its HMAC covers. */
export interface HmacManifest {
  version: string;
  size: number;
  sha1: string;
  url: string;
  signMethod: string;
  signature: string;
}

export function hmacSignedText(version: string, size: number, sha1: string): string {
  return "ota1\n" + version + "\n" + size + "\n" + sha1;
}

/** The HMAC-era manifest of `image`, signed with that firmware's update key text. */
export function makeHmacManifest(image: Buffer, version: string, hmacKey: string, url: string): HmacManifest {
  checkVersion(version);
  if (hmacKey.length < 32) throw new Error("HMAC update key shorter than 32 characters");
  const sha1 = crypto.createHash("sha1").update(image).digest("hex");
  const signature = crypto.createHmac("sha1", Buffer.from(hmacKey, "latin1")).update(hmacSignedText(version, image.length, sha1), "latin1").digest("hex");
  return { version, size: image.length, sha1, url, signMethod: "hmacsha1", signature };
}

/** Writes the migration release: the image (built with the public key inside) under an HMAC manifest. */
export function writeMigrationRelease(o: { version: string; image: Buffer; hmacKey: string; outDir: string; baseUrl?: string }): { manifest: HmacManifest; manifestFile: string } {
  const name = `firmware-${o.version}.js`;
  const url = o.baseUrl ? o.baseUrl.replace(/\/+$/, "") + "/" + name : name;
  const manifest = makeHmacManifest(o.image, o.version, o.hmacKey, url);
  fs.mkdirSync(o.outDir, { recursive: true });
  fs.writeFileSync(path.join(o.outDir, name), o.image);
  const manifestFile = path.join(o.outDir, "manifest.json");
  fs.writeFileSync(manifestFile + ".tmp", JSON.stringify(manifest, null, 2) + "\n");
  fs.renameSync(manifestFile + ".tmp", manifestFile);
  return { manifest, manifestFile };
}

async function main(): Promise<void> {
  const o = new Command()
    .name("release")
    .description("Build dist/firmware.js and write an LMS-signed OTA manifest, signature and image to a folder")
    .option("--version <x.y.z>", "version of this release (devices install only newer ones)")
    .option("--out <dir>", "output folder for any static HTTPS host", "dist/release")
    .option("--url <base>", "base URL the folder is served at (default: file URLs relative to the manifest)", "")
    .option("--key-file <file>", "the product's LMS signing key state (never committed, never in the bundle)", "ota-lms.key")
    .option("--gen-key", "create the signing key (and its .pub file for flash.sh --update-key) and exit")
    .option("--height <h>", "with --gen-key: tree height 5, 10, 15 (signatures: 2^h)", "10")
    .option("--winternitz <w>", "with --gen-key: LM-OTS width 1, 2, 4 or 8", "4")
    .option("--status", "print the signatures left and the release counter, and exit")
    .option("--migrate <hmac-key-file>", "migration release for HMAC-era devices: built with the public key inside, signed with their HMAC key")
    .option("--image <file>", "release this already built script instead of building")
    .parse()
    .opts();
  if (o.genKey) {
    const lmsType = Number(Object.keys(LMS_H).find((t) => LMS_H[Number(t)] === Number(o.height)));
    const otsType = Number(Object.keys(OTS_W).find((t) => OTS_W[Number(t)] === Number(o.winternitz)));
    if (!lmsType || !otsType || LMS_H[lmsType] > 15) throw new Error("--height 5|10|15 and --winternitz 1|2|4|8");
    const t0 = Date.now();
    generateSigningKey(o.keyFile, lmsType, otsType);
    console.log(`release: new signing key ${o.keyFile} (private, mode 0600: keep it offline and backed up ONCE; never restore an older copy)`);
    console.log(`  public key ${publicKeyFile(o.keyFile)}: flash it with flash.sh --update-key; ${2 ** LMS_H[lmsType]} signatures (${Math.round((Date.now() - t0) / 1000)} s)`);
    return;
  }
  if (o.status) {
    const s = readState(o.keyFile);
    console.log(`release: ${o.keyFile}: ${lmsRemaining(s.key)} of ${2 ** LMS_H[s.key.lmsType]} signatures left, last release counter ${s.counter}`);
    return;
  }
  if (!o.version) throw new Error("--version X.Y.Z is required");
  checkVersion(o.version);
  let imagePath = o.image as string | undefined;
  if (!imagePath) {
    process.env.FW_VERSION = o.version;
    if (o.migrate) process.env.OTA_PUB_KEY = fs.readFileSync(publicKeyFile(o.keyFile), "latin1").trim();
    const r = await build({ signMethods: ["hmacsha1"] });
    if (!r.ok) throw new Error("build failed:\n" + r.errors.join("\n"));
    imagePath = path.resolve(__dirname, "..", "dist", "firmware.js");
  }
  const image = fs.readFileSync(imagePath);
  if (image.indexOf(JSON.stringify(o.version)) < 0) {
    console.warn(`release: warning: the image does not contain "${o.version}": devices would report another version after installing it`);
  }
  if (o.migrate) {
    const pubHex = fs.readFileSync(publicKeyFile(o.keyFile), "latin1").trim();
    if (image.indexOf(pubHex) < 0) throw new Error("the image does not carry the public key: build it with --migrate (not --image)");
    const hmacKey = fs.readFileSync(o.migrate, "latin1").trim();
    const r = writeMigrationRelease({ version: o.version, image, hmacKey, outDir: o.out, baseUrl: o.url });
    console.log(`release ${r.manifest.version} (migration, HMAC-signed for devices before LMS): ${r.manifest.size} bytes\n  ${r.manifestFile}`);
    return;
  }
  const r = writeRelease({ version: o.version, image, keyFile: o.keyFile, outDir: o.out, baseUrl: o.url });
  console.log(`release ${r.manifest.version}: ${r.manifest.size} bytes, sha256 ${r.manifest.sha256}, counter ${r.manifest.counter}`);
  console.log(`  ${r.imageFile}\n  ${r.sigFile}\n  ${r.manifestFile} (url ${r.manifest.url})`);
  console.log(`  signatures left: ${r.left}`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error("release: " + (e as Error).message);
    process.exit(1);
  });
}
