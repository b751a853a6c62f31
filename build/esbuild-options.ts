// esbuild settings shared by every device bundle: the Espruino 2v29 language subset (espruino.md).
import type { BuildOptions } from "esbuild";

/** Features the interpreter lacks: esbuild lowers them or stops the build with a clear error. */
export const espruinoSupported: Record<string, boolean> = {
  destructuring: false,
  "default-argument": false,
  "rest-argument": false,
  "object-rest-spread": false,
  "exponent-operator": false,
  "optional-chain": false,
  "async-await": false,
  "async-generator": false,
  generator: false,
  "for-await": false,
  "class-private-field": false,
  "class-private-method": false,
  "class-private-accessor": false,
  "class-private-static-field": false,
  "class-private-static-method": false,
  "class-private-static-accessor": false,
  "class-static-blocks": false,
  "regexp-lookbehind-assertions": false,
  "regexp-named-capture-groups": false,
  "regexp-sticky-and-unicode-flags": false,
  "object-extensions": false,
  "top-level-await": false,
  bigint: false,
};

export const deviceBase: BuildOptions = {
  bundle: true,
  platform: "neutral",
  target: "es2015",
  supported: espruinoSupported,
  minify: true,
  legalComments: "none",
  charset: "ascii",
  metafile: true,
  write: true,
  logLevel: "warning",
};
