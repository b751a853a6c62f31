// DHT22 (AM2302) waveform helper: turns values into the frame bytes and the pulse train the
// sensor puts on the wire. Shared by the sensor tests and the emulator's simulated sensor.

/** One level held on the data line for `us` microseconds. */
export interface Segment {
  level: 0 | 1;
  us: number;
}

export interface WaveOptions {
  /** Each pulse width is moved by a uniform random amount in [-jitterUs, +jitterUs]. */
  jitterUs?: number;
  /** Random source in [0, 1); defaults to Math.random. */
  rng?: () => number;
  /** High width of a 0 bit (datasheet 26-28 us). */
  zeroUs?: number;
  /** High width of a 1 bit (datasheet 70 us). */
  oneUs?: number;
  /** When set, the line first idles high this long after the host releases it (datasheet 20-40 us). */
  releaseUs?: number;
}

/** The five frame bytes for a temperature in °C and relative humidity in %RH (0.1 resolution). */
export function dht22Bytes(temperatureC: number, humidityRh: number): number[] {
  const h = Math.round(humidityRh * 10);
  const tAbs = Math.round(Math.abs(temperatureC) * 10);
  if (h < 0 || h > 0xffff || tAbs > 0x7fff) throw new RangeError("value does not fit a DHT22 frame");
  const t = tAbs | (temperatureC < 0 && tAbs !== 0 ? 0x8000 : 0);
  const b = [h >> 8, h & 0xff, t >> 8, t & 0xff];
  b.push((b[0] + b[1] + b[2] + b[3]) & 0xff);
  return b;
}

/** The 40 data bits of a frame, most significant bit of byte 0 first. */
export function frameBits(bytes: number[]): number[] {
  const bits: number[] = [];
  for (const byte of bytes) for (let i = 7; i >= 0; i--) bits.push((byte >> i) & 1);
  return bits;
}

function jittered(us: number, opts: WaveOptions): number {
  const j = opts.jitterUs ?? 0;
  if (!j) return us;
  const r = (opts.rng ?? Math.random)();
  return Math.max(1, us + (r * 2 - 1) * j);
}

/**
 * The sensor's answer after the host releases the line (optionally the release high first):
 * 80 us low, 80 us high, then per bit ~50 us low and a high of `zeroUs` or `oneUs`, then a final
 * 50 us low before the line idles high.
 */
export function dht22Segments(bytes: number[], opts: WaveOptions = {}): Segment[] {
  const zero = opts.zeroUs ?? 27;
  const one = opts.oneUs ?? 70;
  const segs: Segment[] = [];
  if (opts.releaseUs) segs.push({ level: 1, us: jittered(opts.releaseUs, opts) });
  segs.push({ level: 0, us: jittered(80, opts) }, { level: 1, us: jittered(80, opts) });
  for (const bit of frameBits(bytes)) {
    segs.push({ level: 0, us: jittered(50, opts) });
    segs.push({ level: 1, us: jittered(bit ? one : zero, opts) });
  }
  segs.push({ level: 0, us: jittered(50, opts) });
  return segs;
}

/** High-pulse widths in arrival order (what the capture hands to the decoder): 41 (42 with `releaseUs`). */
export function dht22HighUs(bytes: number[], opts: WaveOptions = {}): number[] {
  return dht22Segments(bytes, opts)
    .filter((s) => s.level === 1)
    .map((s) => s.us);
}

/** A seeded pseudo-random source (mulberry32) so tests and scenarios are repeatable. */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
