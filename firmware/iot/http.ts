// The two HTTP requests of the channel and the parsing of their replies (alibaba-http.md 1-3).
// Replies are hostile input: every path returns a value, none throws.
import type { HttpRequest, HttpResponse, NetError } from "../../platform/hal";
import { BAD_REPLY, HTTP, NET } from "./codes";

/** Reply bytes kept: a platform reply is under 300 bytes; an HTML error page is cut. */
export const MAX_REPLY_BYTES = 2048;
/** Tokens are about 32..192 chars; anything longer is not a token. */
export const TOKEN_MAX = 512;

/** A reply reduced to what the client acts on. `code` is 0, a platform code, or NET/HTTP/BAD_REPLY. */
export interface Reply {
  code: number;
  token?: string;
  /** Exact digits from the reply text: the number is beyond 2^53. */
  messageId?: string;
  /** Server time from the `Date` header, epoch ms, when present and valid. */
  dateMs?: number;
  /** One printable line for the log, without secrets or tokens. */
  error?: string;
}

/** `POST {endpoint}/auth` with the body from `authBody`. */
export function authRequest(endpoint: string, body: string, timeoutMs: number): HttpRequest {
  return { method: "POST", url: endpoint + "/auth", headers: { "Content-Type": "application/json" }, body: body, timeoutMs: timeoutMs, maxBodyBytes: MAX_REPLY_BYTES };
}

/** `POST {endpoint}/topic{topic}` (topic keeps its leading slash); `payload` is a byte string. */
export function publishRequest(endpoint: string, topic: string, token: string, payload: string, timeoutMs: number): HttpRequest {
  return { method: "POST", url: endpoint + "/topic" + topic, headers: { password: token, "Content-Type": "application/octet-stream" }, body: payload, timeoutMs: timeoutMs, maxBodyBytes: MAX_REPLY_BYTES };
}

/** At most `n` chars of `s` with anything unprintable shown as "." (log lines stay one line). */
export function printable(s: string, n: number): string {
  let out = "";
  for (let i = 0; i < s.length && i < n; i++) {
    const c = s.charCodeAt(i);
    out += c < 32 || c > 126 ? "." : s.charAt(i);
  }
  return out;
}

/** Epoch ms of an RFC 1123 date (`Thu, 26 Nov 2026 00:54:44 GMT`), years 2000..2099, or NaN. By hand: engines differ. */
export function httpDateMs(s: string): number {
  const p = String(s).split(" ");
  const t = (p[4] || "").split(":");
  const m = "JanFebMarAprMayJunJulAugSepOctNovDec".indexOf(p[2]) / 3;
  const d = +p[1];
  const y = +p[3];
  const h = +t[0];
  const min = +t[1];
  const sec = +t[2];
  // Every comparison with NaN is false, so a non-numeric part fails here too.
  if (!(p.length === 6 && p[5] === "GMT" && p[2].length === 3 && m >= 0 && m % 1 === 0 && p[4].length === 8 &&
    d >= 1 && d <= 31 && y >= 2000 && y < 2100 && h >= 0 && h < 24 && min >= 0 && min < 60 && sec >= 0 && sec < 61)) return NaN;
  // Days since 1970: a leap year every 4 years holds through 2099.
  const days = (y - 1970) * 365 + Math.floor((y - 1969) / 4) + [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][m] +
    (y % 4 === 0 && m > 1 ? 1 : 0) + d - 1;
  return Math.floor(((days * 24 + h) * 60 + min) * 60000 + sec * 1000);
}

/** Digits of `"messageId":N` (or `"N"`) in the reply text, or undefined. */
export function messageIdOf(text: string): string | undefined {
  let i = text.lastIndexOf('"messageId"');
  if (i < 0) return undefined;
  i += 11;
  while (i < text.length && ' :"\t\r\n'.indexOf(text.charAt(i)) >= 0) i++;
  let j = i;
  while (j < text.length && j - i < 21 && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
  return j > i && j - i <= 20 ? text.substr(i, j - i) : undefined;
}

/**
 * Reduces a transport result to a Reply. Success needs a 2xx status AND JSON `code` 0 (and, when
 * `wantToken`, a token that is safe to put in a header). A platform code from a non-2xx reply is
 * kept unless the status is 5xx, which counts as an HTTP failure.
 */
export function parseReply(err: NetError | null, res: HttpResponse | null, wantToken: boolean): Reply {
  if (err || !res) return { code: NET, error: "net " + (err ? printable(err.kind + " " + err.detail, 60) : "no response") };
  const r: Reply = { code: BAD_REPLY };
  const headers = res.headers || {};
  const dateMs = httpDateMs(headers.date);
  if (dateMs === dateMs) r.dateMs = dateMs;
  const status = +res.status;
  const body = typeof res.body === "string" ? res.body : "";
  const ok2xx = status >= 200 && status < 300;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let j: any = null;
  // A real reply nests two levels; refuse deep nesting before the engine's recursive parser sees it.
  if (!res.truncated && body.split("{").length + body.split("[").length < 20) {
    try { j = JSON.parse(body); } catch { j = null; }
  }
  const code = j && typeof j === "object" && typeof j.code === "number" && j.code >= 0 && j.code < 1e6 && j.code === Math.floor(j.code) ? j.code : NaN;
  if (code !== code || status >= 500 || (!ok2xx && code === 0)) {
    r.code = ok2xx ? BAD_REPLY : HTTP;
    r.error = (ok2xx ? "bad reply" : "http " + status) + (res.truncated ? " (truncated)" : "") + ": " + printable(body, 48);
    return r;
  }
  r.code = code;
  if (code) {
    r.error = "code " + code + (typeof j.message === "string" ? " " + printable(j.message, 48) : "");
    return r;
  }
  const info = j.info && typeof j.info === "object" ? j.info : {};
  if (wantToken) {
    const t = info.token;
    let bad = typeof t !== "string" || !t.length || t.length > TOKEN_MAX;
    for (let i = 0; !bad && i < t.length; i++) bad = t.charCodeAt(i) < 33 || t.charCodeAt(i) > 126;
    if (bad) return { code: BAD_REPLY, dateMs: r.dateMs, error: "bad reply: no usable token" };
    r.token = t;
  } else {
    r.messageId = messageIdOf(body);
  }
  return r;
}
