// Allocation measured on the XS engine (bench/xs-alloc.ts): the measurement must see an object
// allocated per call, kept or dropped, and must see nothing where nothing is allocated.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { measureXsSlots } from "../../bench/xs-alloc.js";

const steps = (name: string) => new URL(`./steps/${name}.js`, import.meta.url).pathname;

test("an object kept per call: live slots grow by its size every step", async () => {
  const figures = await measureXsSlots(steps("keeps"), { steps: 500 });
  console.log(`  kept object: ${JSON.stringify(figures)}`);
  // { i } is one slot for the object and one for its property.
  assert.ok(figures.retainedSlotsPerStep >= 2, JSON.stringify(figures));
  assert.ok(figures.allocatedSlotsPerStep >= 2, JSON.stringify(figures));
  assert.ok(
    figures.liveSlots[2] > figures.liveSlots[1] && figures.liveSlots[1] > figures.liveSlots[0],
  );
});

test("an object dropped per call: no growth, but allocation per step", async () => {
  const figures = await measureXsSlots(steps("garbage"), { steps: 500 });
  console.log(`  dropped object: ${JSON.stringify(figures)}`);
  assert.is(figures.retainedSlotsPerStep, 0, JSON.stringify(figures));
  assert.ok(figures.allocatedSlotsPerStep >= 3, JSON.stringify(figures));
});

test("copies and checksums across separate arrays allocate nothing, frozen or not", async () => {
  for (const freeze of [false, true]) {
    const figures = await measureXsSlots(steps("copy-out"), { steps: 500, freeze });
    assert.is(figures.retainedSlotsPerStep, 0, JSON.stringify(figures));
    assert.is(figures.allocatedSlotsPerStep, 0, JSON.stringify(figures));
    assert.ok(figures.computePerStep > 1000, "the step did run");
    console.log(`  copies across arrays${freeze ? " (frozen)" : ""}: ${JSON.stringify(figures)}`);
  }
});

test("the storage path allocates nothing per step, frozen or not", async () => {
  for (const freeze of [false, true]) {
    const figures = await measureXsSlots(steps("storage"), { steps: 2000, freeze });
    assert.is(figures.retainedSlotsPerStep, 0, JSON.stringify(figures));
    assert.is(figures.allocatedSlotsPerStep, 0, JSON.stringify(figures));
    assert.ok(figures.computePerStep > 20, "the step did run");
    console.log(`  storage step${freeze ? " (frozen)" : ""}: ${JSON.stringify(figures)}`);
  }
});

test("the storage TCP sits on allocates nothing per step", async () => {
  const figures = await measureXsSlots(steps("tcp-storage"), { steps: 2000, freeze: true });
  assert.is(figures.retainedSlotsPerStep, 0, JSON.stringify(figures));
  assert.is(figures.allocatedSlotsPerStep, 0, JSON.stringify(figures));
  assert.ok(figures.computePerStep > 20, "the step did run");
  console.log(`  TCP storage step (frozen): ${JSON.stringify(figures)}`);
});

test("a UDP echo round trip over the pair, to the application's own buffers, allocates nothing", async () => {
  const figures = await measureXsSlots(steps("udp-pair"), { steps: 300, freeze: true });
  console.log(`  UDP echo round trip, one arena: ${JSON.stringify(figures)}`);
  assert.is(figures.retainedSlotsPerStep, 0, "no slot kept per packet");
  // The application's buffers are separate arrays: the copies to and from them take no view.
  assert.is(figures.allocatedSlotsPerStep, 0, JSON.stringify(figures));
});

test("two stacks and the pair each in their own memory: a UDP echo round trip allocates nothing", async () => {
  const figures = await measureXsSlots(steps("udp-own"), { steps: 300, freeze: true });
  console.log(`  UDP echo round trip, own memories: ${JSON.stringify(figures)}`);
  assert.is(figures.retainedSlotsPerStep, 0, "no slot kept per packet");
  assert.is(figures.allocatedSlotsPerStep, 0, JSON.stringify(figures));
  assert.ok(figures.computePerStep > 1000, "the step did run");
});

test.run();
