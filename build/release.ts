// `npm run release -- --version X.Y.Z`: builds dist/firmware.js and writes a signed OTA manifest
// plus the image to a folder that any static HTTPS host (or the local platform) can serve.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { build } from "./build";
import { manifestSignedText, type OtaManifest } from "../firmware/ota";

/** What the device checks (firmware/ota.ts parseManifest): all fields are required. */
export type Manifest = OtaManifest;

/** HMAC methods a device may verify with, by node:crypto hash name. */
const HASHES: { [method: string]: string } = { hmacsha1: "sha1", hmacsha256: "sha256", hmacmd5: "md5" };

/** The text the signature covers: the device's own function, so both sides cannot drift apart. */
export const signedText = manifestSignedText;

export function checkVersion(v: string): void {
  if (!/^\d{1,9}(\.\d{1,9}){0,3}$/.test(v)) throw new Error(`version "${v}" is not dotted digits like 1.2.3`);
}

/** The manifest of `image` (bytes) signed with `key` (the text of the key file, trimmed). */
export function makeManifest(image: Buffer, version: string, key: string, url: string, signMethod = "hmacsha1"): Manifest {
  checkVersion(version);
  const hash = HASHES[signMethod];
  if (!hash) throw new Error(`unknown sign method "${signMethod}" (${Object.keys(HASHES).join(", ")})`);
  if (key.length < 32) throw new Error("update key shorter than 32 characters");
  const sha1 = crypto.createHash("sha1").update(image).digest("hex");
  const signature = crypto.createHmac(hash, Buffer.from(key, "latin1")).update(signedText(version, image.length, sha1), "latin1").digest("hex");
  return { version, size: image.length, sha1, url, signMethod, signature };
}

/** A fresh update key: 32 random bytes as 64 hex chars, no newline (flash.sh stores the same text). */
export function generateKey(file: string): void {
  if (fs.existsSync(file)) throw new Error(`${file} exists: refusing to replace an update key (devices hold it)`);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, crypto.randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
}

export function readKey(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`update key ${file} not found: create one with --gen-key (once per product)`);
  return fs.readFileSync(file, "latin1").trim();
}

export interface ReleaseOptions {
  version: string;
  image: Buffer;
  key: string;
  outDir: string;
  /** Base URL of the hosting folder; empty: the manifest names the image relative to itself. */
  baseUrl?: string;
  signMethod?: string;
}

/** Writes `firmware-X.Y.Z.js` then `manifest.json` (last, so a host never offers a missing image). */
export function writeRelease(o: ReleaseOptions): { manifest: Manifest; manifestFile: string; imageFile: string } {
  const name = `firmware-${o.version}.js`;
  const url = o.baseUrl ? o.baseUrl.replace(/\/+$/, "") + "/" + name : name;
  const manifest = makeManifest(o.image, o.version, o.key, url, o.signMethod);
  fs.mkdirSync(o.outDir, { recursive: true });
  const imageFile = path.join(o.outDir, name);
  const manifestFile = path.join(o.outDir, "manifest.json");
  fs.writeFileSync(imageFile, o.image);
  const tmp = manifestFile + ".tmp";
  fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + "\n");
  fs.renameSync(tmp, manifestFile);
  return { manifest, manifestFile, imageFile };
}

async function main(): Promise<void> {
  const o = new Command()
    .name("release")
    .description("Build dist/firmware.js and write a signed OTA manifest and image to a folder")
    .option("--version <x.y.z>", "version of this release (devices install only newer ones)")
    .option("--out <dir>", "output folder for any static HTTPS host", "dist/release")
    .option("--url <base>", "base URL the folder is served at (default: image URL relative to the manifest)", "")
    .option("--key-file <file>", "per-product update key (never committed, never in the bundle)", "ota.key")
    .option("--gen-key", "create the key file (32 random bytes, hex) and exit")
    .option("--sign-method <m>", "hmacsha1 | hmacsha256 (the firmware must be built with it)", "hmacsha1")
    .option("--image <file>", "release this already built script instead of building")
    .parse()
    .opts();
  if (o.genKey) {
    generateKey(o.keyFile);
    console.log(`release: wrote a new update key to ${o.keyFile}; flash it to each device as Storage "ota.key"`);
    return;
  }
  if (!o.version) throw new Error("--version X.Y.Z is required");
  checkVersion(o.version);
  const key = readKey(o.keyFile);
  let imagePath = o.image as string | undefined;
  if (!imagePath) {
    process.env.FW_VERSION = o.version;
    const methods = o.signMethod === "hmacsha1" ? ["hmacsha1"] : ["hmacsha1", o.signMethod];
    const r = await build({ signMethods: methods });
    if (!r.ok) throw new Error("build failed:\n" + r.errors.join("\n"));
    imagePath = path.resolve(__dirname, "..", "dist", "firmware.js");
  }
  const image = fs.readFileSync(imagePath);
  if (image.indexOf(JSON.stringify(o.version)) < 0) {
    console.warn(`release: warning: the image does not contain "${o.version}": devices would report another version after installing it`);
  }
  const r = writeRelease({ version: o.version, image, key, outDir: o.out, baseUrl: o.url, signMethod: o.signMethod });
  console.log(`release ${r.manifest.version}: ${r.manifest.size} bytes, sha1 ${r.manifest.sha1}`);
  console.log(`  ${r.imageFile}\n  ${r.manifestFile} (url ${r.manifest.url})`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error("release: " + (e as Error).message);
    process.exit(1);
  });
}
