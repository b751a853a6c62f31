// Virtual clock and scheduler of the emulated device: emulated time flows with real time and,
// in fast mode, jumps to the next due task whenever the device is idle (no socket in flight).

/** A task due at an emulated time (ms since the emulation started). */
interface Task {
  id: number;
  dueMs: number;
  seq: number;
  run: () => void;
}

export class VirtualClock {
  private baseEmuMs = 0;
  private baseRealMs = performance.now();

  /** Emulated ms since the emulation started (fractional). */
  now(): number {
    return this.baseEmuMs + (performance.now() - this.baseRealMs);
  }

  /** Moves emulated time forward to `ms` (never backwards). */
  jumpTo(ms: number): void {
    const now = this.now();
    if (ms <= now) return;
    this.baseEmuMs = ms;
    this.baseRealMs = performance.now();
  }
}

export class Scheduler {
  readonly clock = new VirtualClock();
  private tasks: Task[] = [];
  private nextId = 1;
  private seq = 0;
  /** Things the device waits on in real time (sockets in flight); fast mode does not jump while > 0. */
  private busy = 0;
  private wakeReal: (() => void) | null = null;
  private stopped = false;
  /** Wall-clock ms (emulated world) at emulated time 0. */
  readonly epochMs: number;

  constructor(
    public fast: boolean,
    epochMs = Math.floor(Date.now() / 1000) * 1000,
  ) {
    this.epochMs = epochMs;
  }

  now(): number {
    return this.clock.now();
  }

  /** Wall-clock ms of the emulated world (what the platform and the climate see). */
  wallMs(): number {
    return this.epochMs + this.clock.now();
  }

  at(dueMs: number, run: () => void): number {
    const id = this.nextId++;
    this.tasks.push({ id, dueMs, seq: this.seq++, run });
    this.wake();
    return id;
  }

  after(ms: number, run: () => void): number {
    return this.at(this.now() + Math.max(0, ms), run);
  }

  cancel(id: number): void {
    const i = this.tasks.findIndex((t) => t.id === id);
    if (i >= 0) this.tasks.splice(i, 1);
  }

  pending(): number {
    return this.tasks.length;
  }

  busyInc(): void {
    this.busy++;
  }

  busyDec(): void {
    this.busy = Math.max(0, this.busy - 1);
    this.wake();
  }

  isBusy(): boolean {
    return this.busy > 0;
  }

  /** Re-evaluates the loop after an outside event (I/O callback, new task). */
  wake(): void {
    const w = this.wakeReal;
    this.wakeReal = null;
    if (w) w();
  }

  stop(): void {
    this.stopped = true;
    this.wake();
  }

  private earliest(): Task | undefined {
    let best: Task | undefined;
    for (const t of this.tasks) if (!best || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.seq < best.seq)) best = t;
    return best;
  }

  /** Runs tasks until emulated time reaches `untilMs` or `stop()` is called. */
  async run(untilMs: number): Promise<void> {
    this.stopped = false;
    let sinceYield = 0;
    while (!this.stopped) {
      const now = this.now();
      const next = this.earliest();
      // Tasks due before the end run even when real time (which emulated time follows between
      // jumps) has already carried the clock past it; only then does the run end.
      if (next && next.dueMs <= now && next.dueMs < untilMs) {
        this.tasks.splice(this.tasks.indexOf(next), 1);
        next.run();
        // let real I/O (the platform's server, sockets) make progress now and then
        if (++sinceYield >= 20) {
          sinceYield = 0;
          await new Promise((r) => setImmediate(r));
        }
        continue;
      }
      if (now >= untilMs) break;
      const target = Math.min(next ? next.dueMs : Infinity, untilMs);
      if (this.fast && this.busy === 0) {
        this.clock.jumpTo(target);
        await new Promise((r) => setImmediate(r));
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wakeReal = null;
          resolve();
        }, Math.max(0, Math.min(target - now, 1000)));
        this.wakeReal = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
