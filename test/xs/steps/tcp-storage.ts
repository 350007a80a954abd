// The storage TCP sits on, per segment: park out-of-order bytes in a receive ring and record them
// in an assembler, commit the front once the hole fills, read a retransmission from a send ring by
// runs, look a 4-tuple up, insert and retire it in the TIME-WAIT table, and move a socket's ring
// between spans. None of it may allocate.

import { Assembler } from "../../../src/storage/assembler.js";
import { Memory } from "../../../src/storage/memory.js";
import { ByteRing } from "../../../src/storage/ring.js";
import { Spans } from "../../../src/storage/spans.js";
import { TUPLE_FULL_EVICT_OLDEST, TupleTable } from "../../../src/storage/tuple-table.js";

interface State {
  bytes: Uint8Array;
  receive: ByteRing;
  send: ByteRing;
  assembler: Assembler;
  table: TupleTable;
  spans: Spans;
  /** Arena offset of a segment's payload. */
  segment: number;
}

let state: State | null = null;

export function setup(): void {
  const memory = new Memory(new Uint8Array(32768));
  state = {
    bytes: memory.bytes,
    receive: new ByteRing(memory, 0),
    send: new ByteRing(memory, 2000),
    assembler: new Assembler(8),
    table: new TupleTable(32, 2, 1, 0x5eed),
    spans: new Spans(memory, 16384, 8),
    segment: memory.take(512),
  };
  state.receive.place(state.spans.alloc(3000), 3000);
}

export function step(i: number): void {
  const s = state as State;
  const n = 1 + (i % 200);
  // Receive: the second half arrives first and is parked; then the first half fills the hole.
  const half = n >> 1;
  s.receive.writeAt(half, s.bytes, s.segment + half, n - half);
  s.assembler.insert(half, n - half);
  s.receive.writeAt(0, s.bytes, s.segment, half);
  s.assembler.insert(0, half);
  const front = s.assembler.front;
  s.receive.commit(front);
  s.assembler.advance(front);
  s.receive.read(s.bytes, s.segment, front);
  // Send: queue, read a retransmission by runs, acknowledge.
  s.send.write(s.bytes, s.segment, n);
  let sum = 0;
  for (let skip = 0; skip < s.send.readable; skip += s.send.run(skip))
    sum += s.bytes[s.send.offsetAt(skip)];
  s.send.discard(n);
  // TIME-WAIT: one in, found, retired.
  const port = i & 0xffff;
  const e = s.table.insert(0x0a000001, 80, 0x0a000002, port, i + 1000, TUPLE_FULL_EVICT_OLDEST);
  if (e >= 0) s.table.ints[0][e] = sum;
  const found = s.table.find(0x0a000001, 80, 0x0a000002, port);
  for (let x = s.table.nextExpired(i, 0); x >= 0; x = s.table.nextExpired(i, x + 1))
    s.table.remove(x);
  if (found >= 0 && (i & 7) === 0) s.table.remove(found);
  s.table.nextDeadline();
  // A socket resized now and then: its ring moves to a fresh span.
  if (i % 50 === 0) {
    s.spans.free(s.receive.base);
    const size = 1000 + (i % 7) * 300;
    s.receive.place(s.spans.alloc(size), size);
  }
}
