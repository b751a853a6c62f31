// Step marks for `npm run mem -- --account` (docs/budgets.md): in a firmware built with
// `--mem-account` each mark is a log line `M <t> <step>`, after which the test rig collects garbage
// and counts the JsVars in use (emulator/real/prelude.js), so the account shows what each step
// keeps alive. Every other build drops the marks (esbuild define MEM_ACCOUNT=false).
declare const MEM_ACCOUNT: boolean;

export const ACCOUNT: boolean = typeof MEM_ACCOUNT != "undefined" && MEM_ACCOUNT;
