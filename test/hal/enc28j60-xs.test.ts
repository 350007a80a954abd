// The ENC28J60 driver allocates nothing per frame, measured on the XS engine (bench/xs-alloc.ts):
// frames of every length from 64 to 1514 bytes in and out through the driver and the chip
// simulator, after a preload-like freeze.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { measureXsSlots } from "../../bench/xs-alloc.js";

const step = new URL("../../bench/steps/enc28j60.js", import.meta.url).pathname;

test("a frame received and one sent through the driver take no slot under XS", async () => {
  const figures = await measureXsSlots(step, { steps: 300, freeze: true });
  console.log(`  enc28j60 frame in and out: ${JSON.stringify(figures)}`);
  assert.is(figures.retainedSlotsPerStep, 0, "no slot kept per frame");
  assert.is(figures.allocatedSlotsPerStep, 0, JSON.stringify(figures));
  assert.ok(figures.computePerStep > 10000, "the step did run");
});

test.run();
