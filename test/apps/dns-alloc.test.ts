// Allocation of a DNS query on the XS engine, frozen as preload would: the resolver's question,
// its fresh ID and port, the answer checked and parsed, and the callback take no slot
// (bench/steps/dns.ts; bench/dns.ts prints the V8 figures beside a bare-UDP baseline).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { measureXsSlots } from "../../bench/xs-alloc.js";

const step = new URL("../../bench/steps/dns.js", import.meta.url).pathname;

test("an A query and its answer allocate nothing on XS, frozen", async () => {
  const figures = await measureXsSlots(step, { steps: 300, freeze: true });
  console.log(`  DNS query and answer: ${JSON.stringify(figures)}`);
  assert.is(figures.retainedSlotsPerStep, 0, "no slot kept per query");
  assert.is(figures.allocatedSlotsPerStep, 0, JSON.stringify(figures));
  assert.ok(figures.computePerStep > 1000, "the step did run");
});

test.run();
