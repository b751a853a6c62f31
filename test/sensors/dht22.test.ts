// DHT22 decoder against frames built by the waveform helper from the datasheet's examples and edge values.
import { strict as assert } from "node:assert";
import { decodeDht22 } from "../../sensors/dht22";
import { dht22Bytes, dht22HighUs, seededRng } from "../../emulator/sensor/wave";

/** Frame bytes from a humidity word and a temperature word, checksum per the datasheet. */
function frame(hWord: number, tWord: number): number[] {
  const b = [hWord >> 8, hWord & 0xff, tWord >> 8, tWord & 0xff];
  return b.concat([(b[0] + b[1] + b[2] + b[3]) & 0xff]);
}

function flipBit(bytes: number[], bit: number): number[] {
  const b = bytes.slice();
  b[bit >> 3] ^= 0x80 >> (bit & 7);
  return b;
}

describe("decodeDht22", () => {
  it("decodes the datasheet example 0x02 0x8C 0x01 0x5F 0xEE as 65.2 %RH, 35.1 °C", () => {
    assert.deepEqual(decodeDht22(dht22HighUs([0x02, 0x8c, 0x01, 0x5f, 0xee])), { ok: true, temperature: 35.1, humidity: 65.2 });
  });

  it("decodes temperature word 0x8065 as -10.1 °C (top bit = negative)", () => {
    const r = decodeDht22(dht22HighUs(frame(0x028c, 0x8065)));
    assert.deepEqual(r, { ok: true, temperature: -10.1, humidity: 65.2 });
  });

  it("decodes the edges of the datasheet ranges", () => {
    const cases: [number, number][] = [[0, 50], [-40, 30], [80, 10], [22.5, 0], [22.5, 100], [-0.1, 99.9]];
    for (const [t, h] of cases) {
      assert.deepEqual(decodeDht22(dht22HighUs(dht22Bytes(t, h))), { ok: true, temperature: t, humidity: h }, `${t} °C ${h} %RH`);
    }
  });

  it("reads a signed zero (word 0x8000) as 0 °C, not -0", () => {
    const r = decodeDht22(dht22HighUs(frame(500, 0x8000)));
    assert.ok(r.ok && Object.is(r.temperature, 0));
  });

  it("rejects frames with a valid checksum outside -40..80 °C or 0..100 %RH as range", () => {
    for (const [h, t] of [[1001, 200], [500, 801], [500, 0x8000 | 401], [0xffff, 0]]) {
      assert.deepEqual(decodeDht22(dht22HighUs(frame(h, t))), { ok: false, error: "range" }, `h=${h} t=${t}`);
    }
  });

  it("rejects a wrong checksum byte", () => {
    const b = dht22Bytes(21.3, 45.6);
    b[4] = (b[4] + 1) & 0xff;
    assert.deepEqual(decodeDht22(dht22HighUs(b)), { ok: false, error: "checksum" });
  });

  it("names no answer timeout and a cut-off answer short", () => {
    assert.deepEqual(decodeDht22([]), { ok: false, error: "timeout" });
    assert.deepEqual(decodeDht22(null as unknown as number[]), { ok: false, error: "timeout" });
    const highs = dht22HighUs(dht22Bytes(21.3, 45.6));
    assert.deepEqual(decodeDht22(highs.slice(0, 40)), { ok: false, error: "short" }, "response + 39 bits");
    assert.deepEqual(decodeDht22(highs.slice(0, 12)), { ok: false, error: "short" });
  });

  it("rejects a data pulse too long to be a bit", () => {
    const highs = dht22HighUs(dht22Bytes(21.3, 45.6));
    highs[20] = 400;
    assert.deepEqual(decodeDht22(highs), { ok: false, error: "pulse" });
  });

  it("holds under ±15 us jitter on every pulse", () => {
    const rng = seededRng(7);
    for (let i = 0; i < 300; i++) {
      const t = Math.round((rng() * 120 - 40) * 10) / 10;
      const h = Math.round(rng() * 1000) / 10;
      const r = decodeDht22(dht22HighUs(dht22Bytes(t, h), { jitterUs: 15, rng }));
      assert.deepEqual(r, { ok: true, temperature: t, humidity: h }, `${t} °C ${h} %RH`);
    }
  });

  it("holds at the jitter extremes: zeros 15 us long, ones 15 us short, response 15 us short", () => {
    const b = dht22Bytes(-12.3, 87.6);
    const want = { ok: true, temperature: -12.3, humidity: 87.6 };
    assert.deepEqual(decodeDht22(dht22HighUs(b, { zeroUs: 27 + 15, oneUs: 70 - 15 })), want);
    assert.deepEqual(decodeDht22(dht22HighUs(b, { jitterUs: 15, rng: () => 0 })), want, "all -15 us");
    assert.deepEqual(decodeDht22(dht22HighUs(b, { jitterUs: 15, rng: () => 0.99999 })), want, "all +15 us");
  });

  it("beyond ±15 us refuses frames it cannot classify instead of decoding wrong values (±20, ±25, ±30 us)", () => {
    // The sum checksum passes compensating bit errors, so only refusing ambiguous pulses keeps
    // wrong values out: without it ±25 us jitter gave wrong values for about 0.7 % of frames.
    for (const jitterUs of [20, 25, 30]) {
      const rng = seededRng(jitterUs);
      let refused = 0;
      for (let i = 0; i < 20000; i++) {
        const t = Math.round((rng() * 120 - 40) * 10) / 10;
        const h = Math.round(rng() * 1000) / 10;
        const r = decodeDht22(dht22HighUs(dht22Bytes(t, h), { jitterUs, rng }));
        if (r.ok) assert.deepEqual(r, { ok: true, temperature: t, humidity: h }, `±${jitterUs} us: ${t} °C ${h} %RH`);
        else refused++;
      }
      assert.ok(refused > 0, `±${jitterUs} us: some frames must be refused`);
    }
  });

  it("refuses a pulse between a late 0 and an early 1 as ambiguous", () => {
    const highs = dht22HighUs(dht22Bytes(21.3, 45.6));
    highs[20] = 50;
    assert.deepEqual(decodeDht22(highs), { ok: false, error: "ambiguous" });
  });

  it("tolerates a missing first edge, the host-release high and extra trailing edges", () => {
    const b = dht22Bytes(23.4, 56.7);
    const want = { ok: true, temperature: 23.4, humidity: 56.7 };
    const highs = dht22HighUs(b, { jitterUs: 10, rng: seededRng(3) });
    assert.deepEqual(decodeDht22(highs.slice(1)), want, "response pulse missing");
    assert.deepEqual(decodeDht22(highs.slice(1).concat([3000])), want, "response missing, idle high at the end");
    assert.deepEqual(decodeDht22(highs.concat([4, 70, 3000])), want, "trailing glitches");
    assert.deepEqual(decodeDht22(dht22HighUs(b, { releaseUs: 30 })), want, "release high first");
    assert.deepEqual(decodeDht22(dht22HighUs(b, { releaseUs: 30 }).concat([12, 5000])), want, "release high and trailing edges");
  });

  describe("single-bit flips never come back as other values", () => {
    const frames = [dht22Bytes(35.1, 65.2), dht22Bytes(-10.1, 0), dht22Bytes(0, 100), dht22Bytes(-40, 0.1), dht22Bytes(80, 99.9), frame(0x028c, 0x8065)];
    const layouts: [string, (b: number[]) => number[]][] = [
      ["full frame", (b) => dht22HighUs(b)],
      ["release high first", (b) => dht22HighUs(b, { releaseUs: 35 })],
      ["trailing edges", (b) => dht22HighUs(b).concat([6, 3000])],
      ["response missing", (b) => dht22HighUs(b).slice(1)],
    ];
    for (const [name, layout] of layouts) {
      it(`flipping each of the 40 bits of ${frames.length} frames (${name})`, () => {
        let rejected = 0;
        for (const bytes of frames) {
          const good = decodeDht22(layout(bytes));
          assert.ok(good.ok, "the unflipped frame decodes");
          for (let bit = 0; bit < 40; bit++) {
            const r = decodeDht22(layout(flipBit(bytes, bit)));
            if (r.ok) assert.deepEqual(r, good, `bit ${bit} of ${bytes} gave other values`);
            else rejected++;
          }
        }
        // A sum moves by ±2^k (k < 8) for any one flipped bit, so the checksum rejects them all.
        assert.equal(rejected, frames.length * 40);
      });
    }

    it("moving any one jittered pulse (response and release high included) across the threshold, by 1 us or to the other side's width", () => {
      const rng = seededRng(11);
      let tried = 0;
      for (const bytes of frames) {
        for (const releaseUs of [0, 30]) {
          const highs = dht22HighUs(bytes, { jitterUs: 15, rng, releaseUs });
          const good = decodeDht22(highs);
          assert.ok(good.ok);
          for (let i = 0; i < highs.length; i++) {
            const isOne = highs[i] >= 48;
            for (const us of isOne ? [47, 27, 12] : [48, 49, 70, 85]) {
              const moved = highs.slice();
              moved[i] = us;
              const r = decodeDht22(moved);
              if (r.ok) assert.deepEqual(r, good, `pulse ${i} -> ${us} us`);
              tried++;
            }
          }
        }
      }
      assert.ok(tried >= frames.length * 81 * 3);
    });
  });

  it("without a response pulse to anchor on, refuses an alignment that extra pulses make ambiguous", () => {
    // A frame shifted by one bit passes a sum checksum about 1 time in 8: only refusal is safe.
    const rng = seededRng(5);
    let ok = 0;
    for (let i = 0; i < 2000; i++) {
      const t = Math.round((rng() * 120 - 40) * 10) / 10;
      const h = Math.round(rng() * 1000) / 10;
      const highs = dht22HighUs(dht22Bytes(t, h), { jitterUs: 15, rng });
      const shortResponse = highs.slice();
      shortResponse[0] = 40;
      const missingFirst = highs.slice(1).concat([27, 70]);
      for (const list of [missingFirst, shortResponse, [30].concat(shortResponse)]) {
        const r = decodeDht22(list);
        if (r.ok) assert.deepEqual(r, { ok: true, temperature: t, humidity: h }, `${t} °C ${h} %RH`);
        else assert.match(r.error, /^(align|checksum|range)$/);
        if (r.ok && list === missingFirst) ok++;
      }
    }
    // A missing first edge plus trailing pulses still decodes most of the time.
    assert.ok(ok > 1800, `decoded ${ok} of 2000`);
  });

  it("never throws on random pulse lists and accepts only in-range values at 0.1 resolution", () => {
    const rng = seededRng(99);
    const specials = [NaN, -5, 0, Infinity, 1e9, 0.5, 47.999, 48];
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(rng() * 90);
      const list: number[] = [];
      for (let j = 0; j < n; j++) list.push(rng() < 0.05 ? specials[Math.floor(rng() * specials.length)] : rng() * (rng() < 0.9 ? 100 : 10000));
      const r = decodeDht22(list);
      assert.equal(typeof r.ok, "boolean");
      if (r.ok) {
        accepted++;
        assert.ok(r.temperature >= -40 && r.temperature <= 80 && r.humidity >= 0 && r.humidity <= 100);
        assert.equal(Math.round(r.temperature * 10) / 10, r.temperature);
        assert.equal(Math.round(r.humidity * 10) / 10, r.humidity);
      } else assert.match(r.error, /^(timeout|short|pulse|ambiguous|checksum|range|align)$/);
    }
    // Random widths pass the checksum about 1 in 256 and the range rarely after that.
    assert.ok(accepted < 30, `accepted ${accepted}`);
  });
});
