// Entry of dist/core.js: the engine-neutral core as the global IotCore (one export line per owner).
export { hmacHex, signMethodBuilt } from "./crypto/hmac";
export { sha1Hex, createSha1 } from "./crypto/sha1";
export { utf8Encode, toHex } from "./crypto/bytes";
export { decodeDht22 } from "../sensors/dht22";
export { authBody } from "./iot/auth";
export { lmsVerify, hssVerify } from "./crypto/lms";
export { sha256 } from "./crypto/sha256";
