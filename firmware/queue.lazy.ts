// The flash queue's operations (firmware/queue.ts) as a lazy part (build/lazy.ts): made for each
// use and dropped, so while a request is open RAM holds only the queue's state record.
import { ack, begin, depth, fixTimes, health, inFlight, openQueue, pending, push } from "./queue";

export function load(): {
  openQueue: typeof openQueue;
  push: typeof push;
  pending: typeof pending;
  ack: typeof ack;
  begin: typeof begin;
  inFlight: typeof inFlight;
  fixTimes: typeof fixTimes;
  depth: typeof depth;
  health: typeof health;
} {
  return { openQueue: openQueue, push: push, pending: pending, ack: ack, begin: begin, inFlight: inFlight, fixTimes: fixTimes, depth: depth, health: health };
}
