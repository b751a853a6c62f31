// Entry of dist/boot0.js, flashed as Storage `.boot0` and never replaced by OTA: runs the slot
// script chosen by chooseBoot (firmware/ota-slots.ts). `.bootcde` stays absent on such devices.
import { chooseBoot, OK_MARK } from "../../firmware/ota-slots";

declare function require(name: string): {
  read(name: string): string | undefined;
  write(name: string, data: string): boolean;
};
declare const E: { reboot(): void };
declare function setTimeout(fn: () => void, ms: number): number;
declare const console: { log(msg: string): void };

const storage = require("Storage");
const choice = chooseBoot(storage);
if (choice) {
  const trial = choice.trial;
  const version = choice.version;
  // A trial that hangs without a successful publish is rebooted, which counts one more trial boot.
  if (trial && choice.waitMs) {
    setTimeout(function () {
      if (storage.read(OK_MARK) !== version) E.reboot();
    }, choice.waitMs);
  }
  try {
    // Runs straight from flash (read() maps it). On Espruino even this indirect eval runs in the
    // CALLER's scope (this bundle's IIFE), not the global one: the slot script's free names resolve
    // through boot0's minified names first. Harmless while the slot is itself an IIFE whose free
    // names are only Espruino globals (a build test checks no boot0 name shadows one) and measured
    // at about 2 JsVars of kept scope (docs/espruino-quirks.md).
    (0, eval)(storage.read(choice.slot) as string);
  } catch (e) {
    console.log("boot0: " + choice.slot + " threw: " + e);
    if (trial) E.reboot();
  }
}
