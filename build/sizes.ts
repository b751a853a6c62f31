// Size report: bytes per module from esbuild's metafile, grouped by area, checked against budgets.
import type { Metafile } from "esbuild";

/** Areas of the device code; a module's area comes from its path, so new modules need no list. */
export function areaOf(path: string): string {
  const p = path.replace(/\\/g, "/");
  if (p.startsWith("firmware/crypto/")) return "crypto";
  if (p.startsWith("firmware/iot/")) return "protocol";
  if (p.startsWith("sensors/")) return "sensors";
  if (p.startsWith("platform/")) return "platform";
  if (p.startsWith("firmware/")) return "app";
  return "other";
}

export interface SizeReport {
  output: string;
  /** Bytes of the whole output file. */
  total: number;
  /** Bytes each input module contributes to the output. */
  modules: { path: string; area: string; bytes: number }[];
  /** Sum per area, plus "wrapper" for what no module accounts for (IIFE wrapper, helpers). */
  areas: { [area: string]: number };
}

/**
 * `parts`: the metafiles of lazy parts (build/lazy.ts) by the path of their `x.lazy.ts`; each one's
 * bytes in the output are shared out over the modules it bundles (marked "(lazy)"), in proportion to
 * their bytes in the part, so that every area counts its own code wherever it sits.
 */
export function sizeReport(meta: Metafile, output: string, fileBytes: number, parts?: { [path: string]: Metafile }): SizeReport {
  const out = meta.outputs[output];
  if (!out) throw new Error("no metafile entry for " + output);
  const raw: { path: string; area: string; bytes: number }[] = [];
  for (const path of Object.keys(out.inputs)) {
    const bytes = out.inputs[path].bytesInOutput;
    const part = parts && parts[path];
    if (!part) {
      raw.push({ path, area: areaOf(path), bytes });
      continue;
    }
    const inputs = part.outputs[Object.keys(part.outputs)[0]].inputs;
    const names = Object.keys(inputs).filter((n) => inputs[n].bytesInOutput > 0);
    const sum = names.reduce((a, n) => a + inputs[n].bytesInOutput, 0);
    let left = bytes;
    names.forEach((n, i) => {
      const b = i === names.length - 1 ? left : Math.round((bytes * inputs[n].bytesInOutput) / sum);
      left -= b;
      raw.push({ path: n + " (lazy)", area: areaOf(n), bytes: b });
    });
  }
  // a module in more than one part (or beside them) is one line
  const byPath: { [path: string]: { path: string; area: string; bytes: number } } = {};
  for (const m of raw) {
    if (byPath[m.path]) byPath[m.path].bytes += m.bytes;
    else byPath[m.path] = m;
  }
  const modules = Object.keys(byPath).map((p) => byPath[p])
    .filter((m) => m.bytes > 0)
    .sort((a, b) => a.area.localeCompare(b.area) || b.bytes - a.bytes);
  const areas: { [area: string]: number } = {};
  let sum = 0;
  for (const m of modules) {
    areas[m.area] = (areas[m.area] || 0) + m.bytes;
    sum += m.bytes;
  }
  areas.wrapper = fileBytes - sum;
  return { output, total: fileBytes, modules, areas };
}

export function formatReport(r: SizeReport): string {
  const lines = [`size report ${r.output}`];
  for (const m of r.modules) lines.push(`  ${String(m.bytes).padStart(7)}  ${m.area.padEnd(9)} ${m.path}`);
  const order = ["crypto", "protocol", "sensors", "platform", "app", "other", "wrapper"];
  const parts = order.filter((a) => r.areas[a] !== undefined).map((a) => `${a} ${r.areas[a]}`);
  lines.push(`  areas: ${parts.join(", ")}`);
  lines.push(`  total ${r.total} bytes`);
  return lines.join("\n");
}

/** Budgets of one output: area -> max bytes; "total" is the whole file. */
export type Budget = { [area: string]: number };

/** Messages for every area over its budget (empty when within budget). */
export function overBudget(r: SizeReport, budget: Budget): string[] {
  const errors: string[] = [];
  for (const area of Object.keys(budget)) {
    const bytes = area == "total" ? r.total : r.areas[area] || 0;
    if (bytes > budget[area]) errors.push(`${r.output}: ${area} is ${bytes} bytes, over its budget of ${budget[area]}`);
  }
  return errors;
}
