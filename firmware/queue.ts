// Flash-backed store-and-forward queue of readings: append-only segment logs over hal.Store that
// survive reboot, deep sleep and power loss at any instant, bounded by a byte budget.
//
// API (for the duty cycle):
//   const q = openQueue(hal.store, hal.clock, {budgetBytes: 16384, segmentBytes: 2048});
//   q.push({temperature: 23.5, humidity: 61.2})  // BEFORE any network attempt -> QueueRecord | null
//   q.pending(max)    // oldest undelivered records, in order; id and stamp fixed at enqueue
//   q.ack(records)    // after the platform answered code 0 for them
//   q.begin(records)  // just before sending them: the post's Alink id (its composition kept in flash)
//   q.inFlight()      // {id, recs}: the post whose outcome is unknown, to resend exactly, or null
//   q.depth()         // undelivered count, no flash read
//   q.health()        // {depth, evicted, corrupt, oldestAgeMs, bytes}: report and log it
//
// Files (names under `prefix`, default "q."), every line "\n" + body + "*" + 4 hex Fletcher-16:
//   s<firstSeq>  segment: readings "<seq>,<id>,<stamp>,<params JSON>" (id "" = seq) and time fixes "T<from>-<to>+<offsetMs>"
//   a<firstSeq>  acks of that segment: "<from>-<to>" (delivered seq ranges), and the post in flight
//                "P<from>-<to>,<id>" (written before a post of more than one reading is sent)
//   e            evictions: "<firstSeq>,<count>" (segment dropped for the budget, count unsent readings)
// A torn append leaves a prefix that fails its check: it is skipped (counted in `corrupt`) and the
// next line starts clean at its "\n", so older lines are never affected. The Alink id (from
// opts.nextId, e.g. the client's counter, else the seq) and the stamp are fixed at enqueue and
// stored, so a resend carries the same id and time. The newest segment is never
// erased (its last seq seeds the counter); others are erased whole once delivered or evicted.
import type { Clock, Store } from "../platform/hal";
import { bootOffsetMs, resolveMs, stampText } from "./timefix";

/** One queued reading. */
export interface QueueRecord {
  /** Alink message id (digits), assigned at enqueue. */
  id: string;
  /** Queue sequence number (position in the queue). */
  seq: number;
  /** Wall time of the reading in ms; 0 when it cannot be known (clock never synced in its boot). */
  timeMs: number;
  /** True for a reading of this boot whose time is still unknown (it is fixed once the clock syncs). */
  awaitingTime: boolean;
  /** Property values, e.g. {temperature: 23.5, humidity: 61.2}. */
  params: { [name: string]: number };
}

/** Queue health for properties, events and the log. */
export interface QueueHealth {
  /** Readings stored and not yet delivered. */
  depth: number;
  /** Unsent readings dropped to stay within the byte budget, since the eviction log began. */
  evicted: number;
  /** Stored lines that failed their check (torn writes), seen when the queue was opened. */
  corrupt: number;
  /** Age of the oldest undelivered reading in ms; -1 when none or unknown. */
  oldestAgeMs: number;
  /** Bytes the queue occupies in Storage. */
  bytes: number;
}

export interface QueueOptions {
  /** Storage bytes the queue may use (segments, acks, eviction log); oldest segment evicted beyond. */
  budgetBytes: number;
  /** Bytes per segment file: the unit of erase and eviction. */
  segmentBytes: number;
  /** File name prefix (names stay within 27 chars). */
  prefix?: string;
  /** Alink id source shared with the device's other messages (ids unique per device); default: the seq. */
  nextId?: () => string;
}

/** A post whose outcome is unknown: its readings (those still undelivered) and its Alink id. */
export interface InFlight {
  id: string;
  recs: QueueRecord[];
}

export interface Queue {
  push(params: { [name: string]: number }): QueueRecord | null;
  pending(max: number): QueueRecord[];
  ack(records: QueueRecord[]): void;
  /** Alink id of a post of `records` about to be sent; a post of several (or a part of the post in flight) is kept in flash first. */
  begin(records: QueueRecord[]): string;
  /** The post begun and not yet acked, to be resent exactly (same readings, same id), or null. Call before begin. */
  inFlight(): InFlight | null;
  /** Gives this boot's readings stamped before the clock synced their wall times (the record push returned too). */
  fixTimes(): void;
  /** Undelivered readings (cheap: no flash read). */
  depth(): number;
  health(): QueueHealth;
}

/** Fletcher-16 of a byte string as 4 hex digits. */
export function check16(s: string): string {
  let a = 0;
  let b = 0;
  for (let i = 0; i < s.length; i++) {
    a = (a + s.charCodeAt(i)) % 255;
    b = (b + a) % 255;
  }
  return (0x10000 + b * 256 + a).toString(16).substr(1);
}

/** A framed line for a log file. */
export function frame(body: string): string {
  return "\n" + body + "*" + check16(body);
}

/** Bodies of the lines of a log that pass their check; `bad[0]` counts those that fail. */
export function unframe(text: string | undefined, bad: number[]): string[] {
  const out: string[] = [];
  if (!text) return out;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l === "") continue;
    const p = l.length - 5;
    if (p >= 0 && l.charAt(p) === "*" && l.substr(p + 1) === check16(l.substr(0, p))) out.push(l.substr(0, p));
    else bad[0]++;
  }
  return out;
}

/** Count of seqs in flat [lo, hi, lo, hi, ...] ranges. */
function rangeCount(r: number[]): number {
  let n = 0;
  for (let i = 0; i < r.length; i += 2) n += r[i + 1] - r[i] + 1;
  return n;
}

function rangeHas(r: number[], seq: number): boolean {
  for (let i = 0; i < r.length; i += 2) if (seq >= r[i] && seq <= r[i + 1]) return true;
  return false;
}

/** Adds a seq above every seq already in the ranges. */
function rangeAddTop(r: number[], seq: number): void {
  if (r.length && r[r.length - 1] === seq - 1) r[r.length - 1] = seq;
  else r.push(seq, seq);
}

function rangeRemove(r: number[], seq: number): void {
  for (let i = 0; i < r.length; i += 2) {
    if (seq < r[i] || seq > r[i + 1]) continue;
    if (r[i] === r[i + 1]) r.splice(i, 2);
    else if (seq === r[i]) r[i]++;
    else if (seq === r[i + 1]) r[i + 1]--;
    else r.splice(i + 1, 0, seq - 1, seq + 1);
    return;
  }
}

interface Seg {
  /** First seq: the file name's number. */
  f: number;
  /** Bytes of the segment file and of its ack file. */
  bytes: number;
  ackBytes: number;
  /** Undelivered seqs as flat ranges. */
  p: number[];
}

interface Parsed {
  recs: { seq: number; id: string; stamp: string; json: string }[];
  /** Time fixes: from, to, offsetMs triples. */
  fixes: number[];
}

function parseSeg(text: string | undefined, bad: number[]): Parsed {
  const out: Parsed = { recs: [], fixes: [] };
  const bodies = unframe(text, bad);
  for (let i = 0; i < bodies.length; i++) {
    const b = bodies[i];
    if (b.charAt(0) === "T") {
      const d = b.indexOf("-");
      const o = b.indexOf("+");
      out.fixes.push(parseInt(b.substr(1, d - 1), 10), parseInt(b.substr(d + 1, o - d - 1), 10), parseInt(b.substr(o + 1), 10));
      continue;
    }
    const c1 = b.indexOf(",");
    const c2 = b.indexOf(",", c1 + 1);
    const c3 = b.indexOf(",", c2 + 1);
    if (c1 < 1 || c3 < 0) {
      bad[0]++;
      continue;
    }
    const seq = b.substr(0, c1);
    out.recs.push({ seq: parseInt(seq, 10), id: c2 > c1 + 1 ? b.substr(c1 + 1, c2 - c1 - 1) : seq, stamp: b.substr(c2 + 1, c3 - c2 - 1), json: b.substr(c3 + 1) });
  }
  return out;
}

/** A segment's file (`q.s<first seq>`) and its ack log (`q.a<first seq>`). */
function segFile(pre: string, f: number): string {
  return pre + "s" + f;
}
function ackFile(pre: string, f: number): string {
  return pre + "a" + f;
}

/** Drops segment `i`: its file first (a lost ack file with its segment still there would resend delivered readings). */
function dropSeg(store: Store, pre: string, segs: Seg[], i: number): void {
  store.erase(segFile(pre, segs[i].f));
  store.erase(ackFile(pre, segs[i].f));
  segs.splice(i, 1);
}

function numbersOf(store: Store, prefix: string): number[] {
  const names = store.list(prefix);
  const out: number[] = [];
  for (let i = 0; i < names.length; i++) {
    const n = names[i].substr(prefix.length);
    if (n !== "" && String(parseInt(n, 10)) === n) out.push(parseInt(n, 10));
  }
  return out.sort(function (x, y) {
    return x - y;
  });
}

/** What a queue opens with, as its files tell after any interrupted write or erase. */
interface Recovered {
  segs: Seg[];
  evicted: number;
  evBytes: number;
  nextSeq: number;
  mark: { f: number; t: number; id: string } | null;
}

/**
 * Recovers the queue's files: finishes evictions, drops orphan ack files, rebuilds the pending
 * ranges from segments and acks. A function of its own: on Espruino every local of a function
 * lives as long as any closure made in it, and this one reads whole segments.
 */
function recover(store: Store, pre: string, evName: string, bad: number[]): Recovered {
  const segs: Seg[] = [];
  let evicted = 0;
  let nextSeq = 1;
  let mark: Recovered["mark"] = null;
  const evBodies = unframe(store.readLog(evName), bad);
  const evicting: number[] = [];
  for (let i = 0; i < evBodies.length; i++) {
    const c = evBodies[i].indexOf(",");
    evicting.push(parseInt(evBodies[i].substr(0, c), 10));
    evicted += parseInt(evBodies[i].substr(c + 1), 10);
  }
  let evBytes = (store.readLog(evName) || "").length;
  const firsts = numbersOf(store, pre + "s");
  for (let i = 0; i < firsts.length; i++) {
    const f = firsts[i];
    if (evicting.indexOf(f) >= 0) {
      store.erase(segFile(pre, f));
      store.erase(ackFile(pre, f));
      continue;
    }
    const text = store.readLog(segFile(pre, f));
    const acks = store.readLog(ackFile(pre, f));
    const acked: number[] = [];
    const ab = unframe(acks, bad);
    for (let j = 0; j < ab.length; j++) {
      const b = ab[j];
      const d = b.indexOf("-");
      if (b.charAt(0) === "P") {
        // Posts go oldest first: the latest begun has the largest first seq (ties: the later line).
        const c = b.indexOf(",");
        const from = parseInt(b.substr(1, d - 1), 10);
        if (!mark || from >= mark.f) mark = { f: from, t: parseInt(b.substr(d + 1, c - d - 1), 10), id: b.substr(c + 1) };
        continue;
      }
      acked.push(parseInt(b.substr(0, d), 10), parseInt(b.substr(d + 1), 10));
    }
    const seg: Seg = { f: f, bytes: (text || "").length, ackBytes: (acks || "").length, p: [] };
    const recs = parseSeg(text, bad).recs;
    for (let j = 0; j < recs.length; j++) {
      const s = recs[j].seq;
      if (!rangeHas(acked, s)) rangeAddTop(seg.p, s);
      if (s >= nextSeq) nextSeq = s + 1;
    }
    if (f > nextSeq) nextSeq = f;
    segs.push(seg);
  }
  if (evBodies.length > 8) {
    // Compact the eviction log to its total (a power loss right here forgets the count, no reading).
    store.erase(evName);
    const line = frame("0," + evicted);
    evBytes = store.append(evName, line) ? line.length : 0;
  }
  const ackFirsts = numbersOf(store, pre + "a");
  for (let i = 0; i < ackFirsts.length; i++) if (firsts.indexOf(ackFirsts[i]) < 0) store.erase(ackFile(pre, ackFirsts[i]));
  // Delivered segments whose erase was interrupted (the newest stays: it holds the seq counter).
  for (let i = segs.length - 2; i >= 0; i--) if (!segs[i].p.length) dropSeg(store, pre, segs, i);
  return { segs: segs, evicted: evicted, evBytes: evBytes, nextSeq: nextSeq, mark: mark };
}

/** Opens (or creates) the queue in `store`, recovering from any interrupted write or erase. */
export function openQueue(store: Store, clock: Clock, opts: QueueOptions): Queue {
  const pre = opts.prefix || "q.";
  const budget = opts.budgetBytes;
  const segMax = Math.min(opts.segmentBytes, Math.floor(budget / 2));
  const evName = pre + "e";
  const bad = [0];
  let got: Recovered | null = recover(store, pre, evName, bad);
  const segs: Seg[] = got.segs;
  let evicted = got.evicted;
  let evBytes = got.evBytes;
  let nextSeq = got.nextSeq;
  // The post in flight: first and last seq and its Alink id. A resend after an unknown outcome
  // must be the same message: an id that came back with more readings could be dropped whole by
  // a platform that de-duplicates by id. Kept in the ack log of its first reading's segment.
  let mark = got.mark;
  // Let go of it: on Espruino the closures below keep this whole scope (docs/espruino-quirks.md).
  // eslint-disable-next-line no-useless-assignment
  got = null;
  // This boot's readings stamped with uptime, fixed up (in their files) once the clock syncs.
  let untimedFrom = -1;
  let untimedTo = -1;
  // The newest of them as push returned it, and its stamp: fixed in place too.
  let lastRec: QueueRecord | null = null;
  let lastStamp = "";

  function totalBytes(): number {
    let n = evBytes;
    for (let i = 0; i < segs.length; i++) n += segs[i].bytes + segs[i].ackBytes;
    return n;
  }

  function evictOldest(): void {
    const n = rangeCount(segs[0].p);
    if (n) {
      const line = frame(segs[0].f + "," + n);
      // Logged before the erase: a reboot in between finishes the eviction instead of recounting.
      if (store.append(evName, line)) evBytes += line.length;
      evicted += n;
    }
    dropSeg(store, pre, segs, 0);
  }

  function segOf(seq: number): Seg | null {
    for (let i = segs.length - 1; i >= 0; i--) if (segs[i].f <= seq) return segs[i];
    return null;
  }

  // Once the clock syncs, append a fix line to each segment holding this boot's uptime stamps.
  function fixTimes(): void {
    const off = bootOffsetMs(clock);
    if (untimedFrom < 0 || off < 0) return;
    const line = frame("T" + untimedFrom + "-" + untimedTo + "+" + off);
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      const end = i + 1 < segs.length ? segs[i + 1].f - 1 : untimedTo;
      if (s.f > untimedTo || end < untimedFrom) continue;
      if (store.append(segFile(pre, s.f), line)) s.bytes += line.length;
    }
    untimedFrom = -1;
    // (untimedFrom < 0 keeps this from running again until a new untimed push sets lastRec)
    if (lastRec) {
      lastRec.timeMs = resolveMs(lastStamp, off);
      lastRec.awaitingTime = false;
    }
  }

  function push(params: { [name: string]: number }): QueueRecord | null {
    fixTimes();
    for (const k in params) {
      const v = params[k];
      if (typeof v !== "number" || v !== v || v === Infinity || v === -Infinity) return null;
    }
    const json = JSON.stringify(params);
    if (json.indexOf("\xff") >= 0) return null;
    const seq = nextSeq;
    const id = opts.nextId ? opts.nextId() : "";
    const stamp = stampText(clock);
    const line = frame(seq + "," + id + "," + stamp + "," + json);
    const prev = segs.length ? segs[segs.length - 1] : null;
    let seg = prev;
    if (!seg || (seg.bytes && seg.bytes + line.length > segMax)) {
      seg = { f: seq, bytes: 0, ackBytes: 0, p: [] };
      segs.push(seg);
    }
    while (segs.length > 1 && totalBytes() + line.length > budget) evictOldest();
    let ok = store.append(segFile(pre, seg.f), line);
    if (!ok && segs.length > 1) {
      evictOldest();
      ok = store.append(segFile(pre, seg.f), line);
    }
    if (!ok) {
      if (!seg.bytes) segs.pop();
      return null;
    }
    seg.bytes += line.length;
    rangeAddTop(seg.p, seq);
    nextSeq = seq + 1;
    // A delivered segment is erased only once a newer one holds the seq counter.
    if (prev && prev !== seg && !prev.p.length) dropSeg(store, pre, segs, segs.indexOf(prev));
    const rec = { id: id || String(seq), seq: seq, timeMs: resolveMs(stamp, -1), awaitingTime: stamp.charAt(0) === "u", params: params };
    if (rec.awaitingTime) {
      if (untimedFrom < 0) untimedFrom = seq;
      untimedTo = seq;
      lastRec = rec;
      lastStamp = stamp;
    }
    return rec;
  }

  function pending(max: number): QueueRecord[] {
    fixTimes();
    const out: QueueRecord[] = [];
    const ignore = [0];
    for (let i = 0; i < segs.length && out.length < max; i++) {
      const s = segs[i];
      if (!s.p.length) continue;
      const parsed = parseSeg(store.readLog(segFile(pre, s.f)), ignore);
      for (let j = 0; j < parsed.recs.length && out.length < max; j++) {
        const r = parsed.recs[j];
        if (!rangeHas(s.p, r.seq)) continue;
        let off = -1;
        for (let k = 0; k < parsed.fixes.length; k += 3) {
          if (r.seq >= parsed.fixes[k] && r.seq <= parsed.fixes[k + 1]) off = parsed.fixes[k + 2];
        }
        const t = resolveMs(r.stamp, off);
        out.push({
          id: r.id,
          seq: r.seq,
          timeMs: t,
          awaitingTime: !t && untimedFrom >= 0 && r.seq >= untimedFrom,
          params: JSON.parse(r.json),
        });
      }
    }
    return out;
  }

  function ack(records: QueueRecord[]): void {
    let i = 0;
    while (i < records.length) {
      const seg = segOf(records[i].seq);
      let j = i;
      // One ack line per run of consecutive seqs in one segment.
      while (j + 1 < records.length && records[j + 1].seq === records[j].seq + 1 && segOf(records[j + 1].seq) === seg) j++;
      if (seg) {
        const line = frame(records[i].seq + "-" + records[j].seq);
        if (store.append(ackFile(pre, seg.f), line)) seg.ackBytes += line.length;
        for (let k = i; k <= j; k++) rangeRemove(seg.p, records[k].seq);
        const at = segs.indexOf(seg);
        if (!seg.p.length && at < segs.length - 1) dropSeg(store, pre, segs, at);
      }
      i = j + 1;
    }
  }

  function begin(records: QueueRecord[]): string {
    const f = records[0].seq;
    const t = records[records.length - 1].seq;
    if (mark && mark.f === f && mark.t === t) return mark.id;
    // A part of the post in flight (split after a refusal) replaces it; a lone new reading (a
    // property post, the same bytes whenever it is resent) is not written: no flash per reading.
    if (records.length < 2 && !(mark && f <= mark.t && t >= mark.f)) return records[0].id;
    const id = records.length > 1 && opts.nextId ? opts.nextId() : records[0].id;
    const seg = segOf(f);
    // A torn line fails its check: the post was not sent yet, and the previous mark still holds.
    const line = frame("P" + f + "-" + t + "," + id);
    if (seg && store.append(ackFile(pre, seg.f), line)) seg.ackBytes += line.length;
    mark = { f: f, t: t, id: id };
    return id;
  }

  function inFlight(): InFlight | null {
    const recs: QueueRecord[] = [];
    const all = mark ? pending(mark.t - mark.f + 1) : recs;
    for (let i = 0; i < all.length; i++) if (all[i].seq >= mark!.f && all[i].seq <= mark!.t) recs.push(all[i]);
    // All delivered (or evicted): nothing in flight any more.
    if (!recs.length) mark = null;
    return mark ? { id: mark.id, recs: recs } : null;
  }

  function depth(): number {
    let n = 0;
    for (let i = 0; i < segs.length; i++) n += rangeCount(segs[i].p);
    return n;
  }

  function health(): QueueHealth {
    const n = depth();
    const first = n ? pending(1) : [];
    const off = bootOffsetMs(clock);
    const age = first.length && first[0].timeMs && off >= 0 ? Math.floor(clock.nowMs()) - first[0].timeMs : -1;
    return { depth: n, evicted: evicted, corrupt: bad[0], oldestAgeMs: age, bytes: totalBytes() };
  }

  return { push: push, pending: pending, ack: ack, begin: begin, inFlight: inFlight, fixTimes: fixTimes, depth: depth, health: health };
}
