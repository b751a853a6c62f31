// A small version of the load bench (npm run bench:cloud): 20 devices posting for 2 s, nothing lost.
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad } from "../../emulator/cloud/bench-load";
import { startCloud } from "../../emulator/cloud/server";

describe("local IoT Platform: small load", function () {
  this.timeout(60000);
  it("20 devices posting back to back for 2 s: every acknowledged message is stored, none fails", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cloud-load-"));
    const cloud = await startCloud({ dataDir });
    try {
      const r = await runLoad({ deviceUrl: cloud.httpsUrl, adminUrl: cloud.httpUrl, clients: 20, seconds: 2 });
      assert.equal(r.errors, 0);
      assert.equal(r.lost, 0);
      assert.ok(r.accepted >= 20, `accepted ${r.accepted}`);
      assert.equal(r.accepted + r.throttled, r.requests);
      let stored = 0;
      for (let i = 0; i < 20; i++) stored += cloud.messages("a1loadPK001", `load-${i}`, 100000).filter((m) => m.code === 0).length;
      assert.equal(stored, r.accepted);
    } finally {
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
