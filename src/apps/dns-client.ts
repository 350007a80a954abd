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
// `tcp` option is false: that path opens a TCP endpoint per fallback (an allocation, on a path a
// stub's usual answers never take) and reads into a per-slot buffer made on its first use.
//
// Time: the client is a Pollable the driver polls after the stack. resolve() sends nothing: the
// question leaves from the next poll with that poll's time, retransmissions back off from there,
// and every completion (a cache hit too) is delivered from a poll, never from inside resolve() or
// from the stack's input pass.

import { EAGAIN, EBADF, EDESTADDRREQ, EINPROGRESS, EINVAL } from "../errno.js";
import type { Pollable } from "../device.js";
import { Random } from "../random.js";
import type { Stack } from "../stack.js";
import { MSG_TRUNC } from "../transport/datagram-queue.js";
import { ESTABLISHED, SYN_SENT } from "../transport/tcp/constants.js";
import type { TcpEndpoint } from "../transport/tcp/endpoint.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT } from "../transport/waiter.js";
import { AF_INET, FullAddress, parseIPv4, readI32, readU16, writeU16 } from "../wire/address.js";
import {
  DNS_CLASS_IN,
  DNS_FLAG_QR,
  DNS_FLAG_RD,
  DNS_FLAG_TC,
  DNS_HEADER_LENGTH,
  DNS_OPCODE_MASK,
  DNS_PORT,
  DNS_RCODE_MASK,
  DNS_RCODE_NOERROR,
  DNS_RCODE_NXDOMAIN,
  DNS_RCODE_REFUSED,
  DNS_TYPE_A,
  DNS_TYPE_AAAA,
  DNS_TYPE_CNAME,
  DNS_TYPE_SOA,
  DNS_UDP_MAX,
  copyName,
  encodeName,
  nameEquals,
  nameLength,
  readTtl,
  skipName,
} from "../wire/dns.js";

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

/** What a query calls when it ends. */
export interface DnsCallback {
  /** Called from the client's poll; `query` and its results are valid during the call only. */
  dnsDone(query: DnsQuery): void;
}

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

/** Slot states. */
const FREE = 0;
/** Asked, not yet sent: the next poll sends. */
const SEND_DUE = 1;
/** Sent; waiting for an answer or the next retransmission. */
const SENT = 2;
/** Ended (a cache hit, or resolve() could tell at once); the next poll calls back. */
const DONE = 3;
/** Its callback is running: the slot stays taken until it returns. */
const CALLING = 4;
/** Truncated over UDP: asking over TCP. */
const TCP = 5;

/** Hops of a CNAME chain followed within one answer. */
const MAX_CHAIN = 8;
/** Bytes reserved per name. */
const NAME_ROOM = 256;

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
  private readonly stack: Stack;
  private servers: Int32Array;
  private readonly serverPort: number;
  private readonly timeout: number;
  private readonly maxTimeout: number;
  private readonly totalTimeout: number;
  private readonly maxTtl: number;
  private readonly tcpEnabled: boolean;
  private readonly tcpAnswer: number;
  /** Each slot's TCP answer buffer, made on its first fallback. */
  private readonly tcpBuffers: (Uint8Array | null)[] = [];
  /** Each slot's 2-byte TCP length prefix. */
  private readonly tcpPrefix: Uint8Array;
  private readonly random: Random;
  /** Each query's endpoint, opened on first use and kept (rebound to a new port per query). */
  private readonly endpoints: (UdpEndpoint | null)[] = [];
  /** Each query's name in wire form, NAME_ROOM bytes apiece. */
  private readonly names: Uint8Array;
  /** The message being built or read. */
  private readonly packet = new Uint8Array(DNS_UDP_MAX);
  /** The name a CNAME chain has reached. */
  private readonly chain = new Uint8Array(NAME_ROOM);
  private readonly to = new FullAddress();
  private readonly from = new FullAddress();
  private readonly cacheNames: Uint8Array;
  private readonly cacheType: Int32Array;
  private readonly cacheStatus: Int32Array;
  private readonly cacheAddress: Int32Array;
  private readonly cacheAddress6: Uint8Array;
  private readonly cacheExpires: Float64Array;
  /** Results of the last parse: the address, its TTL, a negative answer's TTL. */
  private foundTtl = 0;
  private negativeTtl = 0;
  private now = 0;

  constructor(stack: Stack, options: DnsClientOptions = {}) {
    this.stack = stack;
    this.servers = serverList(options.servers ?? []);
    this.serverPort = options.serverPort ?? DNS_PORT;
    this.timeout = options.timeout ?? 1000;
    this.maxTimeout = options.maxTimeout ?? 4000;
    this.totalTimeout = options.totalTimeout ?? 10000;
    this.maxTtl = options.maxTtl ?? 3600;
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
    const entries = options.cacheEntries ?? 8;
    this.cacheNames = new Uint8Array(entries * NAME_ROOM);
    this.cacheType = new Int32Array(entries);
    this.cacheStatus = new Int32Array(entries);
    this.cacheAddress = new Int32Array(entries);
    this.cacheAddress6 = new Uint8Array(entries * 16);
    this.cacheExpires = new Float64Array(entries);
  }

  /** Replaces the servers new queries ask (queries under way keep theirs). */
  setServers(servers: readonly (string | number)[]): void {
    this.servers = serverList(servers);
  }

  /** Forgets every cached answer. */
  flushCache(): void {
    this.cacheExpires.fill(0);
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
    if (this.cacheLookup(q, now)) {
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
      this.endTcp(queries[i]);
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
        if (!this.start(q)) continue;
        q.deadline = now + this.totalTimeout;
        this.send(q, now);
      } else if (state === SENT) {
        this.receive(q, now);
        if (q.state !== SENT) continue;
        if (now >= q.deadline) {
          this.stats.timeouts++;
          this.finish(q, DNS_TIMEOUT);
        } else if (now >= q.nextAt) this.send(q, now);
      } else if (state === TCP) {
        this.pollTcp(q, now);
        if (q.state === TCP && now >= q.deadline) {
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
      if (state === TCP) {
        const tcp = q.tcp as TcpEndpoint;
        const mask = q.tcpSent
          ? EVENT_IN | EVENT_ERR | EVENT_HUP
          : EVENT_OUT | EVENT_ERR | EVENT_HUP;
        if (tcp.readiness(mask) !== 0) return 0;
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

  private wake(): void {
    if (this.onWake !== null) this.onWake();
  }

  /** A fresh random port for the query's endpoint, its queue emptied; false if none is left. */
  private start(q: DnsQuery): boolean {
    const endpoint = this.endpoints[q.index] as UdpEndpoint;
    endpoint.disconnect();
    this.drain(endpoint);
    if (endpoint.bind(null, 0) < 0) {
      this.finish(q, DNS_NOPORT);
      return false;
    }
    q.id = this.random.step() & 0xffff;
    q.state = SENT;
    return true;
  }

  private drain(endpoint: UdpEndpoint): void {
    const packet = this.packet;
    while (endpoint.recvFrom(packet, 0, packet.length, null, 0) >= 0) {}
  }

  /** Sends the question to the next server that has not failed it, and sets the next timeout. */
  private send(q: DnsQuery, now: number): void {
    const servers = q.servers;
    const n = servers.length;
    let k = q.attempts;
    // Skip servers that answered SERVFAIL or REFUSED (at most one lap).
    for (let j = 0; j < n && (q.failed & bit(k % n)) !== 0; j++) k++;
    const which = k % n;
    const round = (k / n) | 0;
    q.attempts = k + 1;
    let wait = this.timeout * (round < 16 ? 1 << round : 65536);
    if (wait > this.maxTimeout) wait = this.maxTimeout;
    q.nextAt = now + wait;
    q.asked |= bit(which);
    const b = this.packet;
    const at = this.writeQuestion(q, b, 0);
    const to = this.to;
    to.address.setV4(servers[which]);
    to.port = this.serverPort;
    const endpoint = this.endpoints[q.index] as UdpEndpoint;
    const sent = endpoint.sendTo(b, 0, at, to);
    if (sent === at) this.stats.sent++;
    else this.stats.sendErrors++;
  }

  /** The question of `q` at `b[start]`: its length. */
  private writeQuestion(q: DnsQuery, b: Uint8Array, start: number): number {
    const nameAt = q.index * NAME_ROOM;
    const length = nameLength(this.names, nameAt);
    writeU16(b, start, q.id);
    writeU16(b, start + 2, DNS_FLAG_RD);
    writeU16(b, start + 4, 1);
    writeU16(b, start + 6, 0);
    writeU16(b, start + 8, 0);
    writeU16(b, start + 10, 0);
    copy(this.names, nameAt, b, start + DNS_HEADER_LENGTH, length);
    const at = start + DNS_HEADER_LENGTH + length;
    writeU16(b, at, q.type);
    writeU16(b, at + 2, DNS_CLASS_IN);
    return at + 4 - start;
  }

  /** Asks `q` again over TCP from `server`; false when no TCP endpoint or connection is had. */
  private startTcp(q: DnsQuery, server: number): boolean {
    const tcp = this.stack.openTcp();
    if (typeof tcp === "number") return false;
    const to = this.to;
    to.address.setV4(q.servers[server]);
    to.port = this.serverPort;
    const r = tcp.connect(to);
    if (r < 0 && r !== -EINPROGRESS) {
      tcp.close();
      return false;
    }
    const endpoint = this.endpoints[q.index] as UdpEndpoint;
    endpoint.disconnect();
    this.drain(endpoint);
    q.tcp = tcp;
    q.tcpServer = server;
    q.tcpSent = false;
    q.tcpLength = -1;
    q.tcpHave = 0;
    q.state = TCP;
    this.stats.tcpQueries++;
    return true;
  }

  private endTcp(q: DnsQuery): void {
    const tcp = q.tcp;
    if (tcp === null) return;
    q.tcp = null;
    tcp.close();
  }

  /** The TCP fallback: sends the question once connected, reads the prefixed answer. */
  private pollTcp(q: DnsQuery, now: number): void {
    const tcp = q.tcp as TcpEndpoint;
    if (!q.tcpSent) {
      const state = tcp.state;
      if (state === SYN_SENT) return;
      // Refused, reset or closed by the server before the question: no answer will come.
      if (state !== ESTABLISHED || tcp.readiness(EVENT_ERR | EVENT_HUP) !== 0) {
        this.finish(q, DNS_TRUNCATED);
        return;
      }
      if (tcp.readiness(EVENT_OUT) === 0) return;
      const b = this.packet;
      const length = this.writeQuestion(q, b, 2);
      writeU16(b, 0, length);
      if (tcp.send(b, 0, length + 2) !== length + 2) {
        this.finish(q, DNS_TRUNCATED);
        return;
      }
      q.tcpSent = true;
      this.stats.sent++;
    }
    let buffer = this.tcpBuffers[q.index];
    if (buffer === null) {
      buffer = new Uint8Array(this.tcpAnswer);
      this.tcpBuffers[q.index] = buffer;
    }
    for (;;) {
      let n: number;
      if (q.tcpLength < 0) {
        const prefix = this.tcpPrefix;
        const at = q.index * 2;
        n = tcp.recv(prefix, at + q.tcpHave, 2 - q.tcpHave);
        if (n > 0) {
          q.tcpHave += n;
          if (q.tcpHave === 2) {
            q.tcpLength = readU16(prefix, at);
            q.tcpHave = 0;
            if (q.tcpLength > buffer.length || q.tcpLength < DNS_HEADER_LENGTH) {
              this.stats.malformed++;
              this.finish(q, DNS_TRUNCATED);
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
            this.tcpAnswered(q, buffer, q.tcpLength, now);
            return;
          }
          continue;
        }
      }
      // -EAGAIN: more later. The end of the stream or an error before the whole answer: give up.
      if (n === -EAGAIN) return;
      this.finish(q, DNS_TRUNCATED);
      return;
    }
  }

  private tcpAnswered(q: DnsQuery, b: Uint8Array, length: number, now: number): void {
    const status = this.parse(q, b, length);
    const stats = this.stats;
    if (status === MISMATCH || status === MALFORMED) {
      if (status === MISMATCH) stats.mismatched++;
      else stats.malformed++;
      this.finish(q, DNS_TRUNCATED);
      return;
    }
    stats.answers++;
    if (status === SERVER_FAILED || status === SERVER_REFUSED) {
      this.finish(q, status === SERVER_REFUSED ? DNS_REFUSED : DNS_SERVFAIL);
      return;
    }
    if (status === DNS_OK || status === DNS_NXDOMAIN || status === DNS_NODATA)
      this.cacheStore(q, status, now);
    this.finish(q, status);
  }

  /** Reads every datagram waiting on the query's endpoint, until one answers it. */
  private receive(q: DnsQuery, now: number): void {
    const endpoint = this.endpoints[q.index] as UdpEndpoint;
    const b = this.packet;
    const from = this.from;
    const stats = this.stats;
    for (;;) {
      const n = endpoint.recvFrom(b, 0, b.length, from, MSG_TRUNC);
      if (n < 0) return;
      const server = this.serverIndex(q, from);
      if (server < 0) {
        stats.wrongSource++;
        continue;
      }
      if (n > b.length || n < DNS_HEADER_LENGTH) {
        stats.malformed++;
        continue;
      }
      const status = this.parse(q, b, n);
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
        this.finish(q, status === SERVER_REFUSED ? DNS_REFUSED : DNS_SERVFAIL);
        return;
      }
      if (status === DNS_TRUNCATED) {
        stats.truncated++;
        if (this.tcpEnabled && this.startTcp(q, server)) return;
      }
      if (status === DNS_OK || status === DNS_NXDOMAIN || status === DNS_NODATA)
        this.cacheStore(q, status, now);
      this.finish(q, status);
      return;
    }
  }

  /** The index of the server a question of `q` went to that `from` is, or -1. */
  private serverIndex(q: DnsQuery, from: FullAddress): number {
    if (from.port !== this.serverPort) return -1;
    const address = from.address;
    if (address.family !== AF_INET) return -1;
    const v4 = address.v4;
    const servers = q.servers;
    for (let i = 0; i < servers.length; i++)
      if (servers[i] === v4 && (q.asked & bit(i)) !== 0) return i;
    return -1;
  }

  /**
   * Checks a message against the query and reads its answer: a DNS_* status, MISMATCH (not an
   * answer to this question), MALFORMED, or SERVER_FAILED / SERVER_REFUSED (try another server).
   */
  private parse(q: DnsQuery, b: Uint8Array, end: number): number {
    if (readU16(b, 0) !== q.id) return MISMATCH;
    const flags = readU16(b, 2);
    if ((flags & DNS_FLAG_QR) === 0 || (flags & DNS_OPCODE_MASK) !== 0) return MISMATCH;
    if (readU16(b, 4) !== 1) return MISMATCH;
    const names = this.names;
    const nameAt = q.index * NAME_ROOM;
    let at = DNS_HEADER_LENGTH;
    if (!nameEquals(b, at, end, names, nameAt)) return MISMATCH;
    at = skipName(b, at, end);
    if (at < 0 || at + 4 > end) return MALFORMED;
    if (readU16(b, at) !== q.type || readU16(b, at + 2) !== DNS_CLASS_IN) return MISMATCH;
    at += 4;
    if ((flags & DNS_FLAG_TC) !== 0) return DNS_TRUNCATED;
    const rcode = flags & DNS_RCODE_MASK;
    if (rcode === DNS_RCODE_REFUSED) return SERVER_REFUSED;
    if (rcode !== DNS_RCODE_NOERROR && rcode !== DNS_RCODE_NXDOMAIN) return SERVER_FAILED;
    const answers = readU16(b, 6);
    const authority = readU16(b, 8);
    // Bounds of every answer record first: then the chain walk below reads only checked bytes.
    const answersAt = at;
    for (let i = 0; i < answers; i++) {
      at = skipName(b, at, end);
      if (at < 0 || at + 10 > end) return MALFORMED;
      at += 10 + readU16(b, at + 8);
      if (at > end) return MALFORMED;
    }
    this.negativeTtl = 0;
    for (let i = 0; i < authority; i++) {
      at = skipName(b, at, end);
      if (at < 0 || at + 10 > end) return MALFORMED;
      const rdata = at + 10;
      const rdEnd = rdata + readU16(b, at + 8);
      if (rdEnd > end) return MALFORMED;
      if (readU16(b, at) === DNS_TYPE_SOA) {
        // RFC 2308 §5: a negative answer lives for min(the SOA's TTL, its MINIMUM).
        let p = skipName(b, rdata, rdEnd);
        if (p >= 0) p = skipName(b, p, rdEnd);
        if (p >= 0 && p + 20 <= rdEnd) {
          const ttl = readTtl(b, at + 4);
          const minimum = readTtl(b, p + 16);
          this.negativeTtl = ttl < minimum ? ttl : minimum;
        }
      }
      at = rdEnd;
    }
    if (rcode === DNS_RCODE_NXDOMAIN) return DNS_NXDOMAIN;
    // Follow the chain from the question's name: each hop scans the answers for an address of
    // the name reached, else a CNAME of it.
    const chain = this.chain;
    copy(names, nameAt, chain, 0, nameLength(names, nameAt));
    let ttl = 0x7fffffff;
    for (let hop = 0; hop <= MAX_CHAIN; hop++) {
      let cname = -1;
      let cnameTtl = 0;
      at = answersAt;
      for (let i = 0; i < answers; i++) {
        const owner = at;
        at = skipName(b, at, end);
        const type = readU16(b, at);
        const klass = readU16(b, at + 2);
        const recordTtl = readTtl(b, at + 4);
        const rdLength = readU16(b, at + 8);
        const rdata = at + 10;
        at = rdata + rdLength;
        if (klass !== DNS_CLASS_IN || !nameEquals(b, owner, end, chain, 0)) continue;
        if (type === q.type) {
          if (type === DNS_TYPE_A) {
            if (rdLength !== 4) return MALFORMED;
            q.address = readI32(b, rdata);
          } else {
            if (rdLength !== 16) return MALFORMED;
            copy(b, rdata, q.address6, 0, 16);
          }
          this.foundTtl = recordTtl < ttl ? recordTtl : ttl;
          return DNS_OK;
        }
        if (type === DNS_TYPE_CNAME && cname < 0) {
          cname = rdata;
          cnameTtl = recordTtl;
        }
      }
      if (cname < 0) return DNS_NODATA;
      if (copyName(b, cname, end, chain, 0) < 0) return MALFORMED;
      if (cnameTtl < ttl) ttl = cnameTtl;
    }
    // A chain longer than we follow, or a loop: no address here.
    return DNS_NODATA;
  }

  /** Ends the query with `status`, calls back at once (we are in the poll), frees the slot. */
  private finish(q: DnsQuery, status: number): void {
    q.status = status;
    q.ttl = status === DNS_OK ? this.foundTtl : 0;
    this.deliver(q);
  }

  private deliver(q: DnsQuery): void {
    this.endTcp(q);
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
    this.endTcp(q);
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

  private cacheFind(q: DnsQuery, now: number): number {
    const names = this.names;
    const at = q.index * NAME_ROOM;
    const length = nameLength(names, at);
    const cache = this.cacheNames;
    const expires = this.cacheExpires;
    for (let e = 0; e < expires.length; e++) {
      if (expires[e] <= now || this.cacheType[e] !== q.type) continue;
      const c = e * NAME_ROOM;
      let same = true;
      for (let i = 0; i < length; i++)
        if (cache[c + i] !== names[at + i]) {
          same = false;
          break;
        }
      if (same) return e;
    }
    return -1;
  }

  private cacheLookup(q: DnsQuery, now: number): boolean {
    const e = this.cacheFind(q, now);
    if (e < 0) return false;
    q.status = this.cacheStatus[e];
    q.address = this.cacheAddress[e];
    copy(this.cacheAddress6, e * 16, q.address6, 0, 16);
    q.ttl = q.status === DNS_OK ? Math.ceil((this.cacheExpires[e] - now) / 1000) : 0;
    return true;
  }

  /** Keeps an answer for its TTL (at most maxTtl), in a free or expired entry, else the oldest. */
  private cacheStore(q: DnsQuery, status: number, now: number): void {
    const expires = this.cacheExpires;
    if (expires.length === 0) return;
    let ttl = status === DNS_OK ? this.foundTtl : this.negativeTtl;
    if (ttl > this.maxTtl) ttl = this.maxTtl;
    if (ttl <= 0) return;
    let e = this.cacheFind(q, now);
    if (e < 0) {
      e = 0;
      for (let i = 1; i < expires.length; i++) if (expires[i] < expires[e]) e = i;
    }
    const names = this.names;
    const at = q.index * NAME_ROOM;
    copy(names, at, this.cacheNames, e * NAME_ROOM, nameLength(names, at));
    this.cacheType[e] = q.type;
    this.cacheStatus[e] = status;
    this.cacheAddress[e] = q.address;
    copy(q.address6, 0, this.cacheAddress6, e * 16, 16);
    expires[e] = now + ttl * 1000;
  }
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

/** parse() results besides the DNS_* statuses. */
const MISMATCH = -1;
const MALFORMED = -2;
const SERVER_FAILED = -3;
const SERVER_REFUSED = -4;

/** A server's bit in a query's masks (up to 31 servers are told apart; more share the top bit). */
function bit(i: number): number {
  return 1 << (i < 30 ? i : 30);
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

/** Byte copy between two arrays: set(subarray()) would make a view per call. */
function copy(src: Uint8Array, srcAt: number, dst: Uint8Array, dstAt: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i];
}
