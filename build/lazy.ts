// Lazy parts of the device bundle (docs/budgets.md, "Lazy parts"). On the interpreter every
// function the bundle declares is an object in RAM from the moment its scope is entered (about
// 4 JsVars, plus 1 per parameter and 1 for its scope), whether it ever runs or not. A part that is
// needed in one phase only (the config parser at boot, the signer at /auth, the OTA updater on a
// due cycle) is written as `x.lazy.ts`, exporting `load()` that returns what callers use.
//
// In Node (tests, tools) that file is what it says: `load()` returns the eagerly imported functions.
// In the device bundle this plugin replaces it with `load()` whose BODY is the part's own bundle,
// so its functions are made when `load()` is called and freed with the object it returned: callers
// take it for the phase and drop it. Code shared with the rest of the bundle is duplicated (flash
// bytes, not RAM).
import * as esbuild from "esbuild";
import * as path from "node:path";

export const LAZY_FILTER = /\.lazy\.ts$/;

/** The variable the part's bundle assigns `load()`'s result to, local to the generated `load()`. */
const RESULT = "LAZY_PART";

/**
 * `base`: the options of the enclosing bundle (target, defines, externals, mangled props), so the
 * part is compiled exactly as the rest. `parts` collects each part's own metafile for the size report.
 */
export function lazyPlugin(base: esbuild.BuildOptions, parts?: { [file: string]: esbuild.Metafile }): esbuild.Plugin {
  return {
    name: "lazy-parts",
    setup(b) {
      b.onLoad({ filter: LAZY_FILTER }, async (args) => {
        const opts: esbuild.BuildOptions = Object.assign({}, base, {
          stdin: { contents: `import { load } from ${JSON.stringify("./" + path.basename(args.path))};\n${RESULT} = load();\n`, resolveDir: path.dirname(args.path), sourcefile: path.basename(args.path) + "-entry.js", loader: "js" },
          format: "esm",
          write: false,
          metafile: true,
          outfile: undefined,
          banner: undefined,
          footer: undefined,
          entryPoints: undefined,
          plugins: [],
          logLevel: "silent",
        });
        const r = await esbuild.build(opts);
        if (parts && r.metafile) parts[path.relative(base.absWorkingDir || process.cwd(), args.path).replace(/\\/g, "/")] = r.metafile;
        const code = r.outputFiles![0].text;
        return {
          contents: `export function load(){var ${RESULT};\n${code}\nreturn ${RESULT}}\n`,
          loader: "js",
          resolveDir: path.dirname(args.path),
        };
      });
    },
  };
}
