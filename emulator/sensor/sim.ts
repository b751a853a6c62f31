// Simulated DHT22 on the emulated pin: a climate with daily curves plus noise, answered as the
// real pulse train (wave.ts) when the host releases the line after a >= 1 ms low; fault knobs for
// no answer, bit flips, jitter and stuck values. It records every frame it sent, which the report
// compares with what reached the platform.
import { dht22Bytes, dht22Segments, frameBits, seededRng, type Segment } from "./wave";

export interface ClimateOptions {
  seed?: number;
  /** Daily mean temperature in °C and its half swing; the peak is at `peakHour` (local = UTC here). */
  meanC?: number;
  swingC?: number;
  meanRh?: number;
  swingRh?: number;
  peakHour?: number;
  /** Standard deviation of the noise added to each measurement. */
  noiseC?: number;
  noiseRh?: number;
}

export interface SensorFaults {
  /** The sensor never answers the start pulse. */
  noAnswer?: boolean;
  /**
   * Probability that each of the 40 bits is flipped, independently. Two or more flips can cancel in
   * the DHT22's 8-bit sum checksum (a 0->1 and a 1->0 at one bit position of two bytes), which no
   * decoder can detect: a noise model for exploring, not a guarantee the firmware can keep.
   */
  bitFlipProb?: number;
  /** Probability that a frame has exactly one flipped bit (at a random position): always detectable. */
  oneBitFlipProb?: number;
  /** Uniform jitter added to every pulse width, in microseconds. */
  jitterUs?: number;
  /** The sensor keeps sending the same (valid) frame. */
  stuck?: boolean;
}

/** One frame the sensor put on the wire. */
export interface Frame {
  wallMs: number;
  /** Values in the frame (0.1 resolution) before any bit flips. */
  temperature: number;
  humidity: number;
  /** Climate without rounding, for accuracy checks. */
  trueC: number;
  trueRh: number;
  /** Bits were flipped, or jitter pushed a pulse past the 0/1 midpoint: not a valid reading. */
  corrupted: boolean;
  stuck: boolean;
}

const DAY_MS = 86400000;
/** Halfway between a 0 bit (27 us) and a 1 bit (70 us) high. */
const MIDPOINT_US = 48.5;

export class DhtSim {
  readonly frames: Frame[] = [];
  noAnswers = 0;
  faults: SensorFaults = {};
  private rng: () => number;
  private opts: Required<ClimateOptions>;
  private last: { t: number; h: number } | null = null;

  constructor(opts: ClimateOptions = {}) {
    this.opts = { seed: 1, meanC: 22, swingC: 4, meanRh: 55, swingRh: 12, peakHour: 15, noiseC: 0.15, noiseRh: 0.6, ...opts };
    this.rng = seededRng(this.opts.seed);
  }

  /** Climate curve at a wall time, without noise. */
  climateAt(wallMs: number): { temperature: number; humidity: number } {
    const o = this.opts;
    const phase = (2 * Math.PI * (((wallMs % DAY_MS) / 3600000 - o.peakHour) % 24)) / 24;
    return { temperature: o.meanC + o.swingC * Math.cos(phase), humidity: o.meanRh - o.swingRh * Math.cos(phase) };
  }

  private gauss(): number {
    // Irwin-Hall approximation: enough for sensor noise
    let s = 0;
    for (let i = 0; i < 6; i++) s += this.rng();
    return (s - 3) / Math.sqrt(0.5);
  }

  /**
   * The host released the line after holding it low `lowMs`: the segments from the release on
   * (release high, then the answer), or null when the sensor does not answer.
   */
  answer(wallMs: number, lowMs: number): Segment[] | null {
    if (lowMs < 0.999 || this.faults.noAnswer) {
      this.noAnswers++;
      return null;
    }
    let t: number;
    let h: number;
    const c = this.climateAt(wallMs);
    if (this.faults.stuck && this.last) {
      t = this.last.t;
      h = this.last.h;
    } else {
      t = Math.round((c.temperature + this.gauss() * this.opts.noiseC) * 10) / 10;
      h = Math.min(99.9, Math.max(0, Math.round((c.humidity + this.gauss() * this.opts.noiseRh) * 10) / 10));
      this.last = { t, h };
    }
    const bytes = dht22Bytes(t, h);
    let corrupted = false;
    const p = this.faults.bitFlipProb || 0;
    if (p > 0) {
      for (let i = 0; i < 40; i++) {
        if (this.rng() < p) {
          bytes[i >> 3] ^= 0x80 >> (i & 7);
          corrupted = true;
        }
      }
    }
    if ((this.faults.oneBitFlipProb || 0) > this.rng()) {
      const i = Math.floor(this.rng() * 40);
      bytes[i >> 3] ^= 0x80 >> (i & 7);
      corrupted = true;
    }
    this.frames.push({ wallMs, temperature: t, humidity: h, trueC: c.temperature, trueRh: c.humidity, corrupted, stuck: !!this.faults.stuck });
    const releaseUs = 20 + this.rng() * 20;
    const segs = dht22Segments(bytes, { releaseUs, jitterUs: this.faults.jitterUs || 0, rng: this.rng });
    // A bit whose high pulse lands on the wrong side of the 0/1 midpoint is a different frame on
    // the wire: such a frame is not a reading the device could have taken.
    const bits = segs.slice(4).filter((x) => x.level === 1).slice(0, 40);
    const sent = frameBits(bytes);
    if (bits.some((x, i) => (x.us > MIDPOINT_US ? 1 : 0) !== sent[i])) this.frames[this.frames.length - 1].corrupted = true;
    return segs;
  }
}
