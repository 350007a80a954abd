// The TCP table: IPv4's handler for protocol 6. It checks and parses each segment into its own
// fields (no per-segment object), finds the connection (a fixed slot), the TIME-WAIT entry (a
// ring-less TupleTable row) or the listener, and answers segments for nobody with a reset. It
// hands segments to the SYN queue (listen.ts) and builds every outgoing one in segments.ts.
// Timers and output run from poll(now), never from an application's call.

import { DELIVERED, Ipv4Info, type ProtocolHandler } from "../../iface/protocols.js";
import { Random } from "../../random.js";
import { TcpStats } from "../../stats.js";
import { SipHash } from "../siphash.js";
import type { StackConfig } from "../../config.js";
import { Memory } from "../../storage/memory.js";
import { Spans } from "../../storage/spans.js";
import { due, earlier } from "../../time.js";
import { TUPLE_FULL_EVICT_OLDEST, TupleTable } from "../../storage/tuple-table.js";
import { readI32, readU16 } from "../../wire/address.js";
import { Checksum, pseudoHeaderSumV4 } from "../../wire/checksum.js";
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
} from "../../wire/tcp.js";
import { BIND_V6_ONLY, EndpointTable, familyClash } from "../endpoint-table.js";
import { PortSpace, allocatePort } from "../ports.js";
import { unreachableErrno } from "../icmp-errors.js";
import { ReadyList } from "../waiter.js";
import { CLOSED, ESTABLISHED, LISTEN, OFF, SYN_SENT, TIME_WAIT } from "./constants.js";
import { TcpConnection } from "./connection.js";
import { segmentArrives } from "./input.js";
import { transmit } from "./output.js";
import { deadline, runTimers } from "./timers.js";
import { bareSegment, resetReply } from "./segments.js";
import { dropSynQueue, listenInput, synQueueTimers } from "./listen.js";

// TIME-WAIT value columns.
const TW_RCV_NXT = 0;
const TW_SND_NXT = 1;
const TW_TS_RECENT = 2;
const TW_TS_OK = 3;

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
  /** The time of the poll in progress or the latest one. */
  now = 0;
  /** Connections that reached ESTABLISHED from a listener, counted to order accept(). */
  readyCounter = 0;

  // The segment being handled.
  segSeq = 0;
  segAck = 0;
  segFlags = 0;
  segWnd = 0;
  /** The urgent pointer field (meaningful with URG). */
  segUrgent = 0;
  segSourcePort = 0;
  segDestinationPort = 0;
  payloadAt = 0;
  payloadLength = 0;

  readonly summer: Checksum;
  readonly seg = new TcpSegment();
  /** SipHash-2-4 under the stack's secret: ISNs (RFC 6528) and SYN cookies. */
  readonly hash = new SipHash();
  readonly sackStarts = new Int32Array(4);
  readonly sackEnds = new Int32Array(4);
  challengeWindow = -Infinity;
  /** Challenge ACKs left in this second (segments.ts: challengeAck). */
  challengeBudget = 0;

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
    // RFC 6528's secret, drawn once per stack.
    this.hash.setKey(random.next() | 0, random.next() | 0, random.next() | 0, random.next() | 0);
    this.timeWait = new TupleTable(settings.timeWait, 4, 0, random.next() | 0);
    this.synQ = new TupleTable(
      settings.synQueue > 0 ? settings.synQueue : 1,
      7,
      1,
      random.next() | 0,
    );
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
      runTimers(c, now);
      if (c.inUse && c.pendingOutput && (!c.blocked || canSend)) transmit(c, now);
    }
    synQueueTimers(this, now);
    const tw = this.timeWait;
    if (due(tw.nextDeadline(), now))
      for (let e = tw.nextExpired(now, 0); e >= 0; e = tw.nextExpired(now, e + 1)) tw.remove(e);
  }

  /** Output for what the applications did during readiness delivery, at the same `now`. */
  flush(now: number): void {
    this.now = now;
    if (this.live === 0) return;
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (c.inUse && c.pendingOutput && !c.blocked) transmit(c, now);
    }
  }

  /** No connection, half-open connection or TIME-WAIT entry: nothing to time. */
  private get idle(): boolean {
    return this.live === 0 && this.synQ.count === 0 && this.timeWait.count === 0;
  }

  /** The earliest time poll() has work, or OFF for none. */
  nextDeadline(): number {
    if (this.idle) return OFF;
    const iface = this.iface;
    const canSend = iface !== null && iface.ip.canSend(1);
    let t = earlier(this.timeWait.nextDeadline(), this.synQ.nextDeadline());
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (c.inUse) t = earlier(t, deadline(c, canSend));
    }
    return t;
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
      !iface.checksumOffload &&
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
    this.segUrgent = seg.urgent;
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
        segmentArrives(c, bytes, now);
        return DELIVERED;
      }
    }
    const e = this.timeWait.find(destination, port, source, sourcePort);
    if (e >= 0 && this.timeWaitInput(e, now)) return DELIVERED;
    let listener: TcpConnection | null = null;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      // IPV6_V6ONLY on `::`: an IPv4 SYN finds nobody there.
      if (c.inUse && c.state === LISTEN && c.localPort === port && c.v6Binding !== BIND_V6_ONLY) {
        if (c.localAddress === destination) {
          listener = c;
          break;
        }
        if (c.localAddress === 0) listener = c;
      }
    }
    if (listener !== null) listenInput(this, listener, bytes, destination, source, now);
    else {
      stats.noConnection++;
      if ((this.segFlags & TCP_RST) === 0) resetReply(this, destination, port, source, sourcePort);
    }
    return DELIVERED;
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
      bareSegment(
        this,
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
    dropSynQueue(this, l);
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
      const clash = familyClash(self.v6Binding, c.v6Binding);
      if (clash >= 0) {
        if (clash > 0) return true;
        continue;
      }
      if (address === 0 || c.localAddress === 0 || c.localAddress === address) return true;
    }
    return false;
  }

  /**
   * RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 µs clock
   * and F SipHash-2-4 (the PRF Linux uses there too). 12 bytes hashed, where cookies hash 20, so
   * the two never share an input under the one key.
   */
  isn(local: number, localPort: number, remote: number, remotePort: number, now: number): number {
    const f = this.hash.hashWords(local, remote, (localPort << 16) | remotePort);
    return (f + ((now * 250) % 4294967296)) | 0;
  }
}
