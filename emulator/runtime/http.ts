// Emulated Espruino `require("http")` over real sockets, with Espruino's behaviour: requests go out
// on end(), raw HTTP/1.0 with `Connection: close`, no automatic Content-Length, body bytes are the
// char codes; string statusCode; synchronous throws for offline/unresolvable/refused; no timeouts;
// an `error` -30848 (TLS close-notify) before `close` after an HTTPS response. It also counts
// what went over the wire, which the report uses instead of the firmware's own word.
import * as net from "node:net";
import * as tls from "node:tls";
import type { Scheduler } from "./clock";
import { probeSync } from "./probe";
import { toBytes } from "./storage";

/** A response body reaches the script in "data" events of at most this many bytes (a TCP segment, as on the board). */
export const BODY_PIECE_BYTES = 536;

export interface NetStats {
  requests: number;
  requestsByPath: Record<string, number>;
  tlsHandshakes: number;
  /** Bytes on the TCP connection (TLS records included). */
  bytesSent: number;
  bytesReceived: number;
  /** Alibaba `code` != 0 of answered requests, HTTP status != 200 as "http NNN", transport errors as their Espruino code, synchronous throws as "throw: message". */
  errorsByCode: Record<string, number>;
  responses: number;
  closeNotify: number;
  /** Emulated ms of every request, for rate checks. */
  requestTimes: number[];
}

export function newNetStats(): NetStats {
  return { requests: 0, requestsByPath: {}, tlsHandshakes: 0, bytesSent: 0, bytesReceived: 0, errorsByCode: {}, responses: 0, closeNotify: 0, requestTimes: [] };
}

/** Network faults, switched by scenarios. */
export interface NetFaults {
  /** Internet unreachable: DNS fails, connects fail (synchronous throws). */
  down?: boolean;
  /** TLS handshakes fail (error -13). */
  tlsFail?: boolean;
  /** Responses are held this many emulated ms before they reach the device. */
  slowMs?: number;
  /** Responses to paths containing `path` lose the connection after `keepBytes` of body (truncated download). */
  cutBody?: { path: string; keepBytes: number } | null;
}

/** What the http module needs from the device it is part of. */
export interface DeviceLink {
  sched: Scheduler;
  /** False once the context ended (sleep, reboot, power loss). */
  alive(): boolean;
  /** Calls device code (ignored when the context is gone; uncaught errors are logged). */
  invoke(fn: unknown, ...args: unknown[]): void;
  /** An Error of the context's realm. */
  error(msg: string): Error;
  /** Registers a closer run when the context ends; returns an unregister function. */
  onEnd(closer: () => void): () => void;
  /** Whether the station is connected (Wi-Fi). */
  online(): boolean;
  faults: NetFaults;
  stats: NetStats;
  /** Observer of every completed response (for logs): path, status, body. */
  onResponse?: (path: string, status: number, body: string) => void;
}

type Handler = (...args: unknown[]) => void;

function emitter() {
  const handlers: Record<string, Handler[]> = {};
  return {
    handlers,
    on(evt: string, fn: Handler) {
      (handlers[evt] = handlers[evt] || []).push(fn);
      return this;
    },
  };
}

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] || 0) + 1;
}

/** Espruino error code for a Node socket/TLS error. */
function espCode(e: NodeJS.ErrnoException, tlsPhase: boolean): number {
  if (e.code === "ETIMEDOUT") return -3;
  if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return -6;
  if (tlsPhase || (e.code && e.code.startsWith("ERR_SSL")) || e.code === "EPROTO") return -13;
  return -9;
}

/** Splits a raw HTTP response into status line, headers and a de-chunked body. */
export function parseResponse(raw: Buffer): { status: string; message: string; version: string; headers: Record<string, string>; body: Buffer } | null {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const head = raw.subarray(0, end).toString("latin1").split("\r\n");
  const first = head[0].split(" ");
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const c = line.indexOf(":");
    if (c > 0) headers[line.slice(0, c)] = line.slice(c + 1).trim();
  }
  let body = raw.subarray(end + 4);
  const te = Object.keys(headers).find((k) => k.toLowerCase() === "transfer-encoding");
  if (te && /chunked/i.test(headers[te])) {
    const parts: Buffer[] = [];
    let p = 0;
    for (;;) {
      const eol = body.indexOf("\r\n", p);
      if (eol < 0) break;
      const n = parseInt(body.subarray(p, eol).toString("latin1"), 16);
      if (!(n > 0)) break;
      parts.push(body.subarray(eol + 2, eol + 2 + n));
      p = eol + 2 + n + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status: first[1] || "", message: first.slice(2).join(" "), version: (first[0] || "").replace("HTTP/", ""), headers, body };
}

/** The `http` module object for one device context. */
export function httpModule(dev: DeviceLink): object {
  function request(options: unknown, cb?: Handler) {
    let opts: Record<string, unknown>;
    if (typeof options === "string") {
      const u = new URL(options);
      opts = { protocol: u.protocol, host: u.hostname, port: u.port ? Number(u.port) : undefined, path: u.pathname + u.search, method: "GET" };
    } else opts = { ...(options as Record<string, unknown>) };
    const https = opts.protocol === "https:";
    const host = String(opts.host || opts.hostname || "localhost");
    const port = opts.port ? Number(opts.port) : https ? 443 : 80;
    const path = String(opts.path || "/");
    const method = String(opts.method || "GET");
    const headers = (opts.headers || {}) as Record<string, unknown>;
    const req = emitter() as ReturnType<typeof emitter> & { write(d: unknown): void; end(d?: unknown): void };
    const body: Buffer[] = [];
    let ended = false;
    req.write = (d: unknown) => {
      if (d !== undefined) body.push(toBytes(typeof d === "string" ? d : String(d)));
    };
    req.end = (d?: unknown) => {
      if (ended) return;
      ended = true;
      req.write(d);
      send();
    };
    const emitReq = (evt: string, ...args: unknown[]) => {
      for (const h of req.handlers[evt] || []) dev.invoke(h, ...args);
    };

    function thrown(msg: string): never {
      bump(dev.stats.errorsByCode, "throw: " + msg);
      throw dev.error(msg);
    }

    function send(): void {
      if (!dev.online()) thrown("Not connected to the internet");
      if (dev.faults.down) thrown(IPV4.test(host) ? "Unable to create socket" : "Unable to locate host");
      const probe = probeSync(host, port);
      if (!probe.ok) thrown(probe.reason === "dns" ? "Unable to locate host" : "Unable to create socket");

      // Request bytes as Espruino writes them: its own lines first, then the caller's headers.
      let head = method + " " + path + " HTTP/1.0\r\nUser-Agent: Espruino 2v29\r\nConnection: close\r\n";
      const hasHost = Object.keys(headers).some((k) => k.toLowerCase() === "host");
      if (!hasHost) head += "Host: " + host + (opts.port ? ":" + port : "") + "\r\n";
      for (const k of Object.keys(headers)) head += k + ": " + String(headers[k]) + "\r\n";
      const bytes = Buffer.concat([Buffer.from(head + "\r\n", "latin1"), ...body]);
      dev.stats.requests++;
      dev.stats.requestTimes.push(dev.sched.now());
      // The firmware's time request (GET /auth, docs/security.md) is counted apart from /auth posts.
      bump(dev.stats.requestsByPath, (method === "GET" && path === "/auth" ? "GET " : "") + path.split("?")[0]);

      if (https && dev.faults.tlsFail) {
        // The handshake fails after a while (emulated): no bytes reach the platform.
        dev.sched.after(200, () => {
          if (!dev.alive()) return;
          bump(dev.stats.errorsByCode, "-13");
          emitReq("error", { code: -13, message: "TLS handshake failed" });
          emitReq("close");
        });
        return;
      }

      const chunks: Buffer[] = [];
      let finished = false;
      let handshaken = !https;
      dev.sched.busyInc();
      let busy = true;
      const unbusy = () => {
        if (busy) {
          busy = false;
          dev.sched.busyDec();
        }
      };
      const raw = net.connect({ host: probe.address, port });
      let sock: net.Socket = raw;
      const unregister = dev.onEnd(() => {
        finished = true;
        raw.destroy();
        unbusy();
      });
      if (https) {
        sock = tls.connect({ socket: raw, rejectUnauthorized: false, servername: "espruino" });
        sock.on("secureConnect", () => {
          handshaken = true;
          dev.stats.tlsHandshakes++;
        });
      }
      sock.on("data", (d: Buffer) => chunks.push(d));
      sock.write(bytes);
      let sockErr: NodeJS.ErrnoException | null = null;
      sock.on("error", (e: NodeJS.ErrnoException) => {
        sockErr = e;
      });
      raw.on("close", () => {
        if (finished) return;
        finished = true;
        unregister();
        dev.stats.bytesSent += raw.bytesWritten;
        dev.stats.bytesReceived += raw.bytesRead;
        const res = parseResponse(Buffer.concat(chunks));
        const deliver = () => {
          unbusy();
          if (!dev.alive()) return;
          if (res) deliverResponse(res, sockErr);
          else {
            const code = sockErr ? espCode(sockErr, !handshaken) : -9;
            bump(dev.stats.errorsByCode, String(code));
            emitReq("error", { code, message: sockErr ? sockErr.message : "connection closed" });
            emitReq("close");
          }
        };
        const slow = res ? dev.faults.slowMs || 0 : 0;
        if (slow > 0) {
          // held in emulated time: the device is idle meanwhile, so fast mode may jump
          unbusy();
          dev.sched.after(slow, deliver);
        } else dev.sched.after(0, deliver);
      });
    }

    function deliverResponse(r: NonNullable<ReturnType<typeof parseResponse>>, sockErr: NodeJS.ErrnoException | null): void {
      dev.stats.responses++;
      const text = r.body.toString("latin1");
      if (method === "GET" && path === "/auth") {
        /* the time request: only its Date matters, its 405 is no error */
      } else if (r.status !== "200" && r.status !== "206") bump(dev.stats.errorsByCode, "http " + r.status);
      else {
        try {
          const j = JSON.parse(text) as { code?: unknown };
          if (j && typeof j.code === "number" && j.code !== 0) bump(dev.stats.errorsByCode, String(j.code));
        } catch {
          /* not JSON: nothing to count */
        }
      }
      if (dev.onResponse) dev.onResponse(path, Number(r.status), text);
      const res = emitter() as ReturnType<typeof emitter> & Record<string, unknown>;
      res.statusCode = r.status;
      res.statusMessage = r.message;
      res.httpVersion = r.version;
      res.headers = r.headers;
      const emitRes = (evt: string, ...args: unknown[]) => {
        for (const h of res.handlers[evt] || []) dev.invoke(h, ...args);
      };
      if (cb) dev.invoke(cb, res);
      const cut = dev.faults.cutBody && path.indexOf(dev.faults.cutBody.path) >= 0 ? dev.faults.cutBody.keepBytes : -1;
      const sent = cut >= 0 ? text.substr(0, cut) : text;
      for (let i = 0; i < sent.length; i += BODY_PIECE_BYTES) emitRes("data", sent.substr(i, BODY_PIECE_BYTES));
      if (cut >= 0 && cut < text.length) {
        bump(dev.stats.errorsByCode, "-9");
        emitReq("error", { code: -9, message: "connection lost mid-body" });
      } else if (sockErr && sockErr.code !== "ECONNRESET") {
        bump(dev.stats.errorsByCode, "-9");
        emitReq("error", { code: -9, message: sockErr.message });
      } else if (https) {
        dev.stats.closeNotify++;
        emitReq("error", { code: -30848, message: "SSL peer closed" });
      }
      emitRes("close");
      emitReq("close");
    }

    return req;
  }
  return {
    request,
    get(options: unknown, cb?: Handler) {
      const r = request(options, cb) as { end(): void };
      r.end();
      return r;
    },
  };
}
