// The reply reader (strict JSON, Date header, messageId, printable errors) as a lazy part
// (build/lazy.ts): on the device it exists only while a reply is read, not while the request
// and its TLS socket are open.
import { parseReply } from "./http";

export function load(): { parseReply: typeof parseReply } {
  return { parseReply: parseReply };
}
