// Lint config: typescript-eslint's recommended rules for all TypeScript; device code gets the
// extra restrictions of the Espruino subset that the compiler would otherwise accept silently.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "emulator/cloud/public/**", "reports/**", ".data/**", "build/fixtures/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable", process: "readonly", __dirname: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["firmware/**/*.ts", "sensors/**/*.ts", "platform/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: "AwaitExpression", message: "Espruino has no async/await: use callbacks." },
        { selector: "FunctionDeclaration[async=true]", message: "Espruino has no async/await: use callbacks." },
        { selector: "FunctionDeclaration[generator=true]", message: "Espruino has no generators." },
        { selector: "LabeledStatement", message: "Espruino has no labelled statements." },
        { selector: "ChainExpression", message: "Avoid ?. in device code: esbuild expands it into bulk." },
      ],
      "no-restricted-globals": [
        "error",
        { name: "Map", message: "Espruino has no Map." },
        { name: "Set", message: "Espruino has no Set." },
        { name: "Symbol", message: "Espruino has no Symbol." },
        { name: "Proxy", message: "Espruino has no Proxy." },
        { name: "BigInt", message: "Espruino has no BigInt." },
      ],
    },
  },
);
