// The emulated device behaves like the real Espruino interpreter where V8 differs and the firmware
// can notice: every expected value below was measured on Espruino 2v29 (ESP32 model build) with
// the same expressions (docs/espruino-quirks.md). Node's own built-ins stay untouched.
import { strict as assert } from "node:assert";
import { bench } from "../../emulator/runtime/harness";
import { espruinoParse, writeJsonText } from "../../emulator/runtime/espruino-json";

/** Runs `expr` (an array literal of probes) as the device's .bootcde and returns what it printed. */
async function onDevice(expr: string): Promise<unknown> {
  const b = bench(`var out; try { out = ${expr}; } catch (e) { out = "THROW " + e.message; } console.log("Q " + JSON.stringify(out));`);
  await b.run(1000);
  const l = b.lines.filter((x) => x.startsWith("Q ")).pop();
  assert.ok(l, b.lines.join("\n"));
  return JSON.parse(l.slice(2));
}

describe("emulated Espruino quirks", function () {
  it("String.prototype.split returns [] when the separator is 2+ chars longer than the string", async function () {
    assert.deepEqual(await onDevice(`["abc".split("0123456789"), "abc".split("abcd"), "abc".split("abcde"), "".split("ab"), "".split("a"),
      "abc".split("abc"), "a,b".split(","), "x".split("abc").join("***"), "I reading 4.5".split("Sx9fLq2ZtR7wPq0dVn4K").join("***")]`),
    [[], ["abc"], [], [], [""], ["", ""], ["a", "b"], "", ""]);
    // only inside the device: Node's String is untouched
    assert.deepEqual("abc".split("0123456789"), ["abc"]);
  });

  it("JSON.parse ignores trailing text and takes trailing commas, comments, single quotes, hex and octal", async function () {
    assert.deepEqual(await onDevice(`[JSON.parse('{"code":0}xyz'), JSON.parse('{"code":0,}'), JSON.parse('[1,2,]'), JSON.parse('{/*x*/"code":0}'),
      JSON.parse("{'code':0}"), JSON.parse('{"code":0x10}'), JSON.parse('{"code":010}'), JSON.parse('{"code":0}{"code":1}'), JSON.parse('{"a":.5}')]`),
    [{ code: 0 }, { code: 0 }, [1, 2], { code: 0 }, { code: 0 }, { code: 16 }, { code: 8 }, { code: 0 }, { a: 0.5 }]);
    assert.deepEqual(await onDevice(`JSON.parse("{code:0}")`), "THROW Got ID:code expected STRING");
    assert.deepEqual(await onDevice(`JSON.parse("")`), "THROW Expecting valid value, got EOF");
  });

  it("JSON.parse: the first of repeated keys wins, __proto__ sets the prototype, integers wrap at 64 bits, \\u keeps its low byte", async function () {
    assert.deepEqual(await onDevice(`[JSON.parse('{"code":0,"code":5}').code,
      (function (o) { return ["deepSleep" in o, o.deepSleep, Object.keys(o)]; })(JSON.parse('{"__proto__":{"deepSleep":false},"a":1}')),
      JSON.parse('{"c":18446744073709551621}').c, JSON.parse('-18446744073709551621'), JSON.parse('9223372036854775808'),
      JSON.parse('"\\\\u4e2d"').charCodeAt(0), JSON.parse('"\\\\u00e9"').charCodeAt(0), JSON.parse('"\\\\x41"')]`),
    [0, [true, false, ["a"]], 5, -5, -9223372036854775808, 0x2d, 0xe9, "A"]);
  });

  it("Storage.writeJSON writes bare keys: JSON.parse refuses the file, readJSON reads it", async function () {
    assert.deepEqual(await onDevice(`(function (s) {
        s.writeJSON("x.json", { a: 1, "b-c": "d", e: [1, { f: 2 }], "1x": true, if: 3, $a: 4 });
        var r = [s.read("x.json"), s.readJSON("x.json")];
        try { JSON.parse(s.read("x.json")); } catch (e) { r.push(e.message); }
        s.write("b.json", "{a:1"); r.push(s.readJSON("b.json", true) === undefined);
        return r;
      })(require("Storage"))`),
    ['{a:1,"b-c":"d",e:[1,{f:2}],"1x":true,if:3,"$a":4}', { a: 1, "b-c": "d", e: [1, { f: 2 }], "1x": true, if: 3, $a: 4 },
      "Got ID:a expected STRING", true]);
  });

  it("indexOf and includes also match a needle that runs off the end of the string", async function () {
    assert.deepEqual(await onDevice(`["abc".indexOf("cd"), "abc".indexOf("bcd"), "abc".indexOf("abcd"), "abc".indexOf("bd"), "abcabc".indexOf("cab"),
      "ab".indexOf("abc"), "".indexOf("a"), "abc".lastIndexOf("cd"), "abc".includes("cd"), "hello world".indexOf("world!"), "a\\nb".indexOf("b\\n"),
      "\\na\\n".indexOf("\\nm\\n"), "abc".indexOf("c", 1), "abcabc".indexOf("bc", 2)]`),
    [2, 1, -1, -1, 2, -1, -1, -1, true, 6, 2, 2, 2, 4]);
    assert.equal("abc".indexOf("cd"), -1, "Node's String untouched");
  });

  it("Math.round takes negative halves away from zero", async function () {
    assert.deepEqual(await onDevice(`[Math.round(-2.5), Math.round(2.5), Math.round(-0.5), Math.round(-1.5), Math.round(-37.5), Math.round(-2.4), Math.round(-2.6)]`),
      [-3, 3, -1, -2, -38, -2, -3]);
    assert.equal(Math.round(-2.5), -2, "Node's Math untouched");
  });

  it("the parser model on the host: the same rules outside a device", function () {
    assert.deepEqual(espruinoParse('{"code":0} <html>', false), { code: 0 });
    assert.deepEqual(espruinoParse("{productKey:'a1',interval:5,}", true), { productKey: "a1", interval: 5 });
    assert.throws(() => espruinoParse('{"a":undefined}', false), /got undefined/);
    assert.throws(() => espruinoParse('"a\nb"', false), /UNFINISHED STRING/);
    assert.equal(writeJsonText({ s: 'a"b\xe9\n', n: -1.5, b: false, z: null, u: undefined }), '{s:"a\\"b\\xE9\\n",n:-1.5,b:false,z:null}');
  });
});
