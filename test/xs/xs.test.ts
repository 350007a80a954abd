// Scenarios under the real XS engine (the xsnap CLI), plain and after a preload-like freeze of
// every portable module. Each scenario also runs under Node, and the two engines must print the
// same lines. To add one: write test/xs/scenarios/<name>.ts exporting main() (report with
// test/xs/report.ts), then add `scenario("<name>");` below.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { runUnderXs, type XsRun } from "../support/xs.js";

const scenarios = new URL("./scenarios/", import.meta.url);

function compiled(name: string): string {
  return new URL(`${name}.js`, scenarios).pathname;
}

/** The scenario's lines under Node, with a `print` like the xsnap CLI's. */
async function underNode(name: string): Promise<string[]> {
  const lines: string[] = [];
  const global = globalThis as { print?: (...values: unknown[]) => void };
  const saved = global.print;
  global.print = (...values: unknown[]) => lines.push(values.map(String).join(" "));
  try {
    const module = (await import(compiled(name))) as { main(): unknown };
    await module.main();
  } finally {
    global.print = saved;
  }
  return lines;
}

function explain(run: XsRun): string {
  return `exit ${run.code}${run.timedOut ? " (timed out)" : ""}, error: ${run.error}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

function assertClean(run: XsRun): void {
  assert.ok(run.completed && run.error === null && run.code === 0, explain(run));
  assert.is(run.stderr, "", "nothing on stderr");
  const failed = run.checks.filter((c) => !c.ok);
  assert.equal(failed, [], "every check in the scenario passes");
}

/** Registers a scenario: it must run cleanly under XS, frozen and not, and print what Node prints. */
function scenario(name: string): void {
  for (const freeze of [false, true]) {
    test(`${name} under XS${freeze ? ", after freezing every portable module" : ""}`, async () => {
      const expected = await underNode(name);
      assert.ok(expected.length > 0, "the scenario prints something");
      assert.ok(
        expected.some((line) => line.startsWith("check ")),
        "the scenario checks something",
      );
      const run = await runUnderXs(compiled(name), { freeze });
      assertClean(run);
      if (freeze) assert.ok(run.frozenModules >= 5, `froze ${run.frozenModules} modules`);
      assert.equal(run.lines, expected, "XS prints what V8 prints");
    });
  }
}

scenario("storage");

test("harness: the freeze reaches classes, prototypes, methods and built-ins", async () => {
  const frozen = await runUnderXs(compiled("frozen"), { freeze: true });
  assertClean(frozen);
  for (const key of ["class", "prototype", "method", "namespace", "builtin"])
    assert.is(frozen.values.get(key), "true", `${key} frozen`);
  assert.is(frozen.values.get("method-write-throws"), "true");
  assert.is(frozen.values.get("static-add-throws"), "true");
  const plain = await runUnderXs(compiled("frozen"), { freeze: false });
  assertClean(plain);
  for (const key of ["class", "prototype", "method", "builtin", "method-write-throws"])
    assert.is(plain.values.get(key), "false", `${key} left alone`);
});

test("harness: an exception in main() is reported, not lost", async () => {
  const run = await runUnderXs(compiled("throws"), { freeze: true });
  assert.not.ok(run.completed);
  assert.ok(run.error?.includes("RangeError: scenario failed on purpose"), explain(run));
  assert.equal(run.checks, [{ name: "before-throw", ok: true, detail: "" }]);
});

test("harness: a scenario that never ends is killed at the timeout", async () => {
  const started = Date.now();
  const run = await runUnderXs(compiled("hangs"), { freeze: false, timeoutMs: 500 });
  assert.ok(run.timedOut && !run.completed && run.code === null, explain(run));
  assert.ok(Date.now() - started < 10_000);
});

test("harness: refuses what is not a compiled module", async () => {
  try {
    await runUnderXs("test/xs/scenarios/storage.ts", { freeze: false });
    assert.unreachable("accepted a .ts source");
  } catch (error) {
    assert.match(String(error), /not a compiled/);
  }
});

test.run();
scenario("duo");
