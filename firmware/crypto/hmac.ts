// HMAC (RFC 2104) for the platform's signmethods; which ones are built in is a build option.
import { Hasher } from "./md";
import { createSha1 } from "./sha1";
import { createMd5 } from "./md5";
import { createSha256 } from "./sha256";

// Set by the build (esbuild `define`); a constant false drops that hash from the bundle.
// Undefined (tests running the sources) means built in.
declare const SIGN_HMACSHA1: boolean;
declare const SIGN_HMACMD5: boolean;
declare const SIGN_HMACSHA256: boolean;

// The build flag comes first so that a constant false folds the whole test away.
const hasherFor = (method: string): (() => Hasher) | false =>
  (typeof SIGN_HMACSHA1 == "undefined" || SIGN_HMACSHA1) && method == "hmacsha1" ? createSha1
    : (typeof SIGN_HMACMD5 == "undefined" || SIGN_HMACMD5) && method == "hmacmd5" ? createMd5
      : (typeof SIGN_HMACSHA256 == "undefined" || SIGN_HMACSHA256) && method == "hmacsha256" ? createSha256
        : false;

/**
 * True when `method` (hmacsha1 | hmacmd5 | hmacsha256) is in this build. From the build flags
 * alone, so that asking (the config check) does not bring a hash into the bundle.
 */
export const signMethodBuilt = (method: string): boolean =>
  ((typeof SIGN_HMACSHA1 == "undefined" || SIGN_HMACSHA1) && method == "hmacsha1") ||
  ((typeof SIGN_HMACMD5 == "undefined" || SIGN_HMACMD5) && method == "hmacmd5") ||
  ((typeof SIGN_HMACSHA256 == "undefined" || SIGN_HMACSHA256) && method == "hmacsha256");

/** HMAC of byte strings as lowercase hex; throws an Error naming `method` when it is not built in. */
export const hmacHex = (method: string, key: string, msg: string): string => {
  const create = hasherFor(method);
  // A new hash of the key block XOR the `pad` byte (zero-padded and XORed in whole words by the
  // hasher: no per-byte pad strings), then `data`. Without a pad it hashes a long key as plain data.
  // Only called once `create` is known.
  const keyed = (data: string, pad?: number) => (create as () => Hasher)().update(key, pad).update(data);
  if (!create) throw new Error("sign method not built in: " + method);
  if (key.length > 64) key = keyed("").digest();
  return keyed(keyed(msg, 0x36).digest(), 0x5c).digestHex();
};
