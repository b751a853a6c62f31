// HAL PulseCapture on Espruino pins: start pulse with pinMode/digitalWrite, edge times from setWatch.
import type { PulseCapture } from "../hal";

/** Edge event of Espruino's setWatch: `time` in seconds. */
export interface EspWatchEvent {
  state: boolean;
  time: number;
}

/** The Espruino globals this capture uses; `espPinIo()` gives the real ones. */
export interface EspPinIo {
  pinMode(pin: unknown, mode: string): void;
  digitalWrite(pin: unknown, value: number): void;
  setWatch(fn: (e: EspWatchEvent) => void, pin: unknown, opts: { repeat: boolean; edge: string; debounce: number }): unknown;
  clearWatch(id: unknown): void;
  setTimeout(fn: () => void, ms: number): unknown;
}

declare const pinMode: EspPinIo["pinMode"];
declare const digitalWrite: EspPinIo["digitalWrite"];
declare const setWatch: EspPinIo["setWatch"];
declare const clearWatch: EspPinIo["clearWatch"];
declare const setTimeout: EspPinIo["setTimeout"];

/** The interpreter's own pin functions. */
export function espPinIo(): EspPinIo {
  return { pinMode: pinMode, digitalWrite: digitalWrite, setWatch: setWatch, clearWatch: clearWatch, setTimeout: setTimeout };
}

/** A frame is 42 high pulses with the release blip; a noisy line must not fill the heap. */
const MAX_PULSES = 48;

/** `pin` as Espruino takes it: a Pin or its name ("D4"). */
export function createDhtCapture(pin: unknown, io: EspPinIo): PulseCapture {
  return {
    capture: function (startLowMs, windowMs, done) {
      const highUs: number[] = [];
      let riseS = -1;
      // Explicit modes (espruino.md: drive low, then release to input with pull-up); a pin in a
      // mode set by pinMode also keeps it when setWatch starts, so the start pulse stays low.
      io.pinMode(pin, "output");
      io.digitalWrite(pin, 0);
      // Watch before releasing: the sensor answers 20-40 us after release, quicker than JS runs.
      const id = io.setWatch(
        function (e) {
          if (e.state) riseS = e.time;
          else if (riseS >= 0 && highUs.length < MAX_PULSES) {
            highUs.push(Math.round((e.time - riseS) * 1e6));
            riseS = -1;
          }
        },
        pin,
        { repeat: true, edge: "both", debounce: 0 },
      );
      io.setTimeout(function () {
        io.pinMode(pin, "input_pullup");
        io.setTimeout(function () {
          io.clearWatch(id);
          done(highUs);
        }, windowMs);
      }, startLowMs);
    },
  };
}
