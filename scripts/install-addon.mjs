#!/usr/bin/env node
// The package's install step: builds the TAP addon (hal/tap/native/tap.cc) on Linux, where it
// is the only way to reach a TAP device. It never fails the install: the in-memory devices, the
// chip drivers and everything portable work without it, and TapDevice says at use what is missing.
// `npm rebuild netstack` runs this again once a compiler is there.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function nodeGyp() {
  // npm names its own node-gyp for install scripts; otherwise look beside npm.
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp))
    return process.env.npm_config_node_gyp;
  try {
    return createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
  } catch {
    const beside = join(
      dirname(process.execPath),
      "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
    );
    return existsSync(beside) ? beside : null;
  }
}

if (process.platform !== "linux") process.exit(0);
const gyp = nodeGyp();
if (gyp === null) {
  console.warn(
    "netstack: node-gyp not found; the TAP addon is not built (TapDevice is unavailable)",
  );
  process.exit(0);
}
const args = [gyp, "rebuild"];
// Node's own headers, when they sit beside it (Debian's nodejs, official tarballs): no download.
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, "include/node/node_api.h")))
  args.push(`--nodedir=${prefix}`);
const build = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
if (build.status === 0) process.exit(0);
const log = `${build.stdout ?? ""}${build.stderr ?? ""}${build.error?.message ?? ""}`;
const reason = /not found|ENOENT|No such file|not installed/i.exec(log)
  ? "no C++ toolchain (g++, make, python3)"
  : `node-gyp exited with ${build.status}`;
console.warn(
  `netstack: the TAP addon was not built (${reason}). Everything but TapDevice works; ` +
    "to use a TAP, install g++, make and python3, then run `npm rebuild netstack`.",
);
if (process.env.NETSTACK_ADDON_LOG) console.warn(log);
process.exit(0);
