// A fake Espruino `Storage` module in memory: fixed-size files written at offsets only over
// erased bytes, StorageFiles listed as name + chunk char, "Not enough free space" when full.
import type { EspStorage, EspStorageFile } from "../../platform/espruino/store";

export class FakeStorage implements EspStorage {
  files: { [name: string]: string } = {};
  /** Every whole-file write (offset 0), to check flash wear. */
  writes: string[] = [];
  constructor(public capacity = 64 * 1024) {}
  used(): number {
    let n = 0;
    for (const k in this.files) n += this.files[k].length;
    return n;
  }
  read(name: string): string | undefined {
    return this.files[name];
  }
  write(name: string, data: string, offset?: number, size?: number): boolean {
    if (name.length > 28) throw new Error("Name too long");
    if (offset === undefined || offset === 0) {
      const total = size === undefined ? data.length : size;
      if (this.used() - (this.files[name] || "").length + total > this.capacity) throw new Error("Not enough free space");
      this.writes.push(name);
      this.files[name] = data + "\xff".repeat(total - data.length);
      return true;
    }
    const f = this.files[name];
    if (f === undefined) throw new Error("File does not exist");
    if (offset + data.length > f.length) throw new Error("Too much data for file size");
    if (f.substr(offset, data.length) !== "\xff".repeat(data.length)) throw new Error("Writing over unerased flash");
    this.files[name] = f.substr(0, offset) + data + f.substr(offset + data.length);
    return true;
  }
  erase(name: string): void {
    delete this.files[name];
  }
  list(): string[] {
    return Object.keys(this.files);
  }
  getFree(): number {
    return this.capacity - this.used();
  }
  open(name: string, mode: string): EspStorageFile {
    if (name.length > 27) throw new Error("Name too long");
    const key = name + "\x01"; // one chunk is enough for a fake
    let pos = 0;
    if (mode === "w") this.files[key] = "";
    const files = this.files;
    const used = () => this.used();
    const capacity = this.capacity;
    return {
      write(data: string) {
        if (data.indexOf("\xff") >= 0) throw new Error("StorageFile data cannot contain 0xFF");
        if (used() + data.length > capacity) throw new Error("Not enough free space");
        files[key] = (files[key] || "") + data;
      },
      read(len: number) {
        const f = files[key];
        if (f === undefined || pos >= f.length) return undefined;
        const out = f.substr(pos, len);
        pos += out.length;
        return out;
      },
      erase() {
        delete files[key];
      },
    };
  }
}
