// The local platform hosts a release folder (startCloud updatesDir) on both its HTTPS and HTTP
// listeners, over real sockets, with Range requests as devices download.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { startCloud } from "../../emulator/cloud/server";
import { generateSigningKey, writeRelease } from "../../build/release";

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const mod = url.startsWith("https:") ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { headers, rejectUnauthorized: false }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on("error", reject);
  });
}

describe("ota: update hosting of the local platform (startCloud updatesDir)", function () {
  this.timeout(20000);
  const keyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ota-key-")), "t.lms.key");
  before(() => generateSigningKey(keyFile, 5, 3));

  it("serves manifest.json and the image at /ota/ on HTTPS and HTTP, with Range", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ota-host-"));
    const updatesDir = path.join(dataDir, "rel");
    const image = Buffer.from("print('B');\n".repeat(500), "latin1");
    const r = writeRelease({ version: "2.0.0", image, keyFile, outDir: updatesDir });
    const cloud = await startCloud({ dataDir, updatesDir });
    try {
      for (const base of [cloud.httpsUrl, cloud.httpUrl]) {
        const m = await get(base + "/ota/manifest.json");
        assert.equal(m.status, 200);
        assert.deepEqual(JSON.parse(m.body.toString()), r.manifest);
        const part = await get(base + "/ota/" + r.manifest.url, { Range: "bytes=100-4195" });
        assert.equal(part.status, 206);
        assert.equal(part.headers["content-range"], "bytes 100-4195/" + image.length);
        assert.ok(part.body.equals(image.subarray(100, 4196)));
        const sig = await get(base + "/ota/" + r.manifest.sig);
        assert.equal(sig.status, 200);
        assert.ok(sig.body.equals(fs.readFileSync(r.sigFile)), "the signature file, byte for byte");
      }
      assert.equal((await get(cloud.httpUrl + "/ota/absent.js")).status, 404);
    } finally {
      await cloud.close();
    }
  });

  it("defaults to DATA/updates", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ota-host-"));
    writeRelease({ version: "1.0.1", image: Buffer.from("x"), keyFile, outDir: path.join(dataDir, "updates") });
    const cloud = await startCloud({ dataDir });
    try {
      const m = await get(cloud.httpUrl + "/ota/manifest.json");
      assert.equal(m.status, 200);
      assert.equal(JSON.parse(m.body.toString()).version, "1.0.1");
    } finally {
      await cloud.close();
    }
  });
});
