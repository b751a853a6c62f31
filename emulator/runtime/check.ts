// Static gate of the emulated runtime: refuses a script that uses Node's globals or modules,
// which a board does not have (the vm context lacks them too; this names them before boot).
import { builtinModules } from "node:module";
import * as acorn from "acorn";
import * as walk from "acorn-walk";

/** Node globals absent from Espruino (ECMAScript built-ins are judged by the build's gate). */
export const NODE_GLOBALS = [
  "global", "Buffer", "setImmediate", "clearImmediate", "queueMicrotask", "__dirname", "__filename",
  "module", "exports", "structuredClone", "fetch", "performance", "TextEncoder", "TextDecoder",
  "URL", "URLSearchParams", "AbortController", "EventTarget", "MessageChannel", "Blob", "navigator",
  "WebAssembly", "SharedArrayBuffer", "Atomics",
];
/** What Espruino's `process` object has. */
const PROCESS_MEMBERS = ["memory", "version", "env"];
/** What Espruino's `process.env` has (the board's build info); HOME, PATH and the like are Node's. */
const ENV_MEMBERS = ["VERSION", "GIT_COMMIT", "BOARD", "RAM", "FLASH", "SPIFLASH", "STORAGE", "SERIAL", "CONSOLE", "MODULES", "EXPTR"];

export interface Finding {
  name: string;
  line: number;
}

/** Node-only names a script uses (empty = acceptable). Throws on a syntax error. */
export function nodeUses(code: string): Finding[] {
  const ast = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script", locations: true, allowReturnOutsideFunction: true });
  const declared = new Set<string>();
  const addPattern = (p: acorn.Pattern | null | undefined): void => {
    if (!p) return;
    if (p.type === "Identifier") declared.add(p.name);
    else if (p.type === "ObjectPattern") for (const q of p.properties) addPattern(q.type === "RestElement" ? q.argument : q.value);
    else if (p.type === "ArrayPattern") for (const q of p.elements) addPattern(q);
    else if (p.type === "RestElement") addPattern(p.argument);
    else if (p.type === "AssignmentPattern") addPattern(p.left);
  };
  walk.full(ast, (n) => {
    if (n.type === "VariableDeclarator") addPattern((n as acorn.VariableDeclarator).id);
    if (n.type === "FunctionDeclaration" || n.type === "FunctionExpression" || n.type === "ArrowFunctionExpression") {
      const f = n as acorn.Function;
      if (f.id) declared.add(f.id.name);
      for (const p of f.params) addPattern(p);
    }
    if (n.type === "ClassDeclaration" && (n as acorn.ClassDeclaration).id) declared.add((n as acorn.ClassDeclaration).id!.name);
    if (n.type === "CatchClause") addPattern((n as acorn.CatchClause).param);
  });
  const found: Finding[] = [];
  // `typeof X` probes for a global without using it
  const typeofArgs = new Set<acorn.Node>();
  walk.simple(ast, {
    UnaryExpression(n) {
      if (n.operator === "typeof") typeofArgs.add(n.argument);
    },
  });
  walk.ancestor(ast, {
    Identifier(n, _s, ancestors) {
      const parent = ancestors[ancestors.length - 2] as acorn.Node | undefined;
      if (parent && parent.type === "MemberExpression" && (parent as acorn.MemberExpression).property === n && !(parent as acorn.MemberExpression).computed) return;
      if (parent && parent.type === "Property" && (parent as acorn.Property).key === n && !(parent as acorn.Property).computed && !(parent as acorn.Property).shorthand) return;
      if (declared.has(n.name) || typeofArgs.has(n)) return;
      if (NODE_GLOBALS.includes(n.name)) found.push({ name: n.name, line: n.loc!.start.line });
    },
    MemberExpression(n) {
      const o = n.object;
      const p = n.property;
      if (o.type === "Identifier" && o.name === "process" && !declared.has("process") && !n.computed && p.type === "Identifier" && !PROCESS_MEMBERS.includes(p.name))
        found.push({ name: "process." + p.name, line: n.loc!.start.line });
      if (o.type === "MemberExpression" && o.object.type === "Identifier" && o.object.name === "process" && !declared.has("process") && !o.computed &&
        o.property.type === "Identifier" && o.property.name === "env" && !n.computed && p.type === "Identifier" && !ENV_MEMBERS.includes(p.name))
        found.push({ name: "process.env." + p.name, line: n.loc!.start.line });
    },
    CallExpression(n) {
      const c = n.callee;
      const a = n.arguments[0];
      if (c.type === "Identifier" && c.name === "require" && a && a.type === "Literal" && typeof a.value === "string") {
        const m = a.value.replace(/^node:/, "");
        if (a.value.startsWith("node:") || (builtinModules.includes(m) && !["http", "net", "tls", "crypto"].includes(m)))
          found.push({ name: 'require("' + a.value + '")', line: n.loc!.start.line });
      }
    },
  });
  return found;
}
