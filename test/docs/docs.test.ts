// The documentation a newcomer reads: README.md and docs/*.md. Every relative link (file and
// #anchor) resolves, every `npm run X` named exists in package.json, and the config reference is
// what build/config-doc.ts makes from firmware/config.ts today. Each check is also run on a broken
// sample, so it is known to fail when it should.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import MarkdownIt from "markdown-it";
import GithubSlugger from "github-slugger";
import { CONFIG_DOC, renderConfigReference, withSection } from "../../build/config-doc";
import { parseConfig } from "../../firmware/config";

const ROOT = path.resolve(__dirname, "../..");
const md = new MarkdownIt({ html: true });

/** The documentation files, relative to the root. */
function docFiles(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => "docs/" + f);
  return ["README.md"].concat(docs.sort());
}

type Tokens = MarkdownIt.Token[];

/** The anchors GitHub makes for the headings of a markdown text. */
function anchors(text: string): Set<string> {
  const slugger = new GithubSlugger();
  const out = new Set<string>();
  const tokens: Tokens = md.parse(text, {});
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].type !== "heading_open") continue;
    // GitHub slugs the heading's text: code spans count by their content, markup does not.
    const plain = (tokens[i + 1].children || []).filter((c) => c.type === "text" || c.type === "code_inline").map((c) => c.content).join("");
    out.add(slugger.slug(plain));
  }
  return out;
}

/** Links (not images) of a markdown text; links inside code are not links. */
function links(text: string): string[] {
  const out: string[] = [];
  const walk = (tokens: Tokens) => {
    for (const t of tokens) {
      if (t.type === "link_open") out.push(String(t.attrGet("href") ?? ""));
      if (t.children) walk(t.children);
    }
  };
  walk(md.parse(text, {}));
  return out;
}

/**
 * Broken relative links of the markdown file `file` (relative to `root`) whose text is `text`:
 * a target file that does not exist, or an #anchor that no heading of the target makes.
 */
function brokenLinks(file: string, text: string, read: (f: string) => string | undefined): string[] {
  const bad: string[] = [];
  for (const href of links(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto: ... are not checked here
    const hash = href.indexOf("#");
    const target = hash < 0 ? href : href.slice(0, hash);
    const anchor = hash < 0 ? "" : decodeURIComponent(href.slice(hash + 1));
    const targetFile = target ? path.posix.normalize(path.posix.join(path.posix.dirname(file), target)) : file;
    const targetText = targetFile === file ? text : read(targetFile);
    if (targetText === undefined) {
      bad.push(file + ": " + href + " (no file " + targetFile + ")");
      continue;
    }
    if (anchor && targetFile.endsWith(".md") && !anchors(targetText).has(anchor)) {
      bad.push(file + ": " + href + " (no heading makes #" + anchor + " in " + targetFile + ")");
    }
  }
  return bad;
}

/** Reads a file of the repository (or a folder: ""), undefined when absent. */
function readRepo(f: string): string | undefined {
  const p = path.join(ROOT, f);
  if (!fs.existsSync(p)) return undefined;
  return fs.statSync(p).isDirectory() ? "" : fs.readFileSync(p, "utf8");
}

/** `npm run X` named in a text whose script X is not in `scripts`. */
function missingScripts(text: string, scripts: { [name: string]: string }): string[] {
  const out: string[] = [];
  const re = /npm run(?:-script)?(?:\s+-s)?\s+([A-Za-z0-9:_.-]+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) if (!(m[1] in scripts)) out.push(m[1]);
  return out;
}

describe("documentation (README.md, docs/)", () => {
  const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { [k: string]: string } }).scripts;

  it("has the pages the README links to, and the README stays a front page (about 10 KB at most)", () => {
    const files = docFiles();
    assert.ok(files.length >= 9, files.join(" "));
    assert.ok(fs.statSync(path.join(ROOT, "README.md")).size <= 10240, "README.md is over 10 KB: move text to docs/");
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const linked = new Set(links(readme).map((h) => h.split("#")[0]));
    for (const f of files.slice(1)) assert.ok(linked.has(f), "README.md does not link to " + f);
  });

  it("every relative link resolves, #anchors included", () => {
    const bad: string[] = [];
    for (const f of docFiles()) bad.push(...brokenLinks(f, fs.readFileSync(path.join(ROOT, f), "utf8"), readRepo));
    assert.deepEqual(bad, []);
  });

  it("the link check catches a missing file, a missing anchor and a missing anchor in the same page", () => {
    const pages: { [f: string]: string } = { "docs/b.md": "# Title\n\n## Some `code` here\n" };
    const text = "# A\n\n[ok](b.md#some-code-here) [ok](#a) [ok](https://x.invalid/none) `[code](nope.md)`\n\n" +
      "[gone](c.md) [bad anchor](b.md#nope) [bad here](#nowhere) [up](../README.md)\n";
    const bad = brokenLinks("docs/a.md", text, (f) => pages[f]);
    assert.deepEqual(bad, [
      "docs/a.md: c.md (no file docs/c.md)",
      "docs/a.md: b.md#nope (no heading makes #nope in docs/b.md)",
      "docs/a.md: #nowhere (no heading makes #nowhere in docs/a.md)",
      "docs/a.md: ../README.md (no file README.md)",
    ]);
  });

  it("every `npm run X` in the docs is a script of package.json", () => {
    const bad: string[] = [];
    for (const f of docFiles()) for (const s of missingScripts(fs.readFileSync(path.join(ROOT, f), "utf8"), scripts)) bad.push(f + ": npm run " + s);
    assert.deepEqual(bad, []);
    // and the check sees a missing one
    assert.deepEqual(missingScripts("`npm run build -- --x`, npm run -s docs:config, npm run flahs -- --port X", scripts), ["flahs"]);
  });

  it("docs/config.md is what `npm run docs:config` makes from firmware/config.ts", () => {
    const doc = fs.readFileSync(CONFIG_DOC, "utf8");
    const fresh = withSection(doc, renderConfigReference());
    assert.ok(fresh === doc, "docs/config.md is out of date with firmware/config.ts: run npm run docs:config and commit docs/config.md");
    // and a hand edit inside the generated section is seen
    const edited = doc.replace("`intervalSec must be a whole number from 2 to 86400`", "`intervalSec must be a whole number from 1 to 86400`");
    assert.notEqual(edited, doc, "the sample edit found its text");
    assert.notEqual(withSection(edited, renderConfigReference()), edited);
  });

  it("the config reference lists every key the device fills in, with the default the device uses", () => {
    const doc = fs.readFileSync(CONFIG_DOC, "utf8");
    const rows = new Map(Array.from(doc.matchAll(/^\| `([A-Za-z.]+)` \| ([^|]+) \|/gm)).map((m) => [m[1], m[2].trim()]));
    // The device's parser on the smallest config: every key it fills in must be listed.
    const given = { productKey: "a1B2c3D4e5F", deviceName: "kitchen", deviceSecret: "s" };
    const r = parseConfig(JSON.stringify(given));
    assert.ok(r.ok);
    const filled = r.config as unknown as { [k: string]: unknown };
    for (const k of Object.keys(filled)) {
      assert.ok(rows.has(k), "docs/config.md has no row for " + k);
      const cell = rows.get(k)!;
      if (k in given) assert.equal(cell, "required", k);
      else if (k === "clientId") assert.equal(cell, "`{productKey}.{deviceName}`");
      else if (k === "queueSegmentBytes") assert.match(cell, new RegExp("`" + filled[k] + "` \\(budget 32768\\)"));
      else assert.equal(cell, "`" + JSON.stringify(filled[k]) + "`", k);
    }
    // wifi and console are filled in only when given
    assert.ok(rows.has("wifi") && rows.has("wifi.ssid") && rows.has("wifi.password"));
    assert.ok(rows.has("console") && rows.has("console.password"));
    assert.equal(rows.size, Object.keys(filled).length + 5, Array.from(rows.keys()).join(" "));
  });
});
