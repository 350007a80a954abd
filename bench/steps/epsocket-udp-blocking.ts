// The epsocket step (steps/epsocket.ts) for XS: udp through the blocking calls.
import { setup as setupAll, step } from "./epsocket.js";

export function setup(): void {
  setupAll("udp", "blocking");
}

export { step };
