// Totals for the status line. Every drop is counted under one reason, so the sum is the total.

import type { Interface } from "../src/iface/interface.js";
import type { UdpStats } from "../src/stats.js";

/** Counters that count traffic rather than losses. */
const THROUGHPUT = new Set([
  "framesIn",
  "framesOut",
  "bytesIn",
  "bytesOut",
  "requestsIn",
  "repliesIn",
  "requestsOut",
  "repliesOut",
  "announcementsOut",
  "packetsIn",
  "packetsOut",
  "delivered",
  "fragmentsIn",
  "reassembled",
  "fragmentsOut",
  "in",
  "out",
  "echoRequestsIn",
  "echoRepliesOut",
  "errorsIn",
  "destUnreachableOut",
  "timeExceededOut",
  "datagramsIn",
  "datagramsOut",
  "loopedBack",
  // Details of reassemblyFailures, which already counts each lost datagram.
  "reassemblyOverlaps",
  "reassemblyTimeouts",
]);

function drops(stats: object): number {
  let total = 0;
  for (const [name, value] of Object.entries(stats))
    if (typeof value === "number" && !THROUGHPUT.has(name)) total += value;
  return total;
}

export function dropTotal(iface: Interface, udp: UdpStats): number {
  return (
    drops(iface.link) +
    drops(iface.arpStats) +
    drops(iface.ipStats) +
    drops(iface.icmpStats) +
    drops(udp)
  );
}
