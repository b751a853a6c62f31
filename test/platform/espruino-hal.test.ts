// The Espruino Store, Clock, Power, Log and Wi-Fi parts of the HAL, on fakes of the Espruino APIs.
import { strict as assert } from "node:assert";
import sinon from "sinon";
import { createStore } from "../../platform/espruino/store";
import { createClock } from "../../platform/espruino/clock";
import { createPower, resumeSleep, MAX_SLEEP_MS, SLEEP_REST } from "../../platform/espruino/power";
import { createLog, maskToken } from "../../platform/espruino/log";
import { createWifi, wifiBackoffMs } from "../../platform/espruino/wifi";
import type { Timers } from "../../platform/hal";
import { FakeStorage } from "./fake-storage";
import { asEspruino } from "../../emulator/runtime/quirks";

function nodeTimers(): Timers {
  return {
    after: (ms, fn) => setTimeout(fn, ms) as unknown as number,
    cancel: (id) => clearTimeout(id as unknown as NodeJS.Timeout),
  };
}

describe("platform/espruino store", () => {
  it("writes a record only when it changes", () => {
    const fs = new FakeStorage();
    const store = createStore(fs);
    assert.equal(store.write("token", "abc"), true);
    assert.equal(store.write("token", "abc"), true);
    assert.deepEqual(fs.writes, ["token"]);
    assert.equal(store.write("token", "abd"), true);
    assert.deepEqual(fs.writes, ["token", "token"]);
    assert.equal(store.read("token"), "abd");
    assert.equal(store.read("nope"), undefined);
  });
  it("reports a full flash as false and keeps the old record", () => {
    const fs = new FakeStorage(10);
    const store = createStore(fs);
    assert.equal(store.write("a", "12345"), true);
    assert.equal(store.write("a", "x".repeat(20)), false);
    assert.equal(store.read("a"), "12345");
  });
  it("writes at offsets of a record created with its full size", () => {
    const fs = new FakeStorage();
    const store = createStore(fs);
    assert.equal(store.writeAt("q", "AAAA", 0, 12), true);
    assert.equal(store.writeAt("q", "BBBB", 4, 12), true);
    assert.equal(store.read("q"), "AAAABBBB\xff\xff\xff\xff");
    assert.equal(store.writeAt("q", "CC", 2, 12), false); // not erased: refused, not thrown
  });
  it("appends to and reads back a log file, lists it once and erases it", () => {
    const fs = new FakeStorage();
    const store = createStore(fs);
    assert.equal(store.readLog("rlog"), undefined);
    assert.equal(store.append("rlog", "one\n"), true);
    assert.equal(store.append("rlog", "two\n"), true);
    assert.equal(store.readLog("rlog"), "one\ntwo\n");
    store.write("rcount", "2");
    assert.deepEqual(store.list("r").sort(), ["rcount", "rlog"]);
    assert.equal(store.append("rlog", "bad\xff"), false);
    store.erase("rlog");
    store.erase("absent");
    assert.equal(store.readLog("rlog"), undefined);
    assert.deepEqual(store.list(""), ["rcount"]);
    assert.equal(store.free(), fs.capacity - 1);
  });
});

describe("platform/espruino clock", () => {
  function fakeTime(startSec: number) {
    const t = { sec: startSec, getTime: () => t.sec, setTime: (s: number) => (t.sec = s) };
    return t;
  }
  it("is unsynced after boot, synced once set, and uptime ignores the jump", () => {
    const t = fakeTime(12.5);
    const clock = createClock(t);
    assert.equal(clock.synced(), false);
    t.sec += 2;
    assert.equal(clock.uptimeMs(), 2000);
    clock.set(1795655747647);
    assert.equal(clock.synced(), true);
    assert.equal(clock.nowMs(), 1795655747647);
    assert.ok(Number.isInteger(clock.nowMs()));
    assert.equal(clock.uptimeMs(), 2000);
    t.sec += 1.5;
    assert.equal(clock.uptimeMs(), 3500);
  });
  it("counts a wall time that survived in the RTC as synced", () => {
    assert.equal(createClock(fakeTime(1795655747)).synced(), true);
  });
});

describe("platform/espruino power", () => {
  function env() {
    return {
      deepSleep: sinon.spy(),
      wakeupCause: sinon.stub().returns(4),
      reboot: sinon.spy(),
      enableWatchdog: sinon.spy(),
      kickWatchdog: sinon.spy(),
    };
  }
  it("deep-sleeps short intervals in one go, in microseconds", () => {
    const p = env();
    const store = createStore(new FakeStorage());
    assert.equal(createPower(p, store).deepSleep(600000), true);
    sinon.assert.calledOnceWithExactly(p.deepSleep, 600000000);
    assert.equal(store.read(SLEEP_REST), undefined);
  });
  it("splits a sleep past the int32 microsecond limit and resumes it on a timer wake", () => {
    const p = env();
    const store = createStore(new FakeStorage());
    const power = createPower(p, store);
    const hourMs = 3600000;
    assert.equal(power.deepSleep(hourMs), true);
    const us = p.deepSleep.firstCall.args[0];
    assert.ok(us <= 2147483647, "fits int32");
    assert.equal(us, MAX_SLEEP_MS * 1000);
    assert.equal(store.read(SLEEP_REST), String(hourMs - MAX_SLEEP_MS));
    // wake-up = reboot: boot code resumes the rest
    assert.equal(resumeSleep(p, power, store), true);
    assert.equal(p.deepSleep.secondCall.args[0], (hourMs - MAX_SLEEP_MS) * 1000);
    assert.equal(store.read(SLEEP_REST), undefined);
    assert.equal(resumeSleep(p, power, store), false);
  });
  it("cancels the rest of a split sleep after a reset that was not the timer", () => {
    const p = env();
    p.wakeupCause.returns(0);
    const store = createStore(new FakeStorage());
    store.write(SLEEP_REST, "500000");
    assert.equal(resumeSleep(p, createPower(p, store), store), false);
    sinon.assert.notCalled(p.deepSleep);
    assert.equal(store.read(SLEEP_REST), undefined);
  });
  it("answers false without ESP32 deep sleep, and drives watchdog and reboot", () => {
    const p = env();
    const power = createPower({ reboot: p.reboot, enableWatchdog: p.enableWatchdog, kickWatchdog: p.kickWatchdog }, createStore(new FakeStorage()));
    assert.equal(power.deepSleep(1000), false);
    power.watchdog(90);
    sinon.assert.calledOnceWithExactly(p.enableWatchdog, 90, false);
    power.kick();
    sinon.assert.calledOnce(p.kickWatchdog);
    power.reboot();
    sinon.assert.calledOnce(p.reboot);
  });
});

describe("platform/espruino log", () => {
  it("filters by level, stamps uptime and masks registered secrets", () => {
    const lines: string[] = [];
    const log = createLog((l) => lines.push(l), () => 1234, "I");
    log.hide("s3cr3tDeviceSecret");
    log("D", "hidden");
    log("I", "key s3cr3tDeviceSecret here");
    log("E", "boom");
    assert.deepEqual(lines, ["I 1.234 key *** here", "E 1.234 boom"]);
    assert.equal(maskToken("abcdefghijklmnop"), "abcd...(16)");
  });

  it("keeps short lines whole with Espruino's split (a separator 2+ chars longer than the line gives [])", () => {
    const lines: string[] = [];
    const log = createLog((l) => lines.push(l), () => 40, "I");
    log.hide("Sx9fLq2ZtR7wPq0dVn4K");
    log.hide("tokenTokenTokenToken1234");
    const restore = asEspruino();
    try {
      log("I", "reading -3.7 C 41.2 %RH");
      log("I", "iot: authenticated");
      log("W", "sent Sx9fLq2ZtR7wPq0dVn4K and tokenTokenTokenToken1234 here");
    } finally {
      restore();
    }
    assert.deepEqual(lines, ["I 0.040 reading -3.7 C 41.2 %RH", "I 0.040 iot: authenticated", "W 0.040 sent *** and *** here"]);
  });
});

describe("platform/espruino wifi", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers()));
  afterEach(() => clock.restore());
  function fakeWifi(station?: string) {
    const handlers: { [ev: string]: () => void } = {};
    return {
      handlers,
      connect: sinon.spy((_s: string, _o: { password: string }, cb: (err: unknown) => void) => cb(null)),
      on: (ev: string, fn: () => void) => (handlers[ev] = fn),
      removeAllListeners: (ev: string) => delete handlers[ev],
      getStatus: () => ({ station: station ?? "off" }),
    };
  }
  it("after a restart between cycles (load() keeps the link) it uses the link without joining again, and reconnects a drop", () => {
    const w = fakeWifi("connected");
    const link = createWifi(w, { ssid: "lab", password: "pw" }, nodeTimers(), () => {})!;
    const ready = sinon.spy();
    link.whenUp(ready);
    sinon.assert.calledOnce(ready);
    sinon.assert.notCalled(w.connect);
    w.handlers.disconnected();
    clock.tick(2000);
    sinon.assert.calledOnce(w.connect);
  });
  it("joins nothing until asked, then reconnects an established link with growing backoff", () => {
    const w = fakeWifi();
    const link = createWifi(w, { ssid: "lab", password: "pw" }, nodeTimers(), () => {})!;
    clock.tick(600000);
    sinon.assert.notCalled(w.connect); // no request, no join
    const ready = sinon.spy();
    link.whenUp(ready);
    sinon.assert.calledOnce(w.connect);
    assert.deepEqual(w.connect.firstCall.args.slice(0, 2), ["lab", { password: "pw" }]);
    sinon.assert.notCalled(ready);
    w.handlers.connected();
    sinon.assert.calledOnce(ready);
    assert.equal(link.up, true);
    w.handlers.disconnected();
    w.handlers.disconnected(); // duplicate event while waiting: one reconnect only
    assert.equal(link.up, false);
    clock.tick(wifiBackoffMs(1) - 1);
    sinon.assert.calledOnce(w.connect);
    clock.tick(1);
    sinon.assert.calledTwice(w.connect);
    w.handlers.disconnected();
    clock.tick(wifiBackoffMs(2));
    sinon.assert.calledThrice(w.connect);
    assert.equal(wifiBackoffMs(2), 2 * wifiBackoffMs(1));
    w.handlers.connected();
    w.handlers.disconnected();
    clock.tick(wifiBackoffMs(1)); // backoff starts over after a connection
    assert.equal(w.connect.callCount, 4);
    sinon.assert.calledOnce(ready); // a waiter is called once only
    assert.equal(wifiBackoffMs(50), 300000);
  });
  it("leaves the network alone without a Wifi module or wifi config", () => {
    const lines: string[] = [];
    assert.equal(createWifi(undefined, { ssid: "x", password: "" }, nodeTimers(), (_l, m) => lines.push(m)), undefined);
    assert.match(lines[0], /managed outside/);
    const w = fakeWifi();
    assert.equal(createWifi(w, undefined, nodeTimers(), () => {}), undefined);
    sinon.assert.notCalled(w.connect);
  });
});
