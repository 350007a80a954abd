#!/usr/bin/env node
// The test command: type-check (portable code without Node types, then everything), compile, run
// every uvu suite in its own process, and end with one "N passed, N failed" line.
//
// Usage: node test/run.mjs [filter]   (filter: substring of a suite's path, e.g. "wire/")
import { spawnSync, spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const tsc = join(root, "node_modules/typescript/bin/tsc");
const uvu = join(root, "node_modules/uvu/bin.js");
const filter = process.argv[2] ?? "";
const suiteTimeoutMs = 600_000;

let passed = 0;
let failed = 0;

function finish() {
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

function step(label, command, args) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [command, ...args], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`${label} failed`);
    failed++;
    finish();
  }
  console.log(`${label}: ok (${Date.now() - started} ms)`);
}

function suites(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...suites(path));
    else if (name.endsWith(".test.js")) found.push(path);
  }
  return found;
}

function runSuite(file) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--enable-source-maps",
        "--expose-gc",
        uvu,
        relative(root, file).replace(/[^/]+$/, ""),
        `^${file.replace(/.*\//, "").replace(/\./g, "\\.")}$`,
      ],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    const timer = setTimeout(() => {
      console.error(`\n${relative(root, file)}: timed out after ${suiteTimeoutMs} ms`);
      child.kill("SIGKILL");
    }, suiteTimeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? NaN);
      const ok = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? NaN);
      if (Number.isNaN(total) || Number.isNaN(ok)) {
        console.error(`${relative(root, file)}: exited with ${code} before reporting totals`);
        failed++;
      } else {
        passed += ok;
        // uvu's total leaves skipped tests out.
        failed += total - ok;
        if (code !== 0 && total === ok) failed++;
      }
      resolve();
    });
  });
}

step("type-check (portable, no Node types)", tsc, ["-p", "tsconfig.portable.json"]);
step("type-check and compile", tsc, ["-p", "tsconfig.json"]);
// The Moddable example apps against @moddable/typings: CI cannot build them with the SDK.
step("type-check the Moddable examples", tsc, ["-p", "tsconfig.examples.json"]);
// The XS-engine suites need the xsnap CLI; build it once here so a suite never races a build.
step("build xsnap", join(root, "scripts/build-xsnap.mjs"), []);
const files = suites(join(root, ".build/test")).filter((f) => relative(root, f).includes(filter));
for (const file of files) {
  console.log(
    `\n# ${relative(root, file)
      .replace(/^\.build\//, "")
      .replace(/\.js$/, ".ts")}`,
  );
  await runSuite(file);
}
finish();
