// flash.sh --update-key: the --dry-run upload holds the OTA layout (boot stage, slot fw.a, the
// update public key, config), erases what an older install left (an HMAC ota.key too), and never
// writes .bootcde; a private key is refused.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vm from "node:vm";

const ROOT = path.resolve(__dirname, "../..");

describe("flash.sh --update-key (OTA layout), dry run", function () {
  this.timeout(60000);

  it("writes .boot0, fw.a, ota.pub and iot.json, erases .bootcde, an old ota.key and OTA state, then load()s", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flash-ota-"));
    const creds = path.join(dir, "c.json");
    fs.writeFileSync(creds, JSON.stringify({ productKey: "a1pkOta", deviceName: "d1", deviceSecret: "Sx9fLq2ZtR7wPq0dVn4K" }));
    const key = path.join(dir, "p1.lms.pub");
    const pub = "00000001" + "00000006" + "00000003" + "ab".repeat(48);
    fs.writeFileSync(key, pub + "\n");
    const out = path.join(dir, "up.js");
    const code = await new Promise<number>((res) =>
      execFile("bash", [path.join(ROOT, "flash.sh"), "--credentials", creds, "--no-build", "--update-key", key, "--dry-run", out], { cwd: ROOT }, (e) => res(e ? 1 : 0)),
    );
    assert.equal(code, 0);
    const files: Record<string, string> = { ".bootcde": "old", "fw.b": "old B", "ota.m0": "{}", "ota.key": "k".repeat(64), "ota.ctr": "9" };
    const calls: string[] = [];
    const Storage = {
      write(name: string, data: string, offset?: number, size?: number) {
        calls.push("write " + name);
        if (!offset) files[name] = data + "\xff".repeat(Math.max(0, (size ?? data.length) - data.length));
        else files[name] = files[name].substr(0, offset) + data + files[name].substr(offset + data.length);
        return true;
      },
      erase(name: string) {
        calls.push("erase " + name);
        delete files[name];
      },
    };
    vm.runInNewContext(fs.readFileSync(out, "latin1"), {
      require: () => Storage,
      atob: (b: string) => Buffer.from(b, "base64").toString("latin1"),
      load: (f?: string) => calls.push("load " + (f ?? "")),
      reset: () => calls.push("reset"),
    });
    assert.equal(files[".boot0"], fs.readFileSync(path.join(ROOT, "dist/boot0.js"), "latin1"));
    assert.equal(files["fw.a"], fs.readFileSync(path.join(ROOT, "dist/firmware.js"), "latin1"));
    assert.equal(files["ota.pub"], pub);
    assert.equal(JSON.parse(files["iot.json"]).productKey, "a1pkOta");
    assert.deepEqual(Object.keys(files).sort(), [".boot0", "fw.a", "iot.json", "ota.pub"]);
    assert.ok(!calls.includes("write .bootcde"));
    assert.equal(calls[calls.length - 1], "load ", "restarts through the boot stage last");
  });

  it("refuses a missing key file, an old HMAC key and the private signing key", async () => {
    const r = (args: string[]) =>
      new Promise<string>((res) => execFile("bash", [path.join(ROOT, "flash.sh"), ...args], { cwd: ROOT }, (_e, so, se) => res(so + se)));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flash-ota-"));
    const creds = path.join(dir, "c.json");
    fs.writeFileSync(creds, JSON.stringify({ productKey: "a1pkOta", deviceName: "d1", deviceSecret: "Sx9fLq2ZtR7wPq0dVn4K" }));
    assert.match(await r(["--update-key", path.join(dir, "none"), "--credentials", creds, "--no-build", "--dry-run", path.join(dir, "a.js")]), /--update-key needs an existing public key file/);
    fs.writeFileSync(path.join(dir, "hmac"), "ab".repeat(32));
    fs.writeFileSync(path.join(dir, "private"), JSON.stringify({ lmsType: 6, otsType: 3, id: "ab".repeat(16), seed: "cd".repeat(32), q: 0, counter: 0 }));
    for (const f of ["hmac", "private"]) {
      assert.match(await r(["--update-key", path.join(dir, f), "--credentials", creds, "--no-build", "--dry-run", path.join(dir, "a.js")]), /not an update public key/);
      assert.ok(!fs.existsSync(path.join(dir, "a.js")), "nothing written");
    }
  });
});
