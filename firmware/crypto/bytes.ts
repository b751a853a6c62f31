// Byte-string helpers: hex output and UTF-8 encoding (Espruino strings are 8-bit, so UTF-8 is explicit).

/** Lowercase hex of a byte string. */
export function toHex(bytes: string): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (256 + bytes.charCodeAt(i)).toString(16).substr(1);
  return s;
}

/** UTF-8 bytes of a string of UTF-16 code units; a lone surrogate becomes U+FFFD. */
export function utf8Encode(str: string): string {
  let out = "";
  for (let i = 0; i < str.length; i++) {
    let c = str.charCodeAt(i);
    if (c < 0x80) {
      out += str[i];
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      const d = str.charCodeAt(i + 1);
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else c = 0xfffd;
    }
    out += c < 0x800
      ? String.fromCharCode(0xc0 | c >> 6, 0x80 | c & 63)
      : c < 0x10000
        ? String.fromCharCode(0xe0 | c >> 12, 0x80 | c >> 6 & 63, 0x80 | c & 63)
        : String.fromCharCode(0xf0 | c >> 18, 0x80 | c >> 12 & 63, 0x80 | c >> 6 & 63, 0x80 | c & 63);
  }
  return out;
}
