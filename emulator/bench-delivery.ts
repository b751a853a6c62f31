// `npm run bench:delivery`: handshakes, bytes sent and Storage bytes written per reading for
// realtime and batch delivery (N = 1, 6, 30), one emulated day at 60 s with deep sleep each, and
// Wi-Fi joins per reading (the bench sets a `wifi` config so that the firmware joins on demand).
import * as path from "node:path";
import { startSession } from "./runtime/session";

const WIFI = { wifi: { ssid: "bench", password: "pw" } };
const MODES: { name: string; config: Record<string, unknown> }[] = [
  { name: "realtime", config: { ...WIFI, delivery: "realtime" } },
  { name: "batch N=1", config: { ...WIFI, delivery: "batch", batchSize: 1 } },
  { name: "batch N=6", config: { ...WIFI, delivery: "batch", batchSize: 6 } },
  { name: "batch N=30", config: { ...WIFI, delivery: "batch", batchSize: 30 } },
];

async function main(): Promise<void> {
  const minutes = Number(process.argv[2] || 1440);
  console.log("| mode | readings | TLS handshakes / reading | auths | bytes sent / reading | Storage bytes written / reading | Wi-Fi joins / reading | Wi-Fi radio-on s / reading |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const m of MODES) {
    let written = 0;
    const s = await startSession({ minutes, fast: true, firmwareFile: path.resolve("dist/firmware.js"), intervalSec: 60, config: m.config });
    // every Storage write and append the firmware makes (bytes as handed to flash; nothing is cut)
    s.device.flash.writeHook = (_kind, _name, bytes) => {
      written += bytes;
      return -1;
    };
    const r = await s.done;
    const per = (x: number) => (x / r.readings).toFixed(3);
    console.log(`| ${m.name} | ${r.readings} | ${per(r.tlsHandshakes)} | ${r.auths} | ${Math.round(r.bytesSent / r.readings)} | ${Math.round(written / r.readings)} | ${per(r.wifiJoins)} | ${(r.wifiOnMs / 1000 / r.readings).toFixed(2)} |`);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
