// Espruino's JSON, as measured on the real interpreter (2v29, ESP32 model; docs/espruino-quirks.md),
// for the emulated device: its JSON.parse reads the JavaScript lexer's tokens, so it is far more
// lenient than V8's, and Storage.writeJSON writes unquoted keys that only Storage.readJSON reads back.
//
// Modelled: text after the first value is ignored (`{"code":0}xyz`); trailing commas; comments;
// single-quoted strings and JavaScript escapes (\x41, \v, \0, \q -> q); hex, octal (010), binary
// numbers, `.5`, `1.`; integer literals wrap at 64 bits (18446744073709551621 -> 5); `\uXXXX`
// keeps its low byte (ESP32 strings are byte strings); a repeated key keeps its FIRST value; a
// `"__proto__"` key with an object value becomes the prototype; readJSON (liberal) also takes
// identifier and integer keys. Error messages follow Espruino's ("Got ID:code expected STRING").

/** Makes objects, arrays and errors of the device's realm (instanceof must hold inside the context). */
export interface Realm {
  obj(): Record<string, unknown>;
  arr(): unknown[];
  syntaxError(msg: string): Error;
}

export const hostRealm: Realm = {
  obj: () => ({}),
  arr: () => [],
  syntaxError: (m) => new SyntaxError(m),
};

type Tok = { t: "str" | "num" | "int" | "id" | "ch" | "eof"; v: string | number };

const ID_START = /[A-Za-z_$]/;
const ID_PART = /[A-Za-z0-9_$]/;

/** Espruino's JSON.parse (liberal = false) or Storage.readJSON's parser (liberal = true). */
export function espruinoParse(text: string, liberal: boolean, realm: Realm = hostRealm): unknown {
  const s = String(text);
  let i = 0;
  let tok: Tok = { t: "eof", v: "" };
  const fail = (msg: string): never => {
    throw realm.syntaxError(msg);
  };
  const describe = (k: Tok): string =>
    k.t === "eof" ? "EOF" : k.t === "str" ? "String:'" + k.v + "'" : k.t === "id" ? "ID:" + k.v : k.t === "ch" ? "'" + k.v + "'" : k.t === "int" ? "INT" : "FLOAT";

  function next(): void {
    for (;;) {
      while (i < s.length && s.charCodeAt(i) <= 32) i++;
      if (s.startsWith("//", i)) {
        while (i < s.length && s[i] !== "\n") i++;
      } else if (s.startsWith("/*", i)) {
        const e = s.indexOf("*/", i + 2);
        i = e < 0 ? s.length : e + 2;
      } else break;
    }
    if (i >= s.length) {
      tok = { t: "eof", v: "" };
      return;
    }
    const c = s[i];
    if (c === '"' || c === "'") {
      let out = "";
      i++;
      for (;;) {
        if (i >= s.length || s[i] === "\n") fail("Expecting valid value, got UNFINISHED STRING");
        let ch = s[i++];
        if (ch === c) break;
        if (ch === "\\") {
          const e = s[i++];
          const hex = (n: number) => {
            const h = s.substr(i, n);
            i += n;
            return /^[0-9a-fA-F]+$/.test(h) ? parseInt(h, 16) : 0;
          };
          if (e === "n") ch = "\n";
          else if (e === "t") ch = "\t";
          else if (e === "r") ch = "\r";
          else if (e === "b") ch = "\b";
          else if (e === "f") ch = "\f";
          else if (e === "v") ch = "\v";
          else if (e === "0") ch = "\0";
          else if (e === "x") ch = String.fromCharCode(hex(2));
          // ESP32: strings hold bytes, a \u escape keeps only the low byte of its code
          else if (e === "u") ch = String.fromCharCode(hex(4) & 255);
          else ch = e === undefined ? "" : e;
        }
        out += String.fromCharCode(ch.charCodeAt(0) & 255) + ch.slice(1);
      }
      tok = { t: "str", v: out };
      return;
    }
    if (/[0-9.]/.test(c) && !(c === "." && !/[0-9]/.test(s[i + 1] || ""))) {
      const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]+)?)/.exec(s.slice(i))!;
      const lit = m[1];
      i += lit.length;
      if (/^0[xXbBoO]/.test(lit)) tok = { t: "int", v: Number(BigInt.asIntN(64, BigInt(lit))) };
      else if (/^0[0-9]+$/.test(lit)) tok = { t: "int", v: parseInt(lit, 8) || 0 };
      // an integer literal is read into a 64-bit integer: it wraps
      else if (/^[0-9]+$/.test(lit)) tok = { t: "int", v: Number(BigInt.asIntN(64, BigInt(lit))) };
      else tok = { t: "num", v: parseFloat(lit) };
      return;
    }
    if (ID_START.test(c)) {
      let j = i;
      while (j < s.length && ID_PART.test(s[j])) j++;
      tok = { t: "id", v: s.slice(i, j) };
      i = j;
      return;
    }
    i++;
    tok = { t: "ch", v: c };
  }

  const isCh = (c: string) => tok.t === "ch" && tok.v === c;
  function expect(c: string): void {
    if (!isCh(c)) fail("Got " + describe(tok) + " expected '" + c + "'");
    next();
  }

  function value(): unknown {
    if (tok.t === "str" || tok.t === "num" || tok.t === "int") {
      const v = tok.v;
      next();
      return v;
    }
    if (isCh("-")) {
      next();
      if ((tok as Tok).t !== "num" && (tok as Tok).t !== "int") return NaN;
      const v = -(tok.v as number);
      next();
      return v;
    }
    if (tok.t === "id" && (tok.v === "true" || tok.v === "false" || tok.v === "null")) {
      const v = tok.v === "null" ? null : tok.v === "true";
      next();
      return v;
    }
    if (isCh("{")) {
      next();
      const o = realm.obj();
      while (!isCh("}")) {
        let key: string;
        if ((tok as Tok).t === "str" || (liberal && ((tok as Tok).t === "id" || (tok as Tok).t === "int"))) key = String(tok.v);
        else return fail("Got " + describe(tok) + " expected STRING");
        next();
        expect(":");
        const v = value();
        if (key === "__proto__") {
          if (v !== null && typeof v === "object") Object.setPrototypeOf(o, v as object);
        } else if (!Object.prototype.hasOwnProperty.call(o, key)) {
          // Espruino keeps both entries and a lookup finds the first
          o[key] = v;
        }
        if (!isCh("}")) expect(",");
      }
      next();
      return o;
    }
    if (isCh("[")) {
      next();
      const a = realm.arr();
      while (!isCh("]")) {
        a.push(value());
        if (!isCh("]")) expect(",");
      }
      next();
      return a;
    }
    return fail("Expecting valid value, got " + (tok.t === "eof" ? "EOF" : tok.t === "id" ? (tok.v === "undefined" ? "undefined" : "ID") : tok.t === "ch" ? "'" + tok.v + "'" : describe(tok)));
  }

  next();
  // whatever follows the first value is never looked at
  return value();
}

/** A key as Storage.writeJSON writes it: bare when an identifier ([A-Za-z_][A-Za-z0-9_]*) or digits. */
function keyText(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /^[0-9]+$/.test(k) ? k : stringText(k);
}

/** A string as Espruino writes it: a byte string, bytes above 0x7E as \xHH. */
function stringText(v: string): string {
  let out = '"';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) & 255;
    const ch = String.fromCharCode(c);
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 32 || c > 126) out += "\\x" + (c + 256).toString(16).slice(1).toUpperCase();
    else out += ch;
  }
  return out + '"';
}

/** Storage.writeJSON's text: Espruino's JSON notation with bare keys (`{productKey:"a1",interval:5}`). */
export function writeJsonText(v: unknown): string | undefined {
  if (v === null) return "null";
  if (typeof v === "string") return stringText(v);
  if (typeof v === "number") return isFinite(v) ? String(v) : "null";
  if (typeof v === "boolean") return String(v);
  if (typeof v !== "object" || typeof v === "function") return undefined;
  if (Array.isArray(v)) return "[" + v.map((x) => writeJsonText(x) ?? "null").join(",") + "]";
  const o = v as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(o)) {
    const t = writeJsonText(o[k]);
    if (t !== undefined) parts.push(keyText(k) + ":" + t);
  }
  return "{" + parts.join(",") + "}";
}
