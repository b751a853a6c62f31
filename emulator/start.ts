// `npm start`: builds if needed, starts the local IoT Platform with a demo device, provisions and
// boots one emulated ESP32 with dist/firmware.js, prints the dashboard URL and logs each cycle.
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { Command } from "commander";
import { startSession } from "./runtime/session";
import { loadScenario, scenarioNames } from "./scenarios";

const ROOT = path.resolve(__dirname, "..");
const FIRMWARE = path.join(ROOT, "dist", "firmware.js");
const DATA = path.join(ROOT, ".data");

/** Newest modification time of the files under `dirs` (ms). */
function newest(dirs: string[]): number {
  let t = 0;
  const walk = (p: string) => {
    if (!fs.existsSync(p)) return;
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const f of fs.readdirSync(p)) walk(path.join(p, f));
    else t = Math.max(t, st.mtimeMs);
  };
  dirs.forEach((d) => walk(path.join(ROOT, d)));
  return t;
}

function buildIfNeeded(): void {
  const src = newest(["firmware", "sensors", "platform", "build", "package.json"]);
  if (fs.existsSync(FIRMWARE) && fs.statSync(FIRMWARE).mtimeMs >= src) return;
  console.log("building dist/firmware.js ...");
  const r = spawnSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error("npm run build failed");
}

/** Emulated wall time of the log line (real time unless --fast). */
let wallMs = () => Date.now();
const time = () => new Date(wallMs()).toISOString().slice(11, 19);

const program = new Command()
  .name("start")
  .description("Local IoT Platform + one emulated device running dist/firmware.js")
  .option("--interval <sec>", "reading interval of the demo device", "60")
  .option("--http-port <n>", "dashboard/HTTP port of the local platform", "8080")
  .option("--https-port <n>", "HTTPS device port of the local platform", "8443")
  .option("--host <addr>", "listen address (0.0.0.0 lets boards on the LAN connect)", "127.0.0.1")
  .option("--fast", "jump over idle time (a day in seconds)", false)
  .option("--scenario <name>", "fault scenario: " + scenarioNames().join(", "))
  .action(async (o: { interval: string; httpPort: string; httpsPort: string; host: string; fast: boolean; scenario?: string }) => {
    buildIfNeeded();
    fs.mkdirSync(DATA, { recursive: true });
    const session = await startSession({
      minutes: Infinity,
      fast: o.fast,
      firmwareFile: FIRMWARE,
      scenario: o.scenario ? loadScenario(o.scenario) : null,
      dataDir: path.join(DATA, "cloud"),
      flashFile: path.join(DATA, "device-flash.json"),
      keepFlash: true,
      productKey: "a1DemoDht22",
      deviceName: "demo-esp32",
      intervalSec: Number(o.interval),
      cloudPorts: { http: Number(o.httpPort), https: Number(o.httpsPort), host: o.host },
      onConsole: (l) => console.log(time() + " device  " + l),
      onEvent: (k, d) => {
        if (k === "boot") console.log(time() + " ---- boot (" + d + ")");
        else console.log(time() + " emu     " + k + " " + d);
      },
      onResponse: (p, st, body) => {
        let code = "?";
        let extra = "";
        try {
          const j = JSON.parse(body) as { code?: number; message?: string };
          code = String(j.code);
          // the id is above 2^53: take its digits from the text
          const id = /"messageId"\s*:\s*"?(\d+)/.exec(body);
          if (j.code !== 0 && j.message) extra = " " + j.message;
          else if (id) extra = " messageId " + id[1];
        } catch {
          extra = " (not JSON)";
        }
        // A 405 from /auth answers the device's time request (GET /auth): only its Date header counts.
        const what = p === "/auth" ? (st === 405 ? "time request (Date of GET /auth)" : "auth") : "publish " + p.split("/").slice(-3).join("/");
        console.log(time() + " net     " + what + " -> HTTP " + st + ", code " + code + extra);
      },
    });
    wallMs = () => session.sched.wallMs();
    console.log("");
    console.log("Local IoT Platform dashboard: " + session.cloud!.dashboardUrl);
    console.log("Device endpoint: " + session.cloud!.httpsUrl + "  (demo device " + session.identity.productKey + "/" + session.identity.deviceName + ")");
    console.log("Emulated ESP32 booting dist/firmware.js, a reading every " + o.interval + " s" + (o.fast ? " (fast)" : "") + ". Ctrl-C stops.");
    console.log("");
    let stopping = false;
    process.on("SIGINT", () => {
      if (stopping) process.exit(130);
      stopping = true;
      console.log("\nstopping the device and the platform ...");
      session.stop();
    });
    const r = await session.done;
    console.log(`stopped: ${r.readings} readings, ${r.published} published, ${r.auths} auths, ${r.requests} requests`);
  });

program.parseAsync().catch((e: Error) => {
  console.error("start: " + e.message);
  process.exit(1);
});
