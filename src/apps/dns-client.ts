// A DNS stub resolver (RFC 1035 §7) over the stack's UDP endpoints: A and AAAA questions, CNAME
// chains followed within the answer, compressed names, a fixed table of concurrent queries and a
// small cache that honours TTLs, all made at construction, so a query allocates nothing.
//
// Spoofing (RFC 5452): each query has a random 16-bit ID and its own UDP endpoint bound to a fresh
// random ephemeral port (RFC 6056), and an answer counts only when it comes from a server and port
// the query was sent to and carries the query's ID, name, type and class. Anything else is counted
// and dropped; nothing a peer sends can throw.
//
// A truncated answer (TC) is asked again over TCP (RFC 7766) from the same server, unless the
// `tcp` option is false.
//
// Time: the client is a Pollable the driver polls after the stack. resolve() sends nothing: the
// question leaves from the next poll with that poll's time, retransmissions back off from there,
// and every completion (a cache hit too) is delivered from a poll, never from inside resolve() or
// from the stack's input pass.
//
// This file holds the client, its public calls and a query's life from resolve() to its callback.
// The work on a query lives in one file per job, as functions taking the client and the query:
// dns-udp.ts (ports, IDs, sends, retransmissions, answers read), dns-message.ts (the question
// written, the answer checked and parsed), dns-tcp.ts (the TCP fallback); dns-cache.ts holds the
// cache and dns-query.ts the query table's entries, statuses and counters.

import { EAGAIN, EBADF, EDESTADDRREQ, EINVAL } from "../errno.js";
import type { Pollable } from "../device.js";
import { Random } from "../random.js";
import type { Stack } from "../stack.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import { FullAddress } from "../wire/address.js";
import { DNS_PORT, DNS_TYPE_A, DNS_TYPE_AAAA, DNS_UDP_MAX, encodeName } from "../wire/dns.js";
import { DnsCache } from "./dns-cache.js";
import {
  CALLING,
  DNS_NODATA,
  DNS_NXDOMAIN,
  DNS_OK,
  DNS_TIMEOUT,
  DONE,
  DnsQuery,
  DnsStats,
  FREE,
  NAME_ROOM,
  OVER_TCP,
  SEND_DUE,
  SENT,
  serverList,
  type DnsCallback,
} from "./dns-query.js";
import { endTcp, pollTcp, tcpReady } from "./dns-tcp.js";
import { receiveAnswers, sendQuestion, startQuery } from "./dns-udp.js";

export {
  DNS_NODATA,
  DNS_NOPORT,
  DNS_NXDOMAIN,
  DNS_OK,
  DNS_REFUSED,
  DNS_SERVFAIL,
  DNS_TIMEOUT,
  DNS_TRUNCATED,
  DnsQuery,
  DnsStats,
  dnsStatusName,
  serverList,
  type DnsCallback,
} from "./dns-query.js";

/** The client's options; every one has a default. */
export interface DnsClientOptions {
  /** Servers to ask, in turn: IPv4 addresses as text or 32-bit numbers. */
  servers?: readonly (string | number)[];
  /** The servers' port (default 53). */
  serverPort?: number;
  /** Queries under way at once (default 4): each takes a UDP endpoint of the stack once used. */
  queries?: number;
  /** Answers kept (default 8); 0 for no cache. */
  cacheEntries?: number;
  /** The first retransmission timeout in ms (default 1000); it doubles each round of servers. */
  timeout?: number;
  /** The longest wait between two sends in ms (default 4000). */
  maxTimeout?: number;
  /** A query's whole life in ms before it ends with DNS_TIMEOUT (default 10000). */
  totalTimeout?: number;
  /** The longest time an answer is cached, in seconds (default 3600), whatever its TTL. */
  maxTtl?: number;
  /** Ask again over TCP when an answer comes truncated (default true). */
  tcp?: boolean;
  /** The largest answer taken over TCP, in bytes (default 2048); a larger one is TRUNCATED. */
  tcpAnswer?: number;
  /** Seed of the ID generator; the platform should pass entropy (default: from the stack's generator). */
  seed?: number;
}

/**
 * The stub resolver: `resolve(name, type, callback)`, answered from its poll. Add it to the driver
 * after the stack (`driver.add(resolver)`).
 */
export class DnsClient implements Pollable {
  /** Counters: questions sent, answers, forged and malformed datagrams dropped, timeouts. */
  readonly stats = new DnsStats();
  /** The query table. */
  readonly queries: DnsQuery[] = [];
  /** Set by the driver: resolve() calls it so the question leaves at a poll soon. */
  onWake: (() => void) | null = null;
  /** @internal */
  readonly stack: Stack;
  /** @internal */
  readonly serverPort: number;
  /** @internal */
  readonly timeout: number;
  /** @internal */
  readonly maxTimeout: number;
  /** @internal */
  readonly tcpEnabled: boolean;
  /** @internal */
  readonly tcpAnswer: number;
  /** @internal Each slot's TCP answer buffer, made on its first fallback. */
  readonly tcpBuffers: (Uint8Array | null)[] = [];
  /** @internal Each slot's 2-byte TCP length prefix. */
  readonly tcpPrefix: Uint8Array;
  /** @internal */
  readonly random: Random;
  /** @internal Each query's endpoint, opened on first use and kept; rebound per query. */
  readonly endpoints: (UdpEndpoint | null)[] = [];
  /** @internal Each query's name in wire form, NAME_ROOM bytes apiece. */
  readonly names: Uint8Array;
  /** @internal The message being built or read. */
  readonly packet = new Uint8Array(DNS_UDP_MAX);
  /** @internal The name a CNAME chain has reached. */
  readonly chain = new Uint8Array(NAME_ROOM);
  /** @internal */
  readonly to = new FullAddress();
  /** @internal */
  readonly from = new FullAddress();
  /** @internal Results of the last parse: the address's TTL, a negative answer's TTL. */
  foundTtl = 0;
  /** @internal */
  negativeTtl = 0;
  private servers: Int32Array;
  private readonly totalTimeout: number;
  private readonly cache: DnsCache;
  private now = 0;

  constructor(stack: Stack, options: DnsClientOptions = {}) {
    this.stack = stack;
    this.servers = serverList(options.servers ?? []);
    this.serverPort = options.serverPort ?? DNS_PORT;
    this.timeout = options.timeout ?? 1000;
    this.maxTimeout = options.maxTimeout ?? 4000;
    this.totalTimeout = options.totalTimeout ?? 10000;
    this.tcpEnabled = options.tcp ?? true;
    this.tcpAnswer = options.tcpAnswer ?? 2048;
    this.random = new Random(options.seed ?? stack.random.next());
    const count = options.queries ?? 4;
    if (!(count >= 1 && count <= 64)) throw new RangeError("dns: queries must be 1..64");
    for (let i = 0; i < count; i++) {
      this.queries.push(new DnsQuery(i, this.servers));
      this.endpoints.push(null);
      this.tcpBuffers.push(null);
    }
    this.tcpPrefix = new Uint8Array(count * 2);
    this.names = new Uint8Array(count * NAME_ROOM);
    this.cache = new DnsCache(options.cacheEntries ?? 8, options.maxTtl ?? 3600);
  }

  /** Replaces the servers new queries ask (queries under way keep theirs). */
  setServers(servers: readonly (string | number)[]): void {
    this.servers = serverList(servers);
  }

  /** Forgets every cached answer. */
  flushCache(): void {
    this.cache.flush();
  }

  /**
   * Starts resolving `name` (DNS_TYPE_A or DNS_TYPE_AAAA): the query, whose callback runs from a
   * later poll, or -errno: -EAGAIN when every query slot is taken (try again after a callback),
   * -EINVAL for a name that is no host name or another type, -EDESTADDRREQ with no server, or the
   * stack's answer when it has no UDP endpoint left (-EMFILE, -ENOBUFS). `servers` (addresses as
   * from serverList) replaces the client's for this query.
   */
  resolve(
    name: string,
    type: number,
    callback: DnsCallback,
    context: unknown = null,
    servers: Int32Array | null = null,
  ): DnsQuery | number {
    if (type !== DNS_TYPE_A && type !== DNS_TYPE_AAAA) return -EINVAL;
    const list = servers ?? this.servers;
    const queries = this.queries;
    let q: DnsQuery | null = null;
    for (let i = 0; i < queries.length; i++)
      if (queries[i].state === FREE) {
        q = queries[i];
        break;
      }
    if (q === null) return -EAGAIN;
    const at = q.index * NAME_ROOM;
    if (encodeName(name, this.names, at) < 0) return -EINVAL;
    q.name = name;
    q.type = type;
    q.callback = callback;
    q.context = context;
    q.status = DNS_OK;
    q.address = 0;
    q.address6.fill(0);
    q.ttl = 0;
    q.attempts = 0;
    q.asked = 0;
    q.failed = 0;
    q.servers = list;
    const now = this.stack.now > this.now ? this.stack.now : this.now;
    if (this.cache.lookup(q, this.names, now)) {
      this.stats.cacheHits++;
      q.fromCache = true;
      q.state = DONE;
      this.wake();
      return q;
    }
    q.fromCache = false;
    if (list.length === 0) {
      q.callback = null;
      return -EDESTADDRREQ;
    }
    let endpoint = this.endpoints[q.index];
    if (endpoint === null || !endpoint.isOpen) {
      const opened = this.stack.openUdp();
      if (typeof opened === "number") {
        q.callback = null;
        return opened;
      }
      endpoint = opened;
      this.endpoints[q.index] = endpoint;
    }
    q.state = SEND_DUE;
    this.wake();
    return q;
  }

  /** Ends a query without calling back: 0, or -EBADF when it is not under way. */
  cancel(query: DnsQuery): number {
    if (this.queries[query.index] !== query) return -EBADF;
    const state = query.state;
    if (state === FREE || state === CALLING) return -EBADF;
    this.release(query);
    return 0;
  }

  /** Cancels every query and closes the endpoints. */
  close(): void {
    const queries = this.queries;
    for (let i = 0; i < queries.length; i++) {
      endTcp(queries[i]);
      queries[i].state = FREE;
      queries[i].callback = null;
      const endpoint = this.endpoints[i];
      if (endpoint !== null) endpoint.close();
      this.endpoints[i] = null;
    }
  }

  /** Queries under way (a full table answers resolve() with -EAGAIN). */
  get active(): number {
    let n = 0;
    const queries = this.queries;
    for (let i = 0; i < queries.length; i++) if (queries[i].state !== FREE) n++;
    return n;
  }

  /** Sends what is due, reads answers, retransmits or times out, and calls back. */
  poll(now: number): void {
    if (now > this.now) this.now = now;
    now = this.now;
    const queries = this.queries;
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i];
      const state = q.state;
      if (state === SEND_DUE) {
        if (!startQuery(this, q)) continue;
        q.deadline = now + this.totalTimeout;
        sendQuestion(this, q, now);
      } else if (state === SENT) {
        receiveAnswers(this, q, now);
        if (q.state !== SENT) continue;
        if (now >= q.deadline) {
          this.stats.timeouts++;
          this.finish(q, DNS_TIMEOUT);
        } else if (now >= q.nextAt) sendQuestion(this, q, now);
      } else if (state === OVER_TCP) {
        pollTcp(this, q, now);
        if (q.state === OVER_TCP && now >= q.deadline) {
          this.stats.timeouts++;
          this.finish(q, DNS_TIMEOUT);
        }
      } else if (state === DONE) this.deliver(q);
    }
  }

  /** 0 with work waiting, else the next retransmission or timeout, or Infinity. */
  nextDeadline(): number {
    let t = Infinity;
    const queries = this.queries;
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i];
      const state = q.state;
      if (state === SEND_DUE || state === DONE) return 0;
      if (state === OVER_TCP) {
        if (tcpReady(q)) return 0;
        if (q.deadline < t) t = q.deadline;
        continue;
      }
      if (state !== SENT) continue;
      const endpoint = this.endpoints[i];
      if (endpoint !== null && endpoint.queuedDatagrams > 0) return 0;
      const due = q.nextAt < q.deadline ? q.nextAt : q.deadline;
      if (due < t) t = due;
    }
    return t;
  }

  /** @internal Empties an endpoint's queue. */
  drain(endpoint: UdpEndpoint): void {
    const packet = this.packet;
    while (endpoint.recvFrom(packet, 0, packet.length, null, 0) >= 0) {}
  }

  /** @internal An answer taken: caches what can be, then ends the query with `status`. */
  answered(q: DnsQuery, status: number, now: number): void {
    if (status === DNS_OK || status === DNS_NXDOMAIN || status === DNS_NODATA)
      this.cache.store(
        q,
        this.names,
        status,
        status === DNS_OK ? this.foundTtl : this.negativeTtl,
        now,
      );
    this.finish(q, status);
  }

  /** @internal Ends the query with `status`, calls back at once (in the poll), frees the slot. */
  finish(q: DnsQuery, status: number): void {
    q.status = status;
    q.ttl = status === DNS_OK ? this.foundTtl : 0;
    this.deliver(q);
  }

  private wake(): void {
    if (this.onWake !== null) this.onWake();
  }

  private deliver(q: DnsQuery): void {
    endTcp(q);
    const endpoint = this.endpoints[q.index];
    if (endpoint !== null && endpoint.isOpen) {
      // Give the port back: answers that arrive late find no socket.
      endpoint.disconnect();
      this.drain(endpoint);
    }
    q.state = CALLING;
    const callback = q.callback;
    if (callback !== null) callback.dnsDone(q);
    this.release(q);
  }

  private release(q: DnsQuery): void {
    endTcp(q);
    if (q.state === SENT || q.state === SEND_DUE) {
      const endpoint = this.endpoints[q.index];
      if (endpoint !== null && endpoint.isOpen) {
        endpoint.disconnect();
        this.drain(endpoint);
      }
    }
    q.state = FREE;
    q.callback = null;
    q.context = null;
  }
}
