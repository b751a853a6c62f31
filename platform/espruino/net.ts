// HAL Net over Espruino's require("http"): TLS by protocol, own timeout, its quirks smoothed out;
// with a Wi-Fi link, a request joins Wi-Fi first when it is down (the timeout covers the join).
import type { HttpRequest, HttpResponse, Net, NetError, Timers } from "../hal";
import type { WifiLink } from "./wifi";

/** The parts of Espruino's `http` module used here (espruino.md "HTTP(S) client"). */
export interface EspHttp {
  request(opts: EspRequestOptions, cb: (res: EspResponse) => void): EspClientRequest;
}
export interface EspRequestOptions {
  host: string;
  port?: number;
  path: string;
  method: string;
  protocol: string;
  headers: { [name: string]: string };
}
export interface EspClientRequest {
  on(event: "error", fn: (e: { code?: number; message?: string }) => void): void;
  end(body?: string): void;
}
export interface EspResponse {
  /** A string on Espruino ("200"). */
  statusCode: string | number;
  headers: { [name: string]: string };
  on(event: "data", fn: (chunk: string) => void): void;
  on(event: "close" | "end", fn: () => void): void;
  on(event: "error", fn: (e: { code?: number; message?: string }) => void): void;
}

/** mbedTLS "peer closed with close-notify": fires after a complete HTTPS response. */
const TLS_CLOSE_NOTIFY = -30848;

/** Request target from an absolute http(s) URL, parsed without regular expressions. */
export function parseUrl(url: string): { protocol: string; host: string; port?: number; path: string } | null {
  const sep = url.indexOf("://");
  if (sep < 0) return null;
  const scheme = url.substr(0, sep).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return null;
  const rest = url.substr(sep + 3);
  const slash = rest.indexOf("/");
  const hostPort = slash < 0 ? rest : rest.substr(0, slash);
  const path = slash < 0 ? "/" : rest.substr(slash);
  const colon = hostPort.indexOf(":");
  const host = colon < 0 ? hostPort : hostPort.substr(0, colon);
  if (!host) return null;
  const out: { protocol: string; host: string; port?: number; path: string } = { protocol: scheme + ":", host: host, path: path };
  if (colon >= 0) {
    const port = parseInt(hostPort.substr(colon + 1), 10);
    if (!(port > 0 && port < 65536)) return null;
    // Leave the default port out: an explicit port would show up in the Host header.
    if (port !== (scheme === "https" ? 443 : 80)) out.port = port;
  }
  return out;
}

/** Coarse kind of an Espruino socket error code (espruino.md lists them). */
export function errorKind(code: number): string {
  if (code === -3) return "timeout";
  if (code === -6) return "dns";
  if (code === -7) return "socket";
  if (code === -9) return "refused";
  if (code === -13 || code === -14 || code < -1000) return "tls";
  return "io";
}

/** Coarse kind of a message thrown synchronously by `request()`. */
export function thrownKind(message: string): string {
  if (message.indexOf("locate host") >= 0) return "dns";
  if (message.indexOf("Not connected") >= 0) return "offline";
  if (message.indexOf("socket") >= 0) return "socket";
  return "io";
}

/**
 * Calls `done` from a 0 ms timer: the caller's next request then starts on a fresh stack, where
 * the heap compaction can free this one's objects. Declared here, outside `request`, so that the
 * timer's closure holds only its arguments and not the whole exchange.
 */
function later(timers: Timers, done: (err: NetError | null, res: HttpResponse | null) => void, err: NetError | null, res: HttpResponse | null, collect?: () => void): void {
  timers.after(0, function () {
    done(err, res);
    // What the caller made of the reply and let go (a parser part, the socket's leftovers) goes
    // now rather than at the next request: the heap between requests stays near what is live.
    if (collect) collect();
  });
}

/**
 * `compact`: called before each request (Espruino's E.defrag: the TLS socket record needs one contiguous block of JsVars).
 * `collect`: called when a request is made and once the caller has handled its reply (Espruino's process.memory(): a garbage collection).
 */
export function createNet(http: EspHttp, timers: Timers, wifi?: WifiLink, compact?: () => void, collect?: () => void): Net {
  function request(req: HttpRequest, done: (err: NetError | null, res: HttpResponse | null) => void): void {
    let finished = false;
    let timer = -1;
    function finish(err: NetError | null, res: HttpResponse | null): void {
      if (finished) return; // late events after a timeout or a first failure are ignored
      finished = true;
      if (timer >= 0) timers.cancel(timer);
      later(timers, done, err, res, collect);
    }
    // The parsed URL (protocol, host, path, port) becomes the request's options: one object less
    // in RAM while the request is open.
    const url = parseUrl(req.url);
    if (!url) {
      finish({ kind: "io", detail: "bad url" }, null);
      return;
    }
    const opts = url as EspRequestOptions;
    const headers: { [name: string]: string } = {};
    for (const k in req.headers) headers[k] = req.headers[k];
    // The body is a byte string, so its length is its size in bytes; Espruino adds no Content-Length.
    if (req.method !== "GET" || req.body.length) headers["Content-Length"] = String(req.body.length);
    opts.method = req.method;
    opts.headers = headers;
    let started = false;
    let joining = false;
    function onResponse(r: EspResponse): void {
      started = true;
      const resHeaders: { [name: string]: string } = {};
      for (const k in r.headers) resHeaders[k.toLowerCase()] = r.headers[k];
      let body = "";
      let truncated = false;
      let gotBytes = 0;
      let kept = 0;
      const status = parseInt(String(r.statusCode), 10);
      r.on("data", function (chunk: string) {
        // Nothing after a timeout or a failure: a late piece must not reach a stream whose caller moved on.
        if (finished) return;
        gotBytes += chunk.length;
        const room = req.maxBodyBytes - kept;
        let piece = chunk;
        if (chunk.length > room) {
          truncated = true;
          piece = room > 0 ? chunk.substr(0, room) : "";
        }
        if (!piece.length) return;
        // A streamed body goes on piece by piece and is never kept.
        if (req.stream) req.stream(status, resHeaders, piece, kept);
        else body += piece;
        kept += piece.length;
      });
      r.on("close", function () {
        const len = resHeaders["content-length"];
        if (len !== undefined && gotBytes < parseInt(len, 10)) {
          finish({ kind: "io", detail: "connection closed after " + gotBytes + " of " + len + " bytes" }, null);
          return;
        }
        finish(null, { status: status, headers: resHeaders, body: body, truncated: truncated });
      });
      r.on("error", function (e) {
        if (e && e.code === TLS_CLOSE_NOTIFY) return; // the response is judged at "close"
        finish({ kind: errorKind(e && e.code ? e.code : 0), detail: String(e && (e.message || e.code)) }, null);
      });
    }

    function send(): void {
      joining = false;
      if (finished) return;
      try {
        // The TLS socket record needs one contiguous block of JsVars: compact the heap first.
        if (compact) compact();
        const cr = http.request(opts, onResponse);
        cr.on("error", function (e) {
          const code = e && e.code ? e.code : 0;
          // close-notify once the response has arrived is the normal end of a TLS session.
          if (code === TLS_CLOSE_NOTIFY && started) return;
          finish({ kind: errorKind(code), detail: String(e && (e.message || code)) }, null);
        });
        cr.end(req.body);
      } catch (e) {
        // "Unable to create socket" / "Unable to locate host" / "Not connected to the internet".
        const msg = String(e && (e as Error).message ? (e as Error).message : e);
        finish({ kind: thrownKind(msg), detail: msg }, null);
      }
    }
    timer = timers.after(req.timeoutMs, function () {
      timer = -1;
      if (joining) {
        wifi!.drop(send);
        finish({ kind: "offline", detail: "no Wi-Fi in " + req.timeoutMs + " ms" }, null);
      } else finish({ kind: "timeout", detail: "no response in " + req.timeoutMs + " ms" }, null);
    });

    // From a 0 ms timer: the caller's calls have then returned, so the compaction before the
    // socket frees what they held (the previous exchange's reply, a step's locals). The garbage
    // made up to here goes now (the heap stays near what is live while the timer waits).
    if (collect) collect();
    if (wifi && !wifi.up) {
      joining = true;
      wifi.whenUp(send);
    } else timers.after(0, send);
  }
  return { request: request };
}
