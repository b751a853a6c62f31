// The OTA trial check (firmware/ota-trial.ts, with the slot records it reads) as a lazy part
// (build/lazy.ts): made at boot only when `otaUrl` is set; a device without OTA never has its
// functions in RAM.
import { createTrial } from "./ota-trial";

export function load(): { createTrial: typeof createTrial } {
  return { createTrial: createTrial };
}
