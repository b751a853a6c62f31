// Synchronous DNS lookup + TCP connect probe, so the emulated http module can throw synchronously
// for unresolvable hosts and refused connections, as Espruino on ESP32 does (its connect blocks).
import { Worker } from "node:worker_threads";

const WORKER = `
const { parentPort } = require("node:worker_threads");
const net = require("node:net");
const dns = require("node:dns");
parentPort.on("message", (m) => {
  const flag = new Int32Array(m.sab, 0, 2);
  const text = new Uint8Array(m.sab, 8);
  const done = (code, addr) => {
    const b = Buffer.from(addr || "", "latin1");
    text.fill(0); text.set(b.subarray(0, text.length - 1));
    Atomics.store(flag, 1, code); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0);
  };
  dns.lookup(m.host, { family: 4 }, (err, addr) => {
    if (err) return dns.lookup(m.host, (err6, addr6) => err6 ? done(1) : connect(addr6));
    connect(addr);
  });
  function connect(addr) {
    const s = net.connect({ host: addr, port: m.port });
    const t = setTimeout(() => { s.destroy(); done(3, addr); }, m.timeoutMs);
    s.on("connect", () => { clearTimeout(t); s.destroy(); done(0, addr); });
    s.on("error", (e) => { clearTimeout(t); done(e.code === "ECONNREFUSED" ? 2 : 4, addr); });
  }
});
`;

export type ProbeResult = { ok: true; address: string } | { ok: false; reason: "dns" | "refused" | "timeout" | "error" };

let worker: Worker | null = null;

/** Blocks until `host:port` resolved and accepted (or refused) a TCP connection. */
export function probeSync(host: string, port: number, timeoutMs = 4000): ProbeResult {
  if (!worker) {
    worker = new Worker(WORKER, { eval: true });
    worker.unref();
  }
  const sab = new SharedArrayBuffer(8 + 64);
  const flag = new Int32Array(sab, 0, 2);
  worker.postMessage({ sab, host, port, timeoutMs });
  Atomics.wait(flag, 0, 0, timeoutMs + 3000);
  if (Atomics.load(flag, 0) !== 1) return { ok: false, reason: "timeout" };
  const code = Atomics.load(flag, 1);
  const bytes = new Uint8Array(sab, 8);
  const address = Buffer.from(bytes.subarray(0, bytes.indexOf(0))).toString("latin1");
  if (code === 0) return { ok: true, address };
  return { ok: false, reason: code === 1 ? "dns" : code === 2 ? "refused" : code === 3 ? "timeout" : "error" };
}

export function stopProbe(): void {
  if (worker) void worker.terminate();
  worker = null;
}
