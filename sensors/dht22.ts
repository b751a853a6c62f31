// DHT22 (AM2302) frame decoder: high-pulse widths in microseconds -> °C and %RH, or a named error.

/** A decoded reading, or why there is none. Errors: timeout, short, pulse, ambiguous, checksum, range, align. */
export type DhtResult =
  | { ok: true; temperature: number; humidity: number }
  | { ok: false; error: string };

// A 0 bit is high 26-28 us, a 1 bit 70 us: 48 us sits 20+ us from both, so ±15 us jitter holds.
const ONE_MIN_US = 48;
// Outside the ±15 us design envelope a pulse between these could be a late 0 or an early 1. The sum
// checksum misses compensating errors (a 0->1 and a 1->0 at one bit position of two bytes), so such a
// frame is refused rather than guessed: with ±25 us jitter 0.7 % of frames decoded to wrong values.
const ZERO_MAX_US = 43;
const ONE_LOW_US = 55;
// No data bit is high this long (a 1 is 70 us): wider means noise or a misaligned frame.
const BIT_MAX_US = 150;

/** The 40 bits from pulse `start` on: checksum, sign and datasheet ranges. */
function frameAt(highUs: number[], start: number): DhtResult {
  if (highUs.length - start < 40) return { ok: false, error: "short" };
  const b = [0, 0, 0, 0, 0];
  for (let i = 0; i < 40; i++) {
    const us = highUs[start + i];
    // Written so that NaN and non-numbers fail too.
    if (!(us > 0 && us <= BIT_MAX_US)) return { ok: false, error: "pulse" };
    if (us > ZERO_MAX_US && us < ONE_LOW_US) return { ok: false, error: "ambiguous" };
    b[i >> 3] = (b[i >> 3] << 1) | (us >= ONE_MIN_US ? 1 : 0);
  }
  // A sum catches every single-bit error: one flip moves one byte by ±2^k, k < 8, never 0 mod 256.
  if (((b[0] + b[1] + b[2] + b[3]) & 0xff) !== b[4]) return { ok: false, error: "checksum" };
  const humidity = (b[0] << 8) | b[1];
  let temperature = ((b[2] & 0x7f) << 8) | b[3];
  if (b[2] & 0x80) temperature = -temperature;
  if (humidity > 1000 || temperature < -400 || temperature > 800) return { ok: false, error: "range" };
  // +0 turns a signed zero (0x8000) into 0.
  return { ok: true, temperature: temperature / 10 + 0, humidity: humidity / 10 };
}

/**
 * Decodes the high-pulse widths of one answer, in arrival order. The list may start with the
 * host-release high and the sensor's 80 us response pulse, or lack both (first edge missed), and
 * may carry extra pulses after the 40 data bits. The response is the first long pulse among the
 * first two (humidity <= 100.0 %RH makes the first 6 data bits zeros, so a long pulse there is
 * never valid data); without one the data starts at the first pulse.
 */
export function decodeDht22(highUs: number[]): DhtResult {
  const n = highUs ? highUs.length : 0;
  if (!n) return { ok: false, error: "timeout" };
  const start = highUs[0] >= ONE_MIN_US ? 1 : n > 1 && highUs[1] >= ONE_MIN_US ? 2 : 0;
  const r = frameAt(highUs, start);
  if (start || !r.ok) return r;
  // No response pulse to anchor on. A frame shifted by a bit or two passes a sum checksum far
  // more often than 1 in 256 (halving a byte roughly halves the sum), so when the pulses also
  // read as a valid frame one or two places later, the alignment is a guess: refuse it.
  for (let s = 1; s < 3; s++) {
    const o = frameAt(highUs, s);
    if (o.ok && (o.temperature !== r.temperature || o.humidity !== r.humidity)) return { ok: false, error: "align" };
  }
  return r;
}
