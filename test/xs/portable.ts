// The portable modules: everything under src/ and hal/ that must run under XS, listed from the
// source tree so a new module is covered without editing a list. Node-only folders are left out,
// and so is any module that imports a bare specifier (a Moddable module such as "embedded:io/spi"
// or "timer", which neither Node nor the xsnap CLI provide), with whatever imports it.

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** The repository root (this file runs as .build/test/xs/portable.js). */
export const root = fileURLToPath(new URL("../../../", import.meta.url));
export const buildRoot = join(root, ".build");

const nodeOnly = ["hal/tap/", "hal/platform/node/"];

/** Whether a repository-relative path lies in a Node-only folder. */
export function isNodeOnly(path: string): boolean {
  const normal = path.replace(/\\/g, "/").replace(/^\.build\//, "");
  return nodeOnly.some((folder) => normal.startsWith(folder));
}

function walk(dir: string, found: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, found);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) found.push(path);
  }
}

/** Repository-relative paths of the portable TypeScript sources, e.g. "src/storage/pool.ts". */
export function portableSources(): string[] {
  const found: string[] = [];
  walk(join(root, "src"), found);
  walk(join(root, "hal"), found);
  return found
    .map((path) => relative(root, path).replace(/\\/g, "/"))
    .filter((p) => !isNodeOnly(p));
}

/** Absolute path of the compiled JavaScript of a repository-relative source path. */
export function compiledPath(source: string): string {
  return join(buildRoot, source.replace(/\.ts$/, ".js"));
}

/** The compiled files of the portable sources (all of them, including device-only ones). */
export function portableCompiled(): string[] {
  return portableSources().map(compiledPath);
}

/** The module specifiers a compiled file imports, re-exports from, or imports dynamically. */
export function importsOf(code: string): string[] {
  return ts.preProcessFile(code, true, true).importedFiles.map((file) => file.fileName);
}

export interface Skipped {
  reason: string;
  /** Left out only because it needs a Moddable module (directly or through an import). */
  deviceOnly: boolean;
}

export interface Runnable {
  /** Compiled files that Node and the xsnap CLI can load, in source-tree order. */
  files: string[];
  /** Compiled files left out, and why. */
  skipped: Map<string, Skipped>;
}

/** The portable compiled modules that can be loaded outside a Moddable device. */
export function runnableModules(): Runnable {
  const files = portableCompiled();
  const skipped = new Map<string, Skipped>();
  const imports = new Map<string, string[]>();
  for (const file of files) {
    if (!existsSync(file)) {
      skipped.set(file, { reason: "not compiled", deviceOnly: false });
      continue;
    }
    const specifiers = importsOf(readFileSync(file, "utf8"));
    const bare = specifiers.find((s) => !s.startsWith("./") && !s.startsWith("../"));
    if (bare !== undefined) skipped.set(file, { reason: `imports "${bare}"`, deviceOnly: true });
    imports.set(
      file,
      specifiers.filter((s) => s.startsWith(".")).map((s) => resolve(dirname(file), s)),
    );
  }
  // Whatever imports a skipped module cannot load either.
  for (let changed = true; changed;) {
    changed = false;
    for (const [file, targets] of imports) {
      if (skipped.has(file)) continue;
      const missing = targets.find((t) => skipped.has(t) || !existsSync(t));
      if (missing !== undefined) {
        skipped.set(file, {
          reason: `imports ${relative(buildRoot, missing)}`,
          deviceOnly: skipped.get(missing)?.deviceOnly === true,
        });
        changed = true;
      }
    }
  }
  return { files: files.filter((f) => !skipped.has(f)), skipped };
}
