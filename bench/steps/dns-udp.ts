// The DNS step (steps/dns.ts) for XS: the baseline, the same bytes through a bare UDP endpoint.
import { setup as setupAll, step } from "./dns.js";

export function setup(): void {
  setupAll("udp");
}

export { step };
