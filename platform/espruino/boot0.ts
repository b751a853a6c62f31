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

/** The slot to run, for the line after this script's wrapper (build.ts footer), which evaluates it. */
declare let BOOT0_SLOT: string | undefined;

const storage = require("Storage");
const choice = chooseBoot(storage);
if (choice) {
  const trial = choice.trial;
  const version = choice.version;
  const slot = choice.slot;
  // A trial that hangs without a successful publish is rebooted, which counts one more trial boot.
  if (trial && choice.waitMs) {
    setTimeout(function () {
      if (storage.read(OK_MARK) !== version) E.reboot();
    }, choice.waitMs);
  }
  // The slot runs at the top level of .boot0, after this wrapper: evaluated inside a function (or a
  // try) the firmware does not fit a stock ESP32's heap at boot (measured on espruino-esp32-model).
  // The footer clears BOOT0_SLOT once the script returned; a script that threw leaves it set.
  if (trial) {
    setTimeout(function () {
      if (BOOT0_SLOT === undefined) return;
      console.log("boot0: " + slot + " threw");
      E.reboot();
    }, 0);
  }
  BOOT0_SLOT = slot;
}
