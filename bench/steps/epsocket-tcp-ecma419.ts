// The epsocket step (steps/epsocket.ts) for XS: tcp through the ECMA-419 classes.
import { setup as setupAll, step } from "./epsocket.js";

export function setup(): void {
  setupAll("tcp", "ecma419");
}

export { step };
