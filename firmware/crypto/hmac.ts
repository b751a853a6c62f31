// HMAC (RFC 2104) for the platform's signmethods; which ones are built in is a build option.
import { Hasher } from "./md";
import { toHex } from "./bytes";
import { createSha1 } from "./sha1";
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
  let h = create();
  if (key.length > 64) {
    h.update(key);
    key = h.digest();
    h = create();
  }
  let ipad = "", opad = "";
  for (let i = 0; i < 64; i++) {
    const c = i < key.length ? key.charCodeAt(i) : 0;
    ipad += String.fromCharCode(c ^ 0x36);
    opad += String.fromCharCode(c ^ 0x5c);
  }
  h.update(ipad + msg);
  const inner = h.digest();
  h = create();
  h.update(opad + inner);
  return toHex(h.digest());
}
