// The sensor side of a cycle as a lazy part (build/lazy.ts): the DHT22 driver, its decoder and
// the plausibility checks exist on the device only while a reading is taken; the cycle drops
// them before it goes on the network when this boot ends after the cycle (firmware/app.ts).
import { createDht22 } from "./driver";
import { chain, createHealth, modelRange, rateCheck } from "./validate";

export function load(): { createDht22: typeof createDht22; chain: typeof chain; modelRange: typeof modelRange; rateCheck: typeof rateCheck; createHealth: typeof createHealth } {
  return { createDht22: createDht22, chain: chain, modelRange: modelRange, rateCheck: rateCheck, createHealth: createHealth };
}
