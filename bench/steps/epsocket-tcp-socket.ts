// The epsocket step (steps/epsocket.ts) for XS: tcp through the socket layer.
import { setup as setupAll, step } from "./epsocket.js";

export function setup(): void {
  setupAll("tcp", "socket");
}

export { step };
