// TEMPORARY entry of dist/firmware.js until the firmware's duty cycle lands: a boot self-check
// that tests the built-in HMAC against the platform's vectors and signs the stored config.
import { hmacHex, signMethodBuilt } from "../../firmware/crypto/hmac";

declare function require(name: string): { readJSON(name: string, noExceptions: boolean): unknown };
declare const console: { log(...args: unknown[]): void };

// alibaba-http.md auth vectors: key "secret" over the sorted trituple string.
const MSG = "clientId12345deviceNamedeviceproductKeypktimestamp789";
const VECTORS: { [method: string]: string } = {
  hmacsha1: "fafd82a3d602b37fb0fa8b7892f24a477f851a14",
  hmacmd5: "14b198324fe55e1d3c88f2e705e201ee",
  hmacsha256: "6074a46a91b1ebb2cc4ea42790ad0e80202c9843859fc292e57c4eb19fad9e57",
};

function selfCheck(): void {
  for (const m in VECTORS) {
    if (signMethodBuilt(m)) console.log("selftest " + m + " " + (hmacHex(m, "secret", MSG) == VECTORS[m] ? "ok" : "FAIL"));
  }
  const cfg = require("Storage").readJSON("iot.json", true) as
    { productKey?: string; deviceName?: string; deviceSecret?: string; signMethod?: string } | undefined;
  if (!cfg || !cfg.productKey || !cfg.deviceName || !cfg.deviceSecret) {
    console.log("config: iot.json missing or without productKey/deviceName/deviceSecret");
    return;
  }
  const method = cfg.signMethod || "hmacsha1";
  try {
    const sign = hmacHex(method, cfg.deviceSecret, "clientId" + cfg.productKey + "." + cfg.deviceName +
      "deviceName" + cfg.deviceName + "productKey" + cfg.productKey);
    // The sign is a credential: log its length only.
    console.log("config ok: " + method + " sign of " + sign.length + " hex chars");
  } catch (e) {
    console.log("config: " + (e as Error).message);
  }
}

selfCheck();
