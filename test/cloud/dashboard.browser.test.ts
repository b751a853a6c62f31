// Browser test of the dashboard: Debian's chromium (playwright-core) watches readings arrive live.
import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BrowserContext, chromium } from "playwright-core";
import { Cloud, startCloud } from "../../emulator/cloud/server";
import { Device, codeOf, propertyPost, publish, token } from "./client";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe("local IoT Platform: dashboard in a browser", function () {
  this.timeout(60000);
  let dataDir: string;
  let profile: string;
  let cloud: Cloud;
  let browser: BrowserContext;
  let dev: Device;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    dataDir = mkdtempSync(join(tmpdir(), "cloud-dash-"));
    profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
    cloud = await startCloud({ dataDir });
    dev = cloud.registerDevice("a1dashPK001", "greenhouse-1");
    // A fresh --user-data-dir (playwright passes the profile folder as that flag).
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1200, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });

  async function post(tok: string, id: string, temperature: string, humidity: string): Promise<void> {
    const p = propertyPost(dev, id, `{"temperature":${temperature},"humidity":${humidity}}`);
    assert.equal(codeOf(await publish(cloud.httpsUrl, tok, p.topic, p.payload)), 0);
  }

  /** Pixels of the chart canvas close to the temperature line colour (#d9480f). */
  const temperaturePixels = (page: import("playwright-core").Page) =>
    page.evaluate(() => {
      const c = document.querySelector("#chart canvas") as HTMLCanvasElement | null;
      if (!c) return -1;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 0xd9) < 30 && Math.abs(d[i + 1] - 0x48) < 30 && Math.abs(d[i + 2] - 0x0f) < 30) n++;
      return n;
    });

  it("shows posted readings live in the values, the chart and the message log", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    // The first load asks for nothing that is not there: no failed request, no error on the console
    // (a missing favicon shows only as a console error, "Failed to load resource: ... 404").
    const firstLoad: string[] = [];
    page.on("console", (m) => m.type() == "error" && firstLoad.push("console: " + m.text()));
    page.on("requestfailed", (r) => firstLoad.push("failed: " + r.url() + " " + r.failure()?.errorText));
    page.on("response", (r) => r.status() >= 400 && firstLoad.push(r.status() + " " + r.url()));
    await page.goto(cloud.dashboardUrl);
    await page.locator(".device", { hasText: "greenhouse-1" }).waitFor();
    await page.locator("#live.on").waitFor();
    // The browser asks for an icon after the load event; give it time to answer.
    await page.waitForLoadState("load");
    await page.waitForTimeout(500);
    assert.deepEqual(firstLoad, []);
    page.removeAllListeners("console");
    page.removeAllListeners("requestfailed");
    page.removeAllListeners("response");
    assert.equal(await page.locator("#temperature").textContent(), "–");

    const tok = await token(cloud.httpsUrl, dev, "hmacsha1");
    await post(tok, "1", "21.5", "58.0");
    await post(tok, "2", "23.5", "61.0");
    await page.locator("#temperature", { hasText: "23.5 °C" }).waitFor();
    await page.locator("#humidity", { hasText: "61.0 %" }).waitFor();
    await page.locator('#chart[data-points="2"]').waitFor();
    await page.locator(".device .dot.online").waitFor();
    assert.equal(await page.locator("#log tr").count(), 2);
    assert.equal(await page.locator("#log tr").first().locator("td.code").textContent(), "0");
    assert.match((await page.locator("#log tr").first().locator("td.checks").textContent()) ?? "", /property-post: ok/);
    assert.ok((await temperaturePixels(page)) > 20, "the temperature line is drawn");

    // A message that fails the thing-model check shows its check result; the values keep the last good ones.
    await post(tok, "3", "24", "150.0");
    await page.locator("#log tr", { hasText: "decimal point" }).waitFor();
    assert.equal(await page.locator("#temperature").textContent(), "23.5 °C");

    // A fresh page load shows the same from storage.
    await page.reload();
    await page.locator('#chart[data-points="2"]').waitFor();
    await page.locator("#temperature", { hasText: "23.5 °C" }).waitFor();
    assert.equal(await page.locator("#log tr").count(), 3);

    const shots = process.env.DASHBOARD_SCREENSHOTS;
    if (shots) {
      mkdirSync(shots, { recursive: true });
      for (let i = 0; i < 12; i++) await post(tok, String(10 + i), (20 + Math.sin(i / 2) * 3).toFixed(1), (55 + i).toFixed(1));
      await page.locator('#chart[data-points="14"]').waitFor();
      await page.screenshot({ path: join(shots, "dashboard-desktop.png"), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(shots, "dashboard-phone.png"), fullPage: true });
    }
    assert.deepEqual(errors, []);
    await page.close();
  });
});
