// A query of the DNS stub resolver (dns-client.ts): its slot in the fixed query table, holding the
// question, the results handed to the callback and the state the client's poll moves it through;
// the statuses a query ends with, and the client's counters.

import type { TcpEndpoint } from "../transport/tcp/endpoint.js";
import { parseIPv4 } from "../wire/address.js";

/** A query's outcome, in `query.status`. */
export const DNS_OK = 0;
/** The name does not exist (RCODE 3). */
export const DNS_NXDOMAIN = 1;
/** Every server asked failed (RCODE 2, or another error code but REFUSED). */
export const DNS_SERVFAIL = 2;
/** No answer within the total timeout. */
export const DNS_TIMEOUT = 3;
/** The answer was truncated (TC) and TCP could not give it whole (or `tcp` is off). */
export const DNS_TRUNCATED = 4;
/** Every server asked refused (RCODE 5). */
export const DNS_REFUSED = 5;
/** The name exists but has no record of the type asked (NOERROR, no address at the chain's end). */
export const DNS_NODATA = 6;
/** The stack had no ephemeral port left for the question. */
export const DNS_NOPORT = 7;

/** Slot states. */
export const FREE = 0;
/** Asked, not yet sent: the next poll sends. */
export const SEND_DUE = 1;
/** Sent; waiting for an answer or the next retransmission. */
export const SENT = 2;
/** Ended (a cache hit, or resolve() could tell at once); the next poll calls back. */
export const DONE = 3;
/** Its callback is running: the slot stays taken until it returns. */
export const CALLING = 4;
/** Truncated over UDP: asking over TCP. */
export const OVER_TCP = 5;

/** Bytes reserved per name, in the client's names and the cache's. */
export const NAME_ROOM = 256;

/** What a query calls when it ends. */
export interface DnsCallback {
  /** Called from the client's poll; `query` and its results are valid during the call only. */
  dnsDone(query: DnsQuery): void;
}

/** One entry of the query table, handed to the callback with its results. */
export class DnsQuery {
  /** Its index in the table. */
  readonly index: number;
  /** The name as asked. */
  name = "";
  /** DNS_TYPE_A or DNS_TYPE_AAAA. */
  type = 0;
  /** DNS_OK or the error that ended it (DNS_NXDOMAIN, DNS_TIMEOUT...). */
  status = DNS_OK;
  /** The IPv4 address found, as a signed 32-bit number (for DNS_TYPE_A). */
  address = 0;
  /** The IPv6 address found (for DNS_TYPE_AAAA). */
  readonly address6 = new Uint8Array(16);
  /** Seconds the answer stays valid. */
  ttl = 0;
  /** Whether it came from the cache. */
  fromCache = false;
  /** Sends made. */
  attempts = 0;
  /** Free for the caller. */
  context: unknown = null;
  /** @internal */
  state = FREE;
  /** @internal */
  callback: DnsCallback | null = null;
  /** @internal */
  id = 0;
  /** @internal */
  nextAt = 0;
  /** @internal */
  deadline = 0;
  /** @internal Servers a question went to, and those that failed, one bit each. */
  asked = 0;
  /** @internal */
  failed = 0;
  /** @internal */
  servers: Int32Array;
  /** @internal The TCP fallback: its endpoint, server, whether the question went, bytes read. */
  tcp: TcpEndpoint | null = null;
  /** @internal */
  tcpServer = 0;
  /** @internal */
  tcpSent = false;
  /** @internal The message's length once its 2-byte prefix is read, else -1. */
  tcpLength = -1;
  /** @internal Bytes of the prefix, then of the message, read so far. */
  tcpHave = 0;

  /** @internal */
  constructor(index: number, servers: Int32Array) {
    this.index = index;
    this.servers = servers;
  }
}

/** Counters, for tests and diagnostics. */
export class DnsStats {
  /** Questions sent, retransmissions included. */
  sent = 0;
  /** Sends the stack refused (no route, queue full): the query waits for its next turn. */
  sendErrors = 0;
  /** Queries answered from the cache. */
  cacheHits = 0;
  /** Answers accepted (any status). */
  answers = 0;
  /** Datagrams from an address or port no question of the query went to. */
  wrongSource = 0;
  /** Datagrams from a server that did not match the query (ID, QR, name, type, class). */
  mismatched = 0;
  /** Datagrams too short, too long, or with a record out of bounds: dropped. */
  malformed = 0;
  /** Queries ended with DNS_TIMEOUT. */
  timeouts = 0;
  /** Answers with TC set. */
  truncated = 0;
  /** Questions asked again over TCP after a truncated answer. */
  tcpQueries = 0;
}

/** A status's name, for messages: "OK", "NXDOMAIN", "SERVFAIL", "TIMEOUT"... */
export function dnsStatusName(status: number): string {
  switch (status) {
    case DNS_OK:
      return "OK";
    case DNS_NXDOMAIN:
      return "NXDOMAIN";
    case DNS_SERVFAIL:
      return "SERVFAIL";
    case DNS_TIMEOUT:
      return "TIMEOUT";
    case DNS_TRUNCATED:
      return "TRUNCATED";
    case DNS_REFUSED:
      return "REFUSED";
    case DNS_NODATA:
      return "NODATA";
    case DNS_NOPORT:
      return "NOPORT";
  }
  return `status ${status}`;
}

/** Server addresses as text or numbers to the list queries take; throws a RangeError on a bad one. */
export function serverList(servers: readonly (string | number)[]): Int32Array {
  const list = new Int32Array(servers.length);
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i];
    const v = typeof s === "number" ? s | 0 : parseIPv4(s);
    if (v === null) throw new RangeError(`dns: server ${String(s)} is not an IPv4 address`);
    list[i] = v;
  }
  return list;
}

/** A server's bit in a query's masks (up to 31 servers are told apart; more share the top bit). */
export function bit(i: number): number {
  return 1 << (i < 30 ? i : 30);
}

/** Byte copy between two arrays: set(subarray()) would make a view per call. */
export function copy(
  src: Uint8Array,
  srcAt: number,
  dst: Uint8Array,
  dstAt: number,
  n: number,
): void {
  for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i];
}
