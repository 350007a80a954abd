// Times are whole milliseconds on the driver's monotonic clock. A deadline at or past NEVER means
// none. Functions that return a deadline hand back either a small integer or a constant, never a
// double they computed or read from a Float64Array: V8 would box such a double (16 bytes) on every
// call it does not inline, and drivers ask for deadlines after every poll. So each ends with
// `return t < NEVER ? t : Infinity;` (or NEVER itself, a constant, where callers compare).
export const NEVER = 2 ** 52;
