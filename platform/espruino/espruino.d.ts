// Types of the Espruino 2v29 globals and built-in modules the boot entry uses (espruino.md);
// the module shapes live next to their HAL parts. @types/espruino is old and thin.

/** Built-in modules; `require("Wifi")` throws where there is none (the Linux build). */
declare function require(name: "http"): import("./net").EspHttp;
declare function require(name: "Storage"): import("./store").EspStorage;
declare function require(name: "Wifi"): import("./wifi").EspWifi;
declare function require(name: "TelnetServer"): { setOptions(o: { mode: string }): void };
/** One-shot hashes of the crypto module (mbedTLS); the result is an ArrayBuffer. */
declare function require(name: "crypto"): { SHA256?: (data: string) => ArrayBuffer };
declare function require(name: string): unknown;

/** Seconds since 1970 (fractional), or since boot until set. */
declare function getTime(): number;
declare function setTime(sec: number): void;
declare function setTimeout(fn: () => void, ms: number): number;
declare function clearTimeout(id: number): void;
/** Clears RAM and timers and runs the boot files again (the clock and the Wi-Fi link stay). */
declare function load(): void;
/** `memory()` collects garbage first, then reports JsVars. */
declare const process: { memory(gc?: boolean): { usage: number; total: number }; env: { MODULES: string } };
declare const console: { log(msg: string): void };

declare const E: {
  enableWatchdog(sec: number, isAuto?: boolean): void;
  kickWatchdog(): void;
  /** Moves JsVars together so free memory is one block (Espruino 2v09+). */
  defrag?(): void;
  reboot(): void;
  on(event: "init", fn: () => void): void;
  /** Console password (kept in RAM: set at every boot). */
  setPassword(pw: string): void;
  /** Locks every console (serial and Telnet) until the password line is entered. */
  lockConsole(): void;
  /** The bytes of an ArrayBuffer as a byte string. */
  toString(data: ArrayBuffer): string;
};

/** Only on ESP32 builds. */
declare const ESP32: {
  deepSleep(us: number): void;
  getWakeupCause(): number;
};
