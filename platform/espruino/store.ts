// HAL Store on Espruino's require("Storage"): records written only when they change (flash wear),
// fixed-size records written in place, and append-only logs as StorageFiles.
import type { Store } from "../hal";

/** The parts of Espruino's `Storage` module used here (espruino.md "Storage"). */
export interface EspStorage {
  read(name: string): string | undefined;
  write(name: string, data: string, offset?: number, size?: number): boolean;
  erase(name: string): void;
  list(): string[];
  getFree(): number;
  /** 2v05+: `trashBytes` = erased files a compaction would reclaim. */
  getStats?(): { freeBytes: number; trashBytes: number };
  open(name: string, mode: string): EspStorageFile;
}
export interface EspStorageFile {
  write(data: string): void;
  read(len: number): string | undefined;
  erase(): void;
}

/** StorageFile chunks are listed as the file name plus one chunk-number char (1, 2, ...). */
function chunkBase(name: string): string {
  const last = name.charCodeAt(name.length - 1);
  return last < 32 ? name.substr(0, name.length - 1) : name;
}

export function createStore(storage: EspStorage): Store {
  function isLog(name: string): boolean {
    return storage.list().indexOf(name + "\x01") >= 0;
  }
  return {
    read: function (name) {
      try {
        return storage.read(name);
      } catch {
        return undefined;
      }
    },
    write: function (name, data) {
      try {
        if (storage.read(name) === data) return true; // unchanged: spare the flash
        return storage.write(name, data) !== false;
      } catch {
        return false; // "Not enough free space": the old record stays
      }
    },
    writeAt: function (name, data, offset, size) {
      try {
        return (offset === 0 ? storage.write(name, data, 0, size) : storage.write(name, data, offset)) !== false;
      } catch {
        return false;
      }
    },
    append: function (name, data) {
      try {
        storage.open(name, "a").write(data);
        return true;
      } catch {
        return false;
      }
    },
    readLog: function (name) {
      if (!isLog(name)) return undefined;
      const f = storage.open(name, "r");
      let out = "";
      let part = f.read(512);
      while (part !== undefined) {
        out += part;
        part = f.read(512);
      }
      return out;
    },
    erase: function (name) {
      if (isLog(name)) storage.open(name, "r").erase();
      else storage.erase(name);
    },
    list: function (prefix) {
      const out: string[] = [];
      const all = storage.list();
      for (let i = 0; i < all.length; i++) {
        const n = chunkBase(all[i]);
        if (n.indexOf(prefix) === 0 && out.indexOf(n) < 0) out.push(n);
      }
      return out;
    },
    free: function () {
      // getFree() leaves out erased (trash) space, which Storage.write reclaims by compacting when
      // it needs room: an OTA slot rewritten a few times would otherwise look like a full flash.
      const st = storage.getStats ? storage.getStats() : null;
      return st ? st.freeBytes + st.trashBytes : storage.getFree();
    },
  };
}
