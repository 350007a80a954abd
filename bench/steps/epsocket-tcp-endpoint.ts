// The epsocket step (steps/epsocket.ts) for XS: tcp through the endpoints (baseline).
import { setup as setupAll, step } from "./epsocket.js";

export function setup(): void {
  setupAll("tcp", "endpoint");
}

export { step };
