// Copying out of the arena into a separate array: copy() takes a view of the source for more than
// 32 bytes, which XS allocates (a TypedArray view is 4 slots) and drops at once.

import { copy } from "../../../src/storage/memory.js";

const arena = new Uint8Array(4096);
const user = new Uint8Array(256);

export function step(i: number): void {
  copy(user, 0, arena, i & 1023, 100);
}
