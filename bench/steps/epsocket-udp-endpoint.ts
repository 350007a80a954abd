// The epsocket step (steps/epsocket.ts) for XS: udp through the endpoints (baseline).
import { setup as setupAll, step } from "./epsocket.js";

export function setup(): void {
  setupAll("udp", "endpoint");
}

export { step };
