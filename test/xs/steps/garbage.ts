// A step that allocates an object per call and drops it: no growth after a collection, but the
// slots are still taken between collections.

let last = 0;

export function step(i: number): void {
  const box = { i, twice: i * 2 };
  last = box.twice;
}

export function result(): number {
  return last;
}
