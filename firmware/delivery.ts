// Delivery of queued readings to the platform: realtime property posts or batched history posts,
// backlog oldest first; a reading leaves the queue only after the platform answered code 0.
//
// API (for the duty cycle):
//   const q = openQueue(hal.store, hal.clock, {budgetBytes, segmentBytes, nextId: client.nextId});
//   const d = createDelivery(client, q, {productKey, deviceName, mode: "batch", batchSize: 6, maxPostsPerCycle: 4});
//   const rec = push(q, {temperature: t, humidity: h});  // first: the reading is safe in flash
//   d.flush(rec, function (r) { log(...r); sleep(); });  // r: {posts, delivered, rejected, code, depth}
// Realtime: `rec` goes first as a property post with its time; on failure it just stays queued.
// Batch: nothing is sent until `batchSize` readings wait; then history posts of the oldest ones,
// at most 200 properties each, so one TLS handshake (one request) carries up to ~100 readings.
// Each flush sends at most `maxPostsPerCycle` posts and stops at the first failure (the client's
// backoff then decides when to try again), so a backlog drains over a few cycles while every
// cycle's fresh reading is still taken (realtime) or queued behind at most a few posts (batch).
// A post whose outcome is unknown (timeout, power cut before the ack reached flash) goes again as
// it was: same readings, times and Alink id (the queue keeps a post of several readings in flash
// before it is sent); readings queued since go in a later post with an id of its own.
import { MAX_PROPS, Props, TimedReading } from "./iot/alink";
import { load as loadAlink } from "./iot/alink.lazy";
import type { PublishResult } from "./iot/client";
import type { Queue, QueueRecord } from "./queue";
import { load as loadQueue } from "./queue.lazy";

/** The part of the IoT client delivery needs. */
export interface Publisher {
  publish(topic: string, payload: string, cb: (r: PublishResult) => void): void;
  /** A time request whose reply's Date header syncs the clock (nothing when the time is known). */
  syncTime(cb: (r: PublishResult) => void): void;
  waitMs(): number;
}

export interface DeliveryOptions {
  productKey: string;
  deviceName: string;
  /** "realtime" (a property post per reading) or "batch" (history posts of batchSize readings). */
  mode: string;
  /** Readings per history post in batch mode. */
  batchSize: number;
  /** Posts per flush at most (each is one HTTPS request). */
  maxPostsPerCycle: number;
}

export interface FlushResult {
  /** Requests made (posts attempted). */
  posts: number;
  /** Readings the platform accepted (code 0). */
  delivered: number;
  /** Readings dropped because the platform refused them for good (e.g. 10001), logged. */
  rejected: number;
  /** Code of the last attempt: 0 when all went through or nothing was due. */
  code: number;
  /** Readings still queued. */
  depth: number;
}

export const DELIVERY_DEFAULTS = { mode: "realtime", batchSize: 6, maxPostsPerCycle: 4 };

/** Property values of a record, with its time when known. */
function propsOf(r: QueueRecord): Props {
  const p: Props = {};
  for (const k in r.params) p[k] = r.timeMs ? { value: r.params[k], time: r.timeMs } : r.params[k];
  return p;
}

export function createDelivery(client: Publisher, queue: Queue, opts: DeliveryOptions, log?: (level: string, msg: string) => void) {
  // Topics and bodies are made per post (the Alink writers are a lazy part): nothing of them is
  // kept for the boot, and nothing while the request is open.
  const realtime = opts.mode === "realtime";
  // Readings per history post; halved after a batch the platform refused for good, to isolate the bad one.
  let cap = MAX_PROPS;
  // Whether this boot asked for the time (a time request answered): then a reading still without one may go so.
  let timeAsked = false;

  /** The next post: records and body, or null when nothing is due. */
  function single(r: QueueRecord) {
    const a = loadAlink();
    return { recs: [r], topic: a.topics(opts.productKey, opts.deviceName).property, body: a.propertyPost(r.id, propsOf(r)) };
  }

  function nextPost(fresh: QueueRecord | null, firstPost: boolean): { recs: QueueRecord[]; topic: string; body: string } | null {
    if (fresh && realtime) return single(fresh);
    // the queue's operations exist only for this call (a lazy part: build/lazy.ts)
    const Q = loadQueue();
    // A post whose outcome is unknown goes again as it was (unless the platform refused it: split).
    const open = Q.inFlight(queue);
    // Batch mode waits for N readings; once a flush has started it keeps draining what is left.
    if (!realtime && firstPost && !open && Q.depth(queue) < opts.batchSize) return null;
    const due = open && open.recs.length <= cap ? open.recs : Q.pending(queue, cap);
    if (!due.length) return null;
    if (due[0].awaitingTime) {
      // The clock did not sync from the time request (no Date header): one post of the freshest reading
      // without a time (the platform stamps it, off by seconds) may bring a Date; then wait.
      return firstPost ? single(fresh || due[0]) : null;
    }
    // A reading whose boot never learnt the time goes alone, without a time (never as 1970).
    if (!due[0].timeMs) return single(due[0]);
    const recs: QueueRecord[] = [];
    const rows: TimedReading[] = [];
    let props = 0;
    for (let i = 0; i < due.length && due[i].timeMs; i++) {
      const n = Object.keys(due[i].params).length;
      if (props + n > MAX_PROPS) break;
      props += n;
      recs.push(due[i]);
      rows.push({ timeMs: due[i].timeMs, values: due[i].params });
    }
    let id = recs[0].id;
    const idOf = function () {
      return id;
    };
    const a = loadAlink();
    let posts = a.historyPosts(opts.productKey, opts.deviceName, rows, idOf);
    // Over 128 KB (only with long string values): halve until one post holds them.
    while (posts.length > 1) {
      const n = Math.ceil(rows.length / 2);
      recs.splice(n, recs.length - n);
      rows.splice(n, rows.length - n);
      posts = a.historyPosts(opts.productKey, opts.deviceName, rows, idOf);
    }
    // Its composition and id go to flash first: a resend is this very post, later readings go in a later one.
    id = Q.begin(queue, recs);
    return { recs: recs, topic: a.topics(opts.productKey, opts.deviceName).history, body: a.historyPosts(opts.productKey, opts.deviceName, rows, idOf)[0] };
  }

  /** Sends what is due: `fresh` (the reading just queued, or null) first in realtime mode. */
  function flush(fresh: QueueRecord | null, done: (r: FlushResult) => void): void {
    const res: FlushResult = { posts: 0, delivered: 0, rejected: 0, code: 0, depth: 0 };
    let first = fresh;
    function finish() {
      res.depth = loadQueue().depth(queue);
      done(res);
    }
    function step() {
      const post = res.posts < opts.maxPostsPerCycle && !client.waitMs() ? nextPost(first, !res.posts) : null;
      if (!post) return finish();
      if (post.recs[0].awaitingTime && !timeAsked) {
        // Learn the time before sending a reading without one: an untimed reading resent after a
        // lost reply is stamped on arrival again, a duplicate. One time request per cold boot at most.
        client.syncTime(function (r) {
          res.code = r.code;
          if (!r.ok) return finish();
          timeAsked = true;
          loadQueue().fixTimes(queue);
          step();
        });
        return;
      }
      first = null;
      res.posts++;
      client.publish(post.topic, post.body, function (r) {
        res.code = r.code;
        if (r.ok) {
          loadQueue().ack(queue, post.recs);
          res.delivered += post.recs.length;
          return step();
        }
        if (r.retryInMs !== undefined) return finish();
        // Refused for good: split the batch to find the bad reading; a single one is dropped, logged.
        if (post.recs.length > 1) {
          cap = Math.ceil(post.recs.length / 2);
        } else {
          cap = MAX_PROPS;
          loadQueue().ack(queue, post.recs);
          res.rejected++;
          if (log) log("E", "queue: reading " + post.recs[0].id + " refused for good (code " + r.code + "), dropped");
        }
        step();
      });
    }
    step();
  }

  return { flush: flush };
}
