// The preload rules, checked under Node: every portable module is loaded and frozen the way
// Moddable's preload leaves it, then code that uses them runs again (the storage scenario and the
// unit suites listed in `rerun`); and a static scan of the compiled JavaScript finds module-level
// state that preload would turn read-only or into flash-to-RAM copies.

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { assertDeepFrozen, freezeModules, type FreezeSummary } from "./freeze.js";
import {
  buildRoot,
  isNodeOnly,
  portableCompiled,
  portableSources,
  root,
  runnableModules,
} from "./portable.js";
import { checkPreloadable, type Violation } from "./preload-rules.js";

/** Unit suites that run a second time here, over frozen modules (not hal/: TAP needs a lab). */
const rerun = ["test/storage", "test/wire", "test/iface", "test/transport", "test/apps"];

type Print = (...values: unknown[]) => void;

function capture(run: () => void): string[] {
  const lines: string[] = [];
  const global = globalThis as { print?: Print };
  const saved = global.print;
  global.print = (...values: unknown[]) => lines.push(values.map(String).join(" "));
  try {
    run();
  } finally {
    global.print = saved;
  }
  return lines;
}

function suitesUnder(dir: string, found: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) suitesUnder(path, found);
    else if (name.endsWith(".test.ts")) found.push(path);
  }
}

// Load, run once, freeze, then load the unit suites: their tests are queued (and run) before the
// tests of this file, and they must already see frozen modules.
const runnable = runnableModules();
const namespaces: object[] = [];
for (const file of runnable.files) namespaces.push(await import(pathToFileURL(file).href));
const storage = (await import("./scenarios/storage.js")) as { main(): void };
const before = capture(() => storage.main());
let summary: FreezeSummary | null = null;
let freezeError: unknown = null;
try {
  summary = freezeModules(namespaces);
} catch (error) {
  freezeError = error;
}
const rerunSuites: string[] = [];
if (summary !== null) {
  for (const dir of rerun) suitesUnder(join(root, dir), rerunSuites);
  // Their failures print under their own test names; this line says why they ran here.
  console.log(`preload: ${rerunSuites.length} unit suites run again over frozen modules`);
  for (const suite of rerunSuites)
    await import(
      pathToFileURL(join(buildRoot, relative(root, suite).replace(/\.ts$/, ".js"))).href
    );
}

test("every portable module loads and freezes deeply", () => {
  assert.is(freezeError, null, String(freezeError));
  // Only modules that need Moddable's own modules ("timer", "embedded:io/spi") stay out; the
  // static scan below still reads them.
  const leftOut = [...runnable.skipped].filter(([, why]) => !why.deviceOnly);
  assert.equal(leftOut, [], "no portable module was left out for another reason");
  assert.ok(runnable.files.some((f) => f.endsWith("src/storage/pool.js")));
  assert.ok(summary !== null && summary.functions > 10, JSON.stringify(summary));
  namespaces.forEach((namespace, i) =>
    assertDeepFrozen(namespace, relative(buildRoot, runnable.files[i])),
  );
  assert.ok(rerunSuites.length > 0, "some unit suites ran again over frozen modules");
});

test("the storage scenario behaves the same over frozen modules", () => {
  const after = capture(() => storage.main());
  assert.ok(before.length > 10);
  assert.equal(after, before);
  assert.equal(
    after.filter((line) => line.startsWith("check ") && !line.endsWith(" ok")),
    [],
  );
});

test("the portable list leaves out Node-only code and nothing else", () => {
  const sources = portableSources();
  assert.ok(sources.includes("src/storage/ring.ts"));
  assert.ok(sources.includes("hal/pair.ts") && sources.includes("src/device.ts"));
  assert.ok(!sources.some((s) => s.startsWith("hal/tap/") || s.startsWith("hal/platform/node/")));
  assert.ok(isNodeOnly("hal/tap/tap.ts") && isNodeOnly(".build/hal/platform/node/clock.js"));
  assert.not.ok(isNodeOnly("hal/pair.ts") || isNodeOnly("src/tap.ts"));
});

function scan(file: string): Violation[] {
  const declarations = file.replace(/\.js$/, ".d.ts");
  return checkPreloadable(
    readFileSync(file, "utf8"),
    relative(buildRoot, file),
    existsSync(declarations) ? readFileSync(declarations, "utf8") : undefined,
  );
}

test("no portable module keeps mutable state at module level or uses Node", () => {
  const files = portableCompiled();
  assert.ok(files.length >= 5);
  const found: Violation[] = [];
  for (const file of files) {
    assert.ok(existsSync(file), `${relative(root, file)} compiled`);
    found.push(...scan(file));
  }
  assert.equal(
    found.map((v) => `${v.file}:${v.line} ${v.message}`),
    [],
    "preload rule violations",
  );
});

// --- the scanner on planted examples ---------------------------------------------------------

function rules(code: string, declarations?: string): string[] {
  return checkPreloadable(code, "planted.js", declarations).map((v) => v.rule);
}

/** TypeScript source compiled as the project compiles it. */
function compile(source: string): string {
  return ts.transpileModule(source, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      useDefineForClassFields: true,
      isolatedModules: true,
    },
  }).outputText;
}

test("scanner: module-level let and var", () => {
  assert.equal(rules("let counter = 0;\nexport function f() { return ++counter; }"), ["let-var"]);
  assert.equal(rules("export var x;"), ["let-var"]);
  assert.equal(rules("export let a = 1, b = 2;"), ["let-var", "let-var"]);
});

test("scanner: enums and namespaces as tsc emits them", () => {
  assert.equal(rules(compile("export enum Color { Red, Green }")), ["enum"]);
  assert.equal(rules(compile("const enum Kind { A = 1 }\nexport const k = Kind.A;")), ["enum"]);
  assert.equal(rules(compile("export namespace N { export const x = 1; }")), ["enum"]);
});

test("scanner: mutable static fields", () => {
  assert.equal(rules(compile("export class A { static count = 0; }")), ["static-field"]);
  assert.equal(rules(compile("export class A { static readonly table = { a: 1 }; }")), [
    "static-field",
  ]);
  assert.equal(rules(compile("export class A { static #n = 0; next() { return A.#n++; } }")), [
    "static-field",
  ]);
  assert.equal(
    rules(
      "export class A { static limits = Object.freeze({ low: [1, 2] }); }",
      "export declare class A { static limits: unknown; }",
    ),
    ["static-field"],
    "a literal nested in a frozen one",
  );
  assert.equal(
    rules("export const B = class { static cache = new Map(); };"),
    ["static-field"],
    "class expressions too",
  );
  // readonly primitives are constants; the declaration file says which fields are readonly.
  const readonlyCode = compile("export class A { static readonly MAX = 4; static mode = 1; }");
  assert.equal(
    rules(
      readonlyCode,
      "export declare class A {\n static readonly MAX = 4;\n static mode: number;\n}",
    ),
    ["static-field"],
  );
  assert.equal(rules(readonlyCode), ["static-field", "static-field"], "without .d.ts: unsure");
});

test("scanner: unfrozen objects at module level", () => {
  assert.equal(rules("export const T = { a: 1 };"), ["unfrozen-literal"]);
  assert.equal(rules("const T = [1, 2, 3];\nexport { T };"), ["unfrozen-literal"]);
  assert.equal(rules("const cache = new Map();"), ["unfrozen-literal"]);
  assert.equal(rules("export const A = Object.freeze({ inner: [1] });"), ["unfrozen-literal"]);
  assert.equal(rules("export default { a: 1 };"), ["unfrozen-literal"]);
  const message = checkPreloadable("const T = [1];\nexport { T };", "p.js")[0].message;
  assert.match(message, /^T: exported module-level object not frozen/);
});

test("scanner: Node globals and built-ins", () => {
  assert.equal(rules("export function f(n) { return Buffer.alloc(n); }"), ["node-global"]);
  assert.equal(rules("export const debug = process.env.DEBUG;"), ["node-global"]);
  assert.equal(rules("export function later(f) { setImmediate(f); }"), ["node-global"]);
  assert.equal(rules("const fs = require('fs');"), ["node-global"]);
  assert.equal(rules("export function f(x) { return { x, process }; }"), ["node-global"]);
  assert.equal(rules('import { readFileSync } from "node:fs";'), ["node-import"]);
  assert.equal(rules('export * from "os";'), ["node-import"]);
});

test("scanner: what the rules allow is not reported", () => {
  const clean = compile(`
    // process, Buffer and require in a comment; "setImmediate" in a string
    import { copy } from "./memory.js";
    export const LIMIT = 5;
    export const NAMES = Object.freeze(["a", "b"]);
    export const DEFAULTS = Object.freeze({ sizes: Object.freeze([1, 2]), name: "x" });
    const TABLE = new Uint8Array(256);
    const crc = makeTable();
    function makeTable() { const t = new Uint32Array(4); for (let i = 0; i < 4; i++) t[i] = i; return t; }
    export class Pool {
      static readonly SIZE = LIMIT * 2;
      static #KIND = "pool";
      size = 0;
      readonly map = new Map<number, number>();
      static create() { return new Pool(); }
      process(frame: Uint8Array) { let n = 0; n += frame.length + TABLE[0] + crc[0]; return n; }
      get kind() { return Pool.#KIND; }
    }
    export function run(o: { process: number; Buffer: number }) {
      const message = { process: 1, require: 2 };
      label: for (const x of [1]) { if (x) break label; }
      return o.process + o.Buffer + message.require + "setImmediate".length;
    }
    export function shadow(process: number) { return process + 1; }
    void copy;
  `);
  const declarations = "export declare class Pool {\n static readonly SIZE: number;\n}";
  assert.equal(checkPreloadable(clean, "clean.js", declarations), []);
});

test.run();
