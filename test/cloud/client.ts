// A device client for the tests, written from the protocol sheet with node:crypto (deliberately
// not the firmware's signing code): builds /auth bodies and sends raw requests.
import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body text exactly as received (messageId must be read from here, not JSON.parse). */
  text: string;
}

const agentOpts = { keepAlive: true, maxSockets: 64, rejectUnauthorized: false };
const httpsAgent = new https.Agent(agentOpts);
const httpAgent = new http.Agent(agentOpts);

export function send(url: string, method: string, headers: Record<string, string>, body?: string | Buffer): Promise<RawResponse> {
  const u = new URL(url);
  const lib = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      u,
      { method, headers, agent: u.protocol === "https:" ? httpsAgent : httpAgent, rejectUnauthorized: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export type SignMethod = "hmacmd5" | "hmacsha1" | "hmacsha256";
const HASH: Record<SignMethod, string> = { hmacmd5: "md5", hmacsha1: "sha1", hmacsha256: "sha256" };

/** sign = hex(HMAC(deviceSecret, "clientId..deviceName..productKey..[timestamp..]")) per the sheet. */
export function sign(method: SignMethod, secret: string, message: string): string {
  return createHmac(HASH[method], secret).update(message, "utf8").digest("hex");
}

export interface Device {
  productKey: string;
  deviceName: string;
  deviceSecret: string;
}

/** The /auth body object; `signmethod` omitted when `method` is undefined (platform default hmacmd5). */
export function authFields(d: Device, clientId: string, method?: SignMethod, timestamp?: number): Record<string, string | number> {
  const message = `clientId${clientId}deviceName${d.deviceName}productKey${d.productKey}` + (timestamp === undefined ? "" : `timestamp${timestamp}`);
  const body: Record<string, string | number> = {
    productKey: d.productKey,
    deviceName: d.deviceName,
    clientId,
    sign: sign(method ?? "hmacmd5", d.deviceSecret, message),
    version: "default",
  };
  if (method) body.signmethod = method;
  if (timestamp !== undefined) body.timestamp = String(timestamp);
  return body;
}

export async function auth(base: string, d: Device, method?: SignMethod, timestamp?: number): Promise<RawResponse> {
  return send(`${base}/auth`, "POST", { "Content-Type": "application/json" }, JSON.stringify(authFields(d, `${d.productKey}.${d.deviceName}`, method, timestamp)));
}

/** Platform time from the `Date` of `GET /auth` (whole seconds), as a device learns it before its first /auth. */
export async function platformTime(base: string): Promise<number> {
  const r = await send(`${base}/auth`, "GET", {});
  const t = Date.parse(String(r.headers.date));
  if (!(t > 0)) throw new Error("no Date header on GET /auth");
  return t;
}

/** Authenticates with a signed timestamp (platform time, as a device does) and returns the token (throws when the platform refuses). */
export async function token(base: string, d: Device, method?: SignMethod): Promise<string> {
  const r = await auth(base, d, method, await platformTime(base));
  const j = JSON.parse(r.text) as { code: number; info?: { token: string } };
  if (j.code !== 0 || !j.info) throw new Error(`auth failed: ${r.text}`);
  return j.info.token;
}

export function publish(base: string, tok: string | null, topic: string, payload: string | Buffer, contentType = "application/octet-stream"): Promise<RawResponse> {
  const headers: Record<string, string> = { "Content-Type": contentType };
  if (tok !== null) headers.password = tok;
  return send(`${base}/topic${topic}`, "POST", headers, payload);
}

/** Code of a platform answer (safe to JSON.parse for the code; never for messageId). */
export function codeOf(r: RawResponse): number {
  return (JSON.parse(r.text) as { code: number }).code;
}

export function propertyPost(d: Device, id: string, paramsJson: string): { topic: string; payload: string } {
  return {
    topic: `/sys/${d.productKey}/${d.deviceName}/thing/event/property/post`,
    payload: `{"id":"${id}","version":"1.0","params":${paramsJson},"method":"thing.event.property.post"}`,
  };
}
