// The run report: what the sensor really sent (the simulated DHT22's own record), what reached the
// platform (its stored messages) and what went over the wire (the runtime's socket counters);
// never the firmware's own word.
import type { Frame } from "../sensor/sim";
import { repeatTimes } from "../cloud/db";
import type { DeviceStats } from "./device";
import type { OtaReport, VersionRun } from "./ota-run";

/** One reading as the platform stored it. */
export interface Sample {
  /** Device timestamp of the reading (ms), when the payload carried one. */
  time?: number;
  temperature?: number;
  humidity?: number;
  /** When the platform received it (platform clock). */
  receivedAt: number;
  /** Alink id of the post that carried it. */
  id?: string;
  /** The platform recognised it as a repeat of a reading it had stored (same time and values) and did not store it again. */
  repeat?: boolean;
}

/** A reading: the frames the sensor answered within one read (driver retries, filters). */
export interface Session {
  startMs: number;
  endMs: number;
  frames: Frame[];
  matched: number;
}

export interface MessageLike {
  payload: string;
  code: number;
  time: number;
  kind?: string;
  /** The platform's check results (repeats of stored readings are noted there). */
  checks?: string[];
}

export interface Report {
  minutes: number;
  fast: boolean;
  scenario: string | null;
  wallMs: number;
  emulatedDaysPerWallSecond: number;
  /** Readings the sensor produced (groups of valid frames). */
  readings: number;
  /** Readings that reached the platform at least once. */
  published: number;
  /** Readings older than the grace time at the end that never arrived. */
  lost: number;
  /** Recent readings not (yet) arrived. */
  pending: number;
  /**
   * Readings the platform stored twice, from its records: the same time and values stored again
   * (a repeat it failed to recognise), or, for readings sent without a time (which the platform
   * stamps on arrival and cannot recognise), the same Alink id and values stored again. Must be 0.
   */
  duplicates: number;
  /** Readings that arrived again (a resend after a reply the device never heard: at-least-once) and that the platform recognised as repeats of stored readings, so stored once. */
  resends: number;
  /** Published values that match no frame the sensor sent. */
  madeUp: number;
  /** Largest |published - frame value| and |published - simulated climate| over matched samples. */
  maxValueError: number;
  maxClimateErrorC: number;
  auths: number;
  /** Time requests (GET /auth, whose reply's Date sets the clock before an /auth or a post of untimed readings). */
  timeRequests: number;
  requests: number;
  tlsHandshakes: number;
  bytesSent: number;
  bytesReceived: number;
  errorsByCode: Record<string, number>;
  /** Restarts other than deep-sleep wakes and the first power-on. */
  reboots: number;
  boots: number;
  bootsByCause: Record<string, number>;
  deepSleeps: number;
  uncaught: number;
  refused: string | null;
  requestsPerReading: number;
  /** Most requests within any 10 emulated minutes (a retry loop shows here). */
  peakRequestsPer10Min: number;
  handshakesPerReading: number;
  /** Wi-Fi joins (Wifi.connect calls; a join takes 1.5 s in the emulator) and the time the radio was on for them, joins included, until sleep or a drop. */
  wifiJoins: number;
  wifiOnMs: number;
  sensor: { frames: number; corrupted: number; noAnswer: number };
  cloud: { messages: number; accepted: number; byKind: Record<string, number> } | null;
  madeUpSamples: Sample[];
  /**
   * The versions that ran, in boot order, each with the boots it ran in a row (from the scripts the
   * device started): a day without updates is one entry, A then B then A again (a rollback) three.
   */
  versions?: VersionRun[];
  /** OTA counts (OTA scenarios). */
  ota?: OtaReport;
}

function num(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && typeof (v as { value?: unknown }).value === "number") return (v as { value: number }).value;
  return undefined;
}

function timeOf(v: unknown): number | undefined {
  return v && typeof v === "object" && typeof (v as { time?: unknown }).time === "number" ? (v as { time: number }).time : undefined;
}

/** Readings in accepted property/history posts, oldest message first, with the platform's repeat verdict. */
export function samplesOf(messages: MessageLike[]): Sample[] {
  const out: Sample[] = [];
  for (const m of messages.slice().sort((a, b) => a.time - b.time)) {
    if (m.code !== 0) continue;
    let j: { id?: unknown; method?: string; params?: unknown };
    try {
      j = JSON.parse(m.payload);
    } catch {
      continue;
    }
    const repeats = repeatTimes(m.checks || []);
    const add = (props: Record<string, unknown>) => {
      const t = props.temperature;
      const h = props.humidity;
      if (t === undefined && h === undefined) return;
      const time = timeOf(t) ?? timeOf(h);
      out.push({ time, temperature: num(t), humidity: num(h), receivedAt: m.time, id: String(j.id), repeat: time !== undefined && repeats.includes(time) });
    };
    if (Array.isArray(j.params)) {
      // history post: per entry a list of property objects; group values by their time
      for (const entry of j.params as { properties?: Record<string, unknown>[] }[]) {
        const byTime = new Map<number, Record<string, unknown>>();
        for (const p of entry.properties || []) {
          for (const k of Object.keys(p)) {
            const t = timeOf(p[k]) ?? -1;
            const g = byTime.get(t) || {};
            g[k] = p[k];
            byTime.set(t, g);
          }
        }
        for (const g of byTime.values()) add(g);
      }
    } else if (j.params && typeof j.params === "object") add(j.params as Record<string, unknown>);
  }
  return out;
}

/** Counts from the platform's records: readings it stored twice (`duplicates`) and repeats it recognised (`resends`). */
export function deliveryCounts(samples: Sample[]): { duplicates: number; resends: number } {
  const seen = new Set<string>();
  let duplicates = 0;
  let resends = 0;
  for (const x of samples) {
    if (x.repeat) {
      resends++;
      continue;
    }
    // a reading without a time is known by the Alink id of its post (ids are unique per device)
    const k = (x.time ? "t" + x.time : "id" + x.id) + "/" + x.temperature + "/" + x.humidity;
    if (seen.has(k)) duplicates++;
    seen.add(k);
  }
  return { duplicates, resends };
}

/**
 * Groups valid frames into readings: a gap over `gapMs` starts a new one, and so does a boot
 * (`bootWallMs`): a read right after a reboot is a new reading, however close to the last one.
 */
export function sessionsOf(frames: Frame[], gapMs = 30000, bootWallMs: number[] = []): Session[] {
  const out: Session[] = [];
  for (const f of frames) {
    if (f.corrupted) continue;
    const last = out[out.length - 1];
    if (last && f.wallMs - last.endMs <= gapMs && !bootWallMs.some((b) => b > last.endMs && b <= f.wallMs)) {
      last.frames.push(f);
      last.endMs = f.wallMs;
    } else out.push({ startMs: f.wallMs, endMs: f.wallMs, frames: [f], matched: 0 });
  }
  return out;
}

const VALUE_TOL = 0.051;
const TIME_TOL_MS = 2500;

function fits(s: Session, x: Sample): boolean {
  const ts = s.frames.map((f) => f.temperature);
  const hs = s.frames.map((f) => f.humidity);
  if (x.temperature !== undefined && (x.temperature < Math.min(...ts) - VALUE_TOL || x.temperature > Math.max(...ts) + VALUE_TOL)) return false;
  if (x.humidity !== undefined && (x.humidity < Math.min(...hs) - VALUE_TOL || x.humidity > Math.max(...hs) + VALUE_TOL)) return false;
  if (x.time !== undefined && x.time > 0) return x.time >= s.startMs - TIME_TOL_MS && x.time <= s.endMs + TIME_TOL_MS;
  return s.startMs <= x.receivedAt + TIME_TOL_MS;
}

export interface MatchResult {
  sessions: Session[];
  madeUp: Sample[];
  maxValueError: number;
  maxClimateErrorC: number;
}

/** Matches the readings the platform stored (repeats left out) to the sensor's readings. */
export function match(frames: Frame[], samples: Sample[], gapMs = 30000, bootWallMs: number[] = []): MatchResult {
  const sessions = sessionsOf(frames, gapMs, bootWallMs);
  const madeUp: Sample[] = [];
  let maxValueError = 0;
  let maxClimateErrorC = 0;
  const sorted = samples.filter((x) => !x.repeat).sort((a, b) => (a.time || a.receivedAt) - (b.time || b.receivedAt));
  for (const x of sorted) {
    const cands = sessions.filter((s) => fits(s, x));
    if (!cands.length) {
      madeUp.push(x);
      continue;
    }
    const free = cands.filter((s) => !s.matched);
    const key = (s: Session) => (x.time ? Math.abs(s.startMs - x.time) : s.startMs);
    const pick = (free.length ? free : cands).sort((a, b) => key(a) - key(b))[0];
    pick.matched++;
    const f = pick.frames[pick.frames.length - 1];
    if (x.temperature !== undefined) {
      maxValueError = Math.max(maxValueError, Math.min(...pick.frames.map((g) => Math.abs(g.temperature - x.temperature!))));
      maxClimateErrorC = Math.max(maxClimateErrorC, Math.abs(f.trueC - x.temperature));
    }
    if (x.humidity !== undefined) maxValueError = Math.max(maxValueError, Math.min(...pick.frames.map((g) => Math.abs(g.humidity - x.humidity!))));
  }
  return { sessions, madeUp, maxValueError: round3(maxValueError), maxClimateErrorC: round3(maxClimateErrorC) };
}

function peak(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function buildReport(a: {
  minutes: number;
  fast: boolean;
  scenario: string | null;
  wallMs: number;
  endWallMs: number;
  graceMs: number;
  /** Frames further apart than this are different readings (retries of one read are closer). */
  gapMs: number;
  frames: Frame[];
  noAnswer: number;
  stats: DeviceStats;
  messages: MessageLike[] | null;
}): Report {
  const samples = a.messages ? samplesOf(a.messages) : [];
  const m = match(a.frames, samples, a.gapMs, a.stats.bootWallMs);
  const counts = deliveryCounts(samples);
  const readings = m.sessions.length;
  const published = m.sessions.filter((s) => s.matched).length;
  const unmatched = m.sessions.filter((s) => !s.matched);
  const lost = a.messages ? unmatched.filter((s) => s.endMs < a.endWallMs - a.graceMs).length : 0;
  const net = a.stats.net;
  const c = a.stats.bootsByCause;
  const byKind: Record<string, number> = {};
  for (const msg of a.messages || []) byKind[msg.kind || "?"] = (byKind[msg.kind || "?"] || 0) + 1;
  const per = (x: number) => (readings ? Math.round((x / readings) * 1000) / 1000 : 0);
  return {
    minutes: a.minutes,
    fast: a.fast,
    scenario: a.scenario,
    wallMs: Math.round(a.wallMs),
    emulatedDaysPerWallSecond: Math.round((a.minutes / 1440 / Math.max(a.wallMs, 1)) * 1000 * 1000) / 1000,
    readings,
    published,
    lost,
    pending: unmatched.length - lost,
    duplicates: counts.duplicates,
    resends: counts.resends,
    madeUp: m.madeUp.length,
    maxValueError: m.maxValueError,
    maxClimateErrorC: m.maxClimateErrorC,
    auths: net.requestsByPath["/auth"] || 0,
    timeRequests: net.requestsByPath["GET /auth"] || 0,
    requests: net.requests,
    tlsHandshakes: net.tlsHandshakes,
    bytesSent: net.bytesSent,
    bytesReceived: net.bytesReceived,
    errorsByCode: net.errorsByCode,
    reboots: (c.reboot || 0) + (c.watchdog || 0) + Math.max(0, (c.power || 0) - 1),
    boots: a.stats.boots,
    bootsByCause: c,
    deepSleeps: a.stats.deepSleeps,
    uncaught: a.stats.uncaught,
    refused: a.stats.refused,
    requestsPerReading: per(net.requests),
    peakRequestsPer10Min: peak(net.requestTimes, 600000),
    handshakesPerReading: per(net.tlsHandshakes),
    wifiJoins: a.stats.wifiJoins,
    wifiOnMs: Math.round(a.stats.wifiOnMs),
    sensor: { frames: a.frames.length, corrupted: a.frames.filter((f) => f.corrupted).length, noAnswer: a.noAnswer },
    cloud: a.messages
      ? { messages: a.messages.length, accepted: a.messages.filter((x) => x.code === 0).length, byKind }
      : null,
    madeUpSamples: m.madeUp.slice(0, 10),
  };
}
