// Flash-backed store-and-forward queue of readings: append-only segment logs over hal.Store that
// survive reboot, deep sleep and power loss at any instant, bounded by a byte budget.
//
// API (for the duty cycle): a queue is a state record the caller keeps; the operations are
// functions of this module, on the device a lazy part made for each use (queue.lazy.ts), so none
// of them is in RAM while a request is open.
//   const q = openQueue(hal.store, hal.clock, {budgetBytes: 16384, segmentBytes: 2048});
//   push(q, {temperature: 23.5, humidity: 61.2})  // BEFORE any network attempt -> QueueRecord | null
//   pending(q, max)    // oldest undelivered records, in order; id and stamp fixed at enqueue
//   ack(q, records)    // after the platform answered code 0 for them
//   begin(q, records)  // just before sending them: the post's Alink id (its composition kept in flash)
//   inFlight(q)        // {id, recs}: the post whose outcome is unknown, to resend exactly, or null
//   depth(q)           // undelivered count, no flash read
//   health(q)          // {depth, evicted, corrupt, oldestAgeMs, bytes}: report and log it
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

/** The post in flight: first and last seq and its Alink id. */
interface Mark {
  f: number;
  t: number;
  id: string;
}

/**
 * An open queue (openQueue): what its operations share, kept by the caller between them. Short
 * field names: on Espruino a name over 8 characters takes a JsVar more.
 */
export interface Queue {
  store: Store;
  clock: Clock;
  /** File name prefix, byte budget, bytes per segment, eviction log's name, Alink id source. */
  pre: string;
  budget: number;
  segMax: number;
  evName: string;
  nextId?: () => string;
  /** Lines that failed their check when the queue was opened (bad[0]). */
  bad: number[];
  segs: Seg[];
  evicted: number;
  evBytes: number;
  nextSeq: number;
  /**
   * The post in flight. A resend after an unknown outcome must be the same message: an id that
   * came back with more readings could be dropped whole by a platform that de-duplicates by id.
   * Kept in the ack log of its first reading's segment.
   */
  mark: Mark | null;
  /** This boot's readings stamped with uptime (first and last seq, uFrom -1 when none), fixed up in their files once the clock syncs. */
  uFrom: number;
  uTo: number;
  /** The newest of them as push returned it, and its stamp: fixed in place too. */
  last: QueueRecord | null;
  stamp: string;
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
  mark: Mark | null;
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
  let mark: Mark | null = null;
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
  const evName = pre + "e";
  const bad = [0];
  const got = recover(store, pre, evName, bad);
  return {
    store: store, clock: clock, pre: pre, budget: opts.budgetBytes, segMax: Math.min(opts.segmentBytes, Math.floor(opts.budgetBytes / 2)),
    evName: evName, nextId: opts.nextId, bad: bad, segs: got.segs, evicted: got.evicted, evBytes: got.evBytes, nextSeq: got.nextSeq,
    mark: got.mark, uFrom: -1, uTo: -1, last: null, stamp: "",
  };
}

function totalBytes(q: Queue): number {
  let n = q.evBytes;
  for (let i = 0; i < q.segs.length; i++) n += q.segs[i].bytes + q.segs[i].ackBytes;
  return n;
}

function evictOldest(q: Queue): void {
  const segs = q.segs;
  const n = rangeCount(segs[0].p);
  if (n) {
    const line = frame(segs[0].f + "," + n);
    // Logged before the erase: a reboot in between finishes the eviction instead of recounting.
    if (q.store.append(q.evName, line)) q.evBytes += line.length;
    q.evicted += n;
  }
  dropSeg(q.store, q.pre, segs, 0);
}

function segOf(q: Queue, seq: number): Seg | null {
  for (let i = q.segs.length - 1; i >= 0; i--) if (q.segs[i].f <= seq) return q.segs[i];
  return null;
}

/** Once the clock syncs: a fix line in each segment holding this boot's uptime stamps (push and pending call it). */
export function fixTimes(q: Queue): void {
  const off = bootOffsetMs(q.clock);
  if (q.uFrom < 0 || off < 0) return;
  const segs = q.segs;
  const line = frame("T" + q.uFrom + "-" + q.uTo + "+" + off);
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    const end = i + 1 < segs.length ? segs[i + 1].f - 1 : q.uTo;
    if (s.f > q.uTo || end < q.uFrom) continue;
    if (q.store.append(segFile(q.pre, s.f), line)) s.bytes += line.length;
  }
  q.uFrom = -1;
  // (uFrom < 0 keeps this from running again until a new untimed push sets `last`)
  if (q.last) {
    q.last.timeMs = resolveMs(q.stamp, off);
    q.last.awaitingTime = false;
  }
}

/** Stores a reading (call it before any network attempt); null when it cannot be stored. */
export function push(q: Queue, params: { [name: string]: number }): QueueRecord | null {
  fixTimes(q);
  for (const k in params) {
    const v = params[k];
    if (typeof v !== "number" || v !== v || v === Infinity || v === -Infinity) return null;
  }
  const json = JSON.stringify(params);
  if (json.indexOf("\xff") >= 0) return null;
  const segs = q.segs;
  const seq = q.nextSeq;
  const id = q.nextId ? q.nextId() : "";
  const stamp = stampText(q.clock);
  const line = frame(seq + "," + id + "," + stamp + "," + json);
  const prev = segs.length ? segs[segs.length - 1] : null;
  let seg = prev;
  if (!seg || (seg.bytes && seg.bytes + line.length > q.segMax)) {
    seg = { f: seq, bytes: 0, ackBytes: 0, p: [] };
    segs.push(seg);
  }
  while (segs.length > 1 && totalBytes(q) + line.length > q.budget) evictOldest(q);
  let ok = q.store.append(segFile(q.pre, seg.f), line);
  if (!ok && segs.length > 1) {
    evictOldest(q);
    ok = q.store.append(segFile(q.pre, seg.f), line);
  }
  if (!ok) {
    if (!seg.bytes) segs.pop();
    return null;
  }
  seg.bytes += line.length;
  rangeAddTop(seg.p, seq);
  q.nextSeq = seq + 1;
  // A delivered segment is erased only once a newer one holds the seq counter.
  if (prev && prev !== seg && !prev.p.length) dropSeg(q.store, q.pre, segs, segs.indexOf(prev));
  const rec = { id: id || String(seq), seq: seq, timeMs: resolveMs(stamp, -1), awaitingTime: stamp.charAt(0) === "u", params: params };
  if (rec.awaitingTime) {
    if (q.uFrom < 0) q.uFrom = seq;
    q.uTo = seq;
    q.last = rec;
    q.stamp = stamp;
  }
  return rec;
}

/** The oldest undelivered records, at most `max`, in order; id and stamp as fixed at enqueue. */
export function pending(q: Queue, max: number): QueueRecord[] {
  fixTimes(q);
  const out: QueueRecord[] = [];
  const ignore = [0];
  for (let i = 0; i < q.segs.length && out.length < max; i++) {
    const s = q.segs[i];
    if (!s.p.length) continue;
    const parsed = parseSeg(q.store.readLog(segFile(q.pre, s.f)), ignore);
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
        awaitingTime: !t && q.uFrom >= 0 && r.seq >= q.uFrom,
        params: JSON.parse(r.json),
      });
    }
  }
  return out;
}

/** After the platform answered code 0 for `records`. */
export function ack(q: Queue, records: QueueRecord[]): void {
  const segs = q.segs;
  let i = 0;
  while (i < records.length) {
    const seg = segOf(q, records[i].seq);
    let j = i;
    // One ack line per run of consecutive seqs in one segment.
    while (j + 1 < records.length && records[j + 1].seq === records[j].seq + 1 && segOf(q, records[j + 1].seq) === seg) j++;
    if (seg) {
      const line = frame(records[i].seq + "-" + records[j].seq);
      if (q.store.append(ackFile(q.pre, seg.f), line)) seg.ackBytes += line.length;
      for (let k = i; k <= j; k++) rangeRemove(seg.p, records[k].seq);
      const at = segs.indexOf(seg);
      if (!seg.p.length && at < segs.length - 1) dropSeg(q.store, q.pre, segs, at);
    }
    i = j + 1;
  }
}

/** Alink id of a post of `records` about to be sent; a post of several (or a part of the post in flight) is kept in flash first. */
export function begin(q: Queue, records: QueueRecord[]): string {
  const f = records[0].seq;
  const t = records[records.length - 1].seq;
  const mark = q.mark;
  if (mark && mark.f === f && mark.t === t) return mark.id;
  // A part of the post in flight (split after a refusal) replaces it; a lone new reading (a
  // property post, the same bytes whenever it is resent) is not written: no flash per reading.
  if (records.length < 2 && !(mark && f <= mark.t && t >= mark.f)) return records[0].id;
  const id = records.length > 1 && q.nextId ? q.nextId() : records[0].id;
  const seg = segOf(q, f);
  // A torn line fails its check: the post was not sent yet, and the previous mark still holds.
  const line = frame("P" + f + "-" + t + "," + id);
  if (seg && q.store.append(ackFile(q.pre, seg.f), line)) seg.ackBytes += line.length;
  q.mark = { f: f, t: t, id: id };
  return id;
}

/** The post begun and not yet acked, to be resent exactly (same readings, same id), or null. Call before begin. */
export function inFlight(q: Queue): InFlight | null {
  const mark = q.mark;
  const recs: QueueRecord[] = [];
  const all = mark ? pending(q, mark.t - mark.f + 1) : recs;
  for (let i = 0; i < all.length; i++) if (all[i].seq >= mark!.f && all[i].seq <= mark!.t) recs.push(all[i]);
  // All delivered (or evicted): nothing in flight any more.
  if (!recs.length) q.mark = null;
  return q.mark ? { id: q.mark.id, recs: recs } : null;
}

/** Undelivered readings (cheap: no flash read). */
export function depth(q: Queue): number {
  let n = 0;
  for (let i = 0; i < q.segs.length; i++) n += rangeCount(q.segs[i].p);
  return n;
}

export function health(q: Queue): QueueHealth {
  const n = depth(q);
  const first = n ? pending(q, 1) : [];
  const off = bootOffsetMs(q.clock);
  const age = first.length && first[0].timeMs && off >= 0 ? Math.floor(q.clock.nowMs()) - first[0].timeMs : -1;
  return { depth: n, evicted: q.evicted, corrupt: q.bad[0], oldestAgeMs: age, bytes: totalBytes(q) };
}
