// The local IoT Platform: an Alibaba-compatible HTTPS device channel (+ plain HTTP), device
// registry, storage, admin API and a live dashboard. See docs/local-platform.md.
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { ServerResponse } from "node:http";
import { AddressInfo, isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";
import { checkAlink } from "./alink";
import { registerUpdates, type UpdatesOptions } from "./updates";
import { dashboardAssets } from "./dashboard/bundle";
import { MessageRecord, Reading, openStore } from "./db";
import {
  MAX_BODY_BYTES,
  MAX_CLIENT_ID,
  SIGN_METHODS,
  TIMESTAMP_WINDOW_MS,
  codeBody,
  createThrottle,
  escapeLog,
  hasOwn,
  signMatches,
  topicOwner,
} from "./protocol";

export interface CloudOptions {
  /** Folder of the SQLite database and the generated certificate (`certs/`). */
  dataDir: string;
  /** 0 or absent: any free port. */
  httpsPort?: number;
  httpPort?: number;
  /** Listen address; default 127.0.0.1 (use 0.0.0.0 for boards on the LAN). */
  host?: string;
  /** Token life; default 7 days like the platform. */
  tokenTtlMs?: number;
  /** Platform time in epoch ms (token expiry, timestamp window, message times); default Date.now. */
  now?: () => number;
  /** Admin API only from loopback addresses (default true). */
  adminOnLoopbackOnly?: boolean;
  /** Per-device publish throttling; default 30 per second with a burst of 30. */
  throttle?: { perSec: number; burst: number };
  /** A device counts as online when it was seen within this time; default 15 minutes. */
  onlineWindowMs?: number;
  /** Called with one line per device request (never secrets or tokens). */
  log?: (line: string) => void;
  /** OTA release folder (`npm run release -- --out DIR`) served at `/ota/` on both ports; default `dataDir/updates`. */
  updatesDir?: string;
  /** Sees (and may replace) each update file served: fault injection and counting (emulator scenarios). */
  onUpdateServe?: UpdatesOptions["onServe"];
  /** Sees each token issued (tests check that no device log line shows one). */
  onToken?: (token: string) => void;
  /** Accept `/auth` without a `timestamp` (Alibaba's endpoint does; its sign never changes, so such a body
   * can be replayed forever). Default false: refused with 10001. */
  allowUntimedAuth?: boolean;
  /** Per-device tokens issued (correctly signed `/auth`), on platform time; default 10 at once, then one per minute. */
  authThrottle?: { perSec: number; burst: number };
  /** Per client address: requests without a valid token (refused auths, publishes with a missing or
   * unknown token) allowed, on real time; beyond it 40000 without any work. Default 30 at once, 1 per second. */
  unauthThrottle?: { perSec: number; burst: number };
  /** Host names (besides IP literals, localhost and this machine's name) the admin API and dashboard answer to. */
  allowedHosts?: string[];
  /** Bearer token of the admin API. Default: required only when listening beyond loopback, then
   * generated at first start into `dataDir/admin-token` (0600). */
  adminToken?: string;
  /** Whole-request deadline (headers and body) in ms; default 30000. */
  requestTimeoutMs?: number;
  /** How often the request deadline is checked, ms; default 5000 (tests set less). */
  timeoutCheckMs?: number;
  /** Live dashboard (SSE) clients at once; default 16, more get 503. */
  maxSseClients?: number;
  /** An SSE client with more than this many bytes not yet taken by its socket is dropped; default 256 KB. */
  sseMaxBufferedBytes?: number;
}

export interface Fault {
  /** Platform code the next auths/publishes answer with. */
  code: number;
  /** How many requests get it; absent: every request until cleared. */
  count?: number;
}

export interface DeviceIdentity {
  productKey: string;
  deviceName: string;
  deviceSecret: string;
}

export interface Cloud {
  httpsUrl: string;
  httpUrl: string;
  dashboardUrl: string;
  close(): Promise<void>;
  registerDevice(productKey?: string, deviceName?: string): DeviceIdentity;
  /** Newest first. */
  messages(productKey: string, deviceName: string, limit?: number): MessageRecord[];
  setFault(fault: Fault | null): void;
  /** The admin API's bearer token, or null when none is required (listening on loopback only). */
  adminToken: string | null;
}

const DAY_MS = 24 * 3600 * 1000;
const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** Whether a listen address keeps the sockets on this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** Host names a request may carry for the admin API and dashboard: a DNS rebinding attack needs a
 * name the attacker resolves, so IP literals are always fine; names only from this list. */
function hostAllowed(header: string | undefined, names: Set<string>): boolean {
  if (!header) return false;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+))(?::\d{1,5})?$/.exec(header);
  if (!m) return false;
  if (m[1]) return isIP(m[1]) === 6;
  const name = m[2].toLowerCase().replace(/\.$/, "");
  return isIP(name) === 4 || names.has(name);
}

/** The admin token of `dataDir/admin-token`, created (0600) when missing. */
function loadAdminToken(dataDir: string): string {
  const file = join(dataDir, "admin-token");
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const t = readFileSync(file, "utf8").trim();
    if (t.length >= 32) return t;
  }
  const t = randomBytes(24).toString("base64url");
  writeFileSync(file, t + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  return t;
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
}

/** Loads the RSA certificate from `dataDir/certs`, generating it at first start. */
async function loadCertificate(dataDir: string): Promise<{ key: string; cert: string }> {
  const dir = join(dataDir, "certs");
  const keyFile = join(dir, "server.key");
  const certFile = join(dir, "server.crt");
  if (existsSync(keyFile) && existsSync(certFile)) {
    chmodSync(dir, 0o700);
    chmodSync(keyFile, 0o600);
    chmodSync(certFile, 0o600);
    return { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8") };
  }
  // RSA, because the Espruino TLS stack has no ECDSA. Names: localhost and this machine's addresses.
  const ips = new Set(["127.0.0.1", "::1"]);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) ips.add(a.address);
  const notBefore = new Date(Date.now() - DAY_MS);
  const pems = await generate([{ name: "commonName", value: "local-iot-platform" }], {
    keyType: "rsa",
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate: notBefore,
    notAfterDate: new Date(notBefore.getTime() + 10 * 365 * DAY_MS),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, ...[...ips].map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  writeFileSync(certFile, pems.cert, { mode: 0o600 });
  return { key: pems.private, cert: pems.cert };
}

function mediaType(req: FastifyRequest): string {
  return String(req.headers["content-type"] ?? "")
    .split(";")[0]
    .trim()
    .toLowerCase();
}

export async function startCloud(opts: CloudOptions): Promise<Cloud> {
  const now = opts.now ?? Date.now;
  const tokenTtlMs = opts.tokenTtlMs ?? 7 * DAY_MS;
  const onlineWindowMs = opts.onlineWindowMs ?? 15 * 60 * 1000;
  const adminLoopbackOnly = opts.adminOnLoopbackOnly ?? true;
  const host = opts.host ?? "127.0.0.1";
  const sink = opts.log;
  // Every field in a line may come from a request: control characters are escaped (no forged lines).
  const log = (line: string) => {
    if (sink) sink(escapeLog(line));
  };
  const store = openStore(opts.dataDir);
  const throttle = createThrottle(opts.throttle?.perSec ?? 30, opts.throttle?.burst ?? 30);
  const authThrottle = createThrottle(opts.authThrottle?.perSec ?? 1 / 60, opts.authThrottle?.burst ?? 10);
  const unauthThrottle = createThrottle(opts.unauthThrottle?.perSec ?? 1, opts.unauthThrottle?.burst ?? 30);
  const allowUntimed = opts.allowUntimedAuth ?? false;
  const adminToken = opts.adminToken ?? (isLoopbackHost(host) ? null : loadAdminToken(opts.dataDir));
  const hostNames = new Set(["localhost", hostname().toLowerCase(), hostname().toLowerCase() + ".local", ...(opts.allowedHosts ?? []).map((h) => h.toLowerCase())]);
  const maxSse = opts.maxSseClients ?? 16;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30000;
  const sseMaxBuffered = opts.sseMaxBufferedBytes ?? 256 * 1024;
  const tls = await loadCertificate(opts.dataDir);
  const updatesDir = opts.updatesDir ?? join(opts.dataDir, "updates");
  const assets = await dashboardAssets();
  let fault: { code: number; remaining: number } | null = null;
  const sseClients = new Set<ServerResponse>();

  /** Writes to every live dashboard; one that does not read (its backlog grows) is dropped. */
  function sseWrite(text: string): void {
    for (const res of sseClients) {
      if (res.writableLength > sseMaxBuffered) {
        sseClients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }

  function broadcast(event: string, data: unknown): void {
    sseWrite(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Takes one unauthenticated request from the client's budget; false when over it. */
  function unauthOk(req: FastifyRequest): boolean {
    return unauthThrottle.take(req.socket.remoteAddress ?? "?", Date.now());
  }

  function takeFault(): number | null {
    if (!fault) return null;
    const code = fault.code;
    if (--fault.remaining <= 0) fault = null;
    return code;
  }

  function deviceView(d: { productKey: string; deviceName: string; createdAt: number; lastSeen: number | null }) {
    const t = now();
    return {
      productKey: d.productKey,
      deviceName: d.deviceName,
      createdAt: d.createdAt,
      lastSeen: d.lastSeen,
      online: d.lastSeen !== null && t - d.lastSeen <= onlineWindowMs,
      latest: store.latestReading(d.productKey, d.deviceName) ?? null,
      messageCount: store.messageCount(d.productKey, d.deviceName),
    };
  }

  function markSeen(pk: string, dn: string): void {
    store.seen(pk, dn, now());
    const d = store.device(pk, dn);
    if (d) broadcast("device", deviceView(d));
  }

  function registerDevice(productKey?: string, deviceName?: string): DeviceIdentity {
    const pk = productKey ?? "a1" + randomBytes(9).toString("base64url").replace(/[-_]/g, "x").slice(0, 9);
    const dn = deviceName ?? "dev-" + randomBytes(4).toString("hex");
    const existing = store.device(pk, dn);
    if (existing) return { productKey: pk, deviceName: dn, deviceSecret: existing.deviceSecret };
    const deviceSecret = randomBytes(16).toString("hex");
    store.addDevice({ productKey: pk, deviceName: dn, deviceSecret, createdAt: now(), lastSeen: null });
    broadcast("device", deviceView(store.device(pk, dn)!));
    return { productKey: pk, deviceName: dn, deviceSecret };
  }

  function storeMessage(pk: string, dn: string, m: MessageRecord, readings: Reading[]): void {
    // Readings without a time of their own got m.time: the platform cannot tell a repeat of those.
    const stored = store.addMessage(pk, dn, m, readings, m.time);
    broadcast("message", { productKey: pk, deviceName: dn, message: m, readings: stored });
  }

  /** Replies like the platform: HTTP 200, JSON body with the code. */
  function answer(reply: FastifyReply, body: string): FastifyReply {
    return reply.code(200).type("application/json; charset=utf-8").send(body);
  }

  function handleAuth(req: FastifyRequest, reply: FastifyReply) {
    const b = req.body as { productKey: string; deviceName: string; clientId: string; sign: string; signmethod?: string; timestamp?: string | number };
    const faulted = takeFault();
    if (faulted !== null) return answer(reply, codeBody(faulted, "injected fault"));
    const method = b.signmethod ?? "hmacmd5";
    if (!hasOwn(SIGN_METHODS, method)) return answer(reply, codeBody(10001, "signmethod not supported"));
    if (b.timestamp !== undefined) {
      const ts = Number(b.timestamp);
      if (!/^[0-9]+$/.test(String(b.timestamp))) return answer(reply, codeBody(10001, "timestamp must be epoch milliseconds"));
      if (Math.abs(now() - ts) > TIMESTAMP_WINDOW_MS) {
        log(`auth ${b.productKey}/${b.deviceName} -> 20000 (timestamp outside the window)`);
        if (!unauthOk(req)) return answer(reply, codeBody(40000));
        return answer(reply, codeBody(20000, "timestamp outside the 15-minute window"));
      }
    } else if (!allowUntimed) {
      // An untimed sign never changes: one captured body would give tokens forever.
      log(`auth ${b.productKey}/${b.deviceName} -> 10001 (no timestamp)`);
      return answer(reply, codeBody(10001, "timestamp required (start the platform with --allow-untimed-auth to accept none)"));
    }
    const who = `${b.productKey}/${b.deviceName}`;
    if (!unauthThrottle.peek(req.socket.remoteAddress ?? "?", Date.now())) return answer(reply, codeBody(40000));
    const device = store.device(b.productKey, b.deviceName);
    // Unknown device and wrong sign answer alike; the sign is still computed so both take the same time.
    const ok = signMatches(method, device?.deviceSecret ?? "unknown-device", b, b.sign);
    log(`auth ${who} ${method} -> ${device && ok ? 0 : 20000}`);
    if (!device || !ok) return answer(reply, codeBody(unauthOk(req) ? 20000 : 40000));
    // Tokens per device: a correctly signed body replayed within its window gets few. Counted only
    // for correct signs, so nobody can lock a device out by sending bad ones in its name.
    if (!authThrottle.take(who, now())) {
      log(`auth ${who} -> 40000 (too many auths)`);
      return answer(reply, codeBody(40000));
    }
    const token = randomBytes(24).toString("base64url");
    store.dropTokensExpiredBefore(now() - 7 * DAY_MS);
    store.addToken(token, b.productKey, b.deviceName, now() + tokenTtlMs);
    if (opts.onToken) opts.onToken(token);
    markSeen(b.productKey, b.deviceName);
    return answer(reply, JSON.stringify({ code: 0, message: "success", info: { token } }));
  }

  function handlePublish(req: FastifyRequest, reply: FastifyReply) {
    const rawUrl = req.raw.url ?? "";
    const topic = rawUrl.slice("/topic".length);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const payload = body.toString("utf8");
    const owner = topicOwner(topic.split("?")[0]);
    const time = now();
    let device: { productKey: string; deviceName: string } | null = null;
    // Refused publishes are recorded for the device whose token (valid or expired) came with them; without one
    // nothing is stored (anyone could fill the database by naming a device in the topic).
    const refuse = (code: number, detail?: string) => {
      const who = device;
      log(`publish ${topic} -> ${code}${detail ? ` (${detail})` : ""}`);
      if (who) {
        const m: MessageRecord = { topic, payload: payload.slice(0, 4096), code, messageId: null, time, kind: "refused", checks: detail ? [detail] : [] };
        storeMessage(who.productKey, who.deviceName, m, []);
      }
      return answer(reply, codeBody(code, detail));
    };

    if (rawUrl.includes("?")) return refuse(10001, "no query string allowed");
    if (mediaType(req) !== "application/octet-stream") return refuse(10001, "Content-Type must be application/octet-stream");
    if (body.length > MAX_BODY_BYTES) return refuse(10001, `body of ${body.length} bytes exceeds ${MAX_BODY_BYTES}`);
    const password = req.headers.password;
    if (typeof password !== "string" || password === "") return unauthOk(req) ? refuse(20002) : refuse(40000);
    if (!unauthThrottle.peek(req.socket.remoteAddress ?? "?", Date.now())) return refuse(40000);
    const token = store.token(password);
    if (!token) return unauthOk(req) ? refuse(20003) : refuse(40000);
    // An expired token still names the device the platform gave it to (kept 7 days past expiry).
    device = { productKey: token.productKey, deviceName: token.deviceName };
    if (time >= token.expiresAt) return refuse(20001);
    markSeen(device.productKey, device.deviceName);
    const faulted = takeFault();
    if (faulted !== null) return refuse(faulted, "injected fault");
    if (!owner || owner.productKey !== device.productKey || owner.deviceName !== device.deviceName) {
      return refuse(10001, "topic does not belong to this device");
    }
    if (!throttle.take(`${device.productKey}/${device.deviceName}`, time)) return refuse(40000);

    const messageId = store.takeMessageId();
    const verdict = checkAlink(topic, payload, device.productKey, device.deviceName, time);
    const m: MessageRecord = { topic, payload, code: 0, messageId, time, kind: verdict.kind, checks: verdict.checks };
    storeMessage(device.productKey, device.deviceName, m, verdict.readings);
    log(`publish ${topic} -> 0 ${messageId}${verdict.checks.length ? ` checks: ${verdict.checks.join("; ")}` : ""}`);
    // Written by hand: the id is a 64-bit integer above 2^53, unquoted, exactly like the platform.
    return answer(reply, `{"code":0,"message":"success","info":{"messageId":${messageId}}}`);
  }

  /** Dashboard and its data: a Host that is an IP literal or a known name (no DNS rebinding). */
  function hostGuard(req: FastifyRequest, reply: FastifyReply, done: () => void) {
    if (!hostAllowed(req.headers.host, hostNames)) {
      reply.code(421).send({ error: "unknown Host (start with --allowed-host NAME to add a name)" });
      return;
    }
    done();
  }

  function adminGuard(req: FastifyRequest, reply: FastifyReply, done: () => void) {
    if (adminLoopbackOnly && !LOOPBACK.has(req.socket.remoteAddress ?? "")) {
      reply.code(403).send({ error: "admin API is available on loopback only (start with --admin-anywhere to change)" });
      return;
    }
    if (!hostAllowed(req.headers.host, hostNames)) {
      reply.code(421).send({ error: "unknown Host (start with --allowed-host NAME to add a name)" });
      return;
    }
    if (adminToken !== null) {
      const given = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ""));
      if (!given || !sameSecret(given[1], adminToken)) {
        reply.code(401).send({ error: "admin token required: Authorization: Bearer <the token in the data folder's admin-token>" });
        return;
      }
    }
    // A browser sends application/json cross-origin only after a CORS preflight, which is never granted.
    if (req.method === "POST" && mediaType(req) !== "application/json") {
      reply.code(415).send({ error: "Content-Type must be application/json" });
      return;
    }
    done();
  }

  const isDeviceRoute = (url: string | undefined) => !!url && (url === "/auth" || url.startsWith("/auth?") || url.startsWith("/topic/"));

  function buildApp(https: { key: string; cert: string } | null): FastifyInstance {
    // A request must arrive whole (headers and body) within requestTimeoutMs: a body trickled a byte
    // at a time cannot hold a connection open.
    const timing = { connectionsCheckingInterval: opts.timeoutCheckMs ?? 5000, headersTimeout: requestTimeoutMs };
    const common = { logger: false, forceCloseConnections: true, bodyLimit: 1024 * 1024, requestTimeout: requestTimeoutMs, ajv: { customOptions: { allowUnionTypes: true } } };
    const app = (https ? Fastify({ ...common, https: { ...https, ...timing } }) : Fastify({ ...common, http: timing })) as unknown as FastifyInstance;
    // Our own parsers, so that a wrong content type gets the platform's 10001 rather than a 415.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, text, done) => {
      if (text === "") return done(null, undefined);
      try {
        done(null, JSON.parse(text as string));
      } catch (e) {
        (e as { statusCode?: number }).statusCode = 400;
        done(e as Error, undefined);
      }
    });
    app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, buf, done) => done(null, buf));
    app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      if (isDeviceRoute(req.raw.url)) return answer(reply, codeBody(10001, err.message));
      reply.code(err.statusCode && err.statusCode >= 400 ? err.statusCode : 500).send({ error: err.message });
    });
    // The Date header follows platform time, so a device that sets its clock from it (the
    // firmware does) agrees with the timestamp window and token expiry under emulated time.
    app.addHook("onSend", (_req, reply, payload, done) => {
      reply.header("date", new Date(now()).toUTCString());
      done(null, payload);
    });
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url}` }));

    app.post(
      "/auth",
      {
        preValidation: (req, reply, done) => {
          if (mediaType(req) !== "application/json") answer(reply, codeBody(10001, "Content-Type must be application/json"));
          else done();
        },
        schema: {
          body: {
            type: "object",
            required: ["productKey", "deviceName", "clientId", "sign"],
            properties: {
              productKey: { type: "string", minLength: 1 },
              deviceName: { type: "string", minLength: 1 },
              clientId: { type: "string", minLength: 1, maxLength: MAX_CLIENT_ID },
              sign: { type: "string", minLength: 1 },
              signmethod: { type: "string" },
              timestamp: { type: ["string", "integer"] },
              version: { type: "string" },
            },
          },
        },
      },
      handleAuth,
    );
    app.post("/topic/*", handlePublish);
    // The device's time request before its first /auth (docs/security.md): any reply carries the
    // Date header; this one says how to authenticate.
    app.get("/auth", (_req, reply) => reply.code(405).header("allow", "POST").type("application/json; charset=utf-8").send(codeBody(10001, "use POST")));

    // Admin API (people, tests, the emulator).
    app.register(async (admin) => {
      admin.addHook("onRequest", adminGuard);
      admin.post(
        "/admin/devices",
        {
          schema: {
            body: {
              type: ["object", "null"],
              additionalProperties: false,
              properties: {
                productKey: { type: "string", pattern: "^[A-Za-z0-9_-]{1,32}$" },
                deviceName: { type: "string", pattern: "^[A-Za-z0-9_@.:-]{1,32}$" },
              },
            },
          },
        },
        async (req) => {
          const b = (req.body ?? {}) as { productKey?: string; deviceName?: string };
          return registerDevice(b.productKey, b.deviceName);
        },
      );
      admin.get("/admin/devices", async () => store.devices().map(deviceView));
      admin.get(
        "/admin/devices/:pk/:dn/messages",
        { schema: { querystring: { type: "object", properties: { limit: { type: "integer", minimum: 1, maximum: 100000 } } } } },
        async (req, reply) => {
          const p = req.params as { pk: string; dn: string };
          if (!store.device(p.pk, p.dn)) return reply.code(404).send({ error: "no such device" });
          return store.messages(p.pk, p.dn, (req.query as { limit?: number }).limit ?? 100);
        },
      );
      admin.post(
        "/admin/faults",
        {
          schema: {
            body: {
              type: "object",
              required: ["code"],
              additionalProperties: false,
              properties: { code: { type: "integer" }, count: { type: "integer", minimum: 1 } },
            },
          },
        },
        async (req) => {
          setFault(req.body as Fault);
          return { fault: fault && { code: fault.code, remaining: fault.remaining } };
        },
      );
      admin.delete("/admin/faults", async () => {
        setFault(null);
        return { fault: null };
      });
    });

    // OTA update hosting (docs/ota.md): manifest and images with Range support.
    registerUpdates(app, { dir: updatesDir, onServe: opts.onUpdateServe });

    // Dashboard and its read-only data (open to the LAN so a phone can watch; Host checked against DNS rebinding).
    app.register(async (dash) => {
      dash.addHook("onRequest", hostGuard);
      dash.get("/", (_req, reply) => reply.type("text/html; charset=utf-8").send(assets.html));
      dash.get("/dashboard.js", (_req, reply) => reply.type("text/javascript; charset=utf-8").send(assets.js));
      dash.get("/api/state", async () => ({ serverNow: now(), onlineWindowMs, devices: store.devices().map(deviceView) }));
      dash.get(
        "/api/devices/:pk/:dn",
        { schema: { querystring: { type: "object", properties: { limit: { type: "integer", minimum: 1, maximum: 5000 } } } } },
        async (req) => {
          const p = req.params as { pk: string; dn: string };
          const limit = (req.query as { limit?: number }).limit ?? 500;
          return { readings: store.readings(p.pk, p.dn, limit), messages: store.messages(p.pk, p.dn, 50) };
        },
      );
      dash.get("/api/events", (req, reply) => {
        if (sseClients.size >= maxSse) return reply.code(503).send({ error: `at most ${maxSse} live dashboards at once` });
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", date: new Date(now()).toUTCString() });
        res.write(": connected\n\n");
        sseClients.add(res);
        req.raw.on("close", () => sseClients.delete(res));
      });
    });
    return app;
  }

  function setFault(f: Fault | null): void {
    fault = f ? { code: f.code, remaining: f.count ?? Infinity } : null;
  }

  const httpsApp = buildApp(tls);
  const httpApp = buildApp(null);
  const heartbeat = setInterval(() => sseWrite(": ping\n\n"), 15000);
  heartbeat.unref();
  try {
    await httpsApp.listen({ port: opts.httpsPort ?? 0, host });
    await httpApp.listen({ port: opts.httpPort ?? 0, host });
  } catch (e) {
    clearInterval(heartbeat);
    await Promise.allSettled([httpsApp.close(), httpApp.close()]);
    store.close();
    throw e;
  }
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const port = (app: FastifyInstance) => (app.server.address() as AddressInfo).port;
  const httpUrl = `http://${urlHost}:${port(httpApp)}`;
  let closed = false;

  return {
    httpsUrl: `https://${urlHost}:${port(httpsApp)}`,
    httpUrl,
    dashboardUrl: `${httpUrl}/`,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      for (const res of sseClients) res.end();
      sseClients.clear();
      await Promise.all([httpsApp.close(), httpApp.close()]);
      store.close();
    },
    registerDevice,
    messages: (pk, dn, limit = 1000) => store.messages(pk, dn, limit),
    setFault,
    adminToken,
  };
}
