// The device side of the Alibaba IoT HTTPS channel over the HAL: lazy auth, token kept in the
// store across reboots, re-auth and one resend on 20001/20002/20003, backoff, one request in flight.
import type { Clock, Hal, HttpRequest, NetError, HttpResponse, Store } from "../../platform/hal";
import { load as loadSigner } from "./auth.lazy";
import { load as loadOnce } from "../once.lazy";
import { authRequest, MAX_REPLY_BYTES, publishRequest, Reply } from "./http";
import { load as loadReader } from "./reply.lazy";
import { BAD_REPLY, BUSY, CONFIG, HELD, LONG_BASE_MS, LONG_CAP_MS, NET, SHORT_BASE_MS, SHORT_CAP_MS, backoffMs, codeAction } from "./codes";
import { TIME_FLOOR_MS, wallKnown } from "../timefix";

export interface IotClientConfig {
  productKey: string;
  deviceName: string;
  deviceSecret: string;
  /** `https://host[:port]` (or http:// for a local platform), no path. */
  endpoint: string;
  signMethod: string;
  clientId: string;
  /** Per request, default REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Token lifetime, default 7 days (the platform's); a local platform may use less. */
  tokenTtlMs?: number;
}

/** Default per request. On an ESP32 the TLS handshake alone takes seconds, and a weak link adds
 * TCP retransmits (1 s, 2 s, 4 s): giving up sooner turns slow successes into resends. */
export const REQUEST_TIMEOUT_MS = 20000;

/** Largest step a reply's Date may move a known clock (docs/security.md): more than 5 % RC-clock
 * drift over the longest deep sleep (24 h), small enough that a forged Date cannot throw the clock
 * far. A bigger step is logged and ignored, unless the next two replies say the same (3 in a row). */
export const MAX_CLOCK_STEP_MS = 5400000;

/** `code` 0 on success, the platform's code, or a negative code of ./codes. `retryInMs` present
 * when the same message should be sent again after that delay; absent when it must not be. */
export interface PublishResult {
  ok: boolean;
  code: number;
  messageId?: string;
  retryInMs?: number;
  error?: string;
}

export interface IotCounters {
  /** HTTP requests sent (auth + publish). */
  requests: number;
  /** `/auth` requests sent. */
  auths: number;
  /** `/topic` requests sent, resends included. */
  publishes: number;
  /** Publishes the platform accepted (code 0). */
  accepted: number;
  /** Resends after a re-auth. */
  retries: number;
  /** Failures by code (platform codes and the negative ones of ./codes). */
  failuresByCode: { [code: string]: number };
}

export interface IotClient {
  /** Posts `payload` (a byte string: UTF-8 already; the alink builders give ASCII) to `topic`. */
  publish(topic: string, payload: string, cb: (r: PublishResult) => void): void;
  /** Learns the wall time when it is unknown (a `GET /auth` whose reply's `Date` sets the clock;
   * nothing when known); calls back like publish, `ok` once the clock is known. */
  syncTime(cb: (r: PublishResult) => void): void;
  /** Ms until the client is willing to send again (backoff, kept across reboots); 0 when ready. */
  waitMs(): number;
  /** Next Alink `id`: a digit string from a counter kept in the store, unique per device for years. */
  nextId(): string;
  counters: IotCounters;
}

const TOKEN_REC = "iot.token";
/** The id block's limit goes to these in turn: a torn write spoils one, the other keeps a limit no id passed. */
const ID_RECS = ["iot.msgid", "iot.msgid2"];
/** Backoff across reboots and deep sleep: `{f: failures in a row, w: wall ms of the earliest retry (0 unknown), c: last code}`. */
export const HOLD_REC = "iot.hold";

function readHold(store: Store): { [k: string]: number } {
  try {
    return JSON.parse(store.read(HOLD_REC) || "{}") || {};
  } catch {
    return {}; // torn write: the backoff is forgotten once
  }
}

/**
 * The stored backoff as a client starts with it (one read): failures in a row, the last code, ms
 * left (at most the long cap; <= 0 when none or the clock is unknown: a cold boot may try once).
 */
export function restoreHold(store: Store, clock: Clock): { fails: number; lastCode: number; leftMs: number } {
  const hold = readHold(store);
  return { fails: +hold.f || 0, lastCode: +hold.c || 0, leftMs: clock.synced() ? Math.min(LONG_CAP_MS, (+hold.w || 0) - clock.nowMs()) : 0 };
}

export function createIotClient(hal: Hal, cfg: IotClientConfig): IotClient {
  const clock = hal.clock;
  const store = hal.store;
  const log = hal.log;
  let endpoint = cfg.endpoint;
  while (endpoint.charAt(endpoint.length - 1) === "/") endpoint = endpoint.substr(0, endpoint.length - 1);
  const timeoutMs = cfg.timeoutMs || REQUEST_TIMEOUT_MS;
  const ttlMs = cfg.tokenTtlMs || 604800000;
  // Renew an hour early (a tenth early for short lifetimes) so a post never races the expiry.
  const marginMs = Math.min(3600000, ttlMs / 10);
  // A stored token is reused only for the same device at the same endpoint.
  const owner = cfg.productKey + "/" + cfg.deviceName + "@" + endpoint;
  const counters: IotCounters = { requests: 0, auths: 0, publishes: 0, accepted: 0, retries: 0, failuresByCode: {} };
  let token = "";
  let expMs = 0; // wall ms; 0 = unknown (got while the clock was unsynced): rely on 20001
  let busy = false;
  let skews = 0; // replies in a row whose Date was too far from a known clock
  // the reader exists only for this call (a lazy part: build/lazy.ts)
  const hold = loadOnce().restoreHold(store, clock);
  let fails = hold.fails;
  let lastCode = hold.lastCode;
  let holdUntil = clock.uptimeMs() + hold.leftMs; // uptime ms
  let idNext = 0;
  let idLimit = 0;
  let idSlot = 0;

  try {
    const saved = JSON.parse(store.read(TOKEN_REC) || "{}");
    if (saved.o === owner && typeof saved.t === "string" && saved.t) {
      token = saved.t;
      expMs = +saved.e || 0;
    }
  } catch {
    log("W", "iot: stored token unreadable, will authenticate");
  }

  if (cfg.clientId.length > 64) log("W", "iot: clientId cut to 64 chars");

  function waitMs(): number {
    return Math.max(0, holdUntil - clock.uptimeMs());
  }

  function tokenFresh(): boolean {
    return !!token && (!expMs || !clock.synced() || clock.nowMs() < expMs - marginMs);
  }

  function dropToken() {
    token = "";
    expMs = 0;
    store.erase(TOKEN_REC);
  }

  /** Records a failure, schedules the backoff and returns its delay in ms. */
  function failed(r: Reply, action: string, what: string): number {
    counters.failuresByCode[r.code] = (counters.failuresByCode[r.code] || 0) + 1;
    fails++;
    lastCode = r.code;
    const long = action === "hold" || action === "drop";
    const d = backoffMs(fails, long ? LONG_BASE_MS : SHORT_BASE_MS, long ? LONG_CAP_MS : SHORT_CAP_MS, Math.random());
    holdUntil = clock.uptimeMs() + d;
    // Kept in flash so a wake from deep sleep honours it too (20000 must never loop); failures are rare.
    store.write(HOLD_REC, JSON.stringify({ f: fails, w: clock.synced() ? clock.nowMs() + d : 0, c: r.code }));
    log(long ? "E" : "W", "iot " + what + " failed: " + r.error + "; next try in " + Math.round(d / 1000) + " s");
    return d;
  }

  /** One HTTP exchange; `done` gets exactly one Reply, even if the transport misbehaves. */
  function send(req: HttpRequest, wantToken: boolean, done: (r: Reply) => void) {
    let over = false;
    let guard = 0;
    const sentMs = clock.uptimeMs();
    function finish(err: NetError | null, res: HttpResponse | null) {
      if (over) return;
      over = true;
      hal.timers.cancel(guard);
      let r: Reply;
      try {
        // the reader exists only for this call (a lazy part: build/lazy.ts)
        r = loadReader().parseReply(err, res, wantToken);
      } catch {
        r = { code: BAD_REPLY, error: "unparsable reply" };
      }
      // Sync the clock from the server when unknown or off by more than the Date header can tell
      // (whole seconds, made somewhere within the round trip): a clock estimated across deep
      // sleep drifts, and reading times come from it. Mid-second is the best guess. Whoever is on
      // the path can forge Date (TLS is not verified): never before TIME_FLOOR_MS, and a known
      // clock moves at most MAX_CLOCK_STEP_MS per reply unless three replies in a row agree on more.
      if (r.dateMs) {
        const t = r.dateMs + 500;
        const known = wallKnown(clock);
        const off = clock.nowMs() - t;
        if (!known || off > 2000 + clock.uptimeMs() - sentMs || off < -2000) {
          if (t < TIME_FLOOR_MS || (known && (off > MAX_CLOCK_STEP_MS || off < -MAX_CLOCK_STEP_MS) && ++skews < 3)) {
            log("W", "iot: server Date ignored");
          } else {
            skews = 0;
            clock.set(t);
            log("I", "iot: clock set from server Date");
          }
        } else skews = 0;
      }
      // The HAL calls back on a fresh stack and opens the next socket (what the caller does next
      // is often another request) once these calls have returned (platform/espruino/net.ts).
      done(r);
    }
    counters.requests++;
    // The HAL enforces timeoutMs; this guard only frees the client if a transport never calls back.
    guard = hal.timers.after(timeoutMs + 5000, function () {
      finish({ kind: "timeout", detail: "no callback" }, null);
    });
    try {
      hal.net.request(req, finish);
    } catch (e) {
      finish({ kind: "io", detail: String(e) }, null);
    }
  }

  /** Learns the wall time when unknown: any reply to `GET /auth` carries the Date header (its status does not matter). */
  function getTime(done: (r: Reply) => void) {
    if (wallKnown(clock)) return done({ code: 0 });
    send({ method: "GET", url: endpoint + "/auth", headers: {}, body: "", timeoutMs: timeoutMs, maxBodyBytes: MAX_REPLY_BYTES }, false, function (r) {
      done(wallKnown(clock) ? { code: 0 } : r.code === NET ? r : { code: BAD_REPLY, error: "no Date" });
    });
  }

  /** `/auth` always signs a timestamp (an untimed sign never changes: a captured body would be replayable for ever). */
  function authenticate(done: (r: Reply) => void) {
    getTime(function (t) {
      if (t.code) return done(t);
      let body: string;
      try {
        // the signer exists only for this call (a lazy part: build/lazy.ts)
        body = loadSigner().authBody(cfg, cfg.clientId, clock.nowMs());
      } catch (e) {
        done({ code: CONFIG, error: String(e) });
        return;
      }
      counters.auths++;
      send(authRequest(endpoint, body, timeoutMs), true, function (r) {
        if (!r.code && r.token) {
          token = r.token;
          expMs = clock.nowMs() + ttlMs;
          if (!store.write(TOKEN_REC, JSON.stringify({ o: owner, t: token, e: expMs }))) log("W", "iot: token not saved (store full)");
          log("I", "iot: authenticated");
        }
        done(r);
      });
    });
  }

  /** `topic` "" only learns the time. */
  function run(topic: string, payload: string, resent: boolean, cb: (r: PublishResult) => void) {
    function fail(r: Reply, action: string, what: string, retryable: boolean) {
      const d = failed(r, action, what);
      const out: PublishResult = { ok: false, code: r.code, error: r.error };
      if (retryable) out.retryInMs = d;
      busy = false;
      cb(out);
    }
    function done(r: Reply) {
      if (fails) store.erase(HOLD_REC);
      fails = 0;
      holdUntil = 0;
      busy = false;
      cb({ ok: true, code: 0, messageId: r.messageId });
    }
    if (!topic) {
      getTime(function (r) {
        if (r.code) fail(r, codeAction(r.code), "time", true);
        else done(r);
      });
      return;
    }
    if (!tokenFresh()) {
      authenticate(function (r) {
        if (r.code) fail(r, codeAction(r.code), "auth", true);
        else run(topic, payload, resent, cb);
      });
      return;
    }
    counters.publishes++;
    send(publishRequest(endpoint, topic, token, payload, timeoutMs), false, function (r) {
      const action = codeAction(r.code);
      if (action === "ok") {
        counters.accepted++;
        return done(r);
      }
      if (action === "reauth") {
        dropToken();
        if (!resent) {
          counters.retries++;
          log("I", "iot: token refused (" + r.code + "), re-authenticating to resend");
          run(topic, payload, true, cb);
          return;
        }
      }
      fail(r, action === "reauth" ? "retry" : action, "publish", action !== "drop");
    });
  }

  /** A stored limit; 0 when absent or torn (a torn write leaves a prefix and 0xFF bytes). */
  function idRec(i: number): number {
    const t = store.read(ID_RECS[i]) || "";
    return String(parseInt(t, 10)) === t ? +t : 0;
  }

  function nextId(): string {
    if (idNext >= idLimit) {
      if (!idLimit) {
        const a = idRec(0);
        const b = idRec(1);
        idNext = Math.max(a, b, 1);
        idSlot = a > b ? 1 : 0; // overwrite the older one
      }
      const wrap = idNext > 4294967000;
      if (wrap) idNext = 1;
      // Reserve a block before its first id goes out, so flash is written once per 64 ids (and once per boot).
      idLimit = idNext + 64;
      store.write(ID_RECS[idSlot], String(idLimit));
      idSlot ^= 1;
      // After a wrap the other record's high limit would win at the next boot.
      if (wrap) store.erase(ID_RECS[idSlot]);
    }
    return String(idNext++);
  }

  function publish(topic: string, payload: string, cb: (r: PublishResult) => void) {
    const w = waitMs();
    if (busy || w) {
      const r: PublishResult = busy
        ? { ok: false, code: BUSY, error: "a request is in flight", retryInMs: timeoutMs }
        : { ok: false, code: HELD, error: "backing off after code " + lastCode, retryInMs: w };
      // Answer later, never from inside publish(): a caller that retries in its callback cannot recurse.
      hal.timers.after(0, function () { cb(r); });
      return;
    }
    busy = true;
    run(topic, payload, false, cb);
  }

  return {
    publish: publish,
    syncTime: function (cb: (r: PublishResult) => void) {
      publish("", "", cb);
    },
    waitMs: waitMs,
    nextId: nextId,
    counters: counters,
  };
}
