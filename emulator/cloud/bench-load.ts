// Load bench of the local IoT Platform: N simulated devices post property readings back to back
// for a fixed time, then every acknowledged messageId is looked up in storage (nothing lost).
// `npm run bench:cloud -- --clients 200 --seconds 30 [--transport https|http]`
import { fork } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCloud } from "./server";

export interface LoadOptions {
  /** Base URL of the device channel (https:// or http://). */
  deviceUrl: string;
  /** Base URL of the admin API (loopback). */
  adminUrl: string;
  clients: number;
  seconds: number;
}

export interface LoadResult {
  clients: number;
  seconds: number;
  requests: number;
  accepted: number;
  throttled: number;
  errors: number;
  /** Acknowledged messages (code 0) missing from storage or stored with another payload. */
  lost: number;
  perSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

interface Reply {
  status: number;
  text: string;
}

function request(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  const u = new URL(url);
  const lib = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method, headers, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
const round = (ms: number) => Math.round(ms * 100) / 100;

/** Runs the load and verifies storage. Bounded: stops `seconds` after the first post. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const agentOpts = { keepAlive: true, maxSockets: o.clients + 8, rejectUnauthorized: false };
  const agent = o.deviceUrl.startsWith("https:") ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
  const adminAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const json = { "Content-Type": "application/json" };
  const devices: { productKey: string; deviceName: string; deviceSecret: string }[] = [];
  for (let i = 0; i < o.clients; i++) {
    const r = await request(adminAgent, `${o.adminUrl}/admin/devices`, "POST", json, JSON.stringify({ productKey: "a1loadPK001", deviceName: `load-${i}` }));
    devices.push(JSON.parse(r.text));
  }
  const latencies: number[] = [];
  let requests = 0;
  let throttled = 0;
  let errors = 0;
  const acked = devices.map(() => new Map<string, string>()); // messageId -> payload, per device
  const deadline = Date.now() + o.seconds * 1000;

  async function client(i: number): Promise<void> {
    const d = devices[i];
    const clientId = `${d.productKey}.${d.deviceName}`;
    // Signed with a timestamp, as the firmware does (the platform refuses an untimed /auth by default).
    const timestamp = String(Date.now());
    const msg = `clientId${clientId}deviceName${d.deviceName}productKey${d.productKey}timestamp${timestamp}`;
    const signHex = createHmac("sha1", d.deviceSecret).update(msg).digest("hex");
    const auth = await request(agent, `${o.deviceUrl}/auth`, "POST", json, JSON.stringify({ ...d, deviceSecret: undefined, clientId, sign: signHex, signmethod: "hmacsha1", timestamp }));
    const token = (JSON.parse(auth.text) as { info: { token: string } }).info.token;
    const topic = `/sys/${d.productKey}/${d.deviceName}/thing/event/property/post`;
    for (let n = 1; Date.now() < deadline; n++) {
      const t = (20 + (n % 50) / 10).toFixed(1);
      const payload = `{"id":"${n}","version":"1.0","params":{"temperature":${t},"humidity":${(40 + (i % 50)).toFixed(1)}},"method":"thing.event.property.post"}`;
      for (;;) {
        const start = process.hrtime.bigint();
        let r: Reply;
        try {
          r = await request(agent, `${o.deviceUrl}/topic${topic}`, "POST", { "Content-Type": "application/octet-stream", password: token }, payload);
        } catch {
          errors++;
          break;
        }
        latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        requests++;
        const m = /^\{"code":0,"message":"success","info":\{"messageId":([0-9]+)\}\}$/.exec(r.text);
        if (m) {
          acked[i].set(m[1], payload);
          break;
        }
        if (r.text.includes('"code":40000')) {
          throttled++; // back off like the firmware, then resend the same message
          await new Promise((res) => setTimeout(res, 1000));
          continue;
        }
        errors++;
        break;
      }
    }
  }

  const started = Date.now();
  await Promise.all(devices.map((_, i) => client(i)));
  const elapsedSec = (Date.now() - started) / 1000;
  agent.destroy();

  let lost = 0;
  let accepted = 0;
  for (let i = 0; i < devices.length; i++) {
    const r = await request(adminAgent, `${o.adminUrl}/admin/devices/a1loadPK001/load-${i}/messages?limit=100000`, "GET", {});
    const stored = new Map<string, string>();
    for (const m of JSON.parse(r.text) as { messageId: string | null; payload: string; code: number }[]) {
      if (m.code === 0 && m.messageId) stored.set(m.messageId, m.payload);
    }
    for (const [id, payload] of acked[i]) if (stored.get(id) !== payload) lost++;
    accepted += acked[i].size;
  }
  adminAgent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    clients: o.clients,
    seconds: round(elapsedSec),
    requests,
    accepted,
    throttled,
    errors,
    lost,
    perSecond: Math.round(requests / elapsedSec),
    latencyMs: { p50: round(quantile(sorted, 0.5)), p90: round(quantile(sorted, 0.9)), p99: round(quantile(sorted, 0.99)), max: round(sorted[sorted.length - 1] ?? NaN) },
  };
}

/** Child process: the platform under load runs apart from the clients, as it would for real. */
async function serve(dataDir: string): Promise<void> {
  const cloud = await startCloud({ dataDir });
  process.send!({ httpsUrl: cloud.httpsUrl, httpUrl: cloud.httpUrl });
  process.on("message", () => void cloud.close().then(() => process.exit(0)));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
  if (args[0] === "--serve") return serve(args[1]);
  const clients = Number(arg("--clients", "200"));
  const seconds = Number(arg("--seconds", "30"));
  const transport = arg("--transport", "https");
  const dataDir = mkdtempSync(join(tmpdir(), "cloud-bench-"));
  const child = fork(__filename, ["--serve", dataDir], { execArgv: ["--import", "tsx"] });
  try {
    const urls = await new Promise<{ httpsUrl: string; httpUrl: string }>((res, rej) => {
      child.once("message", (m) => res(m as { httpsUrl: string; httpUrl: string }));
      child.once("exit", (code) => rej(new Error(`platform exited (${code})`)));
    });
    console.log(`${clients} clients, ${seconds} s, ${transport} on loopback...`);
    const r = await runLoad({ deviceUrl: transport === "http" ? urls.httpUrl : urls.httpsUrl, adminUrl: urls.httpUrl, clients, seconds });
    console.log(JSON.stringify(r, null, 2));
    console.log(
      `| ${transport} | ${r.clients} | ${r.seconds} s | ${r.requests} | ${r.perSecond}/s | ${r.accepted} | ${r.throttled} | ${r.errors} | ${r.lost} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.latencyMs.max} |`,
    );
    if (r.lost > 0 || r.errors > 0) process.exitCode = 1;
  } finally {
    child.send("stop");
    await new Promise((res) => child.once("exit", res));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(e);
    process.exit(1);
  });
}
