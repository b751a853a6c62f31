// flash.sh: the --dry-run upload is replayed against a fake Storage to check that it writes
// dist/firmware.js to .bootcde and the credentials to iot.json; bad credentials are refused.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vm from "node:vm";

const ROOT = path.resolve(__dirname, "../..");
const SECRET = "Sx9fLq2ZtR7wPq0dVn4K";

function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile("bash", [path.join(ROOT, "flash.sh"), ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, out: stdout + stderr });
    });
  });
}

/** Runs the upload script the way the board would, with a Storage that keeps what is written. */
function replay(script: string): { files: { [name: string]: string }; loaded: string[] } {
  const files: { [name: string]: string } = {};
  const loaded: string[] = [];
  const Storage = {
    write(name: string, data: string, offset?: number, size?: number) {
      if (!offset) files[name] = data + "\xff".repeat(Math.max(0, (size ?? data.length) - data.length));
      else files[name] = files[name].substr(0, offset) + data + files[name].substr(offset + data.length);
      return true;
    },
  };
  vm.runInNewContext(script, {
    require: (m: string) => {
      assert.equal(m, "Storage");
      return Storage;
    },
    atob: (b: string) => Buffer.from(b, "base64").toString("latin1"),
    load: (name: string) => loaded.push(name),
  });
  return { files, loaded };
}

describe("flash.sh", function () {
  this.timeout(60000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "flash-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function creds(o: object): string {
    const f = path.join(dir, "creds-" + Math.random().toString(36).slice(2) + ".json");
    fs.writeFileSync(f, JSON.stringify(o));
    return f;
  }

  it("--dry-run writes the bundle to .bootcde and the credentials to iot.json, and keeps the secret out of dist/ and the output", async () => {
    const device = { productKey: "a1pkFlash", deviceName: "bench-1", deviceSecret: SECRET, intervalSec: 120, wifi: { ssid: "lab", password: "pw" } };
    const out = path.join(dir, "upload.js");
    const r = await run(["--credentials", creds(device), "--dry-run", out]);
    assert.equal(r.code, 0, r.out);
    assert.ok(!r.out.includes(SECRET), "flash.sh printed the secret");
    const script = fs.readFileSync(out, "latin1");
    assert.match(script, /require\("Storage"\)\.write\("\.bootcde",/);
    const { files, loaded } = replay(script);
    const firmware = fs.readFileSync(path.join(ROOT, "dist/firmware.js"), "latin1");
    assert.equal(files[".bootcde"], firmware, ".bootcde holds dist/firmware.js byte for byte");
    assert.deepEqual(JSON.parse(files["iot.json"]), device);
    assert.deepEqual(loaded, [".bootcde"], "restarts into the new code");
    assert.equal(fs.statSync(out).mode & 0o077, 0, "the upload file holds the secret: private to its owner");
    for (const f of fs.readdirSync(path.join(ROOT, "dist"))) {
      const p = path.join(ROOT, "dist", f);
      if (fs.statSync(p).isFile()) assert.ok(!fs.readFileSync(p, "latin1").includes(SECRET), "secret found in dist/" + f);
    }
  });

  it("--dist DIR flashes the bundle in DIR as it is (no build), and refuses a folder that is not there", async () => {
    const device = { productKey: "a1pkFlash", deviceName: "bench-3", deviceSecret: SECRET };
    const dist = fs.mkdtempSync(path.join(dir, "dist-"));
    fs.writeFileSync(path.join(dist, "firmware.js"), "print('another build');\n");
    const out = path.join(dir, "upload-dist.js");
    const r = await run(["--credentials", creds(device), "--dist", dist, "--dry-run", out]);
    assert.equal(r.code, 0, r.out);
    assert.ok(!/building/.test(r.out), "built although --dist was given");
    assert.equal(replay(fs.readFileSync(out, "latin1")).files[".bootcde"], "print('another build');\n");
    const none = await run(["--credentials", creds(device), "--dist", path.join(dir, "absent"), "--dry-run", out]);
    assert.equal(none.code, 2);
    assert.match(none.out, /--dist needs a folder/);
  });

  it("refuses a credentials file that is missing, malformed, has a bad field or still holds placeholders", async () => {
    const out = path.join(dir, "never.js");
    const missing = await run(["--credentials", path.join(dir, "absent.json"), "--dry-run", out, "--no-build"]);
    assert.equal(missing.code, 2);
    assert.match(missing.out, /credentials file not found/);

    const junk = path.join(dir, "junk.json");
    fs.writeFileSync(junk, "{productKey: " + SECRET);
    const malformed = await run(["--credentials", junk, "--dry-run", out, "--no-build"]);
    assert.equal(malformed.code, 2);
    assert.match(malformed.out, /not valid JSON/);
    assert.ok(!malformed.out.includes(SECRET));

    const badField = await run(["--credentials", creds({ productKey: "a1pk", deviceSecret: SECRET }), "--dry-run", out, "--no-build"]);
    assert.equal(badField.code, 2);
    assert.match(badField.out, /deviceName is missing/);
    assert.ok(!badField.out.includes(SECRET));

    const example = await run(["--credentials", path.join(ROOT, "credentials.example.json"), "--dry-run", out, "--no-build"]);
    assert.equal(example.code, 2);
    assert.match(example.out, /placeholders/);
    assert.equal(fs.existsSync(out), false, "nothing written when refused");
  });

  it("takes credentials in the console's notation (bare keys) and \\u escapes; provisions strict JSON in UTF-8", async () => {
    const f = path.join(dir, "py.json");
    // bare keys as Storage.writeJSON writes them; \u escapes as Python's json.dump writes them
    fs.writeFileSync(f, '{productKey:"a1pkFlash",deviceName:"bench-2",deviceSecret:"' + SECRET + '",wifi:{ssid:"\\u4e2d\\u6587-caf\\u00e9",password:"pw"}}');
    const out = path.join(dir, "upload-py.js");
    const r = await run(["--credentials", f, "--dry-run", out, "--no-build"]);
    assert.equal(r.code, 0, r.out);
    const iot = replay(fs.readFileSync(out, "latin1")).files["iot.json"];
    assert.deepEqual(JSON.parse(Buffer.from(iot, "latin1").toString("utf8")),
      { productKey: "a1pkFlash", deviceName: "bench-2", deviceSecret: SECRET, wifi: { ssid: "中文-café", password: "pw" } });
  });

  it("asks for a port or a dry run, and checks option values", async () => {
    const none = await run([]);
    assert.equal(none.code, 2);
    assert.match(none.out, /give --port/);
    const baud = await run(["--port", "/dev/null", "--baud", "fast"]);
    assert.equal(baud.code, 2);
    assert.match(baud.out, /--baud needs a number/);
  });
});
