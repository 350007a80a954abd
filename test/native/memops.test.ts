// native/memops.c, the Moddable build's copy and checksum, compiled on the host: against the
// real XS headers for syntax, and against a small stand-in for xsmc.h to run it beside byte-by-
// byte references. Neither needs the Moddable SDK; both need a C compiler.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const here = join(root, "test/native");
const source = join(root, "native/memops.c");
const xsIncludes = join(root, "node_modules/@agoric/xsnap/moddable/xs/includes");
const compiler = spawnSync("cc", ["--version"]).status === 0 ? "cc" : null;

test("memops.c compiles against the XS headers, with every warning on", () => {
  if (compiler === null) return console.log("  no C compiler: skipped");
  const run = spawnSync(
    compiler,
    ["-fsyntax-only", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", xsIncludes, source],
    { encoding: "utf8" },
  );
  assert.is(run.status, 0, run.stderr);
});

test("memops.c copies and sums like byte-by-byte references, out-of-range arguments included", () => {
  if (compiler === null) return console.log("  no C compiler: skipped");
  const dir = mkdtempSync(join(tmpdir(), "netstack-memops-"));
  try {
    const binary = join(dir, "harness");
    const built = spawnSync(
      compiler,
      [
        "-O1",
        "-std=c99",
        "-Wall",
        "-I",
        join(here, "mock"),
        "-o",
        binary,
        join(here, "memops-harness.c"),
      ],
      { encoding: "utf8" },
    );
    assert.is(built.status, 0, built.stderr);
    const run = spawnSync(binary, [], { encoding: "utf8" });
    assert.is(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^ok 20000$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
