// The epsocket step (steps/epsocket.ts) for XS: udp through the socket layer.
import { setup as setupAll, step } from "./epsocket.js";

export function setup(): void {
  setupAll("udp", "socket");
}

export { step };
