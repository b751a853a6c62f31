// HAL Net shim over a fake Espruino http module that reproduces the interpreter's quirks.
import { strict as assert } from "node:assert";
import sinon from "sinon";
import { createNet, parseUrl } from "../../platform/espruino/net";
import { createWifi } from "../../platform/espruino/wifi";
import type { HttpRequest, HttpResponse, NetError, Timers } from "../../platform/hal";
import { FakeEspHttp } from "./fake-esp-http";

function realTimers(): Timers {
  return {
    after: (ms, fn) => setTimeout(fn, ms) as unknown as number,
    cancel: (id) => clearTimeout(id as unknown as NodeJS.Timeout),
  };
}

function req(over: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: "POST",
    url: "https://iot-as-http.cn-shanghai.aliyuncs.com/auth",
    headers: { "Content-Type": "application/json" },
    body: "{}",
    timeoutMs: 5000,
    maxBodyBytes: 1024,
    ...over,
  };
}

describe("platform/espruino net: URL parsing", () => {
  it("splits protocol, host, path and leaves the default port out", () => {
    assert.deepEqual(parseUrl("https://iot-as-http.cn-shanghai.aliyuncs.com/auth"), {
      protocol: "https:",
      host: "iot-as-http.cn-shanghai.aliyuncs.com",
      path: "/auth",
    });
    assert.deepEqual(parseUrl("https://h.example:443/x"), { protocol: "https:", host: "h.example", path: "/x" });
    assert.deepEqual(parseUrl("http://192.168.1.5:8080/topic/sys/pk/dn/thing/event/property/post"), {
      protocol: "http:",
      host: "192.168.1.5",
      port: 8080,
      path: "/topic/sys/pk/dn/thing/event/property/post",
    });
    assert.deepEqual(parseUrl("https://host.only"), { protocol: "https:", host: "host.only", path: "/" });
  });
  it("rejects what is not an http(s) URL", () => {
    assert.equal(parseUrl("ftp://x/y"), null);
    assert.equal(parseUrl("iot-as-http.example/auth"), null);
    assert.equal(parseUrl("https://h:99999/"), null);
    assert.equal(parseUrl("https:///path"), null);
  });
});

describe("platform/espruino net: request", () => {
  let clock: sinon.SinonFakeTimers;
  let http: FakeEspHttp;
  let done: sinon.SinonSpy<[NetError | null, HttpResponse | null], void>;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
    http = new FakeEspHttp();
    done = sinon.spy() as sinon.SinonSpy<[NetError | null, HttpResponse | null], void>;
  });
  afterEach(() => clock.restore());

  it("opens the socket from a 0 ms timer: garbage collected first, the heap compacted just before (the TLS socket record needs one contiguous block)", () => {
    const seen: string[] = [];
    const net = createNet(http, realTimers(), undefined, () => seen.push("compact " + http.calls.length), () => seen.push("collect " + http.calls.length));
    net.request(req(), done);
    assert.deepEqual(seen, ["collect 0"], "garbage collected inside request(), the socket not opened yet");
    assert.equal(http.calls.length, 0, "nothing sent while the caller's calls are on the stack");
    clock.tick(0);
    assert.deepEqual(seen, ["collect 0", "compact 0"], "compacted once, before http.request()");
    assert.equal(http.calls.length, 1);
  });

  it("sends the options Espruino expects with Content-Length in bytes", () => {
    const net = createNet(http, realTimers());
    // "é" as UTF-8 is two bytes: the byte string "\xc3\xa9" has length 2.
    net.request(req({ body: '{"a":"\xc3\xa9"}' }), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    const c = http.last;
    assert.equal(c.opts.host, "iot-as-http.cn-shanghai.aliyuncs.com");
    assert.equal(c.opts.path, "/auth");
    assert.equal(c.opts.protocol, "https:");
    assert.equal(c.opts.method, "POST");
    assert.equal("port" in c.opts, false);
    assert.equal(c.opts.headers["Content-Type"], "application/json");
    assert.equal(c.opts.headers["Content-Length"], "10");
    assert.equal(c.body, '{"a":"\xc3\xa9"}');
    assert.ok(c.ended);
  });

  it("converts the string statusCode, lower-cases headers and ignores -30848 after a complete response", () => {
    const net = createNet(http, realTimers());
    net.request(req(), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    const body = '{"code":0,"message":"success","info":{"token":"abc"}}';
    http.last.reply(200, body, { "Content-Length": String(body.length), Date: "Thu, 26 Nov 2026 00:54:44 GMT" });
    clock.tick(0); // done is called from a 0 ms timer
    sinon.assert.calledOnce(done);
    const [err, res] = done.firstCall.args;
    assert.equal(err, null);
    assert.equal(res!.status, 200);
    assert.equal(typeof res!.status, "number");
    assert.equal(res!.body, body);
    assert.equal(res!.truncated, false);
    assert.equal(res!.headers["date"], "Thu, 26 Nov 2026 00:54:44 GMT");
    clock.tick(10000); // the timeout timer was cancelled: no second callback
    sinon.assert.calledOnce(done);
  });

  it("reports a response cut short before close as an error, even with -30848", () => {
    const net = createNet(http, realTimers());
    net.request(req(), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    const res = http.last.respond(200, { "content-length": "100" });
    res.emit("data", "short");
    http.last.fail(-30848, "close notify");
    res.emit("close");
    clock.tick(0); // done is called from a 0 ms timer
    sinon.assert.calledOnce(done);
    assert.equal(done.firstCall.args[0]!.kind, "io");
    assert.equal(done.firstCall.args[1], null);
  });

  it("calls back from a 0 ms timer, once the interpreter's event has returned", () => {
    const order: string[] = [];
    const net = createNet(http, realTimers());
    net.request(req(), function () {
      order.push("done");
    });
    clock.tick(0); // the socket opens from a 0 ms timer
    http.last.reply(200, "ok");
    order.push("event returned");
    clock.tick(0);
    assert.deepEqual(order, ["event returned", "done"]);
  });

  it("collects garbage once the caller has handled the reply, not before", () => {
    const order: string[] = [];
    const net = createNet(http, realTimers(), undefined, undefined, () => order.push("collect"));
    net.request(req(), function () {
      order.push("done");
    });
    clock.tick(0); // the socket opens from a 0 ms timer
    assert.deepEqual(order, ["collect"], "the garbage made before the request, at request()");
    http.last.reply(200, "ok");
    clock.tick(0);
    assert.deepEqual(order, ["collect", "done", "collect"]);
  });

  it("streams the body piece by piece when asked (status, lower-cased headers, offsets), keeps none, caps at maxBodyBytes", () => {
    const pieces: [number, string, string, number][] = [];
    const net = createNet(http, realTimers());
    net.request(req({ maxBodyBytes: 10, stream: (status, headers, piece, offset) => pieces.push([status, headers["content-range"], piece, offset]) }), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    const res = http.last.respond(206, { "Content-Range": "bytes 0-9/100" });
    res.emit("data", "abcd");
    res.emit("data", "efghijkl");
    res.emit("close");
    clock.tick(0);
    assert.deepEqual(pieces, [[206, "bytes 0-9/100", "abcd", 0], [206, "bytes 0-9/100", "efghij", 4]]);
    const out = done.firstCall.args[1]!;
    assert.equal(out.body, "");
    assert.equal(out.truncated, true);
    assert.equal(out.status, 206);
  });

  it("hands no piece on after a timeout: a late one must not reach a stream whose caller moved on (an OTA retry writes those bytes)", () => {
    const pieces: string[] = [];
    const net = createNet(http, realTimers());
    net.request(req({ timeoutMs: 3000, stream: (_s, _h, piece) => pieces.push(piece) }), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    const res = http.last.respond(206, { "Content-Range": "bytes 0-9/100" });
    res.emit("data", "abcd");
    clock.tick(3000);
    clock.tick(1);
    sinon.assert.calledOnce(done);
    assert.equal(done.firstCall.args[0]!.kind, "timeout");
    res.emit("data", "efgh");
    res.emit("close");
    clock.tick(1);
    assert.deepEqual(pieces, ["abcd"]);
    sinon.assert.calledOnce(done);
  });

  it("caps the body at maxBodyBytes and marks it truncated", () => {
    const net = createNet(http, realTimers());
    net.request(req({ maxBodyBytes: 100 }), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    http.last.reply(502, "x".repeat(1000));
    clock.tick(0); // done is called from a 0 ms timer
    const res = done.firstCall.args[1]!;
    assert.equal(res.status, 502);
    assert.equal(res.body.length, 100);
    assert.equal(res.truncated, true);
  });

  it("times out on its own and ignores late callbacks", () => {
    const net = createNet(http, realTimers());
    net.request(req({ timeoutMs: 3000 }), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    clock.tick(2999);
    sinon.assert.notCalled(done);
    clock.tick(1);
    clock.tick(1); // done is called from a 0 ms timer (one set inside a timer is due a tick later here)
    sinon.assert.calledOnce(done);
    assert.equal(done.firstCall.args[0]!.kind, "timeout");
    http.last.reply(200, '{"code":0}'); // arrives too late
    http.last.fail(-9, "reset");
    clock.tick(0); // done is called from a 0 ms timer
    sinon.assert.calledOnce(done);
  });

  it("catches synchronous throws and reports them through the callback", () => {
    const net = createNet(http, realTimers());
    http.throwNext = "Unable to locate host";
    assert.doesNotThrow(() => net.request(req(), done));
    sinon.assert.notCalled(done); // never from inside request()
    clock.tick(0); // the socket opens from a 0 ms timer
    clock.tick(1); // done is called from a 0 ms timer (one set inside a timer is due a tick later here)
    sinon.assert.calledOnce(done);
    assert.equal(done.firstCall.args[0]!.kind, "dns");
    http.throwNext = "Not connected to the internet";
    net.request(req(), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    clock.tick(1);
    assert.equal(done.secondCall.args[0]!.kind, "offline");
    clock.tick(10000);
    sinon.assert.calledTwice(done); // no timer left behind
  });

  it("maps socket error codes and calls back once when error and close both fire", () => {
    const net = createNet(http, realTimers());
    net.request(req(), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    http.last.fail(-13, "TLS handshake failed");
    http.last.fail(-9, "reset");
    clock.tick(0); // done is called from a 0 ms timer
    sinon.assert.calledOnce(done);
    assert.equal(done.firstCall.args[0]!.kind, "tls");
    net.request(req(), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    http.last.fail(-6, "DNS");
    clock.tick(0); // done is called from a 0 ms timer
    assert.equal(done.secondCall.args[0]!.kind, "dns");
  });

  it("treats -30848 before any response as a failure, not success", () => {
    const net = createNet(http, realTimers());
    net.request(req(), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    http.last.fail(-30848, "close notify");
    clock.tick(0); // done is called from a 0 ms timer
    sinon.assert.calledOnce(done);
    assert.equal(done.firstCall.args[1], null);
    assert.equal(done.firstCall.args[0]!.kind, "tls");
  });

  it("passes an explicit non-default port and plain http", () => {
    const net = createNet(http, realTimers());
    net.request(req({ url: "http://10.0.0.2:8443/topic/a", method: "GET", body: "" }), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    assert.equal(http.last.opts.port, 8443);
    assert.equal(http.last.opts.protocol, "http:");
    assert.equal(http.last.opts.headers["Content-Length"], undefined);
  });

  it("answers a bad URL with an error, without a request", () => {
    const net = createNet(http, realTimers());
    net.request(req({ url: "nope" }), done);
    clock.tick(0);
    assert.equal(http.calls.length, 0);
    assert.equal(done.firstCall.args[0]!.kind, "io");
  });
});

describe("platform/espruino net: Wi-Fi joined on demand", () => {
  let clock: sinon.SinonFakeTimers;
  let http: FakeEspHttp;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
    http = new FakeEspHttp();
  });
  afterEach(() => clock.restore());
  /** A fake Espruino Wifi module: `connect` only starts the join; the test fires "connected". */
  function fakeWifi() {
    const handlers: { [ev: string]: () => void } = {};
    return {
      handlers,
      connect: sinon.stub<[string, { password: string }, (err: unknown) => void], void>(),
      on: (ev: string, fn: () => void) => (handlers[ev] = fn),
      removeAllListeners: (ev: string) => delete handlers[ev],
    };
  }
  function spy() {
    return sinon.spy() as sinon.SinonSpy<[NetError | null, HttpResponse | null], void>;
  }
  function setup() {
    const w = fakeWifi();
    const net = createNet(http, realTimers(), createWifi(w, { ssid: "lab", password: "pw" }, realTimers(), () => {}));
    return { w, net };
  }

  it("joins nothing at creation and sends the request once the join completes", () => {
    const { w, net } = setup();
    clock.tick(60000);
    sinon.assert.notCalled(w.connect);
    const done = spy();
    net.request(req(), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    sinon.assert.calledOnce(w.connect);
    assert.equal(http.calls.length, 0); // nothing on the socket before the station is up
    clock.tick(1500);
    w.handlers.connected();
    assert.equal(http.calls.length, 1);
    http.last.reply(200, "ok");
    clock.tick(0); // done is called from a 0 ms timer
    sinon.assert.calledOnce(done);
    assert.equal(done.firstCall.args[0], null);
    assert.equal(done.firstCall.args[1]!.status, 200);
    // the link is up now: the next request goes straight out, no second join
    net.request(req(), spy());
    clock.tick(0); // the socket opens from a 0 ms timer
    assert.equal(http.calls.length, 2);
    sinon.assert.calledOnce(w.connect);
  });

  it("fails with one \"offline\" callback when the join outlasts the request's timeout, and never sends it", () => {
    const { w, net } = setup();
    const done = spy();
    net.request(req({ timeoutMs: 5000 }), done);
    clock.tick(4999);
    sinon.assert.notCalled(done);
    clock.tick(1);
    clock.tick(1); // done is called from a 0 ms timer (one set inside a timer is due a tick later here)
    sinon.assert.calledOnce(done);
    assert.equal(done.firstCall.args[0]!.kind, "offline");
    assert.equal(done.firstCall.args[1], null);
    w.handlers.connected(); // a late join does not send the abandoned request
    clock.tick(60000);
    assert.equal(http.calls.length, 0);
    sinon.assert.calledOnce(done);
  });

  it("a second request while joining waits for the same join", () => {
    const { w, net } = setup();
    const a = spy();
    const b = spy();
    net.request(req({ url: "https://h.example/a" }), a);
    clock.tick(500);
    net.request(req({ url: "https://h.example/b" }), b);
    sinon.assert.calledOnce(w.connect);
    w.handlers.connected();
    assert.deepEqual(
      http.calls.map((c) => c.opts.path),
      ["/a", "/b"],
    );
    http.calls[0].reply(200, "A");
    http.calls[1].reply(200, "B");
    clock.tick(0); // done is called from a 0 ms timer
    assert.equal(a.firstCall.args[1]!.body, "A");
    assert.equal(b.firstCall.args[1]!.body, "B");
  });

  it("without a Wifi module sends directly", () => {
    const lines: string[] = [];
    const net = createNet(http, realTimers(), createWifi(undefined, { ssid: "lab", password: "pw" }, realTimers(), (_l, m) => lines.push(m)));
    const done = spy();
    net.request(req(), done);
    clock.tick(0); // the socket opens from a 0 ms timer
    assert.equal(http.calls.length, 1);
    http.last.reply(200, "ok");
    clock.tick(0); // done is called from a 0 ms timer
    assert.equal(done.firstCall.args[1]!.status, 200);
  });
});
