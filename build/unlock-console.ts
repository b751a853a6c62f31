// flash.sh helper: unlocks an Espruino console locked with E.setPassword + E.lockConsole before the
// espruino CLI talks to it. Sends an empty line and looks for the "password>" prompt; when the console
// is locked, sends the password line and waits for "Logged in". An unlocked console is left as it is
// (nothing but the empty line is sent). The password comes from the environment (CONSOLE_PASSWORD),
// never from the command line. Usage: tsx build/unlock-console.ts PORT BAUD
import * as net from "node:net";
import { SerialPort } from "serialport";

interface Link {
  write(s: string): void;
  close(): void;
}

function open(port: string, baud: number, onData: (s: string) => void): Promise<Link> {
  return new Promise((resolve, reject) => {
    const m = /^tcp:\/\/([^:/]+)(?::(\d+))?/.exec(port);
    if (m) {
      const sock = net.connect(+(m[2] || 23), m[1]);
      sock.on("data", (d: Buffer) => onData(d.toString("latin1")));
      sock.once("error", reject);
      sock.once("connect", () => resolve({ write: (s) => sock.write(Buffer.from(s, "latin1")), close: () => sock.destroy() }));
      return;
    }
    const sp = new SerialPort({ path: port, baudRate: baud }, (err) => (err ? reject(err) : resolve({ write: (s) => sp.write(Buffer.from(s, "latin1")), close: () => sp.close() })));
    sp.on("data", (d: Buffer) => onData(d.toString("latin1")));
  });
}

function waitFor(get: () => string, re: RegExp, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const tick = () => (re.test(get()) ? resolve(true) : Date.now() - t0 > ms ? resolve(false) : setTimeout(tick, 50));
    tick();
  });
}

async function main(): Promise<number> {
  const [port, baud] = process.argv.slice(2);
  const password = process.env.CONSOLE_PASSWORD || "";
  let seen = "";
  const link = await open(port, +baud || 115200, (s) => (seen += s));
  try {
    link.write("\n");
    if (!(await waitFor(() => seen, /password>/, 1500))) {
      console.log("unlock-console: the console is not locked");
      return 0;
    }
    if (!password) {
      console.error("unlock-console: the console is locked and no console password was given");
      return 1;
    }
    seen = "";
    link.write(password + "\n");
    if (await waitFor(() => seen, /Logged in/, 3000)) {
      console.log("unlock-console: console unlocked");
      return 0;
    }
    console.error("unlock-console: the console refused the password");
    return 1;
  } finally {
    link.close();
    // the console serves one client at a time: let it see this one go before the CLI connects
    await new Promise((r) => setTimeout(r, 300));
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error("unlock-console: " + (e as Error).message);
  process.exit(1);
});
