// Test suites that need a network lab (a namespace with TAP devices) start with labOrSkip(). When
// this machine cannot make a lab the suite says why and runs nothing, except under CI (CI=true),
// where that is a failure: a CI run that skipped every interop test must not pass.
import { suite, type Test } from "uvu";
import * as assert from "uvu/assert";
import { Lab } from "../../hal/platform/node/lab.js";

/** The state each test receives: the suite's lab, made before the first test, closed after the last. */
export class LabContext {
  private current: Lab | null = null;

  get lab(): Lab {
    if (this.current === null) throw new Error("the lab is not running");
    return this.current;
  }

  set lab(lab: Lab | null) {
    this.current = lab;
  }

  get running(): boolean {
    return this.current !== null;
  }
}

/** A suite whose registrations go nowhere: what a skipped suite hands its tests. */
function inertSuite(run: () => void): Test<LabContext> {
  const ignore = (): void => {};
  const hook = Object.assign(ignore.bind(null), { each: ignore });
  return Object.assign(ignore.bind(null), {
    only: ignore,
    skip: ignore,
    before: hook,
    after: hook,
    run,
  }) as Test<LabContext>;
}

/**
 * A uvu suite named `suiteName` whose tests get `context.lab`, one lab shared by the suite. If no
 * lab can be made: prints the reason and returns a suite that runs nothing, or under CI=true one
 * that fails with the reason.
 */
export function labOrSkip(suiteName: string): Test<LabContext> {
  const check = Lab.check();
  if (!check.ok) {
    if (process.env.CI === "true") {
      const failing = suite(suiteName);
      failing("a network lab can be made (required when CI=true)", () => {
        assert.unreachable(`cannot make a network lab: ${check.reason}`);
      });
      return inertSuite(() => failing.run());
    }
    console.log(`${suiteName}: skipped, cannot make a network lab: ${check.reason}`);
    return inertSuite(() => {});
  }
  const labSuite = suite(suiteName, new LabContext());
  labSuite.before(async (context) => {
    context.lab = await Lab.create();
  });
  labSuite.after(async (context) => {
    if (!context.running) return;
    await context.lab.close();
    context.lab = null;
  });
  return labSuite;
}
