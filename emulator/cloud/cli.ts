// Command line of the local IoT Platform: `npm run cloud -- --port 8443 --http-port 8080 --data DIR`.
import { Command, InvalidArgumentError } from "commander";
import { networkInterfaces } from "node:os";
import { resolve } from "node:path";
import { startCloud } from "./server";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("a port number 0..65535");
  return n;
}

const program = new Command()
  .name("cloud")
  .description("Local stand-in of the Alibaba Cloud IoT Platform HTTPS device channel, with dashboard")
  .option("--port <n>", "HTTPS port", port, 8443)
  .option("--http-port <n>", "plain HTTP port (for boards that cannot do TLS on a bench)", port, 8080)
  .option("--data <dir>", "data folder (SQLite database, generated certificate)", ".data/cloud")
  .option("--host <addr>", "listen address (0.0.0.0 = reachable from the LAN)", "0.0.0.0")
  .option("--admin-anywhere", "serve the admin API to non-loopback addresses too", false)
  .option("--updates <dir>", "OTA release folder served at /ota/ (npm run release -- --out DIR); default DATA/updates")
  .option("--allow-untimed-auth", "accept /auth without a timestamp, as Alibaba's endpoint does (such a body can be replayed forever)", false)
  .option("--allowed-host <name>", "a host name the dashboard and admin API answer to, besides IP addresses, localhost and this machine's name (repeatable)", (v: string, all: string[]) => all.concat(v), [] as string[])
  .option("--quiet", "no per-request log lines", false)
  .parse();

const o = program.opts<{
  port: number;
  httpPort: number;
  data: string;
  host: string;
  adminAnywhere: boolean;
  allowUntimedAuth: boolean;
  allowedHost: string[];
  quiet: boolean;
  updates?: string;
}>();

async function main(): Promise<void> {
  const cloud = await startCloud({
    dataDir: resolve(o.data),
    httpsPort: o.port,
    httpPort: o.httpPort,
    host: o.host,
    adminOnLoopbackOnly: !o.adminAnywhere,
    updatesDir: o.updates ? resolve(o.updates) : undefined,
    allowUntimedAuth: o.allowUntimedAuth,
    allowedHosts: o.allowedHost,
    log: o.quiet ? undefined : (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  const lan: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) lan.push(a.address);
  const httpsPort = new URL(cloud.httpsUrl).port;
  const httpPort = new URL(cloud.httpUrl).port;
  console.log(`Local IoT Platform (data in ${resolve(o.data)})`);
  console.log(`  HTTPS endpoint  ${cloud.httpsUrl}   (self-signed RSA certificate in ${resolve(o.data, "certs")})`);
  console.log(`  HTTP endpoint   ${cloud.httpUrl}`);
  console.log(`  Dashboard       ${cloud.dashboardUrl}`);
  console.log(`  OTA updates     ${cloud.httpsUrl}/ota/manifest.json   (from ${o.updates ? resolve(o.updates) : resolve(o.data, "updates")}: npm run release -- --out <that folder>)`);
  for (const ip of o.host === "0.0.0.0" ? lan : []) console.log(`  On the LAN      https://${ip}:${httpsPort}  http://${ip}:${httpPort}  dashboard http://${ip}:${httpPort}/`);
  const example = lan[0] && o.host === "0.0.0.0" ? lan[0] : new URL(cloud.httpUrl).hostname;
  console.log("");
  // The admin token is never printed: it is read from its file (0600) where needed.
  const bearer = cloud.adminToken === null ? "" : `-H "Authorization: Bearer $(cat '${resolve(o.data, "admin-token")}')" `;
  if (cloud.adminToken !== null) console.log(`  Admin API       needs the token in ${resolve(o.data, "admin-token")} (listening beyond loopback)`);
  console.log("Register a device:  curl -s -X POST -H 'Content-Type: application/json' " + bearer + "-d '{}' " + `${cloud.httpUrl}/admin/devices`);
  console.log(`Point a device at it: in its iot.json set "endpoint": "https://${example}:${httpsPort}" (or "http://${example}:${httpPort}")`);
  console.log("plus the productKey, deviceName and deviceSecret from the registration. Ctrl-C stops.");

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping...");
    cloud.close().then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: Error) => {
  console.error(`cloud: ${e.message}`);
  process.exit(1);
});
