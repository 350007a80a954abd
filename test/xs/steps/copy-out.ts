// Copies between separate arrays, as devices and applications make them: out of an arena into an
// application's buffer and back, at every relative alignment, and checksums of the two in turn.
// After the first call per buffer, none of it may allocate.

import { copy } from "../../../src/storage/memory.js";
import { Checksum } from "../../../src/wire/checksum.js";

const arena = new Uint8Array(16384);
const user = new Uint8Array(8192);
const summer = new Checksum();
let sum = 0;

export function step(i: number): void {
  copy(user, 0, arena, i & 1023, 100);
  copy(user, i & 3, arena, 42, 1472);
  copy(arena, 4096 + (i & 7), user, 2, 1472);
  copy(user, 1, arena, 8000, 8000);
  sum = summer.sum(arena, i & 7, 1480, sum);
  sum = summer.sum(user, 14, 64, sum);
}

export function result(): number {
  return sum;
}
