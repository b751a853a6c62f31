// The config parser as a lazy part (build/lazy.ts): needed once at boot, so on the device its
// functions exist only while `load().parseConfig(...)` runs.
import { parseConfig } from "./config";

export function load(): { parseConfig: typeof parseConfig } {
  return { parseConfig: parseConfig };
}
