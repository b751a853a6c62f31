// Test prelude for the real Espruino interpreter (never part of dist/): stored in the image as
// Storage `.bootPowerOn`, which the interpreter runs from flash at power-on before `.boot0`. It gives the engine what a board has and the host build
// lacks, and lets the runner watch from outside:
// - a DHT22 at the configured pin: pinMode/digitalWrite/setWatch/clearWatch shims; after the
//   host's start pulse the watch gets the sensor's edge train (values from the wall clock, faults
//   from Storage `sim.json`), and each frame is announced as `@dht` for the report;
// - a board clock: getTime() starts near 0 at boot and setTime() moves it (the host build keeps
//   system time and ignores setTime);
// - reboots: E.reboot(), load() and ESP32.deepSleep() print a marker and halt; the runner
//   restarts the engine (a new boot from the same espruino.flash);
// - RAM: process.memory(false).usage sampled every 20 ms, min and max per second as `@m`.
// Plain ES5 for the interpreter; the runner writes `boot.json` ({cause, t}) beside the flash file.
//
// Lean on purpose: what the prelude keeps alive counts in every figure `npm run mem` reports, and
// a board has these functions built in (no JsVars). So it keeps only the shims and a few numbers:
// the sensor's answer and its helpers exist only while a frame is sent, `sim.json` and `boot.json`
// are read again where needed rather than kept (a few file reads per boot and frame cost the test
// nothing; each value kept would be in every figure), and the boot's `@boot` line says what the
// prelude holds (`rig` in `npm run mem`).
/* global getTime, console, setTimeout, setInterval, E */
(function () {
  var hostTime = getTime;
  // near 0 after a reset; load() keeps the clock running (t: the board's time now)
  var clockOff = (function () {
    var b = JSON.parse(require("fs").readFileSync("boot.json"));
    return b.t !== undefined ? b.t - hostTime() : -hostTime();
  })();
  var watches = [];
  var lowAt = -1;
  var mn = 1e9;
  var mx = 0;
  var ticks = 0;
  var most = 0;
  var print = console.log;

  function halt(marker) {
    // the samples of a window cut short (a deep sleep right after a short cycle) count too
    if (ticks) print.call(console, "\n@m " + mn + " " + mx);
    print.call(console, "\n@" + marker);
    for (;;) {
      /* the runner kills the engine here: nothing after a reboot runs */
    }
  }

  // The sensor's answer to a start pulse, as edges on the watch (times in seconds). Everything
  // it uses is made here, per frame, and gone after it.
  function answer(w) {
    var now = hostTime();
    var cfg = require("Storage").readJSON("sim.json", 1) || {};
    var f = null;
    var faults = cfg.faults || [];
    for (var i = 0; i < faults.length; i++) if (now >= faults[i].from && now < faults[i].to) f = faults[i];
    // What the sensor sent, written to a file at once: console output waits for the interpreter's idle
    // loop, so a power cut (kill -9) right after a read could lose the line but not the stored reading.
    var fs = require("fs");
    // A smooth climate from the wall clock: continuous across reboots, within the rate check.
    var t = Math.round((21 + 3 * Math.sin((now / 3600) * 2 * Math.PI)) * 10) / 10;
    var h = Math.round((50 + 10 * Math.sin((now / 5400) * 2 * Math.PI)) * 10) / 10;
    if (f && f.noAnswer) {
      fs.appendFileSync("frames.log", Math.floor(now * 1000) + " none\n");
      return;
    }
    // Frame bytes: humidity and temperature in tenths, sign bit, sum checksum.
    var ti = Math.abs(Math.round(t * 10));
    var hi = Math.round(h * 10);
    if (t < 0 && ti) ti |= 0x8000;
    var b = [hi >> 8, hi & 255, ti >> 8, ti & 255];
    b.push((b[0] + b[1] + b[2] + b[3]) & 255);
    var flipped = f && f.bitFlipProb && Math.random() < f.bitFlipProb;
    if (flipped) {
      var bit = Math.floor(Math.random() * 40);
      b[bit >> 3] ^= 128 >> (bit & 7);
    }
    fs.appendFileSync("frames.log", Math.floor(now * 1000) + " " + t.toFixed(1) + " " + h.toFixed(1) + (flipped ? " flip" : " ok") + "\n");
    var at = now;
    function edge(state, us) {
      at += us / 1e6;
      w.fn({ state: state, time: at, lastTime: at });
    }
    edge(1, 0); // released: the pull-up lifts the line
    edge(0, 30); // the sensor pulls it low
    edge(1, 80);
    edge(0, 80);
    for (var j = 0; j < 40; j++) {
      edge(1, 50);
      edge(0, (b[j >> 3] << (j & 7)) & 128 ? 70 : 27);
    }
    edge(1, 50);
  }

  global.pinMode = function (pin, mode) {
    if (mode !== "input_pullup" && mode !== "input") return;
    var released = lowAt >= 0 && hostTime() - lowAt >= 0.001;
    lowAt = -1;
    if (!released) return;
    var cfg = require("Storage").readJSON("sim.json", 1) || {};
    for (var i = 0; i < watches.length; i++) {
      if (watches[i] && String(watches[i].pin) === String(pin) && String(pin) === String(cfg.pin)) {
        var w = watches[i];
        setTimeout(function () {
          if (watches.indexOf(w) >= 0) answer(w);
        }, 0);
        return;
      }
    }
  };
  global.digitalWrite = function (pin, v) {
    lowAt = v ? -1 : hostTime();
  };
  global.setWatch = function (fn, pin) {
    watches.push({ fn: fn, pin: pin });
    return watches.length;
  };
  global.clearWatch = function (id) {
    if (id === undefined) watches = [];
    else watches[id - 1] = null;
  };
  global.getTime = function () {
    return hostTime() + clockOff;
  };
  global.setTime = function (sec) {
    clockOff = sec - hostTime();
  };
  E.reboot = function () {
    halt("reboot");
  };
  global.load = function (file) {
    halt("load " + getTime() + (file ? " " + file : ""));
  };
  (function (cfg) {
    if (cfg.deepSleep) {
      var timerWake = JSON.parse(require("fs").readFileSync("boot.json")).cause === "timer";
      global.ESP32 = {
        deepSleep: function (us) {
          halt("sleep " + us);
        },
        getWakeupCause: function () {
          return timerWake ? 4 : 0;
        },
      };
    }
    // trace mode: every console line says the JsVars in use and the most sampled since the line before;
    // account mode too, and a step mark of the firmware (`M ...`, npm run mem -- --account) and the
    // opening of a socket first collect garbage, so that they say what is alive
    if (cfg.trace || cfg.account) {
      var account = !!cfg.account;
      console.log = function (text) {
        var line = String(text);
        var u = account && line.charAt(0) == "M" && line.charAt(1) == " " ? process.memory().usage : process.memory(false).usage;
        print.call(console, line + " \x01" + u + " " + Math.max(most, u));
        most = 0;
      };
      if (account) {
        var http = require("http");
        var request = http.request;
        http.request = function (opts, cb) {
          console.log("M - socket " + opts.method + " " + opts.path.split("/").slice(0, 3).join("/"));
          return request.call(http, opts, cb);
        };
      }
    }
    // Let go of it: the shims above keep this scope; the faults list is read again per frame.
    // eslint-disable-next-line no-useless-assignment
    cfg = null;
  })(require("Storage").readJSON("sim.json", 1) || {});
  setInterval(function () {
    var u = process.memory(false).usage;
    if (u > most) most = u;
    if (u < mn) mn = u;
    if (u > mx) mx = u;
    if (++ticks >= 50) {
      print.call(console, "@m " + mn + " " + mx);
      ticks = 0;
      mn = 1e9;
      mx = 0;
    }
  }, 20);
  print.call(console, "@boot " + JSON.parse(require("fs").readFileSync("boot.json")).cause + " " + process.memory().usage + " " + process.memory(false).total);
})();
