// SQLite storage of the local IoT Platform: device registry, tokens, messages and readings.
import Database from "better-sqlite3";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";

export interface Device {
  productKey: string;
  deviceName: string;
  deviceSecret: string;
  createdAt: number;
  lastSeen: number | null;
}

/** One publish as the platform received it, accepted (code 0) or refused. */
export interface MessageRecord {
  topic: string;
  payload: string;
  code: number;
  /** Decimal digits of the 64-bit id (above 2^53, so never a JS number); null when refused. */
  messageId: string | null;
  time: number;
  /** Which Alink check set ran: property-post, history-post, event-post, ota-inform, ... */
  kind: string;
  /** Problems found by the Alink checks; empty when every check passed. */
  checks: string[];
}

export interface Reading {
  time: number;
  temperature: number | null;
  humidity: number | null;
}

/**
 * Check results of a post that carried readings already stored. A reading is identified, as in a
 * time-series store, by (device, property time): the same values again are a repeat (a device's
 * resend after a reply it never heard) and are not stored twice; other values at a stored time
 * are kept and flagged as a conflict. Each result ends with the property times, comma-separated.
 */
export const REPEAT_CHECK = "repeat of an already stored reading, not stored again: time ";
export const CONFLICT_CHECK = "conflict: other values already stored for the same time, both kept: time ";

/** Property times a message's checks name as repeats (`REPEAT_CHECK`). */
export function repeatTimes(checks: string[]): number[] {
  const out: number[] = [];
  for (const c of checks) if (c.startsWith(REPEAT_CHECK)) for (const t of c.slice(REPEAT_CHECK.length).split(",")) out.push(Number(t));
  return out;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  productKey TEXT NOT NULL, deviceName TEXT NOT NULL, deviceSecret TEXT NOT NULL,
  createdAt INTEGER NOT NULL, lastSeen INTEGER, PRIMARY KEY (productKey, deviceName));
DROP TABLE IF EXISTS tokens;
CREATE TABLE IF NOT EXISTS token_hashes (
  hash TEXT PRIMARY KEY, productKey TEXT NOT NULL, deviceName TEXT NOT NULL, expiresAt INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT, productKey TEXT NOT NULL, deviceName TEXT NOT NULL,
  topic TEXT NOT NULL, payload TEXT NOT NULL, code INTEGER NOT NULL, messageId TEXT,
  time INTEGER NOT NULL, kind TEXT NOT NULL, checks TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_device ON messages (productKey, deviceName, id);
CREATE TABLE IF NOT EXISTS readings (
  id INTEGER PRIMARY KEY AUTOINCREMENT, productKey TEXT NOT NULL, deviceName TEXT NOT NULL,
  time INTEGER NOT NULL, temperature REAL, humidity REAL);
CREATE INDEX IF NOT EXISTS readings_device ON readings (productKey, deviceName, time);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export type Store = ReturnType<typeof openStore>;

/** What the tokens table keeps of a token: its SHA-256 (a copy of the database gives no usable token). */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Opens (creating when missing) `platform.db` in `dataDir`. All calls are synchronous.
 * The folder is made 0700 and the database 0600; SQLite gives its -wal and -shm files the database's mode. */
export function openStore(dataDir: string) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const file = join(dataDir, "platform.db");
  closeSync(openSync(file, "a", 0o600));
  for (const f of [file, file + "-wal", file + "-shm"]) if (existsSync(f)) chmodSync(f, 0o600);
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(SCHEMA);

  const q = {
    device: db.prepare("SELECT * FROM devices WHERE productKey = ? AND deviceName = ?"),
    devices: db.prepare("SELECT * FROM devices ORDER BY createdAt, productKey, deviceName"),
    addDevice: db.prepare("INSERT INTO devices (productKey, deviceName, deviceSecret, createdAt) VALUES (?, ?, ?, ?)"),
    seen: db.prepare("UPDATE devices SET lastSeen = ? WHERE productKey = ? AND deviceName = ?"),
    addToken: db.prepare("INSERT INTO token_hashes (hash, productKey, deviceName, expiresAt) VALUES (?, ?, ?, ?)"),
    token: db.prepare("SELECT productKey, deviceName, expiresAt FROM token_hashes WHERE hash = ?"),
    dropTokens: db.prepare("DELETE FROM token_hashes WHERE expiresAt < ?"),
    addMessage: db.prepare(
      "INSERT INTO messages (productKey, deviceName, topic, payload, code, messageId, time, kind, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    messages: db.prepare(
      "SELECT topic, payload, code, messageId, time, kind, checks FROM messages WHERE productKey = ? AND deviceName = ? ORDER BY id DESC LIMIT ?",
    ),
    messageCount: db.prepare("SELECT COUNT(*) AS n FROM messages WHERE productKey = ? AND deviceName = ?"),
    readingsAt: db.prepare("SELECT temperature, humidity FROM readings WHERE productKey = ? AND deviceName = ? AND time = ?"),
    addReading: db.prepare("INSERT INTO readings (productKey, deviceName, time, temperature, humidity) VALUES (?, ?, ?, ?, ?)"),
    readings: db.prepare(
      "SELECT time, temperature, humidity FROM (SELECT id, time, temperature, humidity FROM readings WHERE productKey = ? AND deviceName = ? ORDER BY time DESC, id DESC LIMIT ?) ORDER BY time, id",
    ),
    latest: db.prepare(
      `SELECT
        (SELECT temperature FROM readings WHERE productKey = @pk AND deviceName = @dn AND temperature IS NOT NULL ORDER BY time DESC, id DESC LIMIT 1) AS temperature,
        (SELECT humidity FROM readings WHERE productKey = @pk AND deviceName = @dn AND humidity IS NOT NULL ORDER BY time DESC, id DESC LIMIT 1) AS humidity,
        (SELECT MAX(time) FROM readings WHERE productKey = @pk AND deviceName = @dn) AS time`,
    ),
    getMeta: db.prepare("SELECT value FROM meta WHERE key = ?"),
    setMeta: db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
  };

  // The message id counter lives in the database so ids keep growing across restarts. It starts
  // at a random point between 2^59 and 2^60: far above 2^53, like the platform's ids.
  let nextMessageId: bigint;
  const stored = q.getMeta.get("nextMessageId") as { value: string } | undefined;
  if (stored) nextMessageId = BigInt(stored.value);
  else nextMessageId = (1n << 59n) + (randomBytes(8).readBigUInt64BE(0) & ((1n << 55n) - 1n));

  // Returns the readings stored (repeats left out); repeats and conflicts are added to m.checks.
  // Readings at `platformTime` came without a time (the platform stamped them): nothing identifies those.
  const insertMessage = db.transaction((pk: string, dn: string, m: MessageRecord, readings: Reading[], platformTime?: number): Reading[] => {
    const stored: Reading[] = [];
    const repeats: number[] = [];
    const conflicts: number[] = [];
    for (const r of readings) {
      const there = r.time === platformTime ? [] : (q.readingsAt.all(pk, dn, r.time) as { temperature: number | null; humidity: number | null }[]);
      if (there.some((x) => x.temperature === r.temperature && x.humidity === r.humidity)) {
        repeats.push(r.time);
        continue;
      }
      if (there.length) conflicts.push(r.time);
      q.addReading.run(pk, dn, r.time, r.temperature, r.humidity);
      stored.push(r);
    }
    if (repeats.length) m.checks.push(REPEAT_CHECK + repeats.join(","));
    if (conflicts.length) m.checks.push(CONFLICT_CHECK + conflicts.join(","));
    q.addMessage.run(pk, dn, m.topic, m.payload, m.code, m.messageId, m.time, m.kind, JSON.stringify(m.checks));
    if (m.messageId !== null) q.setMeta.run("nextMessageId", String(nextMessageId));
    return stored;
  });

  return {
    device(pk: string, dn: string): Device | undefined {
      return q.device.get(pk, dn) as Device | undefined;
    },
    devices(): Device[] {
      return q.devices.all() as Device[];
    },
    addDevice(d: Device): void {
      q.addDevice.run(d.productKey, d.deviceName, d.deviceSecret, d.createdAt);
    },
    seen(pk: string, dn: string, time: number): void {
      q.seen.run(time, pk, dn);
    },
    addToken(token: string, pk: string, dn: string, expiresAt: number): void {
      q.addToken.run(tokenHash(token), pk, dn, expiresAt);
    },
    token(token: string): { productKey: string; deviceName: string; expiresAt: number } | undefined {
      return q.token.get(tokenHash(token)) as { productKey: string; deviceName: string; expiresAt: number } | undefined;
    },
    /** Forgets tokens that expired before `time` (kept a while so a late one still gets 20001, not 20003). */
    dropTokensExpiredBefore(time: number): void {
      q.dropTokens.run(time);
    },
    /** Reserves the next 64-bit message id (persisted with the next stored accepted message). */
    takeMessageId(): string {
      const id = nextMessageId;
      nextMessageId += 1n;
      return String(id);
    },
    /** Stores the message and its readings; a repeat of a stored reading is noted in `m.checks`, not stored
     * (readings at `platformTime` carried no time of their own and are always new). Returns the readings stored. */
    addMessage(pk: string, dn: string, m: MessageRecord, readings: Reading[], platformTime?: number): Reading[] {
      return insertMessage(pk, dn, m, readings, platformTime);
    },
    messages(pk: string, dn: string, limit = 100): MessageRecord[] {
      const rows = q.messages.all(pk, dn, limit) as (Omit<MessageRecord, "checks"> & { checks: string })[];
      return rows.map((r) => ({ ...r, checks: JSON.parse(r.checks) as string[] }));
    },
    messageCount(pk: string, dn: string): number {
      return (q.messageCount.get(pk, dn) as { n: number }).n;
    },
    readings(pk: string, dn: string, limit = 500): Reading[] {
      return q.readings.all(pk, dn, limit) as Reading[];
    },
    /** Latest temperature and latest humidity (each from its newest reading), time of the newest reading. */
    latestReading(pk: string, dn: string): Reading | undefined {
      const r = q.latest.get({ pk, dn }) as { time: number | null; temperature: number | null; humidity: number | null };
      return r.time === null ? undefined : { time: r.time, temperature: r.temperature, humidity: r.humidity };
    },
    close(): void {
      db.close();
    },
  };
}
