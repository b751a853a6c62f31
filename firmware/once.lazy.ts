// What a boot reads once from Storage (the schedule, the backoff) as a lazy part
// (build/lazy.ts): made for those calls and dropped, so none of these functions is in RAM while
// the cycle runs.
import { dueInMs, readSchedule } from "./app";
import { restoreHold } from "./iot/client";

export function load(): { dueInMs: typeof dueInMs; readSchedule: typeof readSchedule; restoreHold: typeof restoreHold } {
  return { dueInMs: dueInMs, readSchedule: readSchedule, restoreHold: restoreHold };
}
