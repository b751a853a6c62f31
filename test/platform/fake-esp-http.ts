// A fake Espruino `http` module with the interpreter's quirks (espruino.md "HTTP(S) client"):
// string statusCode, synchronous throws, -30848 after a complete TLS response, no timeouts.
import type { EspHttp, EspRequestOptions, EspResponse, EspClientRequest } from "../../platform/espruino/net";

type Handler = (...args: unknown[]) => void;

class Emitter {
  handlers: { [ev: string]: Handler[] } = {};
  on(ev: string, fn: Handler): void {
    (this.handlers[ev] = this.handlers[ev] || []).push(fn);
  }
  emit(ev: string, ...args: unknown[]): void {
    for (const fn of this.handlers[ev] || []) fn(...args);
  }
}

export class FakeResponse extends Emitter {
  constructor(
    public statusCode: string,
    public headers: { [name: string]: string },
  ) {
    super();
  }
}

/** One request as the fake saw it, with handles to drive the response by hand. */
export class FakeCall extends Emitter {
  body: string | undefined;
  ended = false;
  res: FakeResponse | null = null;
  constructor(
    public opts: EspRequestOptions,
    private cb: (res: EspResponse) => void,
  ) {
    super();
  }
  end(body?: string): void {
    this.ended = true;
    this.body = body;
  }
  /** Starts the response (headers only). */
  respond(status: number, headers: { [name: string]: string } = {}): FakeResponse {
    this.res = new FakeResponse(String(status), headers);
    this.cb(this.res as unknown as EspResponse);
    return this.res;
  }
  /** A whole HTTPS response the way Espruino delivers it: chunks, -30848, then close. */
  reply(status: number, body: string, headers: { [name: string]: string } = {}, closeNotify = true): void {
    const res = this.respond(status, headers);
    for (let i = 0; i < body.length; i += 64) res.emit("data", body.substr(i, 64));
    if (closeNotify) this.emit("error", { code: -30848, message: "SSL close notify" });
    res.emit("close");
  }
  fail(code: number, message: string): void {
    this.emit("error", { code, message });
  }
}

export class FakeEspHttp implements EspHttp {
  calls: FakeCall[] = [];
  /** When set, the next request() throws this message synchronously (refused/unresolvable host). */
  throwNext: string | null = null;
  request(opts: EspRequestOptions, cb: (res: EspResponse) => void): EspClientRequest {
    if (this.throwNext) {
      const msg = this.throwNext;
      this.throwNext = null;
      throw new Error(msg);
    }
    const call = new FakeCall(opts, cb);
    this.calls.push(call);
    return call as unknown as EspClientRequest;
  }
  get last(): FakeCall {
    return this.calls[this.calls.length - 1];
  }
}
