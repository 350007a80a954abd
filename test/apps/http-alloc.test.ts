// Allocation of the HTTP server's data path, measured on the XS engine: keep-alive requests for
// `/bytes/1000` and the status page, parsed and answered in preallocated bytes, take no slot.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { measureXsSlots } from "../../bench/xs-alloc.js";

const step = new URL("./http-xs-step.js", import.meta.url).pathname;

test("keep-alive HTTP requests and their answers allocate nothing on XS, frozen", async () => {
  const figures = await measureXsSlots(step, { steps: 300, freeze: true });
  console.log(`  HTTP request and answer: ${JSON.stringify(figures)}`);
  assert.is(figures.retainedSlotsPerStep, 0, "no slot kept per request");
  assert.is(figures.allocatedSlotsPerStep, 0, JSON.stringify(figures));
  assert.ok(figures.computePerStep > 1000, "the step did run");
});

test.run();
