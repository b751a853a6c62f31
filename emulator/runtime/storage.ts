// Emulated Espruino flash Storage: one file per emulated device that survives emulated reboots,
// with the flash rules that matter (names <= 28 chars, write-at-offset only over erased bytes,
// rewrites leave trash until compact, StorageFile chunks, 0xFF ends a StorageFile).
import * as fs from "node:fs";
import * as path from "node:path";
import { espruinoParse, writeJsonText, type Realm } from "./espruino-json";

/** Bytes per StorageFile chunk (a 4 KB flash page minus Espruino's header). */
export const STORAGEFILE_CHUNK = 4064;
/** Espruino's per-file header in flash. */
const HEADER_BYTES = 32;

/** Cut power during a Storage write: called before each write with its size; returns bytes to keep, or -1 to write it all. */
export type WriteHook = (kind: "write" | "append", name: string, bytes: number) => number;

export class PowerCut extends Error {
  constructor() {
    super("power lost");
  }
}

export class Flash {
  private files = new Map<string, Buffer>();
  private trashBytes = 0;
  writeHook: WriteHook | null = null;
  writes = 0;

  constructor(
    readonly file: string | null,
    readonly capacityBytes = 192 * 1024,
  ) {
    if (file && fs.existsSync(file)) {
      const saved = JSON.parse(fs.readFileSync(file, "utf8")) as { files: Record<string, string>; trashBytes: number };
      for (const k of Object.keys(saved.files)) this.files.set(k, Buffer.from(saved.files[k], "base64"));
      this.trashBytes = saved.trashBytes || 0;
    }
  }

  private persist(): void {
    if (!this.file) return;
    const files: Record<string, string> = {};
    for (const [k, v] of this.files) files[k] = v.toString("base64");
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = this.file + ".tmp";
    fs.writeFileSync(tmp, JSON.stringify({ files, trashBytes: this.trashBytes }));
    fs.renameSync(tmp, this.file);
  }

  usedBytes(): number {
    let n = this.trashBytes;
    for (const v of this.files.values()) n += HEADER_BYTES + v.length;
    return n;
  }

  free(): number {
    return Math.max(0, this.capacityBytes - this.usedBytes());
  }

  get(name: string): Buffer | undefined {
    return this.files.get(name);
  }

  names(): string[] {
    return [...this.files.keys()];
  }

  /** Host-side write (provisioning): no hooks, no checks beyond the name. */
  put(name: string, data: Buffer | string): void {
    this.files.set(name, typeof data === "string" ? Buffer.from(data, "latin1") : data);
    this.persist();
  }

  private fits(extra: number): boolean {
    if (this.free() >= extra) return true;
    this.compact();
    return this.free() >= extra;
  }

  compact(): void {
    if (this.trashBytes) {
      this.trashBytes = 0;
      this.persist();
    }
  }

  /** Applies the power-cut hook: returns how many bytes really get written (throws PowerCut after a torn write). */
  private hooked(kind: "write" | "append", name: string, bytes: number): number {
    this.writes++;
    const keep = this.writeHook ? this.writeHook(kind, name, bytes) : -1;
    return keep < 0 ? bytes : Math.min(keep, bytes);
  }

  /** Storage.write semantics. Returns false when flash is full. */
  write(name: string, data: Buffer, offset?: number, size?: number): boolean {
    checkName(name, 28);
    const old = this.files.get(name);
    if (offset && offset > 0) {
      // writing into an existing file: flash bits only go 1 -> 0, so non-erased bytes get ANDed
      if (!old) throw new Error("Storage.write: file " + JSON.stringify(name) + " not found for offset write");
      if (offset + data.length > old.length) throw new Error("Storage.write: too much data for file size");
      const keep = this.hooked("write", name, data.length);
      for (let i = 0; i < keep; i++) old[offset + i] &= data[i];
      this.persist();
      if (keep < data.length) throw new PowerCut();
      return true;
    }
    const total = size && size > data.length ? size : data.length;
    if (!this.fits(HEADER_BYTES + total - (old ? 0 : 0))) return false;
    if (old) this.trashBytes += HEADER_BYTES + old.length;
    const buf = Buffer.alloc(total, 0xff);
    const keep = this.hooked("write", name, data.length);
    data.copy(buf, 0, 0, keep);
    this.files.set(name, buf);
    this.persist();
    if (keep < data.length) throw new PowerCut();
    return true;
  }

  erase(name: string): void {
    const old = this.files.get(name);
    if (!old) return;
    this.trashBytes += HEADER_BYTES + old.length;
    this.files.delete(name);
    this.persist();
  }

  // ---- StorageFile: chunks named name + chr(n), n = 1.., each STORAGEFILE_CHUNK bytes, 0xFF = unwritten

  chunkNames(name: string): string[] {
    const out: string[] = [];
    for (let n = 1; n < 255 && this.files.has(name + String.fromCharCode(n)); n++) out.push(name + String.fromCharCode(n));
    return out;
  }

  /** The readable content of a StorageFile: everything up to the first 0xFF. */
  fileContent(name: string): Buffer {
    const parts: Buffer[] = [];
    for (const c of this.chunkNames(name)) {
      const b = this.files.get(c)!;
      const end = b.indexOf(0xff);
      if (end >= 0) {
        parts.push(b.subarray(0, end));
        break;
      }
      parts.push(b);
    }
    return Buffer.concat(parts);
  }

  fileErase(name: string): void {
    for (const c of this.chunkNames(name)) this.erase(c);
  }

  /** Appends to a StorageFile; false when flash is full. */
  fileAppend(name: string, data: Buffer): boolean {
    checkName(name, 27);
    let len = this.fileContent(name).length;
    const chunks = this.chunkNames(name);
    const newChunks = Math.max(0, Math.ceil((len + data.length) / STORAGEFILE_CHUNK) - chunks.length);
    if (!this.fits(newChunks * (HEADER_BYTES + STORAGEFILE_CHUNK))) return false;
    const keep = this.hooked("append", name, data.length);
    for (let i = 0; i < keep; i++, len++) {
      const n = Math.floor(len / STORAGEFILE_CHUNK) + 1;
      const cname = name + String.fromCharCode(n);
      let c = this.files.get(cname);
      if (!c) {
        c = Buffer.alloc(STORAGEFILE_CHUNK, 0xff);
        this.files.set(cname, c);
      }
      c[len % STORAGEFILE_CHUNK] &= data[i];
    }
    this.persist();
    if (keep < data.length) throw new PowerCut();
    return true;
  }

  stats(): { fileBytes: number; fileCount: number; trashBytes: number; trashCount: number; totalBytes: number; freeBytes: number } {
    let fileBytes = 0;
    for (const v of this.files.values()) fileBytes += HEADER_BYTES + v.length;
    return {
      fileBytes,
      fileCount: this.files.size,
      trashBytes: this.trashBytes,
      trashCount: this.trashBytes ? 1 : 0,
      totalBytes: this.capacityBytes,
      freeBytes: this.free(),
    };
  }
}

function checkName(name: string, max: number): void {
  if (typeof name !== "string" || !name.length) throw new Error("Storage: name must be a non-empty string");
  if (name.length > max) throw new Error("Storage: name too long (max " + max + " chars): " + JSON.stringify(name));
}

/** Bytes of a value handed in by device code: strings are byte strings (char code & 255). */
export function toBytes(v: unknown): Buffer {
  if (typeof v === "string") {
    const b = Buffer.alloc(v.length);
    for (let i = 0; i < v.length; i++) b[i] = v.charCodeAt(i) & 255;
    return b;
  }
  if (v instanceof ArrayBuffer || (v && typeof v === "object" && (v as object).constructor && (v as object).constructor.name === "ArrayBuffer"))
    return Buffer.from(new Uint8Array(v as ArrayBuffer));
  if (ArrayBuffer.isView(v)) return Buffer.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  if (Array.isArray(v)) return Buffer.from(v.map((x) => Number(x) & 255));
  if (v === undefined || v === null) return Buffer.alloc(0);
  return toBytes(String(v));
}

/** Espruino's `require("Storage")` object, bound to one flash; `realm` makes readJSON's objects. */
export function storageModule(flash: Flash, realm: Realm, guard: () => void): object {
  const latin1 = (b: Buffer) => b.toString("latin1");
  function StorageFile(this: Record<string, unknown>, name: string, mode: string) {
    checkName(name, 27);
    if (mode !== "r" && mode !== "w" && mode !== "a") throw new Error("StorageFile: mode must be r, w or a");
    if (mode === "w") flash.fileErase(name);
    let pos = 0;
    this.name = name;
    this.mode = mode;
    this.write = (data: unknown) => {
      guard();
      if (mode === "r") throw new Error("StorageFile: can't write in read mode");
      const s = typeof data === "string" ? data : String(data);
      if (!flash.fileAppend(name, toBytes(s))) throw new Error("StorageFile: not enough free space");
    };
    this.read = (len?: number) => {
      guard();
      const c = flash.fileContent(name);
      if (pos >= c.length) return undefined;
      const n = len === undefined ? c.length - pos : Math.max(0, len);
      const out = c.subarray(pos, pos + n);
      pos += out.length;
      return latin1(out);
    };
    this.readLine = () => {
      guard();
      const c = flash.fileContent(name);
      if (pos >= c.length) return undefined;
      let end = c.indexOf(10, pos);
      end = end < 0 ? c.length : end + 1;
      const out = c.subarray(pos, end);
      pos = end;
      return latin1(out);
    };
    this.getLength = () => flash.fileContent(name).length;
    this.erase = () => {
      guard();
      flash.fileErase(name);
    };
  }
  return {
    read(name: string, offset?: number, length?: number) {
      guard();
      const b = flash.get(name);
      if (!b) return undefined;
      const o = offset || 0;
      return latin1(b.subarray(o, length === undefined ? b.length : o + length));
    },
    readJSON(name: string, noExceptions?: boolean) {
      guard();
      const b = flash.get(name);
      if (!b) return undefined;
      try {
        // Espruino's liberal parser: also the bare keys writeJSON writes
        return espruinoParse(latin1(b), true, realm);
      } catch (e) {
        if (noExceptions) return undefined;
        throw e;
      }
    },
    readArrayBuffer(name: string) {
      guard();
      const b = flash.get(name);
      if (!b) return undefined;
      return new Uint8Array(b).buffer;
    },
    write(name: string, data: unknown, offset?: number, size?: number) {
      guard();
      return flash.write(name, toBytes(data), offset, size);
    },
    writeJSON(name: string, data: unknown) {
      guard();
      // Espruino's own notation, keys unquoted: JSON.parse refuses it, readJSON reads it
      return flash.write(name, toBytes(writeJsonText(data) ?? ""));
    },
    erase(name: string) {
      guard();
      flash.erase(name);
    },
    eraseAll() {
      guard();
      for (const n of flash.names()) flash.erase(n);
    },
    list(pattern?: RegExp | string, filter?: { sf?: boolean }) {
      guard();
      let names = flash.names();
      const isChunk = (n: string) => n.charCodeAt(n.length - 1) < 32;
      if (filter && filter.sf === true) names = [...new Set(names.filter(isChunk).map((n) => n.slice(0, -1)))];
      else if (filter && filter.sf === false) names = names.filter((n) => !isChunk(n));
      if (pattern !== undefined) {
        const re = typeof pattern === "string" ? new RegExp(pattern) : pattern;
        names = names.filter((n) => re.test(n));
      }
      return names;
    },
    getFree() {
      return flash.free();
    },
    getStats() {
      return flash.stats();
    },
    compact() {
      guard();
      flash.compact();
    },
    open(name: string, mode: string) {
      guard();
      return new (StorageFile as unknown as new (n: string, m: string) => object)(name, mode);
    },
  };
}
