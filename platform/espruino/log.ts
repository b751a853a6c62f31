// HAL Log to the console: level filter, uptime stamp, and registered secrets masked out.
import type { Log } from "../hal";

const LEVELS = "EWID";

export interface EspLog extends Log {
  /** Masks `secret` wherever it appears in later lines (device secret, token). */
  hide(secret: string): void;
}

/** Shows a token's first 4 chars and its length only. */
export function maskToken(token: string): string {
  return token.substr(0, 4) + "...(" + token.length + ")";
}

export function createLog(print: (line: string) => void, uptimeMs: () => number, minLevel: string): EspLog {
  const max = LEVELS.indexOf(minLevel) < 0 ? 2 : LEVELS.indexOf(minLevel);
  const secrets: string[] = [];
  const log = function (level: string, msg: string) {
    if (LEVELS.indexOf(level) > max) return;
    // indexOf first: Espruino's split returns [] when the separator is 2+ chars longer than the
    // string, so split/join alone blanked every short line.
    for (let i = 0; i < secrets.length; i++) if (msg.indexOf(secrets[i]) >= 0) msg = msg.split(secrets[i]).join("***");
    print(level + " " + (uptimeMs() / 1000).toFixed(3) + " " + msg);
  } as EspLog;
  log.hide = function (secret) {
    // Short strings would mask ordinary words; a real secret is long.
    if (secret && secret.length >= 8 && secrets.indexOf(secret) < 0) secrets.push(secret);
  };
  return log;
}
