// Allocation of the TCP data path, measured on the XS engine: an echo round trip between two
// stacks, segments built in pool buffers and copied from the rings, must take no slot.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { measureXsSlots } from "../../bench/xs-alloc.js";

const step = new URL("./tcp-xs-step.js", import.meta.url).pathname;

test("a TCP echo round trip over the pair allocates nothing on XS, frozen", async () => {
  const figures = await measureXsSlots(step, { steps: 300, freeze: true });
  console.log(`  TCP echo round trip: ${JSON.stringify(figures)}`);
  assert.is(figures.retainedSlotsPerStep, 0, "no slot kept per segment");
  assert.is(figures.allocatedSlotsPerStep, 0, JSON.stringify(figures));
  assert.ok(figures.computePerStep > 1000, "the step did run");
});

test.run();
