// The emulated Espruino telnet console: a TCP port that takes JavaScript lines like Espruino's REPL
// (Ctrl-C, \x10 echo-off lines, statements spanning lines until they parse) and runs them in the
// emulated device, so that the espruino CLI (`flash.sh --port tcp://host:port`) works against it.
// Like the board's: off once the script calls TelnetServer.setOptions({mode: "off"}) (connections are
// refused, clients dropped); after E.setPassword + E.lockConsole a client's lines are password
// attempts (no echo, "password>" prompt) until one matches. It listens on loopback unless told otherwise.
import * as net from "node:net";
import * as vm from "node:vm";
import type { Device } from "./device";

export interface Console {
  port: number;
  close(): Promise<void>;
}

/** Espruino's REPL rendering of a value: strings quoted, objects as JSON, functions as source. */
function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined) return "undefined";
  if (typeof v === "function") return String(v);
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s;
  } catch {
    return String(v);
  }
}

/** True when `code` needs more lines (an open bracket, string or template). */
function incomplete(code: string): boolean {
  try {
    new vm.Script(code);
    return false;
  } catch (e) {
    return /Unexpected end of input|Unterminated template|missing \) after/.test((e as Error).message);
  }
}

export function startConsole(device: Device, port = 0, host = "127.0.0.1"): Promise<Console> {
  const sockets = new Set<net.Socket>();
  device.onTelnetMode = (mode) => {
    if (mode === "off") for (const s of sockets) s.destroy();
  };
  const server = net.createServer((sock) => {
    if (device.telnetMode === "off") {
      sock.destroy();
      return;
    }
    sockets.add(sock);
    let lastCr = false;
    let pending = "";
    let echoOff = false;
    let escape = false;
    const out = (t: string) => {
      if (!sock.destroyed) sock.write(Buffer.from(t.replace(/\r?\n/g, "\r\n"), "latin1"));
    };
    device.consoleOut = out;
    sock.on("close", () => {
      sockets.delete(sock);
      if (device.consoleOut === out) device.consoleOut = null;
    });
    sock.on("data", (d: Buffer) => {
      const text = d.toString("latin1");
      for (const ch of text) {
        if (device.consoleLocked) {
          // Espruino's locked console: every char goes into the password line, Enter checks it
          const enter = ch === "\r" || (ch === "\n" && !lastCr);
          lastCr = ch === "\r";
          if (ch === "\n" && !enter) continue;
          if (!enter) {
            pending += ch;
            continue;
          }
          const ok = device.unlockConsole(pending);
          pending = "";
          out(ok ? "\n  Logged in.\n>" : "\n  Invalid password\npassword>");
          continue;
        }
        lastCr = ch === "\r";
        // ANSI sequences: the CLI sends ESC [ n d before RAM uploads (line numbers for debugging)
        if (escape) {
          escape = /[A-Za-z~]/.test(ch) && ch !== "[" ? false : escape;
          continue;
        }
        if (ch === "\x1b") {
          escape = true;
          continue;
        }
        if (ch === "\x03") {
          // Ctrl-C: drop the half-typed statement
          pending = "";
          echoOff = false;
          out("\n>");
          continue;
        }
        if (ch === "\x10") {
          if (!pending) echoOff = true;
          continue;
        }
        if (ch === "\r") continue;
        if (ch !== "\n") {
          pending += ch;
          continue;
        }
        if (pending.trim() === "") {
          pending = "";
          if (!echoOff) out("\n=undefined\n>");
          else out(">");
          echoOff = false;
          continue;
        }
        if (incomplete(pending)) {
          pending += "\n";
          continue;
        }
        const code = pending;
        const quiet = echoOff;
        pending = "";
        echoOff = false;
        const r = device.repl(code);
        if (!r.ok) out("Uncaught " + r.error + "\n>");
        else out((quiet ? "" : "=" + show(r.value) + "\n") + ">");
      }
    });
    sock.on("error", () => sock.destroy());
    out("Espruino 2v29 (emulated) telnet console\n" + (device.consoleLocked ? "password>" : ">"));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const addr = server.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}
