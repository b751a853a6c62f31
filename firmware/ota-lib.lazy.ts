// What the OTA updater (firmware/ota.ts) uses at one step only, as a lazy part (build/lazy.ts):
// the manifest parser and version order, the LMS signature check, the image hash in hex, and the
// report writers. Made for each use and dropped, so none of it is in RAM through the update's
// requests. The updater gets this load() from its caller (createOta's `lib`): a part loaded from
// inside another part would be nested in it.
import { hashHex, parseManifest, signatureBytes, signatureGood, versionNewer } from "./ota";
import { otaInform, otaProgress, topics } from "./iot/alink";

export interface OtaLib {
  parseManifest: typeof parseManifest;
  versionNewer: typeof versionNewer;
  signatureBytes: typeof signatureBytes;
  signatureGood: typeof signatureGood;
  hashHex: typeof hashHex;
  otaInform: typeof otaInform;
  otaProgress: typeof otaProgress;
  topics: typeof topics;
}

export function load(): OtaLib {
  return { parseManifest: parseManifest, versionNewer: versionNewer, signatureBytes: signatureBytes, signatureGood: signatureGood, hashHex: hashHex, otaInform: otaInform, otaProgress: otaProgress, topics: topics };
}
