// OTA update hosting of the local platform: serves a release folder (build/release.ts output:
// manifest.json + firmware-X.Y.Z.js + its signature firmware-X.Y.Z.sig) with single HTTP Range
// requests, as devices download in chunks.
import type { FastifyInstance } from "fastify";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface UpdatesOptions {
  /** Folder holding manifest.json and the images. */
  dir: string;
  /** URL prefix, default "/ota": manifest at `/ota/manifest.json`. */
  prefix?: string;
  /** Sees (and may replace) each file's bytes before a response: fault injection, counting. */
  onServe?: (name: string, body: Buffer, range: string | undefined) => Buffer;
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` against `size`: [start, endInclusive], null when
 * unsatisfiable, undefined when the header is absent or not a single byte range (send all). */
export function parseRange(header: string | undefined, size: number): [number, number] | null | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  let start: number, end: number;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return null;
  return [start, end];
}

/** Adds `GET {prefix}/:name` for files of `dir` (plain names only: no path traversal). */
export function registerUpdates(app: FastifyInstance, opts: UpdatesOptions): void {
  const prefix = opts.prefix ?? "/ota";
  app.get<{ Params: { name: string } }>(prefix + "/:name", (req, reply) => {
    const name = req.params.name;
    const file = join(opts.dir, name);
    if (!/^[\w][\w.-]*$/.test(name) || !existsSync(file)) {
      return reply.code(404).type("text/plain").send("not found");
    }
    const rangeHeader = typeof req.headers.range === "string" ? req.headers.range : undefined;
    let body: Buffer = readFileSync(file);
    if (opts.onServe) body = opts.onServe(name, body, rangeHeader);
    const type = name.endsWith(".json") ? "application/json" : name.endsWith(".sig") ? "application/octet-stream" : "application/javascript";
    reply.header("accept-ranges", "bytes").header("cache-control", "no-cache").type(type);
    const range = parseRange(rangeHeader, body.length);
    if (range === null) {
      return reply.code(416).header("content-range", `bytes */${body.length}`).send("");
    }
    if (range === undefined) return reply.code(200).send(body);
    return reply
      .code(206)
      .header("content-range", `bytes ${range[0]}-${range[1]}/${body.length}`)
      .send(body.subarray(range[0], range[1] + 1));
  });
}
