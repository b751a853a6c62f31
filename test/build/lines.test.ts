// build/lines.ts: the bundle in short lines, broken only where a newline cannot change the program.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as acorn from "acorn";
import { breakLines, MAX_LINE } from "../../build/lines";

function tokens(code: string): string[] {
  const out: string[] = [];
  for (const t of acorn.tokenizer(code, { ecmaVersion: "latest" })) out.push(t.type.label + ":" + String((t as unknown as { value?: unknown }).value ?? ""));
  return out;
}

describe("build: short lines for the interpreter's error stacks", () => {
  it("keeps every token, string and regex whole, and breaks long lines", () => {
    const long = "var a=" + JSON.stringify("x".repeat(300)) + ";" + Array.from({ length: 200 }, (_, i) => `if(typeof v${i}!="number"){f(/a;b{c}/g,"s;{},",\`t;\${x},{}\`)}`).join("");
    const out = breakLines(long, 80);
    assert.deepEqual(tokens(out), tokens(long));
    assert.ok(out.split("\n").length > 50, "not broken");
    for (const line of out.split("\n").slice(1)) assert.ok(line.length <= 80 + 60, "line of " + line.length);
    assert.ok(!/\\\n/.test(out), "a backslash-newline (string continuation) in the output");
  });

  it("never puts a newline before a postfix ++ or after return", () => {
    const code = Array.from({ length: 100 }, () => "function f(){x,y;return{a:1};}z={b:2}\n++q;").join("");
    const out = breakLines(code, 10);
    assert.deepEqual(tokens(out), tokens(code));
    assert.ok(!/return\n/.test(out));
    // the program means the same: esbuild prints both alike
    assert.equal(new Function(out).toString().replace(/\s+/g, ""), new Function(code).toString().replace(/\s+/g, ""));
  });

  it("dist/firmware.js has no line over the limit but single long tokens", () => {
    const fw = path.join(__dirname, "..", "..", "dist", "firmware.js");
    const lines = fs.readFileSync(fw, "latin1").split("\n");
    assert.ok(lines.length > 100);
    const over = lines.filter((l) => l.length > MAX_LINE + 200);
    assert.deepEqual(over.map((l) => l.slice(0, 60)), []);
  });
});
