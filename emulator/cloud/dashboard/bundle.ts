// Builds the dashboard page in memory at platform start: esbuild bundles app.ts with uPlot.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface DashboardAssets {
  html: string;
  js: string;
}

let cached: Promise<DashboardAssets> | null = null;

async function bundle(): Promise<DashboardAssets> {
  const result = await build({
    entryPoints: [join(__dirname, "app.ts")],
    bundle: true,
    write: false,
    minify: true,
    format: "iife",
    target: "es2020",
    platform: "browser",
    logLevel: "silent",
  });
  const js = result.outputFiles[0].text;
  const uplotCss = readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
  const css = readFileSync(join(__dirname, "style.css"), "utf8");
  const html = readFileSync(join(__dirname, "index.html"), "utf8").replace("/*CSS*/", `${uplotCss}\n${css}`);
  return { html, js };
}

/** The page and its script; built once per process. */
export function dashboardAssets(): Promise<DashboardAssets> {
  if (!cached) cached = bundle().catch((e) => ((cached = null), Promise.reject(e)));
  return cached;
}
