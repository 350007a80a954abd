// The UDP echo step (udp-echo.ts) with every part in its own memory: two `new Stack()`, a
// `new LinkPair()` and plain `new Uint8Array` application buffers, as an application is written.
// An entry of its own because the XS allocation benchmark calls setup() without arguments.

import { setup as setupEcho } from "./udp-echo.js";

export { leaked, step } from "./udp-echo.js";

export function setup(size = 512): void {
  setupEcho(size, "own");
}
