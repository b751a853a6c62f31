// The OTA trial check (firmware/ota-trial.ts, with the slot records it reads) as a lazy part
// (build/lazy.ts): made at boot to read the trial, and once per cycle for its health check, only
// when `otaUrl` is set; a device without OTA never has its functions in RAM.
import { createTrial, trialHealth } from "./ota-trial";

export function load(): { createTrial: typeof createTrial; trialHealth: typeof trialHealth } {
  return { createTrial: createTrial, trialHealth: trialHealth };
}
