// The epsocket step (steps/epsocket.ts) for XS: tcp through the blocking calls.
import { setup as setupAll, step } from "./epsocket.js";

export function setup(): void {
  setupAll("tcp", "blocking");
}

export { step };
