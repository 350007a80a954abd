// Ephemeral ports, chosen as RFC 6056 §3.3.1 (algorithm 1) suggests: start at a random point of
// the range and take the next free port, so a peer cannot predict the next one.

import { Random } from "../random.js";

/** Linux's default ip_local_port_range. */
export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;

export interface PortSpace {
  portInUse(port: number): boolean;
}

/** A free ephemeral port, or 0 when the whole range is taken. */
export function allocatePort(space: PortSpace, random: Random): number {
  const count = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
  const start = random.below(count);
  for (let i = 0; i < count; i++) {
    const port = EPHEMERAL_FIRST + ((start + i) % count);
    if (!space.portInUse(port)) return port;
  }
  return 0;
}
