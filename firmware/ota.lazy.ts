// The OTA updater (manifest check, download, LMS signature check, trial and rollback reports) as
// a lazy part (build/lazy.ts): a device without `otaUrl` never makes its functions.
import { createOta } from "./ota";

export function load(): { createOta: typeof createOta } {
  return { createOta: createOta };
}
