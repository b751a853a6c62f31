// Portability gate: parses a built script and reports, by file:line:column and rule, what the
// Espruino 2v29 interpreter cannot run (espruino.md): syntax outside its subset, missing built-ins,
// `Builtin.prototype` reads, calls before a function's declaration has run, labels, `extends Error`
// and closures in loops that capture a loop `let`.
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import * as fs from "node:fs";

export interface GateError {
  file: string;
  line: number;
  column: number;
  rule: GateRule;
  message: string;
}

export type GateRule = "syntax" | "builtin" | "prototype" | "hoisting" | "label" | "extends-error" | "loop-closure";

export function formatGateError(e: GateError): string {
  return `${e.file}:${e.line}:${e.column}: [${e.rule}] ${e.message}`;
}

/** Globals the interpreter lacks (espruino.md "Fails"), plus their weak siblings. */
const MISSING_GLOBALS = ["Symbol", "Map", "Set", "WeakMap", "WeakSet", "Proxy", "BigInt"];

/** Static members the interpreter lacks, by owner. */
const MISSING_MEMBERS: { [owner: string]: string[] } = {
  Array: ["from"],
  Uint8Array: ["from"],
  Number: ["isInteger", "isFinite"],
  Math: ["imul", "trunc"],
  Object: ["freeze"],
  Promise: ["race"],
};

/** Built-in constructors whose `.prototype` is undefined on Espruino. */
const BUILTIN_CTORS = ["Object", "Array", "Function", "String", "Number", "Boolean", "Date", "RegExp", "Promise", "Error",
  "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError", "ArrayBuffer", "DataView",
  "Uint8Array", "Int8Array", "Uint8ClampedArray", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array",
  "Float32Array", "Float64Array"];

const ERROR_CLASSES = ["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError"];

// acorn's nodes carry their fields by node type; the gate reads them generically.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type N = acorn.Node & { [field: string]: any };

const FUNCTION_TYPES = ["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"];
const LOOP_TYPES = ["ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement"];

function isNode(v: unknown): v is N {
  return !!v && typeof v === "object" && typeof (v as N).type === "string";
}

function children(node: N): N[] {
  const out: N[] = [];
  for (const key of Object.keys(node)) {
    if (key === "loc") continue;
    const v = node[key];
    if (Array.isArray(v)) for (const x of v) { if (isNode(x)) out.push(x); }
    else if (isNode(v)) out.push(v);
  }
  return out;
}

/** Identifier names a pattern binds. */
function patternNames(p: N | null, out: string[] = []): string[] {
  if (!p) return out;
  if (p.type === "Identifier") out.push(p.name);
  else if (p.type === "ObjectPattern") for (const prop of p.properties) patternNames(prop.type === "RestElement" ? prop.argument : prop.value, out);
  else if (p.type === "ArrayPattern") for (const el of p.elements) patternNames(el, out);
  else if (p.type === "RestElement") patternNames(p.argument, out);
  else if (p.type === "AssignmentPattern") patternNames(p.left, out);
  return out;
}

/** Names declared by a function's own code (params, var/let/const/function/class), not by nested functions. */
function declaredInside(fn: N): Set<string> {
  const names = new Set<string>();
  for (const p of fn.params) for (const x of patternNames(p)) names.add(x);
  const visit = (n: N) => {
    if (n !== fn && FUNCTION_TYPES.includes(n.type)) {
      if (n.type === "FunctionDeclaration" && n.id) names.add(n.id.name);
      return;
    }
    if (n.type === "VariableDeclarator") for (const x of patternNames(n.id)) names.add(x);
    if (n.type === "ClassDeclaration" && n.id) names.add(n.id.name);
    if (n.type === "CatchClause" && n.param) for (const x of patternNames(n.param)) names.add(x);
    for (const c of children(n)) visit(c);
  };
  visit(fn.body);
  return names;
}

/** Problems of a regex literal for Espruino's minimal RegExp engine. */
function regexProblems(pattern: string, flags: string): string[] {
  const out: string[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      if (pattern[i + 1] === "k" && pattern[i + 2] === "<") out.push("named backreference \\k<...>");
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      continue;
    }
    if (ch === "[") inClass = true;
    else if (ch === "(" && pattern[i + 1] === "?") {
      const a = pattern[i + 2], b = pattern[i + 3];
      if (a === "=" || a === "!") out.push("lookahead (?= / (?!");
      else if (a === "<" && (b === "=" || b === "!")) out.push("lookbehind (?<= / (?<!");
      else if (a === "<") out.push("named group (?<name>");
      i += 2;
    } else if (ch === "?") out.push("the ? quantifier (Espruino ignores it)");
    else if (ch === "{" && /^\{\d+(,\d*)?\}/.test(pattern.slice(i))) out.push("a {n} quantifier");
  }
  for (const f of flags) if ("uys".includes(f)) out.push(`the ${f} flag`);
  return out;
}

export function gateSource(code: string, file: string): GateError[] {
  const errors: GateError[] = [];
  const report = (node: { loc?: acorn.SourceLocation | null } | null, rule: GateRule, message: string) => {
    const loc = node && node.loc ? node.loc.start : { line: 0, column: 0 };
    errors.push({ file, line: loc.line, column: loc.column + 1, rule, message });
  };

  let ast: N;
  try {
    ast = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script", locations: true }) as N;
  } catch (e) {
    const err = e as SyntaxError & { loc?: { line: number; column: number } };
    const loc = err.loc || { line: 0, column: 0 };
    return [{ file, line: loc.line, column: loc.column + 1, rule: "syntax", message: "does not parse: " + err.message }];
  }

  // Every binding name in the file: a built-in name declared anywhere counts as shadowed (the
  // minifier never picks such names, so this errs toward silence only in hand-written code).
  const declared = new Set<string>();
  // Identifier nodes in reference position (acorn-walk calls back plain "Identifier" only there).
  const refs = new Set<N>();
  walk.full(ast, (n: acorn.Node) => {
    const node = n as N;
    if (node.type === "Identifier") refs.add(node);
    if (node.type === "VariableDeclarator") for (const x of patternNames(node.id)) declared.add(x);
    if (FUNCTION_TYPES.includes(node.type)) {
      if (node.id) declared.add(node.id.name);
      for (const p of node.params) for (const x of patternNames(p)) declared.add(x);
    }
    if ((node.type === "ClassDeclaration" || node.type === "ClassExpression") && node.id) declared.add(node.id.name);
    if (node.type === "CatchClause" && node.param) for (const x of patternNames(node.param)) declared.add(x);
  });
  const isGlobal = (n: N, names: string[]) => n.type === "Identifier" && refs.has(n) && names.includes(n.name) && !declared.has(n.name);
  const memberName = (m: N): string | null => !m.computed ? m.property.name
    : m.property.type === "Literal" && typeof m.property.value === "string" ? m.property.value : null;

  // Rules on single nodes.
  const fnSyntax = (node: N) => {
    if (node.async) report(node, "syntax", "async function (no async/await)");
    if (node.generator) report(node, "syntax", "generator function");
  };
  walk.simple(ast, {
    ObjectPattern: (n) => report(n, "syntax", "destructuring"),
    ArrayPattern: (n) => report(n, "syntax", "destructuring"),
    RestElement: (n) => report(n, "syntax", "rest parameter or element"),
    SpreadElement: (n) => report(n, "syntax", "spread"),
    AssignmentPattern: (n) => report(n, "syntax", "default parameter value"),
    ChainExpression: (n) => report(n, "syntax", "optional chaining ?."),
    AwaitExpression: (n) => report(n, "syntax", "await"),
    YieldExpression: (n) => report(n, "syntax", "yield"),
    TaggedTemplateExpression: (n) => report(n, "syntax", "tagged template"),
    PrivateIdentifier: (n) => report(n, "syntax", "private class member #name"),
    StaticBlock: (n) => report(n, "syntax", "class static block"),
    ImportExpression: (n) => report(n, "syntax", "import()"),
    MetaProperty: (n) => report(n, "syntax", "new.target / import.meta"),
    FunctionDeclaration: (n) => fnSyntax(n as N),
    FunctionExpression: (n) => fnSyntax(n as N),
    ArrowFunctionExpression: (n) => fnSyntax(n as N),
    ForOfStatement: (n) => { if ((n as N).await) report(n, "syntax", "for await"); },
    CatchClause: (n) => { if (!(n as N).param) report(n, "syntax", "catch without a binding"); },
    Property: (n) => { if ((n as N).computed) report(n, "syntax", "computed property name"); },
    MethodDefinition: (n) => { if ((n as N).computed) report(n, "syntax", "computed property name"); },
    PropertyDefinition: (n) => { if ((n as N).computed) report(n, "syntax", "computed property name"); },
    BinaryExpression: (n) => { if ((n as N).operator === "**") report(n, "syntax", "** operator"); },
    AssignmentExpression: (n) => {
      const op = (n as N).operator;
      if (op === "**=") report(n, "syntax", "**= operator");
      if (op === "&&=" || op === "||=" || op === "??=") report(n, "syntax", `logical assignment ${op}`);
    },
    Literal: (n) => {
      const lit = n as N;
      if (lit.bigint !== undefined) report(n, "syntax", "BigInt literal");
      if (lit.regex) for (const p of regexProblems(lit.regex.pattern, lit.regex.flags)) report(n, "syntax", `regex /${lit.regex.pattern}/: ${p}`);
    },
    LabeledStatement: (n) => report(n, "label", `labelled statement "${(n as N).label.name}:"`),
    Class: (n) => {
      const c = n as N;
      if (c.superClass && isGlobal(c.superClass, ERROR_CLASSES)) report(c, "extends-error", `class extends ${c.superClass.name} (super() fails on Espruino)`);
    },
    Identifier: (n) => {
      const id = n as N;
      if (isGlobal(id, MISSING_GLOBALS)) report(id, "builtin", `${id.name} does not exist on Espruino`);
    },
    MemberExpression: (n) => {
      const m = n as N;
      const name = memberName(m);
      if (name === null) return;
      const owner = m.object;
      if (owner.type === "Identifier" && MISSING_MEMBERS[owner.name] && MISSING_MEMBERS[owner.name].includes(name) && isGlobal(owner, [owner.name])) {
        report(m, "builtin", `${owner.name}.${name} does not exist on Espruino`);
      }
      if (name === "finally" && !(owner.type === "Identifier" && declared.has(owner.name) && owner.name !== "Promise")) {
        report(m, "builtin", ".finally (Promise.prototype.finally does not exist on Espruino)");
      }
      if (name === "prototype" && isGlobal(owner, BUILTIN_CTORS)) {
        report(m, "prototype", `${owner.name}.prototype is undefined on Espruino (use an instance: [].slice, o.hasOwnProperty)`);
      }
    },
  });

  checkHoisting(ast, refs, report);
  checkLoopClosures(ast, refs, report);
  return errors.sort((a, b) => a.line - b.line || a.column - b.column);
}

type Report = (node: N, rule: GateRule, message: string) => void;

/**
 * Espruino creates a function when its declaration statement runs. Walks each statement list in
 * order; what runs "now" (top-level code of the list, nested blocks, IIFE bodies, and the bodies of
 * already-declared functions it calls) must not name a function declared further down. Bodies of
 * functions that are only created (callbacks, methods) run later and are checked on their own.
 */
function checkHoisting(ast: N, refs: Set<N>, report: Report): void {
  const reported = new Set<N>();
  const fail = (node: N, message: string) => {
    if (reported.has(node)) return;
    reported.add(node);
    report(node, "hoisting", message);
  };

  // Names a function's body uses when it runs (not its nested, deferred functions); with the
  // names of already-declared functions it calls, transitively.
  const runRefs = new Map<N, { names: Set<string>; calls: Set<string> }>();
  function refsWhenRun(fn: N): { names: Set<string>; calls: Set<string> } {
    let r = runRefs.get(fn);
    if (r) return r;
    r = { names: new Set(), calls: new Set() };
    runRefs.set(fn, r);
    const own = declaredInside(fn);
    const res = r;
    const visit = (n: N) => {
      if (n !== fn && FUNCTION_TYPES.includes(n.type)) {
        if (!isIife(n)) return;
      }
      if (n.type === "CallExpression" && n.callee.type === "Identifier" && !own.has(n.callee.name)) res.calls.add(n.callee.name);
      if (n.type === "Identifier" && refs.has(n) && !own.has(n.name)) res.names.add(n.name);
      for (const c of children(n)) visit(c);
    };
    const iifes = new Set<N>();
    const isIife = (n: N) => iifes.has(n);
    const mark = (n: N) => {
      if (n.type === "CallExpression" && FUNCTION_TYPES.includes(n.callee.type)) iifes.add(n.callee);
      for (const c of children(n)) mark(c);
    };
    mark(fn.body);
    visit(fn.body);
    return r;
  }

  /** A pending name `fn` would use when called now, following calls into declared functions. */
  function pendingUse(fn: N, pending: Set<string>, declaredFns: Map<string, N>, seen: Set<N>): string | null {
    if (seen.has(fn)) return null;
    seen.add(fn);
    const r = refsWhenRun(fn);
    for (const name of r.names) if (pending.has(name)) return name;
    for (const name of r.calls) {
      const callee = declaredFns.get(name);
      if (callee && !pending.has(name)) {
        const found = pendingUse(callee, pending, declaredFns, seen);
        if (found) return found;
      }
    }
    return null;
  }

  function analyzeFunction(fn: N, pending: Set<string>, declaredFns: Map<string, N>): void {
    const params = new Set<string>();
    for (const p of fn.params) for (const x of patternNames(p)) params.add(x);
    const inner = new Set([...pending].filter((x) => !params.has(x)));
    if (fn.body.type === "BlockStatement") analyzeList(fn.body.body, inner, declaredFns);
    else scanNow(fn.body, inner, declaredFns);
  }

  function analyzeList(stmts: N[], inherited: Set<string>, outerFns: Map<string, N>): void {
    const local = new Map<string, N>();
    const shadow = new Set<string>();
    for (const s of stmts) {
      if (s.type === "FunctionDeclaration") local.set(s.id.name, s);
      else if (s.type === "VariableDeclaration") for (const d of s.declarations) for (const x of patternNames(d.id)) shadow.add(x);
      else if (s.type === "ClassDeclaration") shadow.add(s.id.name);
    }
    const pending = new Set([...inherited].filter((x) => !local.has(x) && !shadow.has(x)));
    for (const name of local.keys()) pending.add(name);
    const declaredFns = new Map(outerFns);
    for (const name of local.keys()) declaredFns.delete(name);
    for (const x of shadow) declaredFns.delete(x);
    for (const s of stmts) {
      if (s.type === "FunctionDeclaration") {
        pending.delete(s.id.name);
        declaredFns.set(s.id.name, s);
        analyzeFunction(s, new Set(), new Map());
      } else scanNow(s, pending, declaredFns);
    }
  }

  function scanNow(n: N, pending: Set<string>, declaredFns: Map<string, N>): void {
    if (FUNCTION_TYPES.includes(n.type)) {
      // Created now, runs later: checked on its own.
      analyzeFunction(n, new Set(), new Map());
      return;
    }
    if (n.type === "BlockStatement") {
      analyzeList(n.body, pending, declaredFns);
      return;
    }
    if (n.type === "CallExpression" || n.type === "NewExpression") {
      for (const a of n.arguments) scanNow(a, pending, declaredFns);
      const callee = n.callee;
      if (FUNCTION_TYPES.includes(callee.type)) {
        analyzeFunction(callee, pending, declaredFns);
        return;
      }
      if (callee.type === "Identifier" && declaredFns.has(callee.name) && !pending.has(callee.name)) {
        const used = pendingUse(declaredFns.get(callee.name) as N, pending, declaredFns, new Set());
        if (used) fail(n, `${callee.name}() runs here and uses ${used}, whose declaration has not run yet (no hoisting)`);
      }
      scanNow(callee, pending, declaredFns);
      return;
    }
    if (n.type === "Identifier") {
      if (refs.has(n) && pending.has(n.name)) fail(n, `${n.name} is used before its function declaration has run (no hoisting)`);
      return;
    }
    for (const c of children(n)) scanNow(c, pending, declaredFns);
  }

  analyzeList(ast.body, new Set(), new Map());
}

/** Closures made inside a loop that capture a `let`/`const` of that loop (one shared binding on Espruino). */
function checkLoopClosures(ast: N, refs: Set<N>, report: Report): void {
  const seen = new Set<string>();
  walk.full(ast, (node: acorn.Node) => {
    const loop = node as N;
    if (!LOOP_TYPES.includes(loop.type)) return;
    const loopVars = new Set<string>();
    const head = loop.type === "ForStatement" ? loop.init : loop.type === "WhileStatement" || loop.type === "DoWhileStatement" ? null : loop.left;
    if (head && head.type === "VariableDeclaration" && head.kind !== "var") {
      for (const d of head.declarations) for (const x of patternNames(d.id)) loopVars.add(x);
    }
    // let/const declared in the body (outside nested functions) are per-iteration bindings too.
    const collectBody = (n: N) => {
      if (FUNCTION_TYPES.includes(n.type)) return;
      if (n.type === "VariableDeclaration" && n.kind !== "var") for (const d of n.declarations) for (const x of patternNames(d.id)) loopVars.add(x);
      for (const c of children(n)) collectBody(c);
    };
    collectBody(loop.body);
    if (!loopVars.size) return;
    const findClosures = (n: N) => {
      if (FUNCTION_TYPES.includes(n.type)) {
        const own = declaredInside(n);
        const captured = new Set<string>();
        const visit = (m: N) => {
          if (m.type === "Identifier" && refs.has(m) && loopVars.has(m.name) && !own.has(m.name)) captured.add(m.name);
          for (const c of children(m)) visit(c);
        };
        visit(n.body);
        for (const name of captured) {
          const key = `${n.start}:${name}`;
          if (seen.has(key)) continue;
          seen.add(key);
          report(n, "loop-closure", `closure created in a loop captures the loop's ${name} (Espruino shares one binding across iterations)`);
        }
        return;
      }
      for (const c of children(n)) findClosures(c);
    };
    for (const part of [loop.test, loop.update, loop.body]) if (part) findClosures(part);
  });
}

// `tsx build/gate.ts FILE...`: gate any script by hand; exit status 1 when one fails.
if (require.main === module) {
  let failed = 0;
  for (const file of process.argv.slice(2)) {
    const errors = gateSource(fs.readFileSync(file, "utf8"), file);
    for (const e of errors) console.error(formatGateError(e));
    if (errors.length) failed++;
  }
  process.exit(failed ? 1 : 0);
}
