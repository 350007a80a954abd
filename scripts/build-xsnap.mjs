#!/usr/bin/env node
// Builds the `xsnap` command-line runner (the XS engine with print, gc, performance.now and harden)
// from the sources that ship in the npm package @agoric/xsnap, unless it is already built, and
// prints its path. The package's install step builds only its worker; tests that run scenarios
// under XS need the CLI.
//
// Usage: node scripts/build-xsnap.mjs [--force]
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = join(root, "node_modules/@agoric/xsnap");
const moddable = join(pkg, "moddable");
const makefiles = join(pkg, "xsnap-native/xsnap/makefiles/lin");
export const xsnapPath = join(moddable, "build/bin/lin/release/xsnap");

function build() {
  if (process.platform !== "linux")
    throw new Error(`build-xsnap: only Linux is set up, not ${process.platform}`);
  if (!existsSync(join(moddable, "xs/sources/xsAll.c")) || !existsSync(join(makefiles, "xsnap.mk")))
    throw new Error(`build-xsnap: XS sources missing under ${pkg} (is @agoric/xsnap installed?)`);
  const result = spawnSync(
    "make",
    [
      "-C",
      makefiles,
      `MODDABLE=${moddable}`,
      "GOAL=release",
      `XSNAP_VERSION=${JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).version}`,
      'CC=cc "-D__has_builtin(x)=1"',
      "-f",
      "xsnap.mk",
      `-j${Math.max(1, cpus().length)}`,
    ],
    // make talks on stderr so that stdout carries only the path.
    { stdio: ["ignore", process.stderr, "inherit"] },
  );
  if (result.error) throw result.error;
  if (result.status !== 0 || !existsSync(xsnapPath))
    throw new Error(`build-xsnap: make exited with ${result.status}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes("--force") || !existsSync(xsnapPath)) build();
    console.log(xsnapPath);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
