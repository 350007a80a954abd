// What a Stack costs in XS memory, per profile, on Moddable (instrumented lin build; measure.sh).
// For each profile: a LinkPair end is made first (not counted), then a Stack is created and
// attached; the slots and chunk bytes in use after a collection, before and after, are printed,
// and again once the Stack is dropped, which must give everything back.
//
// Slot figures are bytes of the lin simulator's 32-byte slots; the line also gives the count of
// slots, which is what a 16-byte-slot device (ESP32, Pico) pays the same number of.

import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";
import { LinkPair } from "netstack/hal/pair";
import { Stack } from "netstack/src/stack";

const SLOTS = Instrumentation.map("XS Slot Heap Used");
const CHUNKS = Instrumentation.map("XS Chunk Heap Used");
const SLOT_BYTES = 32;

const sample = new Float64Array(2);
function measure() {
  Debug.gc();
  Debug.gc();
  sample[0] = Instrumentation.get(SLOTS);
  sample[1] = Instrumentation.get(CHUNKS);
}

function one(profile) {
  const pair = new LinkPair();
  measure();
  const slots0 = sample[0];
  const chunks0 = sample[1];
  let stack = new Stack({ profile, seed: 1 });
  stack.attach(pair.a, { address: "192.0.2.2", prefix: 24 });
  measure();
  const slots = (sample[0] - slots0) / SLOT_BYTES;
  const chunks = sample[1] - chunks0;
  const arena = stack.memory.bytes.length;
  stack = null;
  measure();
  const leftSlots = (sample[0] - slots0) / SLOT_BYTES;
  const leftChunks = sample[1] - chunks0;
  trace(
    `footprint ${profile}: slots ${slots} (${slots * 16} B at 16 B a slot), chunks ${chunks} B (arena ${arena} B, other ${chunks - arena} B); after drop: slots ${leftSlots}, chunks ${leftChunks}\n`,
  );
  return pair;
}

Timer.set(() => {
  const keep = [];
  for (const profile of ["small", "default", "simulator"]) keep.push(one(profile));
  measure();
  trace(`footprint at rest: slots ${sample[0] / SLOT_BYTES} in use, chunks ${sample[1]} B\n`);
  trace("footprint done\n");
}, 10);
