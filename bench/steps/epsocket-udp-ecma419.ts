// The epsocket step (steps/epsocket.ts) for XS: udp through the ECMA-419 classes.
import { setup as setupAll, step } from "./epsocket.js";

export function setup(): void {
  setupAll("udp", "ecma419");
}

export { step };
