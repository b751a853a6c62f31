// Breaks a minified script into short lines at safe token boundaries (after `;`, `,`, `{`, `}`),
// never inside a string, template or regular expression. Espruino puts the source line of a thrown
// error into its stack text: one caught exception in a one-line 36 KB bundle holds a copy of the
// whole bundle (about 1,900 JsVars on espruino-esp32-model, measured; 28 with short lines), which a
// stock ESP32 does not have. esbuild's own `lineLimit` is no use here: it breaks string literals with
// a backslash-newline, which Espruino reads wrongly (`typeof x!="\<newline>number"` never matches).
import * as acorn from "acorn";

/** Longest line wanted (a single longer token stays whole). */
export const MAX_LINE = 160;
const BREAK_AFTER = new Set([";", ",", "{", "}"]);

export function breakLines(code: string, maxLine: number): string {
  const out: string[] = [];
  let from = 0;
  let lineStart = 0;
  let prev: acorn.Token | null = null;
  for (const t of acorn.tokenizer(code, { ecmaVersion: "latest", allowHashBang: true, allowReturnOutsideFunction: true })) {
    // Not before a postfix ++/-- (ASI would make it prefix), and not after the `}` that closes a
    // template substitution (the next token is template text: a newline there would be data).
    const next = t.type.label;
    if (prev && t.start - lineStart > maxLine && BREAK_AFTER.has(prev.type.label) && next !== "++/--" && next !== "template" && next !== "`" &&
      code.charAt(prev.end) !== "\n") {
      out.push(code.slice(from, prev.end), "\n");
      from = prev.end;
      lineStart = prev.end;
    }
    const nl = code.lastIndexOf("\n", t.end - 1);
    if (nl >= lineStart) lineStart = nl + 1;
    prev = t;
  }
  out.push(code.slice(from));
  return out.join("");
}
