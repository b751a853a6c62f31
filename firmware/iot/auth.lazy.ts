// The /auth signer (HMAC and its hash) as a lazy part (build/lazy.ts): needed only when the
// client asks for a token, so on the device its functions exist only while the body is made.
import { authBody } from "./auth";

export function load(): { authBody: typeof authBody } {
  return { authBody: authBody };
}
