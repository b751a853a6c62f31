// The hardware abstraction layer: the one seam between device logic and a runtime.
// firmware/ and sensors/ depend on these interfaces only; platform/espruino/ implements them,
// tests implement them with fakes. Strings are byte strings (char codes 0..255) unless noted.

/** One HTTP(S) request. */
export interface HttpRequest {
  /** "GET" or "POST". */
  method: string;
  /** Absolute URL: `https://host[:port]/path` or `http://...`. */
  url: string;
  /** Header names as sent; Content-Length is added by the implementation from `body` bytes. */
  headers: { [name: string]: string };
  /** Request body as a byte string ("" for none). */
  body: string;
  /** Whole-request deadline in ms; on expiry the callback gets code "timeout" and late events are ignored. */
  timeoutMs: number;
  /** Response bytes kept at most; more is dropped and the response is marked `truncated`. */
  maxBodyBytes: number;
  /**
   * Optional: each piece of the body as it arrives, with the response's status, its headers
   * (lower-cased) and the piece's offset in the body; the response's `body` is then "" (only
   * `maxBodyBytes` in all reach it, the rest marks the response `truncated`). A large download
   * then never holds its body in RAM. A HAL that ignores it returns the body as usual.
   */
  stream?: (status: number, headers: { [name: string]: string }, piece: string, offset: number) => void;
}

/** A complete HTTP response. */
export interface HttpResponse {
  /** Numeric status code (Espruino gives a string; the HAL converts). */
  status: number;
  /** Header names lower-cased. */
  headers: { [name: string]: string };
  /** Body as a byte string, at most `maxBodyBytes`. */
  body: string;
  /** True when the body was cut at `maxBodyBytes`. */
  truncated: boolean;
}

/** Why a request produced no response. */
export interface NetError {
  /** "timeout" | "dns" | "refused" | "tls" | "offline" | "socket" | "io": coarse kind for policy. */
  kind: string;
  /** Engine's own code or message, for the log only. */
  detail: string;
}

/** Network requests. */
export interface Net {
  /** Sends one request; calls `done` exactly once, with an error or a response; never throws. */
  request(req: HttpRequest, done: (err: NetError | null, res: HttpResponse | null) => void): void;
}

/** Persistent key/value and log-file storage (flash). Names at most 27 chars. */
export interface Store {
  /** Whole record as a byte string, or undefined when absent or unreadable. */
  read(name: string): string | undefined;
  /** Replaces a record whole; false when flash is full (the old record is then kept). */
  write(name: string, data: string): boolean;
  /** Writes `data` at byte `offset` of a record of fixed `size` (created on offset 0); false when full. */
  writeAt(name: string, data: string, offset: number, size: number): boolean;
  /** Appends to an append-only log file (data must not contain 0xFF bytes); false when full. */
  append(name: string, data: string): boolean;
  /** Whole contents of a log file, or undefined when absent. */
  readLog(name: string): string | undefined;
  /** Removes a record or log file; absent names are ignored. */
  erase(name: string): void;
  /** Names of records and log files that start with `prefix`. */
  list(prefix: string): string[];
  /** Free bytes left for new data. */
  free(): number;
}

/** Time. */
export interface Clock {
  /** Wall-clock ms since 1970 as an integer; meaningful only when `synced()`. */
  nowMs(): number;
  /** Whether wall time has been set since boot (or survives from a synced RTC). */
  synced(): boolean;
  /** Sets wall time (ms since 1970). */
  set(epochMs: number): void;
  /** Monotonic ms since this boot; unaffected by `set`. */
  uptimeMs(): number;
}

/** One-shot timers. */
export interface Timers {
  /** Calls `fn` once after `ms`; returns an id for `cancel`. */
  after(ms: number, fn: () => void): number;
  /** Cancels a pending timer; unknown ids are ignored. */
  cancel(id: number): void;
}

/** Raw DHT22 line capture. */
export interface PulseCapture {
  /**
   * Pulls the data line low for `startLowMs`, releases it, records for `windowMs`, then calls
   * `done` once with the widths of the high pulses in microseconds, in arrival order
   * (empty when the sensor did not answer).
   */
  capture(startLowMs: number, windowMs: number, done: (highUs: number[]) => void): void;
}

/** Power management. */
export interface Power {
  /** Deep-sleeps for `ms` and wakes with a reboot; false when unsupported (then idle with timers). */
  deepSleep(ms: number): boolean;
  /**
   * Lets go of everything in RAM and boots again from flash in `ms`, the clock and the network kept
   * (Espruino: `load()` after a timer): between cycles the device then holds nothing of ours.
   * Absent or false: idle with timers.
   */
  restartIn?(ms: number): boolean;
  /** Restarts the device now. */
  reboot(): void;
  /** Arms a watchdog that reboots unless `kick` is called within `sec`. */
  watchdog(sec: number): void;
  /** Resets the watchdog countdown. */
  kick(): void;
}

/** Log sink; callers never pass secrets or whole tokens. */
export interface Log {
  /** Writes one line at a level: "E" error, "W" warning, "I" info, "D" debug. */
  (level: string, msg: string): void;
}

/** Everything the device logic may touch. */
export interface Hal {
  net: Net;
  store: Store;
  clock: Clock;
  timers: Timers;
  dht: PulseCapture;
  power: Power;
  log: Log;
  /** SHA-256 of a byte string to its 32 raw bytes, when the platform has a native one (the OTA
   * signature check hashes hundreds of times); absent: the firmware's own. */
  sha256?: (bytes: string) => string;
}
