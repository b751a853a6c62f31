// A scriptable fake of the HAL for unit tests: in-memory store (survives a simulated reboot when
// handed to the next fakeHal), wall clock and uptime from Date.now (so sinon fake timers drive
// them), timers on setTimeout, and a network that answers from a script and records every request.
import type { Hal, HttpRequest, HttpResponse, NetError } from "../../platform/hal";

/** One scripted answer: a response, a transport error, or silence (`hang`). */
export interface FakeReply {
  status?: number;
  body?: string;
  headers?: { [name: string]: string };
  err?: NetError;
  hang?: boolean;
  /** Ms before the answer arrives; default 10. */
  delayMs?: number;
}

export interface FakeHalOptions {
  /** Records of an earlier fake (a reboot keeps flash); default empty. */
  store?: { [name: string]: string };
  /** Wall time already synced to this epoch ms; default unsynced. */
  wallMs?: number;
  /** Store bytes available; default 64 KB. */
  freeBytes?: number;
}

export interface FakeHal extends Hal {
  /** Every request the code sent, in order. */
  requests: HttpRequest[];
  /** Answers handed out in order; when empty, `respond` is asked, else an "offline" error. */
  script: FakeReply[];
  respond?: (req: HttpRequest) => FakeReply;
  /** Log lines as "L message". */
  logs: string[];
  /** The store's records (pass to the next fakeHal to simulate a reboot). */
  records: { [name: string]: string };
  /** Requests started but not yet answered. */
  inFlight(): number;
}

export function fakeHal(opts: FakeHalOptions = {}): FakeHal {
  const records: { [name: string]: string } = opts.store || {};
  const bootAt = Date.now();
  let offsetMs = opts.wallMs === undefined ? 0 : opts.wallMs - Date.now();
  let synced = opts.wallMs !== undefined;
  const handles: { [id: number]: ReturnType<typeof setTimeout> } = {};
  let nextId = 1;
  let open = 0;
  const free = () => (opts.freeBytes === undefined ? 65536 : opts.freeBytes) -
    Object.keys(records).reduce((n, k) => n + records[k].length, 0);
  const hal: FakeHal = {
    requests: [],
    script: [],
    logs: [],
    records,
    inFlight: () => open,
    net: {
      request(req: HttpRequest, done: (err: NetError | null, res: HttpResponse | null) => void) {
        hal.requests.push(req);
        const a: FakeReply = hal.script.length ? hal.script.shift()! : hal.respond ? hal.respond(req) : { err: { kind: "offline", detail: "no script" } };
        if (a.hang) return;
        open++;
        setTimeout(() => {
          open--;
          if (a.err) return done(a.err, null);
          const body = a.body === undefined ? "" : a.body;
          const cut = body.length > req.maxBodyBytes;
          done(null, { status: a.status === undefined ? 200 : a.status, headers: a.headers || {}, body: cut ? body.substr(0, req.maxBodyBytes) : body, truncated: cut });
        }, a.delayMs === undefined ? 10 : a.delayMs);
      },
    },
    store: {
      read: (name) => records[name],
      write(name, data) {
        if (data.length - (records[name] || "").length > free()) return false;
        records[name] = data;
        return true;
      },
      writeAt(name, data, offset, size) {
        if (offset === 0) records[name] = "\xff".repeat(size);
        const old = records[name] || "";
        records[name] = old.substr(0, offset) + data + old.substr(offset + data.length);
        return true;
      },
      append(name, data) {
        if (data.length > free()) return false;
        records[name] = (records[name] || "") + data;
        return true;
      },
      readLog: (name) => records[name],
      erase(name) {
        delete records[name];
      },
      list: (prefix) => Object.keys(records).filter((k) => k.indexOf(prefix) === 0),
      free: () => free(),
    },
    clock: {
      nowMs: () => Math.floor(Date.now() + offsetMs - (synced ? 0 : bootAt)),
      synced: () => synced,
      set(ms) {
        offsetMs = ms - Date.now();
        synced = true;
      },
      uptimeMs: () => Date.now() - bootAt,
    },
    timers: {
      after(ms, fn) {
        const id = nextId++;
        handles[id] = setTimeout(() => {
          delete handles[id];
          fn();
        }, ms);
        return id;
      },
      cancel(id) {
        if (handles[id] !== undefined) clearTimeout(handles[id]);
        delete handles[id];
      },
    },
    dht: { capture: (_startLowMs, _windowMs, done) => setTimeout(() => done([]), 5) },
    power: { deepSleep: () => false, reboot: () => undefined, watchdog: () => undefined, kick: () => undefined },
    log: (level: string, msg: string) => {
      hal.logs.push(level + " " + msg);
    },
  };
  return hal;
}
