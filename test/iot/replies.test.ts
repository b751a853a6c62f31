// Reply parsing as hostile input: every malformed, truncated or random reply is an error value, never a throw.
import { strict as assert } from "node:assert";
import { parseReply, strictJson } from "../../firmware/iot/http";
import { asEspruino } from "../../emulator/runtime/quirks";
import type { HttpResponse } from "../../platform/hal";

const res = (body: string, status = 200, extra: Partial<HttpResponse> = {}): HttpResponse => ({ status, headers: {}, body, truncated: false, ...extra });
const AUTH = '{"code":0,"message":"success","info":{"token":"6944e5bfb92e4d4ea3918d1eda3942f6"}}';
const PUB = '{"code":0,"message":"success","info":{"messageId":892687627916247041}}';

describe("iot reply parsing", () => {
  it("accepts the sheet's success replies", () => {
    assert.deepEqual(parseReply(null, res(AUTH), true), { code: 0, token: "6944e5bfb92e4d4ea3918d1eda3942f6" });
    assert.deepEqual(parseReply(null, res(PUB), false), { code: 0, messageId: "892687627916247041" });
  });
  it("needs HTTP status AND JSON code", () => {
    assert.equal(parseReply(null, res(PUB, 500), false).code, -2);
    assert.equal(parseReply(null, res(PUB, 403), false).code, -2);
    assert.equal(parseReply(null, res('{"code":20001,"message":"token expired"}', 401), false).code, 20001);
    assert.equal(parseReply(null, res('{"code":40000}', 503), false).code, -2);
    assert.equal(parseReply(null, res('{"code":30001,"message":"publish message error"}'), false).code, 30001);
  });
  it("names each kind of bad reply", () => {
    const cases: [HttpResponse, boolean, number][] = [
      [res(""), false, -3], [res("<html><body>502 Bad Gateway</body></html>", 502), false, -2],
      [res("<html>ok</html>"), false, -3], [res('{"code":"0"}'), false, -3], [res('{"code":0.5}'), false, -3],
      [res('{"code":-1}'), false, -3], [res("[0]"), false, -3], [res("null"), false, -3], [res("0"), false, -3],
      [res('{"code":0,"info":{"token":""}}'), true, -3], [res('{"code":0,"info":{"token":123}}'), true, -3],
      [res('{"code":0,"info":{"token":"a b"}}'), true, -3], [res('{"code":0,"info":"x"}'), true, -3],
      [res('{"code":0}'), true, -3], [res('{"code":0,"info":{"token":"' + "t".repeat(600) + '"}}'), true, -3],
      [res(AUTH, 200, { truncated: true }), true, -3], [res("[".repeat(5000) + "]".repeat(5000)), false, -3],
      [res(AUTH, "200x" as unknown as number), true, -2],
    ];
    for (const [r, wantToken, code] of cases) {
      const p = parseReply(null, r, wantToken);
      assert.equal(p.code, code, r.body.substr(0, 40));
      assert.equal(typeof p.error, "string");
      assert.ok(/^[\x20-\x7e]+$/.test(p.error!), "one printable line");
      assert.equal(p.token, undefined);
    }
  });
  it("turns transport errors into NET", () => {
    assert.deepEqual(parseReply({ kind: "timeout", detail: "-3" }, null, false), { code: -1, error: "net timeout -3" });
    assert.equal(parseReply(null, null, true).code, -1);
  });
  it("keeps only a printable, bounded excerpt of a hostile body in the error", () => {
    const p = parseReply(null, res("\r\n\x1b[31mEVIL\x00" + "A".repeat(5000)), false);
    assert.ok(p.error!.length < 80 && /^[\x20-\x7e]+$/.test(p.error!));
  });
  it("never throws on random bytes, truncations, or mangled headers", () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = '{}[]":,0123456789.-eE truefalsnul\\\r\n\x00\xff<html>codeinfotokenmessageId';
    for (let i = 0; i < 3000; i++) {
      let body = "";
      const len = rnd(80);
      for (let k = 0; k < len; k++) body += i % 2 ? String.fromCharCode(rnd(256)) : alphabet.charAt(rnd(alphabet.length));
      const headers = i % 3 ? { date: body.substr(0, 29) } : ({ date: 5 } as unknown as { [k: string]: string });
      for (const wantToken of [true, false]) {
        const p = parseReply(null, { status: [200, 404, 500, NaN][i % 4], headers, body, truncated: i % 5 === 0 }, wantToken);
        assert.equal(typeof p.code, "number");
        if (p.code === 0 && wantToken) assert.match(p.token!, /^[\x21-\x7e]+$/);
      }
    }
    for (const full of [AUTH, PUB]) {
      for (let n = 0; n < full.length; n++) {
        const p = parseReply(null, res(full.substr(0, n)), full === AUTH);
        assert.notEqual(p.code, 0, full.substr(0, n));
      }
    }
    assert.equal(parseReply(null, { status: 200 } as unknown as HttpResponse, false).code, -3);
  });

  describe("on Espruino's lenient JSON.parse (docs/espruino-quirks.md)", () => {
    let restore: () => void = () => undefined;
    beforeEach(() => (restore = asEspruino()));
    afterEach(() => restore());

    it("refuses a 2xx reply that is not strict JSON, which Espruino would read as success", () => {
      const bodies = [
        '{"code":0}xyz', '{"code":0}{"code":20000}', '{"code":0,}', '{/*x*/"code":0}', '{"code":0 // x\n}', "{'code':0}",
        '{"code":0x0}', '{"code":00}', '{"code":20000,"code":0}', '{"code":0,"code":20000}', '{"__proto__":{"code":0}}',
        '{"code":18446744073709551616}', '{"code":-18446744073709551616}', '{"\\u0063ode":18446744073709551616}', '{"code":.0}',
        '{"code":0,"info":{"token":"t1","token":"t2"}}', '{"code":0,"info":{"__proto__":{"token":"abc"}}}', '[{"code":0}]',
        '{"code":0,"message":"\\u4e2d"}', '{"code":0,"message":"a\nb"}', '{"code":0,"info":{"token":"abc",}}', '{"code":0,"a":[1,]}',
        '{"code":0,"a":' + "[".repeat(9) + "]".repeat(9) + "}",
      ];
      for (const b of bodies) {
        assert.equal(parseReply(null, res(b), false).code, -3, b);
        assert.equal(parseReply(null, res(b), true).token, undefined, b);
      }
    });

    it("still takes the platform's replies and strict JSON of every kind", () => {
      assert.deepEqual(parseReply(null, res(AUTH), true), { code: 0, token: "6944e5bfb92e4d4ea3918d1eda3942f6" });
      assert.deepEqual(parseReply(null, res(PUB), false), { code: 0, messageId: "892687627916247041" });
      assert.equal(parseReply(null, res('{"code":20001,"message":"token expired"}', 401), false).code, 20001);
      const ok = ['{"code":0}', ' { "code" : 0 , "a" : [ ] , "b" : { } }\r\n', '{"code":0,"x":[-1.5e+3,0.25,-0,1E2,true,false,null,"\\u00e9\\"\\\\\\/\\b\\f\\n\\r\\t"]}',
        '{"code":0,"a":' + "[".repeat(7) + "]".repeat(7) + "}"];
      for (const b of ok) {
        assert.ok(strictJson(b), b);
        assert.equal(parseReply(null, res(b), false).code, 0, b);
      }
    });
  });
});
