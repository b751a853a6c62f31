// HMAC (RFC 2104) for the platform's signmethods; which ones are built in is a build option.
import { Hasher } from "./md";
import { createSha1, ZEROS } from "./sha1";
import { createMd5 } from "./md5";
import { createSha256 } from "./sha256";

// Set by the build (esbuild `define`); a constant false drops that hash from the bundle.
// Undefined (tests running the sources) means built in.
declare const SIGN_HMACSHA1: boolean;
declare const SIGN_HMACMD5: boolean;
declare const SIGN_HMACSHA256: boolean;

// The build flag comes first so that a constant false folds the whole test away.
function hasherFor(method: string): (() => Hasher) | null {
  return (typeof SIGN_HMACSHA1 == "undefined" || SIGN_HMACSHA1) && method == "hmacsha1" ? createSha1
    : (typeof SIGN_HMACMD5 == "undefined" || SIGN_HMACMD5) && method == "hmacmd5" ? createMd5
      : (typeof SIGN_HMACSHA256 == "undefined" || SIGN_HMACSHA256) && method == "hmacsha256" ? createSha256
        : null;
}

/** True when `method` (hmacsha1 | hmacmd5 | hmacsha256) is in this build. */
export function signMethodBuilt(method: string): boolean {
  return !!hasherFor(method);
}

/** HMAC of byte strings as lowercase hex; throws an Error naming `method` when it is not built in. */
export function hmacHex(method: string, key: string, msg: string): string {
  const create = hasherFor(method);
  if (!create) throw new Error("sign method not built in: " + method);
  if (key.length > 64) key = create().update(key).digest();
  key = (key + ZEROS).substr(0, 64);
  // The key block XOR ipad/opad, applied to whole words by the hasher: no per-byte pad strings.
  return create().update(key, 0x5c5c5c5c).update(create().update(key, 0x36363636).update(msg).digest()).digestHex();
}
