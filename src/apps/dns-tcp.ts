// The DNS client's TCP fallback (RFC 7766): a truncated UDP answer is asked again over TCP from
// the same server, the question and the answer each behind a 2-byte length. It opens a TCP
// endpoint per fallback (an allocation, on a path a stub's usual answers never take) and reads
// into a per-slot buffer made on its first use. Functions over the client and one query.

import { EAGAIN, EINPROGRESS } from "../errno.js";
import { ESTABLISHED, SYN_SENT } from "../transport/tcp/constants.js";
import type { TcpEndpoint } from "../transport/tcp/endpoint.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT } from "../transport/waiter.js";
import { readU16, writeU16 } from "../wire/address.js";
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
import { DNS_REFUSED, DNS_SERVFAIL, DNS_TRUNCATED, OVER_TCP, type DnsQuery } from "./dns-query.js";

/** Asks `q` again over TCP from `server`; false when no TCP endpoint or connection is had. */
export function startTcp(c: DnsClient, q: DnsQuery, server: number): boolean {
  const tcp = c.stack.openTcp();
  if (typeof tcp === "number") return false;
  const to = c.to;
  to.address.setV4(q.servers[server]);
  to.port = c.serverPort;
  const r = tcp.connect(to);
  if (r < 0 && r !== -EINPROGRESS) {
    tcp.close();
    return false;
  }
  const endpoint = c.endpoints[q.index] as UdpEndpoint;
  endpoint.disconnect();
  c.drain(endpoint);
  q.tcp = tcp;
  q.tcpServer = server;
  q.tcpSent = false;
  q.tcpLength = -1;
  q.tcpHave = 0;
  q.state = OVER_TCP;
  c.stats.tcpQueries++;
  return true;
}

/** Closes the query's TCP endpoint, if it has one. */
export function endTcp(q: DnsQuery): void {
  const tcp = q.tcp;
  if (tcp === null) return;
  q.tcp = null;
  tcp.close();
}

/** Whether the fallback has work for the next poll: a connection to send on, or bytes to read. */
export function tcpReady(q: DnsQuery): boolean {
  const tcp = q.tcp as TcpEndpoint;
  const mask = q.tcpSent ? EVENT_IN | EVENT_ERR | EVENT_HUP : EVENT_OUT | EVENT_ERR | EVENT_HUP;
  return tcp.readiness(mask) !== 0;
}

/** Sends the question once connected, reads the prefixed answer. */
export function pollTcp(c: DnsClient, q: DnsQuery, now: number): void {
  const tcp = q.tcp as TcpEndpoint;
  if (!q.tcpSent) {
    const state = tcp.state;
    if (state === SYN_SENT) return;
    // Refused, reset or closed by the server before the question: no answer will come.
    if (state !== ESTABLISHED || tcp.readiness(EVENT_ERR | EVENT_HUP) !== 0) {
      c.finish(q, DNS_TRUNCATED);
      return;
    }
    if (tcp.readiness(EVENT_OUT) === 0) return;
    const b = c.packet;
    const length = writeQuestion(c, q, b, 2);
    writeU16(b, 0, length);
    if (tcp.send(b, 0, length + 2) !== length + 2) {
      c.finish(q, DNS_TRUNCATED);
      return;
    }
    q.tcpSent = true;
    c.stats.sent++;
  }
  let buffer = c.tcpBuffers[q.index];
  if (buffer === null) {
    buffer = new Uint8Array(c.tcpAnswer);
    c.tcpBuffers[q.index] = buffer;
  }
  for (;;) {
    let n: number;
    if (q.tcpLength < 0) {
      const prefix = c.tcpPrefix;
      const at = q.index * 2;
      n = tcp.recv(prefix, at + q.tcpHave, 2 - q.tcpHave);
      if (n > 0) {
        q.tcpHave += n;
        if (q.tcpHave === 2) {
          q.tcpLength = readU16(prefix, at);
          q.tcpHave = 0;
          if (q.tcpLength > buffer.length || q.tcpLength < DNS_HEADER_LENGTH) {
            c.stats.malformed++;
            c.finish(q, DNS_TRUNCATED);
            return;
          }
        }
        continue;
      }
    } else {
      n = tcp.recv(buffer, q.tcpHave, q.tcpLength - q.tcpHave);
      if (n > 0) {
        q.tcpHave += n;
        if (q.tcpHave === q.tcpLength) {
          tcpAnswered(c, q, buffer, q.tcpLength, now);
          return;
        }
        continue;
      }
    }
    // -EAGAIN: more later. The end of the stream or an error before the whole answer: give up.
    if (n === -EAGAIN) return;
    c.finish(q, DNS_TRUNCATED);
    return;
  }
}

function tcpAnswered(c: DnsClient, q: DnsQuery, b: Uint8Array, length: number, now: number): void {
  const status = parseAnswer(c, q, b, length);
  const stats = c.stats;
  if (status === MISMATCH || status === MALFORMED) {
    if (status === MISMATCH) stats.mismatched++;
    else stats.malformed++;
    c.finish(q, DNS_TRUNCATED);
    return;
  }
  stats.answers++;
  if (status === SERVER_FAILED || status === SERVER_REFUSED) {
    c.finish(q, status === SERVER_REFUSED ? DNS_REFUSED : DNS_SERVFAIL);
    return;
  }
  c.answered(q, status, now);
}
