import { strict as assert } from "node:assert";
import { dht22Bytes, dht22HighUs, frameBits } from "../emulator/sensor/wave";

describe("DHT22 waveform helper", () => {
  it("encodes the datasheet example 65.2 %RH, 35.1 °C", () => {
    assert.deepEqual(dht22Bytes(35.1, 65.2), [0x02, 0x8c, 0x01, 0x5f, 0xee]);
  });
  it("sets the sign bit for -10.1 °C (word 0x8065)", () => {
    const b = dht22Bytes(-10.1, 0);
    assert.equal((b[2] << 8) | b[3], 0x8065);
  });
  it("emits the response pulse plus 40 bit pulses", () => {
    const highs = dht22HighUs([0x80, 0, 0, 0, 0x80]);
    assert.equal(highs.length, 41);
    assert.equal(highs[0], 80);
    assert.equal(highs[1], 70);
    assert.equal(highs[2], 27);
    assert.equal(frameBits([0xff, 0, 0, 0, 0]).filter((b) => b === 1).length, 8);
  });
});
