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
    // Indirect eval: the script runs in global scope, straight from flash (read() maps it).
    (0, eval)(storage.read(choice.slot) as string);
  } catch (e) {
    console.log("boot0: " + choice.slot + " threw: " + e);
    if (trial) E.reboot();
  }
}
