// The signed body of `POST /auth` (alibaba-http.md section 1).
import { hmacHex } from "../crypto/hmac";

/** The device's "trituple" and its sign method (hmacsha1 when absent). */
export interface Device {
  productKey: string;
  deviceName: string;
  deviceSecret: string;
  signMethod?: string;
}

/** The platform accepts at most 64 characters of clientId. */
export const CLIENT_ID_MAX = 64;

/**
 * String to sign: the submitted fields except sign/signmethod/version, keys sorted, each key
 * followed by its value. The timestamp is signed only when it is sent.
 */
export function signContent(productKey: string, deviceName: string, clientId: string, timestamp?: string): string {
  return "clientId" + clientId + "deviceName" + deviceName + "productKey" + productKey +
    (timestamp ? "timestamp" + timestamp : "");
}

/**
 * JSON text of the `/auth` body. `clientId` is cut to 64 characters; `timestamp` (epoch ms) is
 * sent only when given, i.e. when the device clock is synced, since the platform rejects one that
 * is more than 15 minutes off. Throws when the sign method is not built into firmware/crypto.
 */
export function authBody(device: Device, clientId: string, timestamp?: number): string {
  const method = device.signMethod || "hmacsha1";
  const id = clientId.substr(0, CLIENT_ID_MAX);
  const ts = timestamp ? String(Math.floor(timestamp)) : "";
  const sign = hmacHex(method, device.deviceSecret, signContent(device.productKey, device.deviceName, id, ts));
  // Field order of the platform's documented example; timestamp added only when signed.
  const body: { [k: string]: string } = {
    version: "default",
    clientId: id,
    signmethod: method,
    sign: sign,
    productKey: device.productKey,
    deviceName: device.deviceName,
  };
  if (ts) body.timestamp = ts;
  return JSON.stringify(body);
}
