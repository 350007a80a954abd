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
import { Memory, copy } from "../../storage/memory.js";
import { TUPLE_FULL_EVICT_OLDEST, TupleTable } from "../../storage/tuple-table.js";
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
import { TcpConnection } from "./connection.js";

/** RFC 5961 §7: challenge ACKs per second, over all connections. */
const CHALLENGE_ACK_LIMIT = 100;

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
  segSourcePort = 0;
  segDestinationPort = 0;
  payloadAt = 0;
  payloadLength = 0;

  private readonly summer: Checksum;
  private readonly seg = new TcpSegment();
  private readonly isnKey: Int32Array;
  private readonly sackStarts = new Int32Array(4);
  private readonly sackEnds = new Int32Array(4);
  private challengeWindow = -Infinity;
  private challengeCount = 0;

  constructor(
    memory: Memory,
    settings: TcpSettings,
    random: Random,
    summer: Checksum,
    ttl: number,
    ready: ReadyList,
  ) {
    super(memory, TCP_HEADER_LENGTH, random, ttl, ready);
    this.summer = summer;
    this.msl = settings.msl;
    this.delayedAck = settings.delayedAck;
    this.minRto = settings.minRto;
    this.initialRto = settings.initialRto;
    this.synRetries = settings.synRetries;
    this.maxRetries = settings.retries;
    this.synQueue = settings.synQueue;
    // RFC 6528's secret: four words of key for the ISN hash, drawn once.
    this.isnKey = new Int32Array(4);
    for (let i = 0; i < 4; i++) this.isnKey[i] = random.next() | 0;
    this.timeWait = new TupleTable(settings.timeWait, 4, 0, random.next() | 0);
    for (let i = 0; i < settings.sockets; i++)
      this.slots.push(
        new TcpConnection(
          this,
          i,
          memory,
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
    const iface = this.iface;
    const canSend = iface !== null && iface.ip.canSend(1);
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (!c.inUse) continue;
      c.timers(now);
      if (c.inUse && c.pendingOutput && (!c.blocked || canSend)) c.output(now);
    }
    const tw = this.timeWait;
    if (tw.nextDeadline() <= now)
      for (let e = tw.nextExpired(now, 0); e >= 0; e = tw.nextExpired(now, e + 1)) tw.remove(e);
  }

  /** Output for what the applications did during readiness delivery, at the same `now`. */
  flush(now: number): void {
    this.now = now;
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (c.inUse && c.pendingOutput && !c.blocked) c.output(now);
    }
  }

  nextDeadline(): number {
    const iface = this.iface;
    const canSend = iface !== null && iface.ip.canSend(1);
    let t = this.timeWait.nextDeadline();
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
    if (listener !== null) this.listenInput(listener, destination, source, now);
    else {
      stats.noConnection++;
      if ((this.segFlags & TCP_RST) === 0) this.resetReply(destination, port, source, sourcePort);
    }
    return DELIVERED;
  }

  /** RFC 9293 §3.10.7.2, LISTEN. */
  private listenInput(l: TcpConnection, local: number, remote: number, now: number): void {
    const flags = this.segFlags;
    if ((flags & TCP_RST) !== 0) return;
    if ((flags & TCP_ACK) !== 0) {
      this.resetReply(local, l.localPort, remote, this.segSourcePort);
      return;
    }
    if ((flags & TCP_SYN) === 0) return;
    let half = 0;
    let waiting = 0;
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i];
      if (!c.inUse || c.parent === null) continue;
      if (c.state === SYN_RECEIVED) half++;
      else if (c.parent === l) waiting++;
    }
    if (waiting >= l.backlog || half >= this.synQueue) {
      this.stats.listenDrops++;
      return;
    }
    const child = this.take();
    if (child === null) {
      this.stats.listenDrops++;
      return;
    }
    child.acceptSyn(l, local, remote, now);
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
