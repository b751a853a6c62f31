// Entry of dist/boot0.js, flashed as Storage `.boot0` and never replaced by OTA: runs the slot
// script chosen by chooseBoot (firmware/ota-slots.ts). `.bootcde` stays absent on such devices.
import { chooseBoot } from "../../firmware/ota-slots";

declare function require(name: string): {
  read(name: string): string | undefined;
  write(name: string, data: string): boolean;
};

/** The slot to run, for the line after this script's wrapper (build.ts footer), which evaluates it. */
declare let BOOT0_SLOT: string | undefined;
/**
 * On a trial boot, the running version and the ms it may run without confirming: the footer sets
 * the trial's timers from the top level (made in here, they would keep this wrapper's functions
 * and values in RAM for the whole boot).
 */
declare let BOOT0_TRIAL: { v: string; w: number } | undefined;

const choice = chooseBoot(require("Storage"));
if (choice) {
  // The slot runs at the top level of .boot0, after this wrapper: evaluated inside a function (or a
  // try) the firmware does not fit a stock ESP32's heap at boot (measured on espruino-esp32-model).
  // The footer clears BOOT0_SLOT once the script returned; a script that threw leaves it set.
  // A trial that hangs without a successful publish is rebooted, which counts one more trial boot.
  // (both are read by the footer, outside this module: the linter cannot see it)
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  if (choice.trial) BOOT0_TRIAL = { v: choice.version || "", w: choice.waitMs || 0 };
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  BOOT0_SLOT = choice.slot;
}
