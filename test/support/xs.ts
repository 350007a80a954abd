// Runs compiled code under the real XS engine: rollup bundles a scenario (a .build/**.js module
// exporting `main()`) with everything it imports into one script, and the xsnap CLI built from
// @agoric/xsnap runs it. With `freeze`, the bundle first loads every portable module of src/ and
// hal/ and freezes them as Moddable's preload would, and only then calls main(): imports are
// hoisted, so a scenario must do nothing at import time.
//
// Output protocol: the scenario prints lines with the CLI's `print`. Lines of the form
// `name=value` are collected into `values`; `check <name> ok` and `check <name> FAIL <detail>`
// lines (see test/xs/report.ts) into `checks`. The bundle's own lines start with "#xs ".

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { rollup, type RollupLog } from "rollup";
import { runnableModules } from "../xs/portable.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const buildRoot = join(root, ".build");
const bundleDir = join(buildRoot, "xs-bundles");
const xsnapBinary = join(root, "node_modules/@agoric/xsnap/moddable/build/bin/lin/release/xsnap");
const entryId = "\0xs-entry";

export interface XsOptions {
  /** Freeze every portable module (and the built-ins) before calling main(). */
  freeze: boolean;
  /** Kill the engine after this long; default 20 s. */
  timeoutMs?: number;
}

export interface XsCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface XsRun {
  /** Exit status of xsnap, or null when it was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** main() returned (or its promise resolved) without throwing. */
  completed: boolean;
  /** What main() or the freeze threw, as text, or null. */
  error: string | null;
  /** The scenario's own output lines, without the bundle's "#xs " lines. */
  lines: string[];
  values: Map<string, string>;
  checks: XsCheck[];
  /** Modules frozen before main(), when `freeze` was set. */
  frozenModules: number;
  /** The bundle that ran. */
  bundle: string;
}

/** The xsnap CLI, built on first use if `npm test` has not built it yet. */
export function xsnapPath(): string {
  if (existsSync(xsnapBinary)) return xsnapBinary;
  const built = spawnSync(process.execPath, [join(root, "scripts/build-xsnap.mjs")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const path = built.stdout.trim().split("\n").pop() ?? "";
  if (built.status !== 0 || !existsSync(path)) throw new Error("xsnap: the CLI could not be built");
  return path;
}

/** The absolute path of a compiled module (absolute, or relative to the repository root). */
export function compiledModule(entryJs: string): string {
  const path = isAbsolute(entryJs) ? entryJs : resolve(root, entryJs);
  if (!path.startsWith(buildRoot + "/") || !path.endsWith(".js"))
    throw new Error(`${entryJs} is not a compiled .build/**.js module`);
  if (!existsSync(path)) throw new Error(`${entryJs} does not exist (compile first)`);
  return path;
}

/**
 * Entry-source pieces that load every runnable portable module and, when `run` executes, freeze
 * them and the built-ins as preload would, leaving the summary in a `summary` constant.
 */
export function freezePrologue(): { imports: string; run: string } {
  const modules = runnableModules().files;
  const imports = [
    `import { freezeBuiltins, freezeModules } from ${JSON.stringify(join(buildRoot, "test/xs/freeze.js"))};`,
    ...modules.map((file, i) => `import * as m${i} from ${JSON.stringify(file)};`),
  ].join("\n");
  const run = [
    `const summary = freezeModules([${modules.map((_, i) => `m${i}`).join(", ")}]);`,
    `freezeBuiltins();`,
  ].join("\n");
  return { imports, run };
}

/** The source of the bundle's entry: imports, optional freeze, then main(), reporting the end. */
function entrySource(scenario: string, freeze: boolean): string {
  const prologue = freeze ? freezePrologue() : { imports: "", run: "" };
  return `import * as scenario from ${JSON.stringify(scenario)};
${prologue.imports}
function describe(error) {
  const stack = error !== null && typeof error === "object" ? error.stack : undefined;
  return String(error) + (typeof stack === "string" ? "\\n" + stack : "");
}
function fail(error) { print("#xs error " + describe(error)); }
try {
  ${prologue.run}
  ${freeze ? `print("#xs frozen " + summary.modules + " " + summary.functions + " " + summary.objects + " " + summary.buffers);` : ""}
  if (typeof scenario.main !== "function") throw new TypeError("the scenario exports no main()");
  Promise.resolve(scenario.main()).then(() => print("#xs done"), fail);
} catch (error) {
  fail(error);
}
`;
}

/**
 * Bundles `source` (an ES module that imports by absolute path) with everything it imports into
 * one script, .build/xs-bundles/<name>.js, and returns its path.
 */
export async function bundleScript(source: string, name: string): Promise<string> {
  const problems: string[] = [];
  const bundle = await rollup({
    input: entryId,
    // Moddable runs modules whole; tree-shaking would also drop side-effect-free loops.
    treeshake: false,
    plugins: [
      {
        name: "xs-entry",
        resolveId: (id) => (id === entryId ? id : null),
        load: (id) => (id === entryId ? source : null),
      },
    ],
    onwarn: (warning: RollupLog) => {
      // A module that cannot be found would otherwise become a global reference.
      if (warning.code === "UNRESOLVED_IMPORT" || warning.code === "MISSING_EXPORT")
        problems.push(warning.message);
    },
  });
  try {
    if (problems.length > 0) throw new Error(`bundle ${name}: ${problems.join("; ")}`);
    // A script, not a module: the CLI reports an exception thrown by a module with exit status 0.
    const { output } = await bundle.generate({ format: "iife", strict: true, sourcemap: false });
    mkdirSync(bundleDir, { recursive: true });
    const file = join(bundleDir, `${name}.js`);
    writeFileSync(file, output[0].code);
    return file;
  } finally {
    await bundle.close();
  }
}

/** Bundles a compiled scenario into one script for the xsnap CLI; returns its path. */
export async function bundleForXs(entryJs: string, options: XsOptions): Promise<string> {
  const scenario = compiledModule(entryJs);
  const name = relative(buildRoot, scenario).replace(/[/\\]/g, "_").replace(/\.js$/, "");
  return bundleScript(
    entrySource(scenario, options.freeze),
    name + (options.freeze ? ".frozen" : ""),
  );
}

function parse(run: XsRun): void {
  for (const line of run.stdout.split("\n")) {
    if (line.startsWith("#xs done")) run.completed = true;
    else if (line.startsWith("#xs frozen ")) run.frozenModules = Number(line.split(" ")[2]);
    else if (line.startsWith("#xs ")) continue;
    else if (line !== "") run.lines.push(line);
    const check = /^check (\S+) (ok|FAIL)(?: (.*))?$/.exec(line);
    if (check) run.checks.push({ name: check[1], ok: check[2] === "ok", detail: check[3] ?? "" });
    const value = /^([\w.:/-]+)=(.*)$/.exec(line);
    if (value) run.values.set(value[1], value[2]);
  }
  // An error report may span lines (the stack): everything after "#xs error ".
  const at = run.stdout.indexOf("#xs error ");
  if (at >= 0) {
    const rest = run.stdout.slice(at + "#xs error ".length);
    const end = rest.indexOf("\n#xs ");
    run.error = (end >= 0 ? rest.slice(0, end) : rest).trimEnd();
  }
}

/** Bundles `entryJs` (a .build/**.js scenario exporting main()) and runs it under XS. */
export async function runUnderXs(entryJs: string, options: XsOptions): Promise<XsRun> {
  const bundle = await bundleForXs(entryJs, options);
  const binary = xsnapPath();
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolveRun, reject) => {
    const child = spawn(binary, ["-s", bundle], {
      cwd: bundleDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const run: XsRun = {
        code,
        stdout,
        stderr,
        timedOut,
        completed: false,
        error: null,
        lines: [],
        values: new Map(),
        checks: [],
        frozenModules: 0,
        bundle,
      };
      parse(run);
      resolveRun(run);
    });
  });
}
