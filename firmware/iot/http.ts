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

function isHex(c: string): boolean {
  return c != "" && "0123456789abcdefABCDEF".indexOf(c) >= 0;
}

/** The index after the digits of `w` from `k` (at least one), or -1. */
function digitsEnd(w: string, k: number): number {
  const i = k;
  while (w.charAt(k) >= "0" && w.charAt(k) <= "9") k++;
  return k > i ? k : -1;
}

/**
 * Whether a reply body is one strict JSON value (RFC 8259) that every engine reads the same:
 * Espruino's JSON.parse also takes trailing text, trailing commas, comments, single quotes, hex and
 * octal, keeps the first of repeated keys, makes "__proto__" the prototype, wraps integers above
 * 2^63 and keeps the low byte of \uXXXX (docs/espruino-quirks.md). So: nothing after the value, no
 * repeated key in an object, no "__proto__" key, no \u escape above 0xFF, at most 8 levels, and a
 * top-level "code" that is a number must be written as a whole number below 10^6.
 */
export function strictJson(s: string): boolean {
  // open containers ("{" / "["); keys seen per open object; what comes next:
  // 0 a value, 1 a key, 2 ":", 3 "," or a closer; `first`: right after an opener (a closer may come)
  let open = "";
  const keys: string[] = [];
  let want = 0;
  let first = false;
  let code = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (" \t\r\n".indexOf(c) >= 0) continue;
    const d = open.length;
    const top = open.charAt(d - 1);
    if ((c == "}" || c == "]") && (want == 3 || first) && c == (top == "{" ? "}" : top && "]")) {
      open = open.substr(0, d - 1);
      want = 3;
    } else if (want == 3) {
      if (c != "," || !d) return false;
      want = top == "{" ? 1 : 0;
    } else if (want == 2) {
      if (c != ":") return false;
      want = 0;
    } else if (c == '"') {
      let j = i + 1;
      for (; s.charAt(j) != '"'; j++) {
        const e = s.charAt(j);
        if (j >= s.length || e < " ") return false;
        if (e == "\\") {
          const x = s.charAt(++j);
          if ('"\\/bfnrtu'.indexOf(x) < 0 || (x == "u" && (s.substr(j + 1, 2) != "00" || !isHex(s.charAt(j + 3)) || !isHex(s.charAt(j + 4))))) return false;
        }
      }
      const text = s.substring(i + 1, j);
      i = j;
      if (want == 1) {
        // no escapes in keys: "\u0063ode" is "code" too
        // (the "\0" end: Espruino's indexOf also matches a needle that runs off the end, "\na\n".indexOf("\nb\n") is 2)
        if (text == "__proto__" || text.indexOf("\\") >= 0 || (keys[d] + "\0").indexOf("\n" + text + "\n") >= 0) return false;
        keys[d] += text + "\n";
        code = d == 1 && text == "code";
        want = 2;
      } else want = 3;
    } else if (want == 1) {
      return false;
    } else if (c == "{" || c == "[") {
      open += c;
      keys[d + 1] = "\n";
      want = c == "{" ? 1 : 0;
      first = true;
      if (d > 7) return false;
      continue;
    } else {
      let j = i;
      while (j < s.length && "+-.0123456789eEtrufalsn".indexOf(s.charAt(j)) >= 0) j++;
      const w = s.substring(i, j);
      i = j - 1;
      const neg = w.charAt(0) == "-" ? 1 : 0;
      let k = digitsEnd(w, neg);
      if (k - neg > 1 && w.charAt(neg) == "0") k = -1; // a leading zero (octal on Espruino)
      if (k > 0 && w.charAt(k) == ".") k = digitsEnd(w, k + 1);
      if (k > 0 && (w.charAt(k) == "e" || w.charAt(k) == "E")) k = digitsEnd(w, k + ("+-".indexOf(w.charAt(k + 1)) < 0 ? 1 : 2));
      // one number, or a literal; a top-level code is a whole number below 10^6 (no 64-bit wrap)
      if (k == w.length ? code && (w != String(+w) || w.length > 6) : w != "true" && w != "false" && w != "null") return false;
      want = 3;
    }
    first = false;
    code = code && want != 3;
  }
  return want == 3 && !open;
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
  // Strict JSON only (also caps the nesting before the engine's recursive parser sees it).
  if (!res.truncated && strictJson(body)) {
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
