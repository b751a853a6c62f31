// The real Espruino interpreter (host build) as a board: finds the binary, writes a Storage image
// exactly as flash.sh uploads it, and boots it with the test prelude (emulator/real/prelude.js).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { generateLmsKey, hssPublicKey } from "../../build/lms";

const ROOT = path.resolve(__dirname, "..", "..");

/** How to get an engine, for the error when none is found (README, "Real interpreter"). */
export const ENGINE_RECIPE =
  "build one from Espruino's public source: `make BOARD=LINUX RELEASE=1 VARIABLES=4095` with two changes " +
  "(libs/crypto/mbedtls/config.h: MBEDTLS_PLATFORM_CALLOC_MACRO calloc and MBEDTLS_PLATFORM_FREE_MACRO free; " +
  "boards/LINUX.py: remove the ESPR_UNICODE_SUPPORT define), then pass --engine-bin PATH or set ESPRUINO_BIN";

/** The engine binary: `explicit` (--engine-bin), else ESPRUINO_BIN; a clear error without one. */
export function findEngine(explicit?: string): string {
  const bin = explicit || process.env.ESPRUINO_BIN;
  if (!bin) throw new Error("no Espruino engine: give --engine-bin PATH or set ESPRUINO_BIN; to " + ENGINE_RECIPE);
  const abs = path.resolve(bin);
  if (!fs.existsSync(abs)) throw new Error("Espruino engine not found at " + abs + "; " + ENGINE_RECIPE);
  return abs;
}

/**
 * The engine that writes the image: a big file's text must fit the writer's heap, so the large-heap
 * build beside the engine (`espruino-linux`) when there is one (both share the Storage layout).
 */
export function writerEngine(engine: string): string {
  const big = path.join(path.dirname(engine), "espruino-linux");
  return process.env.ESPRUINO_WRITER_BIN || (fs.existsSync(big) ? big : engine);
}

export type Layout = "plain" | "ota";

/**
 * A throwaway OTA update public key file (hex of an HSS public key, as `npm run release -- --gen-key`
 * writes it) for runs in the OTA layout: the smallest tree, made in a fraction of a second.
 */
export function throwawayUpdateKey(dir: string): string {
  const file = path.join(dir, "update.pub");
  const key = generateLmsKey(5, 3);
  fs.writeFileSync(file, hssPublicKey(key).toString("hex") + "\n");
  return file;
}

export interface ImageOptions {
  engine: string;
  /** Fresh folder: espruino.flash is created there. */
  dir: string;
  /** iot.json keys (flash.sh checks them with the firmware's rules). */
  credentials: Record<string, unknown>;
  layout: Layout;
  /** The bundles to flash (firmware.js, boot0.js); default the project's dist/. */
  distDir?: string;
  /** OTA layout: the update key file flash.sh takes. */
  updateKey?: string;
  /** Prelude settings, Storage `sim.json`. */
  sim: Record<string, unknown>;
  /** Extra Storage files written after flash.sh's (e.g. a writeJSON config test), as engine code. */
  extraCode?: string;
}

/**
 * Writes `dir/espruino.flash` with what `flash.sh` uploads: flash.sh itself produces the upload
 * (`--dry-run`, the espruino CLI's own output), which the writer engine runs with `load()` made
 * inert; then the prelude files. Nothing here knows the file list: flash.sh does.
 */
export function writeImage(o: ImageOptions): void {
  fs.mkdirSync(o.dir, { recursive: true });
  const creds = path.join(o.dir, "credentials.json");
  fs.writeFileSync(creds, JSON.stringify(o.credentials), { mode: 0o600 });
  const upload = path.join(o.dir, "upload.js");
  const args = [path.join(ROOT, "flash.sh"), "--no-build", "--credentials", creds, "--dry-run", upload];
  if (o.distDir) args.push("--dist", o.distDir);
  if (o.layout === "ota") {
    if (!o.updateKey) throw new Error("the OTA layout needs an update key file");
    args.push("--update-key", o.updateKey);
  }
  const r = spawnSync("bash", args, { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error("flash.sh --dry-run failed: " + (r.stderr || r.stdout).trim());
  const prelude = fs.readFileSync(path.join(__dirname, "prelude.js"), "latin1");
  const S = 'require("Storage")';
  const script =
    // the upload ends by restarting into the new code: here the image is all we want
    "global.load=function(){};global.reset=function(){};\n" +
    fs.readFileSync(upload, "latin1") +
    "\n" +
    // the prelude runs first at power-on, before .boot0 (the interpreter's own .bootPowerOn)
    `${S}.write(".bootPowerOn",${JSON.stringify(prelude)});\n` +
    `${S}.writeJSON("sim.json",${JSON.stringify(o.sim)});\n` +
    (o.extraCode || "") +
    '\nconsole.log("@image " + require("Storage").getFree());\n';
  const writer = path.join(o.dir, "write-image.js");
  fs.writeFileSync(writer, script, { mode: 0o600 });
  const w = spawnSync(writerEngine(o.engine), [writer], { cwd: o.dir, encoding: "latin1", input: "", timeout: 30000 });
  fs.rmSync(writer);
  fs.rmSync(upload);
  fs.rmSync(creds);
  if (!/@image \d+/.test(w.stdout || "")) throw new Error("writing the Storage image failed: " + ((w.stdout || "") + (w.stderr || "")).slice(-400));
}

export interface BootOptions {
  /** "power" (power-on, reset), "timer" (deep-sleep wake), "reboot" (E.reboot), "load". */
  cause: string;
  /** load(file): only that file runs; otherwise .boot0...boot3 and .bootcde, as Espruino boots. */
  file?: string;
  /** The board's clock (getTime) at start: load() keeps it; a reset starts near 0. */
  t?: number;
}

/**
 * The script the engine runs once it has booted. At start the host build runs, as a board does,
 * `.bootPowerOn` (the prelude: first, at power-on only) and `.boot0`..`.boot3` from Storage, but not
 * `.bootcde`, which a board runs next: this script does, at the top level as the interpreter's boot
 * does (measured on espruino-esp32-model: the firmware evaluated inside a function, or inside a try
 * within a loop, runs out of memory at boot where the same eval at the top level does not).
 */
export function bootLine(b: BootOptions): string {
  const file = b.file !== undefined ? b.file : ".bootcde";
  return file ? `var BC=require("Storage").read(${JSON.stringify(file)});if(BC!==undefined)eval(BC);BC=undefined;\n` : "\n";
}

/** Starts the engine in `dir` (its espruino.flash is the board's Storage). stdin stays open: the REPL exits at EOF. */
export function bootEngine(engine: string, dir: string, b: BootOptions): ChildProcess {
  const file = path.join(dir, "boot.js");
  fs.writeFileSync(file, bootLine(b));
  // what the prelude learns of this boot (it reads the file with the interpreter's fs module)
  fs.writeFileSync(path.join(dir, "boot.json"), JSON.stringify({ cause: b.cause, t: b.t }));
  return spawn(engine, [file], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
}
