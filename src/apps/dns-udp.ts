// The DNS client's questions over UDP (RFC 1035 §4.2.1, RFC 5452): each query's own endpoint
// bound to a fresh random port with a fresh random ID, the question sent to the servers in turn
// with a timeout that doubles each round, and the datagrams read until one from a server asked
// answers the question. Functions over the client and one query, run from its poll.

import { MSG_TRUNC } from "../transport/datagram-queue.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import { AF_INET, type FullAddress } from "../wire/address.js";
import { DNS_HEADER_LENGTH } from "../wire/dns.js";
import type { DnsClient } from "./dns-client.js";
import {
  MALFORMED,
  MISMATCH,
  SERVER_FAILED,
  SERVER_REFUSED,
  parseAnswer,
  writeQuestion,
} from "./dns-message.js";
import {
  DNS_NOPORT,
  DNS_REFUSED,
  DNS_SERVFAIL,
  DNS_TRUNCATED,
  SENT,
  bit,
  type DnsQuery,
} from "./dns-query.js";
import { startTcp } from "./dns-tcp.js";

/** A fresh random port for the query's endpoint, its queue emptied; false if none is left. */
export function startQuery(c: DnsClient, q: DnsQuery): boolean {
  const endpoint = c.endpoints[q.index] as UdpEndpoint;
  endpoint.disconnect();
  c.drain(endpoint);
  if (endpoint.bind(null, 0) < 0) {
    c.finish(q, DNS_NOPORT);
    return false;
  }
  q.id = c.random.step() & 0xffff;
  q.state = SENT;
  return true;
}

/** Sends the question to the next server that has not failed it, and sets the next timeout. */
export function sendQuestion(c: DnsClient, q: DnsQuery, now: number): void {
  const servers = q.servers;
  const n = servers.length;
  let k = q.attempts;
  // Skip servers that answered SERVFAIL or REFUSED (at most one lap).
  for (let j = 0; j < n && (q.failed & bit(k % n)) !== 0; j++) k++;
  const which = k % n;
  const round = (k / n) | 0;
  q.attempts = k + 1;
  let wait = c.timeout * (round < 16 ? 1 << round : 65536);
  if (wait > c.maxTimeout) wait = c.maxTimeout;
  q.nextAt = now + wait;
  q.asked |= bit(which);
  const b = c.packet;
  const at = writeQuestion(c, q, b, 0);
  const to = c.to;
  to.address.setV4(servers[which]);
  to.port = c.serverPort;
  const endpoint = c.endpoints[q.index] as UdpEndpoint;
  const sent = endpoint.sendTo(b, 0, at, to);
  if (sent === at) c.stats.sent++;
  else c.stats.sendErrors++;
}

/** Reads every datagram waiting on the query's endpoint, until one answers it. */
export function receiveAnswers(c: DnsClient, q: DnsQuery, now: number): void {
  const endpoint = c.endpoints[q.index] as UdpEndpoint;
  const b = c.packet;
  const from = c.from;
  const stats = c.stats;
  for (;;) {
    const n = endpoint.recvFrom(b, 0, b.length, from, MSG_TRUNC);
    if (n < 0) return;
    const server = serverIndex(c, q, from);
    if (server < 0) {
      stats.wrongSource++;
      continue;
    }
    if (n > b.length || n < DNS_HEADER_LENGTH) {
      stats.malformed++;
      continue;
    }
    const status = parseAnswer(c, q, b, n);
    if (status === MISMATCH) {
      stats.mismatched++;
      continue;
    }
    if (status === MALFORMED) {
      stats.malformed++;
      continue;
    }
    stats.answers++;
    if (status === SERVER_FAILED || status === SERVER_REFUSED) {
      q.failed |= bit(server);
      let all = true;
      for (let i = 0; i < q.servers.length; i++) if ((q.failed & bit(i)) === 0) all = false;
      if (!all) {
        // Ask the next server now rather than at the timeout.
        q.nextAt = now;
        continue;
      }
      c.finish(q, status === SERVER_REFUSED ? DNS_REFUSED : DNS_SERVFAIL);
      return;
    }
    if (status === DNS_TRUNCATED) {
      stats.truncated++;
      if (c.tcpEnabled && startTcp(c, q, server)) return;
    }
    c.answered(q, status, now);
    return;
  }
}

/** The index of the server a question of `q` went to that `from` is, or -1. */
function serverIndex(c: DnsClient, q: DnsQuery, from: FullAddress): number {
  if (from.port !== c.serverPort) return -1;
  const address = from.address;
  if (address.family !== AF_INET) return -1;
  const v4 = address.v4;
  const servers = q.servers;
  for (let i = 0; i < servers.length; i++)
    if (servers[i] === v4 && (q.asked & bit(i)) !== 0) return i;
  return -1;
}
