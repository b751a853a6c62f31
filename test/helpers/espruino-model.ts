// Runs code on the host build of the real interpreter (espruino-esp32-model: a stock ESP32's 4,095
// JsVars, 8-bit strings) with Storage files laid out first, as `flash.sh` would leave a board.
// Used by the OTA verify tests and `npm run bench:lms`; the binary is looked up beside the project
// (../shared/engines/espruino-esp32-model) or named by $ESPRUINO_BIN; absent: tests skip.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writerEngine } from "../../emulator/real/engine";

const ROOT = path.resolve(__dirname, "..", "..");

/** The interpreter binary, or "" when this machine has none. */
export function espruinoModelBin(): string {
  const candidates = [process.env.ESPRUINO_BIN || "", path.resolve(ROOT, "..", "shared", "engines", "espruino-esp32-model")];
  for (const c of candidates) if (c && fs.existsSync(c)) return path.resolve(c);
  return "";
}


function run(bin: string, dir: string, script: string, timeoutMs: number): string {
  const file = path.join(dir, "run-" + Math.random().toString(36).slice(2) + ".js");
  fs.writeFileSync(file, script);
  // The interpreter stays in its REPL after the script: stdin closed and a timeout end it.
  const r = spawnSync(bin, [file], { cwd: dir, input: "", timeout: timeoutMs, encoding: "latin1", maxBuffer: 1 << 22 });
  fs.rmSync(file, { force: true });
  return (r.stdout || "") + (r.stderr || "");
}

/** A folder whose Storage (espruino.flash) holds `files` (name -> bytes); remove it when done. */
export function flashWith(bin: string, files: { [name: string]: Buffer | string }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-model-"));
  let script = 'var S=require("Storage");\n';
  for (const name of Object.keys(files)) {
    const b = typeof files[name] === "string" ? Buffer.from(files[name] as string, "latin1") : (files[name] as Buffer);
    script += `S.write(${JSON.stringify(name)},atob(${JSON.stringify(b.toString("base64"))}));\n`;
  }
  script += 'print("WRITTEN "+S.list().length);\n';
  const out = run(writerEngine(bin), dir, script, 60000);
  if (out.indexOf("WRITTEN") < 0) throw new Error("could not write Storage: " + out.slice(-400));
  return dir;
}

/** Runs `script` (ES5, runs from RAM) in `dir`; returns the lines it printed after the banner. */
export function runModel(bin: string, dir: string, script: string, timeoutMs = 120000): string[] {
  const out = run(bin, dir, script, timeoutMs);
  const i = out.indexOf("espruino.com/Donate");
  return out.slice(i < 0 ? 0 : out.indexOf("\n", i) + 1).split(/\r?\n/).filter((l) => l.trim() && l.trim() !== ">");
}
