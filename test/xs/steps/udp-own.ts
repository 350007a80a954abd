// One UDP echo round trip between two stacks, each with its own memory, over a LinkPair with its
// own memory, to and from the application's own buffers (plain Uint8Arrays): the way an
// application is written. Every copy between a device, a stack and the application crosses
// arrays. The step is bench/steps/udp-echo.ts with 512-byte datagrams.

import { setup as setupEcho } from "../../../bench/steps/udp-echo.js";

export { step } from "../../../bench/steps/udp-echo.js";

export function setup(): void {
  setupEcho(512, "own");
}
