// The TCP table: IPv4's handler for protocol 6. It checks and parses each segment into its own
// fields (no per-segment object), finds the connection (a fixed slot), the TIME-WAIT entry (a
// ring-less TupleTable row) or the listener, and answers segments for nobody with a reset. It
// builds every outgoing segment straight in a pool buffer, copying payload out of the send ring.
// Timers and output run from poll(now), never from an application's call.

import { ENETUNREACH } from "../../errno.js";
import { DATAGRAM_DATA_OFFSET } from "../../iface/ipv4.js";
import { DELIVERED, Ipv4Info, type ProtocolHandler } from "../../iface/protocols.js";
import { Random } from "../../random.js";
import { TcpStats } from "../../stats.js";
import type { StackConfig } from "../../config.js";
import { Memory, copy } from "../../storage/memory.js";
import { Spans } from "../../storage/spans.js";
import { TUPLE_FULL_EVICT_OLDEST, TUPLE_FULL_FAIL, TupleTable } from "../../storage/tuple-table.js";
import { readI32, readU16, writeU16 } from "../../wire/address.js";
import { Checksum, fold, pseudoHeaderSumV4 } from "../../wire/checksum.js";
import { ICMP_DEST_UNREACHABLE } from "../../wire/icmpv4.js";
import { PROTOCOL_TCP } from "../../wire/ipv4.js";
import {
  TCP_ACK,
  TCP_FIN,
  TCP_HEADER_LENGTH,
  TCP_RST,
  TCP_SYN,
  TcpOptions,
  TcpSegment,
  seqLt,
  writeMss,
  writeNops,
  writeSack,
  writeSackPermitted,
  writeTimestamp,
  writeWscale,
} from "../../wire/tcp.js";
import { EndpointTable } from "../endpoint-table.js";
import { PortSpace, allocatePort } from "../ports.js";
import { unreachableErrno } from "../udp.js";
import { ReadyList } from "../waiter.js";
import {
  CLOSED,
  ESTABLISHED,
  LISTEN,
  NEVER,
  SYN_RECEIVED,
  SYN_SENT,
  TIME_WAIT,
} from "./constants.js";
import { SYN_SACK, SYN_TS, TcpConnection, packSynOptions } from "./connection.js";

/** RFC 5961 §7: challenge ACKs per second, over all connections. */
const CHALLENGE_ACK_LIMIT = 100;

// TIME-WAIT value columns.
const TW_RCV_NXT = 0;
const TW_SND_NXT = 1;
const TW_TS_RECENT = 2;
const TW_TS_OK = 3;

// SYN queue value columns.
const SQ_ISS = 0;
const SQ_IRS = 1;
const SQ_OPTIONS = 2;
const SQ_TS_RECENT = 3;
const SQ_LISTENER = 4;
const SQ_RETRIES = 5;
const SQ_WINDOW = 6;
/** The float column: when the first SYN-ACK left, for an RTT sample (-1 after a retry: Karn). */
const SQ_SENT_AT = 0;

/** MSS values a SYN cookie can carry (Linux's msstab). */
const COOKIE_MSS: readonly number[] = Object.freeze([536, 1300, 1440, 1460]);

/** Sizes and timers from the stack's configuration. */
export interface TcpSettings {
  sockets: number;
  sendBuffer: number;
  receiveBuffer: number;
  timeWait: number;
  synQueue: number;
  outOfOrderRanges: number;
  msl: number;
  delayedAck: number;
  minRto: number;
  initialRto: number;
  synRetries: number;
  retries: number;
}

export class TcpTable extends EndpointTable<TcpConnection> implements ProtocolHandler, PortSpace {
  readonly stats = new TcpStats();
  readonly opts = new TcpOptions();
  readonly timeWait: TupleTable;
  /** Half-open connections (SYN-RECEIVED of a listener): no slot, no rings. */
  readonly synQ: TupleTable;
  readonly msl: number;
  readonly delayedAck: number;
  readonly minRto: number;
  readonly initialRto: number;
  readonly synRetries: number;
  readonly maxRetries: number;
  readonly synQueue: number;
  readonly receiveBuffer: number;
  /** The time of the poll in progress or the latest one. */
  now = 0;
  /** Connections that reached ESTABLISHED from a listener, counted to order accept(). */
  readyCounter = 0;

  // The segment being handled.
  segSeq = 0;
  segAck = 0;
  segFlags = 0;
  segWnd = 0;
  segSourcePort = 0;
  segDestinationPort = 0;
  payloadAt = 0;
  payloadLength = 0;

  private readonly summer: Checksum;
  private readonly seg = new TcpSegment();
  private readonly isnKey: Int32Array;
  private readonly cookieKey: Int32Array;
  private readonly sackStarts = new Int32Array(4);
  private readonly sackEnds = new Int32Array(4);
  private challengeWindow = -Infinity;
  private challengeCount = 0;

  constructor(
    memory: Memory,
    settings: TcpSettings,
    random: Random,
    summer: Checksum,
    config: StackConfig,
    spans: Spans,
    ready: ReadyList,
  ) {
    super(memory, TCP_HEADER_LENGTH, random, config, spans, ready);
    this.summer = summer;
    this.msl = settings.msl;
    this.delayedAck = settings.delayedAck;
    this.minRto = settings.minRto;
    this.initialRto = settings.initialRto;
    this.synRetries = settings.synRetries;
    this.maxRetries = settings.retries;
    this.synQueue = settings.synQueue;
    this.receiveBuffer = settings.receiveBuffer;
    // RFC 6528's secret: four words of key for the ISN hash, drawn once.
    this.isnKey = new Int32Array(4);
    for (let i = 0; i < 4; i++) this.isnKey[i] = random.next() | 0;
    this.timeWait = new TupleTable(settings.timeWait, 4, 0, random.next() | 0);
    this.synQ = new TupleTable(
      settings.synQueue > 0 ? settings.synQueue : 1,
      7,
      1,
      random.next() | 0,
    );
    this.cookieKey = new Int32Array(2);
    this.cookieKey[0] = random.next() | 0;
    this.cookieKey[1] = random.next() | 0;
    for (let i = 0; i < settings.sockets; i++)
      this.slots.push(
        new TcpConnection(
          this,
          i,
          memory,
          spans,
          settings.sendBuffer,
          settings.receiveBuffer,
          settings.outOfOrderRanges,
        ),
      );
  }

  /** A fresh connection slot, or null when all are in use. */
  open(): TcpConnection | null {
    return this.take();
  }

  /** Asks the driver for a poll when called outside one. */
  wake(): void {
    const iface = this.iface;
    if (iface !== null) iface.wake();
  }

  /** The application closed its handle while the connection goes on: the handle goes stale. */
  orphanHandle(c: TcpConnection): void {
    this.ready.cancel(c);
    c.waiters.clear();
    c.generation++;
  }

  // ================================================================ polling

  /** Timers due at `now`, then output for every connection with work. */
  poll(now: number): void {
    this.now = now;
    if (this.idle) return;
    const iface = this.iface;
    const canSend = iface !== null && iface.ip.canSend(1);
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (!c.inUse) continue;
      c.timers(now);
      if (c.inUse && c.pendingOutput && (!c.blocked || canSend)) c.output(now);
    }
    this.synQueueTimers(now);
    const tw = this.timeWait;
    if (tw.nextDeadline() <= now)
      for (let e = tw.nextExpired(now, 0); e >= 0; e = tw.nextExpired(now, e + 1)) tw.remove(e);
  }

  /** Output for what the applications did during readiness delivery, at the same `now`. */
  flush(now: number): void {
    this.now = now;
    if (this.live === 0) return;
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (c.inUse && c.pendingOutput && !c.blocked) c.output(now);
    }
  }

  /** No connection, half-open connection or TIME-WAIT entry: nothing to time. */
  private get idle(): boolean {
    return this.live === 0 && this.synQ.count === 0 && this.timeWait.count === 0;
  }

  nextDeadline(): number {
    if (this.idle) return NEVER;
    const iface = this.iface;
    const canSend = iface !== null && iface.ip.canSend(1);
    let t = this.timeWait.nextDeadline();
    const q = this.synQ.nextDeadline();
    if (q < t) t = q;
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (!c.inUse) continue;
      const d = c.deadline(canSend);
      if (d < t) t = d;
    }
    return t < NEVER ? t : NEVER;
  }

  // ================================================================ input

  input(info: Ipv4Info, bytes: Uint8Array, at: number, length: number): number {
    const stats = this.stats;
    stats.segmentsIn++;
    const iface = this.iface;
    if (iface === null) return DELIVERED;
    const now = iface.now;
    this.now = now;
    if (length < TCP_HEADER_LENGTH) {
      stats.badLength++;
      return DELIVERED;
    }
    const seg = this.seg.wrap(bytes, at);
    const headerLength = seg.headerLength;
    if (headerLength < TCP_HEADER_LENGTH || headerLength > length) {
      stats.badLength++;
      return DELIVERED;
    }
    if (info.groupDestination) {
      // RFC 9293 §3.9.1: never a connection, never a reset, to a broadcast or multicast address.
      stats.groupDropped++;
      return DELIVERED;
    }
    if (
      this.summer.sum(
        bytes,
        at,
        length,
        pseudoHeaderSumV4(info.source, info.destination, PROTOCOL_TCP, length),
      ) !== 0xffff
    ) {
      stats.badChecksum++;
      return DELIVERED;
    }
    if (!this.opts.parse(bytes, at + TCP_HEADER_LENGTH, headerLength - TCP_HEADER_LENGTH))
      stats.badOptions++;
    this.segSeq = seg.seq;
    this.segAck = seg.ack;
    this.segFlags = seg.flags;
    this.segWnd = seg.window;
    const sourcePort = seg.sourcePort;
    const port = seg.destinationPort;
    this.segSourcePort = sourcePort;
    this.segDestinationPort = port;
    this.payloadAt = at + headerLength;
    this.payloadLength = length - headerLength;
    const source = info.source;
    const destination = info.destination;

    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (
        c.inUse &&
        c.remotePort === sourcePort &&
        c.localPort === port &&
        c.remoteAddress === source &&
        c.localAddress === destination &&
        c.state !== CLOSED &&
        c.state !== LISTEN &&
        c.state !== TIME_WAIT
      ) {
        c.segment(bytes, now);
        return DELIVERED;
      }
    }
    const e = this.timeWait.find(destination, port, source, sourcePort);
    if (e >= 0 && this.timeWaitInput(e, now)) return DELIVERED;
    let listener: TcpConnection | null = null;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (c.inUse && c.state === LISTEN && c.localPort === port) {
        if (c.localAddress === destination) {
          listener = c;
          break;
        }
        if (c.localAddress === 0) listener = c;
      }
    }
    if (listener !== null) this.listenInput(listener, bytes, destination, source, now);
    else {
      stats.noConnection++;
      if ((this.segFlags & TCP_RST) === 0) this.resetReply(destination, port, source, sourcePort);
    }
    return DELIVERED;
  }

  /**
   * RFC 9293 §3.10.7.2, LISTEN. A SYN takes a SYN queue entry (no connection slot, no rings)
   * and is answered from it; with the queue full, from a SYN cookie. The ACK that completes the
   * handshake, matching an entry or a cookie, is what takes a connection slot.
   */
  private listenInput(
    l: TcpConnection,
    bytes: Uint8Array,
    local: number,
    remote: number,
    now: number,
  ): void {
    const flags = this.segFlags;
    if ((flags & TCP_RST) !== 0) return;
    const q = this.synQ;
    const port = l.localPort;
    const remotePort = this.segSourcePort;
    const e = q.find(local, port, remote, remotePort);
    if ((flags & TCP_ACK) !== 0) {
      if ((flags & TCP_SYN) !== 0) {
        this.resetReply(local, port, remote, remotePort);
        return;
      }
      let iss: number;
      let options: number;
      let tsRecent = 0;
      let window: number;
      let sentAt = -1;
      if (e >= 0) {
        sentAt = q.floats[SQ_SENT_AT][e];
        iss = q.ints[SQ_ISS][e];
        if (this.segAck !== ((iss + 1) | 0) || this.segSeq !== ((q.ints[SQ_IRS][e] + 1) | 0)) {
          this.resetReply(local, port, remote, remotePort);
          return;
        }
        options = q.ints[SQ_OPTIONS][e];
        tsRecent = q.ints[SQ_TS_RECENT][e];
        window = q.ints[SQ_WINDOW][e];
      } else {
        const mss = this.cookieCheck(local, port, remote, remotePort, now);
        if (mss === 0) {
          this.stats.synCookiesFailed++;
          this.resetReply(local, port, remote, remotePort);
          return;
        }
        this.stats.synCookiesValid++;
        iss = (this.segAck - 1) | 0;
        options = packSynOptions(mss, -1, false, false);
        // Without window scaling the ACK's window is the peer's real one.
        window = this.segWnd;
      }
      if (this.waiting(l) >= l.backlog) {
        // Linux drops it: the peer's retransmission may find room.
        this.stats.listenDrops++;
        return;
      }
      const child = this.take();
      if (child === null) {
        this.stats.listenDrops++;
        return;
      }
      child.fromSynQueue(
        l,
        local,
        remote,
        remotePort,
        iss,
        (this.segSeq - 1) | 0,
        options,
        tsRecent,
        window,
        sentAt,
        now,
      );
      child.segment(bytes, now);
      if (child.inUse && child.state === SYN_RECEIVED) {
        // The ACK was not good enough after all (PAWS, window): the half-open entry stays.
        this.release(child);
        return;
      }
      if (e >= 0) q.remove(e);
      return;
    }
    if ((flags & TCP_SYN) === 0) return;
    if (this.waiting(l) >= l.backlog) {
      this.stats.listenDrops++;
      return;
    }
    if (e >= 0) {
      // The peer's SYN again: our SYN-ACK was lost.
      if (q.ints[SQ_IRS][e] === this.segSeq) this.sendSynAck(e, now);
      return;
    }
    const o = this.opts;
    const mss = o.mss !== 0 ? o.mss : 536;
    if (q.count >= q.capacity) {
      // SYN cookies (RFC 4987 §3.6): the state rides in our ISN; options other than the MSS
      // are not kept.
      this.stats.synCookiesSent++;
      const iss = this.cookie(local, port, remote, remotePort, this.segSeq, mss, now);
      this.synAck(
        local,
        port,
        remote,
        remotePort,
        iss,
        this.segSeq,
        packSynOptions(mss, -1, false, false),
        0,
        now,
      );
      return;
    }
    const f = q.insert(local, port, remote, remotePort, now + this.initialRto, TUPLE_FULL_FAIL);
    if (f < 0) return;
    q.ints[SQ_ISS][f] = this.isn(local, port, remote, remotePort, now);
    q.ints[SQ_IRS][f] = this.segSeq;
    q.ints[SQ_OPTIONS][f] = packSynOptions(mss, o.wscale, o.sackPermitted, o.hasTimestamp);
    q.ints[SQ_TS_RECENT][f] = o.tsVal;
    q.ints[SQ_LISTENER][f] = l.id;
    q.ints[SQ_RETRIES][f] = 0;
    // A SYN's window is never scaled.
    q.ints[SQ_WINDOW][f] = this.segWnd;
    q.floats[SQ_SENT_AT][f] = now;
    this.sendSynAck(f, now);
  }

  /** Connections of `l` established and waiting for accept(). */
  private waiting(l: TcpConnection): number {
    let n = 0;
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) if (slots[i].inUse && slots[i].parent === l) n++;
    return n;
  }

  private sendSynAck(e: number, now: number): void {
    const q = this.synQ;
    this.synAck(
      q.localAddress[e],
      q.localPort[e],
      q.remoteAddress[e],
      q.remotePort[e],
      q.ints[SQ_ISS][e],
      q.ints[SQ_IRS][e],
      q.ints[SQ_OPTIONS][e],
      q.ints[SQ_TS_RECENT][e],
      now,
    );
  }

  /** SYN queue entries whose SYN-ACK is due again, or that ran out of retries. */
  private synQueueTimers(now: number): void {
    const q = this.synQ;
    if (q.nextDeadline() > now) return;
    for (let e = q.nextExpired(now, 0); e >= 0; e = q.nextExpired(now, e + 1)) {
      const retries = ++q.ints[SQ_RETRIES][e];
      if (retries > this.synRetries) {
        q.remove(e);
        this.stats.synQueueTimeouts++;
        continue;
      }
      this.stats.retransmits++;
      q.floats[SQ_SENT_AT][e] = -1;
      this.sendSynAck(e, now);
      q.setDeadline(e, now + (this.initialRto << retries));
    }
  }

  /** A listener closes: its half-open connections go. */
  private dropSynQueue(l: TcpConnection): void {
    const q = this.synQ;
    for (let e = 0; e < q.capacity; e++)
      if (q.has(e) && q.ints[SQ_LISTENER][e] === l.id && q.localPort[e] === l.localPort)
        q.remove(e);
  }

  /**
   * A SYN cookie: bits 27-31 a 64-second counter, 3-26 a keyed hash of the tuple, the counter
   * and the peer's ISN, 0-2 the MSS index.
   */
  private cookie(
    local: number,
    localPort: number,
    remote: number,
    remotePort: number,
    irs: number,
    mss: number,
    now: number,
  ): number {
    let index = COOKIE_MSS.length - 1;
    while (index > 0 && COOKIE_MSS[index] > mss) index--;
    const counter = Math.floor(now / 64_000) & 31;
    const h = this.cookieHash(local, localPort, remote, remotePort, irs, counter);
    return (counter << 27) | ((h & 0xffffff) << 3) | index | 0;
  }

  /** The MSS a cookie in the segment's ACK carries, or 0 when it is not one of ours (or stale). */
  private cookieCheck(
    local: number,
    localPort: number,
    remote: number,
    remotePort: number,
    now: number,
  ): number {
    const c = (this.segAck - 1) | 0;
    const counter = c >>> 27;
    const current = Math.floor(now / 64_000) & 31;
    // This period or the one before: a cookie lives 64 to 128 s.
    if (counter !== current && counter !== ((current - 1) & 31)) return 0;
    const irs = (this.segSeq - 1) | 0;
    const h = this.cookieHash(local, localPort, remote, remotePort, irs, counter);
    if (((c >>> 3) & 0xffffff) !== (h & 0xffffff)) return 0;
    const index = c & 7;
    return index < COOKIE_MSS.length ? COOKIE_MSS[index] : 0;
  }

  private cookieHash(
    local: number,
    localPort: number,
    remote: number,
    remotePort: number,
    irs: number,
    counter: number,
  ): number {
    const k = this.cookieKey;
    let h = k[0] ^ Math.imul(remote | 0, 0x9e3779b1) ^ counter;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ ((remotePort << 16) | localPort);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ (local | 0) ^ k[1];
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) ^ irs;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    return h ^ (h >>> 16);
  }

  /** A segment for a connection in TIME-WAIT; false when a new SYN may reuse the tuple. */
  private timeWaitInput(e: number, now: number): boolean {
    const tw = this.timeWait;
    const flags = this.segFlags;
    if ((flags & TCP_RST) !== 0) return true; // RFC 1337: resets do not cut TIME-WAIT short
    const rcvNxt = tw.ints[TW_RCV_NXT][e];
    if ((flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && seqLt(rcvNxt, this.segSeq)) {
      // A new incarnation (RFC 9293 §3.6.1, as Linux allows): the entry gives way.
      tw.remove(e);
      this.stats.timeWaitReused++;
      return false;
    }
    if ((flags & (TCP_SYN | TCP_FIN)) !== 0 || this.payloadLength > 0) {
      // The peer lost our last ACK: send it again, and wait the full 2 MSL from now.
      this.bareSegment(
        tw.localAddress[e],
        tw.localPort[e],
        tw.remoteAddress[e],
        tw.remotePort[e],
        tw.ints[TW_SND_NXT][e],
        rcvNxt,
        TCP_ACK,
        tw.ints[TW_TS_OK][e] !== 0,
        tw.ints[TW_TS_RECENT][e],
      );
      if ((flags & TCP_FIN) !== 0) tw.setDeadline(e, now + 2 * this.msl);
    }
    return true;
  }

  /** ICMP errors: fatal while opening (Linux's tcp_v4_err), otherwise soft and ignored. */
  error(type: number, code: number, bytes: Uint8Array, at: number, length: number): void {
    if (type !== ICMP_DEST_UNREACHABLE || length < 28) return;
    const headerLength = (bytes[at] & 15) << 2;
    if (bytes[at + 9] !== PROTOCOL_TCP || length < headerLength + 8) return;
    const source = readI32(bytes, at + 12);
    const destination = readI32(bytes, at + 16);
    const sourcePort = readU16(bytes, at + headerLength);
    const destinationPort = readU16(bytes, at + headerLength + 2);
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (
        c.inUse &&
        c.state === SYN_SENT &&
        c.localPort === sourcePort &&
        c.remotePort === destinationPort &&
        c.localAddress === source &&
        c.remoteAddress === destination
      )
        c.abort(unreachableErrno(code), false);
    }
  }

  // ================================================================ segments out

  /**
   * Builds one segment of `c` in a pool buffer and sends it: options for the state, `len` bytes
   * of payload from the send ring at `skip`. Returns 0, or -EAGAIN / -ENOBUFS with nothing sent.
   */
  emit(
    c: TcpConnection,
    flags: number,
    seq: number,
    skip: number,
    len: number,
    now: number,
  ): number {
    const iface = this.iface;
    if (iface === null) return -ENETUNREACH;
    const handle = iface.ip.allocDatagram();
    if (handle < 0) return handle;
    const bytes = this.bytes;
    const at = this.pool(handle);
    const opt = at + TCP_HEADER_LENGTH;
    let o = 0;
    const syn = (flags & TCP_SYN) !== 0;
    if (syn) {
      o += writeMss(bytes, opt, iface.mtu - 40);
      const active = c.state === SYN_SENT;
      const sack = active || c.sackOk;
      const ts = active || c.tsOk;
      if (sack && ts) {
        o += writeSackPermitted(bytes, opt + o, false);
        o += writeTimestamp(bytes, opt + o, now | 0, active ? 0 : c.tsRecent);
      } else if (ts) {
        o += writeNops(bytes, opt + o);
        o += writeTimestamp(bytes, opt + o, now | 0, c.tsRecent);
      } else if (sack) o += writeSackPermitted(bytes, opt + o, true);
      if (active || c.wsOk) o += writeWscale(bytes, opt + o, c.rcvWscale);
    } else {
      if (c.tsOk) {
        o += writeNops(bytes, opt + o);
        o += writeTimestamp(bytes, opt + o, now | 0, c.tsRecent);
      }
      // SACK blocks ride on segments without data, so the MSS arithmetic never changes.
      if (len === 0 && (flags & TCP_ACK) !== 0 && c.sackOk && c.ooo.count > 0) {
        const n = c.sackBlocks(c.tsOk ? 3 : 4, this.sackStarts, this.sackEnds);
        if (n > 0) o += writeSack(bytes, opt + o, this.sackStarts, this.sackEnds, n);
      }
    }
    const headerLength = TCP_HEADER_LENGTH + o;
    if (len > 0) {
      const ring = c.sendRing;
      const first = ring.run(skip);
      const n1 = len < first ? len : first;
      copy(bytes, opt + o, bytes, ring.offsetAt(skip), n1);
      if (len > n1) copy(bytes, opt + o + n1, bytes, ring.offsetAt(skip + n1), len - n1);
    }
    const window = c.windowToAdvertise(syn);
    const ack = (flags & TCP_ACK) !== 0 ? c.rcvNxt : 0;
    this.seg
      .wrap(bytes, at)
      .writeHeader(c.localPort, c.remotePort, seq, ack, headerLength, flags, window);
    this.finish(handle, at, headerLength + len, c.localAddress, c.remoteAddress);
    if ((flags & TCP_ACK) !== 0) c.acked();
    return 0;
  }

  /** Checksums and sends a segment of `length` bytes built at `at` in `handle`. */
  private finish(
    handle: number,
    at: number,
    length: number,
    source: number,
    destination: number,
  ): void {
    const bytes = this.bytes;
    const sum = this.summer.sum(
      bytes,
      at,
      length,
      pseudoHeaderSumV4(source, destination, PROTOCOL_TCP, length),
    );
    writeU16(bytes, at + 16, ~fold(sum) & 0xffff);
    const iface = this.iface;
    if (iface === null) return;
    iface.ip.sendBuffer(handle, length, PROTOCOL_TCP, source, destination, this.defaultTtl, 0);
    this.stats.segmentsOut++;
  }

  private pool(handle: number): number {
    return (
      (this.iface as NonNullable<typeof this.iface>).pool.offsetOf(handle) + DATAGRAM_DATA_OFFSET
    );
  }

  /** A segment with no connection behind it: resets, TIME-WAIT's ACKs. */
  private bareSegment(
    local: number,
    localPort: number,
    remote: number,
    remotePort: number,
    seq: number,
    ack: number,
    flags: number,
    ts: boolean,
    tsEcr: number,
  ): number {
    const iface = this.iface;
    if (iface === null) return -ENETUNREACH;
    const handle = iface.ip.allocDatagram();
    if (handle < 0) {
      this.stats.outBlocked++;
      return handle;
    }
    const bytes = this.bytes;
    const at = this.pool(handle);
    let o = 0;
    if (ts) {
      o += writeNops(bytes, at + TCP_HEADER_LENGTH);
      o += writeTimestamp(bytes, at + TCP_HEADER_LENGTH + o, this.now | 0, tsEcr);
    }
    this.seg
      .wrap(bytes, at)
      .writeHeader(localPort, remotePort, seq, ack, TCP_HEADER_LENGTH + o, flags, 0);
    this.finish(handle, at, TCP_HEADER_LENGTH + o, local, remote);
    if ((flags & TCP_RST) !== 0) this.stats.resetsOut++;
    return 0;
  }

  /** A SYN-ACK for a SYN queue entry or a cookie, with the options the SYN offered. */
  private synAck(
    local: number,
    localPort: number,
    remote: number,
    remotePort: number,
    iss: number,
    irs: number,
    options: number,
    tsRecent: number,
    now: number,
  ): void {
    const iface = this.iface;
    if (iface === null) return;
    const handle = iface.ip.allocDatagram();
    if (handle < 0) {
      this.stats.outBlocked++;
      return;
    }
    const bytes = this.bytes;
    const at = this.pool(handle);
    const opt = at + TCP_HEADER_LENGTH;
    let o = writeMss(bytes, opt, iface.mtu - 40);
    const sack = (options & SYN_SACK) !== 0;
    const ts = (options & SYN_TS) !== 0;
    if (sack && ts) {
      o += writeSackPermitted(bytes, opt + o, false);
      o += writeTimestamp(bytes, opt + o, now | 0, tsRecent);
    } else if (ts) {
      o += writeNops(bytes, opt + o);
      o += writeTimestamp(bytes, opt + o, now | 0, tsRecent);
    } else if (sack) o += writeSackPermitted(bytes, opt + o, true);
    const ws = ((options >>> 16) & 15) - 1;
    const ourWscale = this.slots.length > 0 ? this.slots[0].ourWscale : 0;
    if (ws >= 0) o += writeWscale(bytes, opt + o, ourWscale);
    const window = this.receiveBuffer < 0xffff ? this.receiveBuffer : 0xffff;
    this.seg
      .wrap(bytes, at)
      .writeHeader(
        localPort,
        remotePort,
        iss,
        (irs + 1) | 0,
        TCP_HEADER_LENGTH + o,
        TCP_SYN | TCP_ACK,
        window,
      );
    this.finish(handle, at, TCP_HEADER_LENGTH + o, local, remote);
  }

  /** A reset from a connection (abort, bad ACK in SYN-RECEIVED): seq given, no ACK. */
  sendReset(
    local: number,
    localPort: number,
    remote: number,
    remotePort: number,
    seq: number,
    ack: number,
    withAck: boolean,
  ): void {
    this.bareSegment(
      local,
      localPort,
      remote,
      remotePort,
      seq,
      ack,
      withAck ? TCP_RST | TCP_ACK : TCP_RST,
      false,
      0,
    );
  }

  /** RFC 9293 §3.10.7.1: the reset answering the segment in hand. */
  private resetReply(local: number, localPort: number, remote: number, remotePort: number): void {
    const flags = this.segFlags;
    if ((flags & TCP_ACK) !== 0)
      this.sendReset(local, localPort, remote, remotePort, this.segAck, 0, false);
    else {
      let len = this.payloadLength;
      if ((flags & TCP_SYN) !== 0) len++;
      if ((flags & TCP_FIN) !== 0) len++;
      this.sendReset(local, localPort, remote, remotePort, 0, (this.segSeq + len) | 0, true);
    }
  }

  /** An ACK now, for `c` (our reply to a FIN that ends in TIME-WAIT). */
  sendAck(c: TcpConnection): void {
    this.emit(c, TCP_ACK, c.sndNxt, 0, 0, this.now);
  }

  /** A keepalive or zero-window probe: one below sndUna, which the peer must acknowledge. */
  sendProbe(c: TcpConnection): void {
    if (this.emit(c, TCP_ACK, (c.sndUna - 1) | 0, 0, 0, this.now) < 0) this.stats.outBlocked++;
  }

  /** RFC 5961 §7: an ACK that makes a blind attacker's guess visible to the real peer, rate-limited. */
  challengeAck(c: TcpConnection, now: number): void {
    if (now - this.challengeWindow >= 1000) {
      this.challengeWindow = now;
      this.challengeCount = 0;
    }
    if (this.challengeCount >= CHALLENGE_ACK_LIMIT) {
      this.stats.challengeAcksLimited++;
      return;
    }
    this.challengeCount++;
    this.stats.challengeAcks++;
    this.emit(c, TCP_ACK, c.sndNxt, 0, 0, now);
  }

  /** FIN-WAIT-2 or CLOSING done: the tuple moves to the TIME-WAIT table and the slot lets go. */
  enterTimeWait(c: TcpConnection, now: number): void {
    const tw = this.timeWait;
    const before = tw.evictions;
    const e = tw.insert(
      c.localAddress,
      c.localPort,
      c.remoteAddress,
      c.remotePort,
      now + 2 * this.msl,
      TUPLE_FULL_EVICT_OLDEST,
    );
    this.stats.timeWaitEvictions += tw.evictions - before;
    if (e >= 0) {
      tw.ints[TW_RCV_NXT][e] = c.rcvNxt;
      tw.ints[TW_SND_NXT][e] = c.sndNxt;
      tw.ints[TW_TS_RECENT][e] = c.tsRecent;
      tw.ints[TW_TS_OK][e] = c.tsOk ? 1 : 0;
    }
    c.enterClosed(0);
  }

  // ================================================================ listeners and ports

  /** The connection accept() would hand out next, or null. */
  acceptable(l: TcpConnection): TcpConnection | null {
    let best: TcpConnection | null = null;
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (!c.inUse || c.parent !== l || c.state < ESTABLISHED) continue;
      if (best === null || c.readyOrder < best.readyOrder) best = c;
    }
    return best;
  }

  /** Takes the next established connection off the listener's queue, or null. */
  accept(l: TcpConnection): TcpConnection | null {
    const c = this.acceptable(l);
    if (c !== null) c.parent = null;
    return c;
  }

  /** A listener closes: connections it has not handed out are reset. */
  dropChildren(l: TcpConnection): void {
    this.dropSynQueue(l);
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (c.inUse && c.parent === l) c.abort(0, true);
    }
  }

  portInUse(port: number): boolean {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++)
      if (slots[i].inUse && slots[i].localPort === port) return true;
    const tw = this.timeWait;
    for (let i = 0; i < tw.capacity; i++) if (tw.has(i) && tw.localPort[i] === port) return true;
    return false;
  }

  /** A random free port (RFC 6056 §3.3.1). */
  ephemeralPort(): number {
    return allocatePort(this, this.random);
  }

  /** The port for an unbound connect; the address and peer are those of the connection. */
  connectPort(_local: number, _remote: number, _remotePort: number): number {
    return allocatePort(this, this.random);
  }

  /** Whether another connection (or a TIME-WAIT entry) holds this 4-tuple. */
  tupleInUse(
    self: TcpConnection,
    local: number,
    localPort: number,
    remote: number,
    remotePort: number,
  ): boolean {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (
        c !== self &&
        c.inUse &&
        c.state !== CLOSED &&
        c.state !== LISTEN &&
        c.localPort === localPort &&
        c.remotePort === remotePort &&
        c.remoteAddress === remote &&
        c.localAddress === local
      )
        return true;
    }
    return this.timeWait.find(local, localPort, remote, remotePort) >= 0;
  }

  /**
   * Whether binding to address:port clashes: with a listener or another bound, unconnected socket
   * on an overlapping address, unless both set SO_REUSEADDR and the other is not listening.
   */
  bindConflict(self: TcpConnection, address: number, port: number): boolean {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (c === self || !c.inUse || c.localPort !== port) continue;
      if (c.state !== LISTEN && (c.state !== CLOSED || c.remotePort !== 0)) continue;
      if (c.parent !== null) continue;
      if (self.reuseAddress && c.reuseAddress && c.state !== LISTEN) continue;
      if (address === 0 || c.localAddress === 0 || c.localAddress === address) return true;
    }
    return false;
  }

  /**
   * RFC 6528: ISN = M + F(4-tuple, secret), M a 4 µs clock. F is a keyed mix of the tuple (a
   * 32-bit stand-in for the RFC's cryptographic hash, with a secret drawn at start-up).
   */
  isn(local: number, localPort: number, remote: number, remotePort: number, now: number): number {
    const k = this.isnKey;
    let h = k[0] ^ Math.imul(remote | 0, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ ((remotePort << 16) | localPort) ^ k[1];
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ (local | 0) ^ k[2];
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) ^ k[3];
    h ^= h >>> 15;
    return (h + ((now * 250) % 4294967296)) | 0;
  }
}
