// Times are whole milliseconds on the driver's monotonic clock, never negative. On V8 they are
// small integers for 2^31 ms (24.8 days) and doubles after that; every comparison holds either way.
//
// A timer that is not armed holds OFF (-1), not a far-off time. A field that only ever holds small
// integers keeps V8's small-integer representation; one that held 2^52 or Infinity turns double,
// and V8 then boxes a fresh 16-byte heap number whenever such a value leaves optimized code (a
// return, a call it does not inline), and on every read in code not yet optimized: drivers ask
// for the next deadline after every poll. So a time `at` is due when `due(at, now)`, the earliest
// of two is `earlier(a, b)`, and the stack's own deadline queries answer OFF for none. Only the
// Pollable and NetDevice boundary answers Infinity for none, the constant, from a return of its own.
export const OFF = -1;

/** Whether the time `at` (OFF: none) has come by `now`. */
export function due(at: number, now: number): boolean {
  return at >= 0 && at <= now;
}

/** The earlier of two times, either of which may be OFF; OFF only when both are. */
export function earlier(a: number, b: number): number {
  return a < 0 || (b >= 0 && b < a) ? b : a;
}

/**
 * A time past any the stack will see, for code that keeps "none" as a large value rather than OFF
 * (device drivers with Float64Array columns); such code returns `t < NEVER ? t : Infinity`.
 */
export const NEVER = 2 ** 52;
