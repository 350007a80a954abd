// One TCP connection (RFC 9293): its state, its send and receive rings, its timers, and the calls
// an application makes through a TcpEndpoint. Segments arrive through TcpTable.input, which leaves
// the parsed segment in the table's fields and calls segment(); segments leave through output(),
// run only from the stack's poll so every timestamp, RTO and RTT sample uses that poll's time.
//
// Sequence space: the send ring holds every byte from `dataStart` (the oldest unacknowledged data
// byte) on, sent or not; SYN and FIN take a sequence number but no byte of the ring. The receive
// ring holds in-order bytes not yet read, and past them out-of-order bytes parked at their place,
// which the Assembler tracks relative to rcvNxt; so out-of-order data counts against the window.

import {
  ECONNREFUSED,
  ECONNRESET,
  EAGAIN,
  EINVAL,
  EISCONN,
  EALREADY,
  ENOTCONN,
  EPIPE,
  ETIMEDOUT,
  EADDRINUSE,
  EADDRNOTAVAIL,
  EAFNOSUPPORT,
  ENETUNREACH,
  EINPROGRESS,
} from "../../errno.js";
import { NO_ROUTE } from "../../iface/ipv4.js";
import { Assembler } from "../../storage/assembler.js";
import { Memory } from "../../storage/memory.js";
import { RegionRing } from "../../storage/region-ring.js";
import { ByteRing } from "../../storage/ring.js";
import { Spans } from "../../storage/spans.js";
import { AF_INET, FullAddress, IpAddress } from "../../wire/address.js";
import { IPV4_BROADCAST, isMulticastV4 } from "../../wire/ipv4.js";
import {
  MAX_WSCALE,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  seqDiff,
  seqLe,
  seqLt,
} from "../../wire/tcp.js";
import { Slot } from "../endpoint-table.js";
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDHUP } from "../waiter.js";
import {
  CLOSED,
  CLOSE_WAIT,
  CLOSING,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  LAST_ACK,
  LISTEN,
  MSG_MORE,
  MSG_PEEK,
  NEVER,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SYN_RECEIVED,
  SYN_SENT,
  TIME_WAIT,
} from "./constants.js";
import type { TcpTable } from "./table.js";

/** Flags of a SYN's options as the SYN queue keeps them: MSS in the low 16 bits, WS + 1 above. */
export const SYN_SACK = 1 << 20;
export const SYN_TS = 1 << 21;

/** The options of the SYN in `o`, packed for a SYN queue entry. */
export function packSynOptions(mss: number, wscale: number, sack: boolean, ts: boolean): number {
  return (mss & 0xffff) | ((wscale + 1) << 16) | (sack ? SYN_SACK : 0) | (ts ? SYN_TS : 0);
}

/** RFC 6298 §2.5: a maximum of at least 60 s; Linux uses 120 s. */
const MAX_RTO = 120_000;
/** CUBIC (RFC 9438 §5): the multiplicative decrease, the scaling constant, and the Reno-friendly
 * additive factor 3(1 - β)/(1 + β). */
const CUBIC_BETA = 0.7;
const CUBIC_C = 0.4;
const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);
/** Persist and keepalive probes back off up to this. */
const MAX_PERSIST = 60_000;

export class TcpConnection extends Slot {
  readonly id: number;
  readonly table: TcpTable;
  readonly sendRing: ByteRing;
  readonly recvRing: ByteRing;
  /** The rings' spans of the socket buffer region, held while the connection is open. */
  private readonly sendSpan: RegionRing;
  private readonly recvSpan: RegionRing;
  readonly ooo: Assembler;
  /** The SACK scoreboard (RFC 6675): what the peer holds past sndUna, relative to sndUna. */
  readonly sacked: Assembler;
  /** The shift our receive ring needs, offered in every SYN. */
  readonly ourWscale: number;

  state = CLOSED;
  localAddress = 0;
  localPort = 0;
  remoteAddress = 0;
  remotePort = 0;
  /** bind() fixed the address. */
  addressBound = false;
  reuseAddress = false;

  // -- listeners and the connections they spawn
  /** The listener this connection came from, until accepted. */
  parent: TcpConnection | null = null;
  backlog = 0;
  /** Order of reaching ESTABLISHED, so accept() hands connections out first come, first served. */
  readyOrder = 0;
  /** The application closed its handle; the slot lives on until the protocol is done with it. */
  orphan = false;
  /** It was ever synchronized: recv then reports end of file rather than ENOTCONN. */
  wasConnected = false;

  // -- send sequence space
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** Highest sequence sent: after a timeout sndNxt goes back to sndUna while ACKs up to here stay valid. */
  sndMax = 0;
  /** Sequence number of sendRing's first byte. */
  dataStart = 0;
  sndWnd = 0;
  maxSndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** Shift applied to the peer's window (its WS option), and to ours. */
  sndWscale = 0;
  rcvWscale = 0;
  /** shutdown(SHUT_WR) or close(): a FIN goes after the last byte of the ring. */
  finQueued = false;
  readShut = false;

  // -- receive sequence space
  irs = 0;
  rcvNxt = 0;
  /** The right edge of the window last advertised. */
  rcvAdv = 0;
  finReceived = false;

  // -- negotiated
  /** Largest payload we send, options of every segment already taken off. */
  mss = 536;
  /** The peer's MSS option (536 when absent, RFC 9293 §3.7.1). */
  peerMss = 536;
  tsOk = false;
  tsRecent = 0;
  sackOk = false;
  wsOk = false;

  // -- timers (absolute, ms; NEVER when off)
  rtoAt = NEVER;
  delackAt = NEVER;
  keepAt = NEVER;
  persistAt = NEVER;
  /** An orphan in FIN-WAIT-2 gives up at this time (Linux's tcp_fin_timeout). */
  finWait2At = NEVER;

  // -- retransmission (RFC 6298) and congestion control (RFC 5681, 6582)
  srtt = 0;
  rttvar = 0;
  rto = 1000;
  /** Backoffs since the last new ACK; also the retries count. */
  retries = 0;
  /** RTT timing of one segment without timestamps (Karn: never a retransmitted one). */
  rttSeq = 0;
  rttAt = -1;
  cwnd = 0;
  ssthresh = 0x3fffffff;
  dupAcks = 0;
  recover = 0;
  inRecovery = false;
  /** Resend the segment at sndUna in the next output (fast retransmit, partial ACK). */
  retransmitHead = false;
  /** Resend the next hole the scoreboard shows (RFC 6675 NextSeg, rule 1). */
  retransmitHole = false;
  /** Highest sequence retransmitted in this recovery (RFC 6675 HighRxt). */
  highRxt = 0;
  persistBackoff = 0;
  totalRetransmits = 0;
  /** Segments RFC 3042 lets past cwnd on the first two duplicate ACKs. */
  limitedTransmit = 0;
  /** CUBIC instead of NewReno's growth and decrease (RFC 9438); recovery stays NewReno's. */
  cubic = false;
  /** CUBIC's W_max (bytes), its epoch start (ms, -1: none), K (s), origin and W_est (bytes). */
  wMax = 0;
  epochStart = -1;
  cubicK = 0;
  cubicOrigin = 0;
  wEst = 0;

  // -- acknowledgments
  /** An ACK must go in the next output. */
  ackNow = false;
  /** Bytes received since the last ACK we sent. */
  unackedBytes = 0;

  // -- output scheduling
  /** output() has work: sends, ACKs, timer actions. */
  pendingOutput = false;
  /** The last output stopped for lack of buffers or queue room. */
  blocked = false;

  // -- options
  noDelay = false;
  /** The last send had MSG_MORE: hold a partial segment. */
  corked = false;
  keepalive = false;
  keepIdle = 7_200_000;
  keepInterval = 75_000;
  keepCount = 9;
  keepProbes = 0;
  lastHeard = 0;
  /** SO_LINGER with a zero timeout: close() resets. */
  lingerZero = false;

  /** A pending error (positive errno), reported once. */
  error = 0;

  constructor(
    table: TcpTable,
    id: number,
    memory: Memory,
    spans: Spans,
    sendBuffer: number,
    recvBuffer: number,
    ranges: number,
  ) {
    super();
    this.table = table;
    this.id = id;
    this.sendSpan = new RegionRing(memory, spans, sendBuffer);
    this.recvSpan = new RegionRing(memory, spans, recvBuffer);
    this.sendRing = this.sendSpan.ring;
    this.recvRing = this.recvSpan.ring;
    this.ooo = new Assembler(ranges);
    this.sacked = new Assembler(ranges);
    let shift = 0;
    while (shift < MAX_WSCALE && recvBuffer >>> shift > 0xffff) shift++;
    this.ourWscale = shift;
    this.rcvWscale = shift;
  }

  /** Takes both rings' spans as the connection opens. */
  claimBuffers(): boolean {
    if (!this.sendSpan.open()) return false;
    if (this.recvSpan.open()) return true;
    this.sendSpan.close();
    return false;
  }

  freeBuffers(): void {
    this.sendSpan.close();
    this.recvSpan.close();
  }

  /** SO_RCVBUF on a connection: its window is sized when it opens, so the value is recorded. */
  resizeReceive(_bytes: number): void {}

  reset(): void {
    this.state = CLOSED;
    this.localAddress = 0;
    this.localPort = 0;
    this.remoteAddress = 0;
    this.remotePort = 0;
    this.addressBound = false;
    this.reuseAddress = false;
    this.parent = null;
    this.backlog = 0;
    this.readyOrder = 0;
    this.orphan = false;
    this.wasConnected = false;
    this.iss = this.sndUna = this.sndNxt = this.sndMax = this.dataStart = 0;
    this.sndWnd = this.maxSndWnd = this.sndWl1 = this.sndWl2 = this.sndWscale = 0;
    this.rcvWscale = this.ourWscale;
    this.finQueued = false;
    this.readShut = false;
    this.irs = this.rcvNxt = this.rcvAdv = 0;
    this.finReceived = false;
    this.mss = 536;
    this.peerMss = 536;
    this.tsOk = this.sackOk = this.wsOk = false;
    this.tsRecent = 0;
    this.stopTimers();
    this.srtt = this.rttvar = 0;
    this.rto = this.table.initialRto;
    this.retries = 0;
    this.rttAt = -1;
    this.cwnd = 0;
    this.ssthresh = 0x3fffffff;
    this.dupAcks = 0;
    this.inRecovery = false;
    this.retransmitHead = false;
    this.retransmitHole = false;
    this.highRxt = 0;
    this.sacked.clear();
    this.persistBackoff = 0;
    this.totalRetransmits = 0;
    this.limitedTransmit = 0;
    this.cubic = false;
    this.wMax = 0;
    this.epochStart = -1;
    this.cubicK = 0;
    this.cubicOrigin = 0;
    this.wEst = 0;
    this.ackNow = false;
    this.unackedBytes = 0;
    this.pendingOutput = false;
    this.blocked = false;
    this.noDelay = false;
    this.corked = false;
    this.keepalive = false;
    this.keepIdle = 7_200_000;
    this.keepInterval = 75_000;
    this.keepCount = 9;
    this.keepProbes = 0;
    this.lingerZero = false;
    this.error = 0;
    this.sendRing.clear();
    this.recvRing.clear();
    this.ooo.clear();
  }

  private stopTimers(): void {
    this.rtoAt = NEVER;
    this.delackAt = NEVER;
    this.keepAt = NEVER;
    this.persistAt = NEVER;
    this.finWait2At = NEVER;
  }

  /** Whether the state has a synchronized sequence space (RFC 9293's "synchronized states"). */
  get synchronized(): boolean {
    return this.state >= ESTABLISHED;
  }

  /** The earliest timer, or 0 when output is waiting (and could run). */
  deadline(canSend: boolean): number {
    if (this.pendingOutput && (!this.blocked || canSend)) return 0;
    let t = this.rtoAt;
    if (this.delackAt < t) t = this.delackAt;
    if (this.keepAt < t) t = this.keepAt;
    if (this.persistAt < t) t = this.persistAt;
    if (this.finWait2At < t) t = this.finWait2At;
    return t < NEVER ? t : NEVER;
  }

  /** Asks for an output pass: at once inside a poll, otherwise at the next one. */
  private schedule(): void {
    this.pendingOutput = true;
    this.table.wake();
  }

  // ================================================================ application calls

  bind(address: IpAddress | null, port: number): number {
    if (this.localPort !== 0 || this.state !== CLOSED) return -EINVAL;
    if (port < 0 || port > 0xffff) return -EINVAL;
    let v4 = 0;
    if (address !== null && !address.isUnspecified) {
      if (address.family !== AF_INET) return -EAFNOSUPPORT;
      v4 = address.v4;
      const iface = this.table.iface;
      if (iface === null || v4 !== iface.address) return -EADDRNOTAVAIL;
    }
    if (port === 0) {
      port = this.table.ephemeralPort();
      if (port === 0) return -EADDRINUSE;
    } else if (this.table.bindConflict(this, v4, port)) return -EADDRINUSE;
    this.localAddress = v4;
    this.addressBound = v4 !== 0;
    this.localPort = port;
    return 0;
  }

  listen(backlog: number): number {
    if (this.state === LISTEN) {
      this.backlog = backlog > 0 ? backlog : 1;
      return 0;
    }
    if (this.state !== CLOSED || this.wasConnected) return -EINVAL;
    if (this.localPort === 0) {
      const r = this.bind(null, 0);
      if (r < 0) return r;
    }
    this.backlog = backlog > 0 ? backlog : 1;
    this.state = LISTEN;
    return 0;
  }

  connect(to: FullAddress): number {
    if (this.state === SYN_SENT || this.state === SYN_RECEIVED) return -EALREADY;
    if (this.state !== CLOSED) return this.state === LISTEN ? -EINVAL : -EISCONN;
    if (this.wasConnected) return -EISCONN;
    if (to.address.family !== AF_INET) return -EAFNOSUPPORT;
    const table = this.table;
    const iface = table.iface;
    if (iface === null) return -ENETUNREACH;
    const destination = iface.ip.destinationOf(to.address.v4);
    if (to.port === 0 || destination === IPV4_BROADCAST || isMulticastV4(destination))
      return -ENETUNREACH;
    if (iface.route(destination) === NO_ROUTE) return -ENETUNREACH;
    if (this.localAddress === 0) this.localAddress = iface.address;
    this.remoteAddress = destination;
    this.remotePort = to.port;
    if (this.localPort === 0) {
      const port = table.connectPort(this.localAddress, destination, to.port);
      if (port === 0) {
        this.remoteAddress = 0;
        this.remotePort = 0;
        return -EADDRNOTAVAIL;
      }
      this.localPort = port;
    } else if (table.tupleInUse(this, this.localAddress, this.localPort, destination, to.port)) {
      this.remoteAddress = 0;
      this.remotePort = 0;
      return -EADDRNOTAVAIL;
    }
    this.initSend(table.isn(this.localAddress, this.localPort, destination, to.port, iface.now));
    this.state = SYN_SENT;
    table.stats.activeOpens++;
    this.schedule();
    return -EINPROGRESS;
  }

  /** Sequence numbers and timers for a new connection starting at `iss`. */
  initSend(iss: number): void {
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = iss;
    this.sndMax = iss;
    this.dataStart = (iss + 1) | 0;
    // NewReno's "recover" starts at the ISN, so the first three duplicates do start a recovery.
    this.recover = iss;
    this.rto = this.table.initialRto;
    this.retries = 0;
    this.ooo.clear();
  }

  /**
   * Queues up to `length` bytes from `src[offset]`; returns the count queued, -EAGAIN when the
   * ring is full (EVENT_OUT follows), -EPIPE once the sending side is shut.
   */
  send(src: Uint8Array, offset: number, length: number, flags: number): number {
    if (this.error !== 0) return -this.takeError();
    const state = this.state;
    if (state === SYN_SENT || state === SYN_RECEIVED) {
      this.wantsWrite = true;
      return -EAGAIN;
    }
    if ((state !== ESTABLISHED && state !== CLOSE_WAIT) || this.finQueued) return -EPIPE;
    if (length < 0) return -EINVAL;
    const n = this.sendRing.write(src, offset, length);
    this.corked = (flags & MSG_MORE) !== 0;
    if (n < length) this.wantsWrite = true;
    if (n === 0) return length === 0 ? 0 : -EAGAIN;
    this.schedule();
    return n;
  }

  /**
   * Copies up to `capacity` received bytes into `dst[offset]`; 0 at end of stream, -EAGAIN when
   * nothing waits, -ENOTCONN when never connected.
   */
  recv(dst: Uint8Array, offset: number, capacity: number, flags: number): number {
    const ring = this.recvRing;
    const readable = ring.readable;
    if (readable === 0) {
      if (this.error !== 0) return -this.takeError();
      if (this.state === LISTEN || (this.state === CLOSED && !this.wasConnected)) return -ENOTCONN;
      if (this.finReceived || this.readShut || this.state === CLOSED) return 0;
      if (this.state === SYN_SENT || this.state === SYN_RECEIVED) return -EAGAIN;
      return -EAGAIN;
    }
    if (capacity <= 0) return 0;
    let n: number;
    if ((flags & MSG_PEEK) !== 0) return ring.peek(dst, offset, capacity, 0);
    n = ring.read(dst, offset, capacity);
    // The window opened: tell the peer when it grew enough to matter (RFC 1122 §4.2.3.3).
    if (this.synchronized && this.state !== TIME_WAIT && !this.finReceived) {
      const free = ring.capacity - ring.readable;
      const advertised = seqDiff(this.rcvAdv, this.rcvNxt);
      const threshold = ring.capacity >>> 1 < this.mss ? ring.capacity >>> 1 : this.mss;
      if (free - advertised >= threshold && advertised < threshold * 2) {
        this.ackNow = true;
        this.schedule();
      }
    }
    return n;
  }

  shutdown(how: number): number {
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return -EINVAL;
    const state = this.state;
    if (state === CLOSED || state === LISTEN || state === SYN_SENT) {
      if (state === SYN_SENT) {
        this.state = CLOSED;
        this.stopTimers();
        return 0;
      }
      return -ENOTCONN;
    }
    if (how !== SHUT_WR) {
      this.readShut = true;
      this.table.ready.raise(this, EVENT_IN);
    }
    if (how !== SHUT_RD) this.closeSending();
    return 0;
  }

  /** Queues our FIN: ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK. */
  private closeSending(): void {
    if (this.finQueued) return;
    const state = this.state;
    if (state === ESTABLISHED || state === SYN_RECEIVED) this.state = FIN_WAIT_1;
    else if (state === CLOSE_WAIT) this.state = LAST_ACK;
    else return;
    this.finQueued = true;
    this.corked = false;
    this.schedule();
  }

  /**
   * The application lets go. Returns true when the slot may be freed now; otherwise the
   * connection lives on as an orphan until it ends.
   */
  close(): boolean {
    const state = this.state;
    const table = this.table;
    if (state === LISTEN) {
      table.dropChildren(this);
      return true;
    }
    if (state === CLOSED || state === SYN_SENT || state === TIME_WAIT) return true;
    // Linux: unread data or SO_LINGER 0 abort the connection with a reset.
    if (this.lingerZero || this.recvRing.readable > 0) {
      this.abort(0, true);
      return true;
    }
    this.orphan = true;
    // Nobody will read again: new data from the peer now resets the connection (Linux's
    // TCPAbortOnData), rather than filling a ring no one drains.
    this.readShut = true;
    this.closeSending();
    if (this.state === FIN_WAIT_2) this.finWait2At = table.now + 2 * table.msl;
    return false;
  }

  takeError(): number {
    const e = this.error;
    this.error = 0;
    return e;
  }

  readiness(mask: number): number {
    let events = 0;
    const state = this.state;
    if (state === LISTEN) {
      if (this.table.acceptable(this) !== null) events |= EVENT_IN;
    } else {
      if (this.recvRing.readable > 0 || this.finReceived || this.readShut) events |= EVENT_IN;
      if (this.finReceived) events |= EVENT_RDHUP;
      if ((state === ESTABLISHED || state === CLOSE_WAIT) && !this.finQueued) {
        if (this.sendRing.writable > 0) events |= EVENT_OUT;
      }
      if (state === CLOSED && this.wasConnected) events |= EVENT_HUP | EVENT_IN | EVENT_OUT;
    }
    if (this.error !== 0) events |= EVENT_ERR;
    return events & mask;
  }

  /**
   * Ends the connection: a reset to the peer when `sendReset` and synchronized, the error kept for
   * the application (0: none), every event raised. An orphan's slot is freed.
   */
  abort(error: number, sendReset: boolean): void {
    const table = this.table;
    if (sendReset && this.state >= SYN_RECEIVED && this.state !== TIME_WAIT)
      table.sendReset(
        this.localAddress,
        this.localPort,
        this.remoteAddress,
        this.remotePort,
        this.sndNxt,
        0,
        false,
      );
    if (this.state === SYN_SENT || this.state === SYN_RECEIVED) {
      if (error !== 0) table.stats.attemptFails++;
    } else if (this.state === ESTABLISHED || this.state === CLOSE_WAIT)
      table.stats.establishedResets++;
    this.enterClosed(error);
  }

  /** CLOSED: rings emptied, timers stopped, the application told; orphans and children freed. */
  enterClosed(error: number): void {
    const table = this.table;
    const wasSync = this.synchronized || this.state === SYN_RECEIVED;
    this.state = CLOSED;
    this.stopTimers();
    this.pendingOutput = false;
    this.sendRing.clear();
    this.ooo.clear();
    if (error !== 0) {
      this.recvRing.clear();
      this.error = error;
    }
    if (wasSync) this.wasConnected = true;
    if (this.orphan || this.parent !== null) {
      table.release(this);
      return;
    }
    table.ready.raise(this, EVENT_IN | EVENT_OUT | EVENT_HUP | (error !== 0 ? EVENT_ERR : 0));
  }

  // ================================================================ input

  /** Options of a SYN or SYN-ACK just received, in the table's parsed options. */
  takeSynOptions(): void {
    const o = this.table.opts;
    this.peerMss = o.mss !== 0 ? o.mss : 536;
    // Our SYN offered everything; a SYN we answer gets only what it offered.
    this.wsOk = o.wscale >= 0;
    this.sndWscale = this.wsOk ? o.wscale : 0;
    if (!this.wsOk) this.rcvWscale = 0;
    this.tsOk = o.hasTimestamp;
    if (this.tsOk) this.tsRecent = o.tsVal;
    this.sackOk = o.sackPermitted;
    const iface = this.table.iface;
    const ourMss = iface !== null ? iface.mtu - 40 : 536;
    this.mss = (this.peerMss < ourMss ? this.peerMss : ourMss) - (this.tsOk ? 12 : 0);
    if (this.mss < 64) this.mss = 64;
  }

  /** Congestion state for a connection that just became established (RFC 5681, RFC 6928). */
  private startCongestion(): void {
    const mss = this.mss;
    const iw = 4380 > 2 * mss ? 4380 : 2 * mss;
    this.cwnd = 10 * mss < (14600 > iw ? 14600 : iw) ? 10 * mss : 14600 > iw ? 14600 : iw;
    this.ssthresh = 0x3fffffff;
  }

  /** A segment for this connection in SYN-SENT. */
  private synSentInput(now: number): void {
    const t = this.table;
    const flags = t.segFlags;
    const ack = t.segAck;
    if ((flags & TCP_ACK) !== 0 && (seqLe(ack, this.iss) || seqLt(this.sndMax, ack))) {
      if ((flags & TCP_RST) === 0)
        t.sendReset(
          this.localAddress,
          this.localPort,
          this.remoteAddress,
          this.remotePort,
          ack,
          0,
          false,
        );
      return;
    }
    if ((flags & TCP_RST) !== 0) {
      t.stats.resetsIn++;
      if ((flags & TCP_ACK) !== 0) this.abort(ECONNREFUSED, false);
      return;
    }
    if ((flags & TCP_SYN) === 0) return;
    this.irs = t.segSeq;
    this.rcvNxt = (t.segSeq + 1) | 0;
    this.takeSynOptions();
    this.lastHeard = now;
    if ((flags & TCP_ACK) !== 0) {
      this.sndUna = ack;
      if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
      // The window of a SYN is never scaled (RFC 7323 §2.2).
      this.sndWnd = t.segWnd;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = t.segSeq;
      this.sndWl2 = ack;
      this.sampleRtt(now, ack);
      this.establish(now);
      this.ackNow = true;
      this.pendingOutput = true;
      t.ready.raise(this, EVENT_OUT);
    } else {
      // Simultaneous open: answer with SYN-ACK, resending our SYN with it.
      this.state = SYN_RECEIVED;
      this.sndNxt = this.iss;
      this.rtoAt = NEVER;
      this.pendingOutput = true;
    }
  }

  private establish(now: number): void {
    this.state = ESTABLISHED;
    this.wasConnected = true;
    this.retries = 0;
    this.rtoAt = seqLt(this.sndUna, this.sndMax) ? now + this.rto : NEVER;
    this.startCongestion();
    this.armKeepalive(now);
  }

  /** The segment in the table's fields, for this connection (not LISTEN, not CLOSED). */
  segment(bytes: Uint8Array, now: number): void {
    const t = this.table;
    const stats = t.stats;
    const o = t.opts;
    if (this.state === SYN_SENT) {
      this.synSentInput(now);
      return;
    }
    const flags = t.segFlags;
    let seq = t.segSeq;
    let at = t.payloadAt;
    let len = t.payloadLength;
    if (this.state === SYN_RECEIVED && (flags & (TCP_SYN | TCP_RST | TCP_ACK)) === TCP_SYN) {
      // The peer's SYN again: our SYN-ACK was lost, or it crossed; answer it once more.
      if (seq === this.irs) {
        this.sndNxt = this.iss;
        this.pendingOutput = true;
      }
      return;
    }
    // A SYN in a synchronized state, whatever its sequence number (RFC 5961 §4): challenge it.
    if ((flags & TCP_SYN) !== 0 && (flags & TCP_RST) === 0 && this.state !== SYN_RECEIVED) {
      t.challengeAck(this, now);
      return;
    }
    // RFC 7323 §5: PAWS, before anything else is believed.
    if (this.tsOk && o.hasTimestamp && (flags & TCP_RST) === 0 && seqLt(o.tsVal, this.tsRecent)) {
      stats.pawsDropped++;
      this.ackNow = true;
      this.pendingOutput = true;
      return;
    }
    // Acceptability (RFC 9293 §3.10.7.4), against the window we advertised.
    let window = seqDiff(this.rcvAdv, this.rcvNxt);
    if (window < 0) window = 0;
    const segLen = len + ((flags & TCP_SYN) !== 0 ? 1 : 0) + ((flags & TCP_FIN) !== 0 ? 1 : 0);
    const offset = seqDiff(seq, this.rcvNxt);
    let acceptable: boolean;
    if (segLen === 0) acceptable = window === 0 ? offset === 0 : offset >= 0 && offset < window;
    else if (window === 0) acceptable = offset === 0;
    else
      acceptable =
        (offset >= 0 && offset < window) ||
        (offset + segLen - 1 >= 0 && offset + segLen - 1 < window);
    if (!acceptable) {
      if ((flags & TCP_RST) === 0) {
        stats.outOfWindow++;
        this.ackNow = true;
        this.pendingOutput = true;
      }
      return;
    }
    // Resets (RFC 5961 §3): only an exact match resets; in-window ones get a challenge ACK.
    if ((flags & TCP_RST) !== 0) {
      stats.resetsIn++;
      if (offset !== 0) {
        t.challengeAck(this, now);
        return;
      }
      const state = this.state;
      if (state === SYN_RECEIVED && this.parent !== null) {
        this.enterClosed(0);
        return;
      }
      if (state === CLOSING || state === LAST_ACK) {
        this.enterClosed(0);
        return;
      }
      this.abort(state === SYN_RECEIVED ? ECONNREFUSED : ECONNRESET, false);
      return;
    }
    // A SYN in a synchronized state (RFC 5961 §4): challenge, never reset on its word.
    if ((flags & TCP_SYN) !== 0) {
      t.challengeAck(this, now);
      return;
    }
    if ((flags & TCP_ACK) === 0) return;
    this.lastHeard = now;
    if (this.keepalive) {
      this.keepProbes = 0;
      this.armKeepalive(now);
    }
    // Timestamps: remember the newest from a segment that starts at or before the left edge.
    if (this.tsOk && o.hasTimestamp && seqLe(seq, this.rcvNxt)) this.tsRecent = o.tsVal;

    const ack = t.segAck;
    if (this.state === SYN_RECEIVED) {
      if (seqLe(ack, this.sndUna) || seqLt(this.sndMax, ack)) {
        t.sendReset(
          this.localAddress,
          this.localPort,
          this.remoteAddress,
          this.remotePort,
          ack,
          0,
          false,
        );
        return;
      }
      this.sndWnd = t.segWnd << this.sndWscale;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      this.establish(now);
      if (this.parent !== null) {
        this.readyOrder = ++t.readyCounter;
        t.ready.raise(this.parent, EVENT_IN);
      } else t.ready.raise(this, EVENT_OUT);
      if (this.finQueued) this.state = FIN_WAIT_1;
    }
    if (!this.processAck(ack, seq, len, now)) return;

    // Data (RFC 9293 §3.10.7.4, seventh).
    const state = this.state;
    if (len > 0 && (state === ESTABLISHED || state === FIN_WAIT_1 || state === FIN_WAIT_2)) {
      if (this.orphan && this.readShut) {
        // Data for a socket nobody will read: Linux resets.
        this.abort(0, true);
        return;
      }
      if (offset < 0) {
        // Already received in part: trim the front.
        at -= offset;
        len += offset;
        seq = this.rcvNxt;
      }
      this.receiveData(bytes, at, len, seq, now);
    } else if (len > 0) {
      // Data after the peer's FIN: acknowledge what we have.
      this.ackNow = true;
      this.pendingOutput = true;
    }
    if ((flags & TCP_FIN) !== 0)
      this.receiveFin(seqDiff((t.segSeq + t.payloadLength) | 0, this.rcvNxt) === 0, now);
  }

  /**
   * The ACK field (RFC 9293 §3.10.7.4, fifth), with RTT sampling, congestion control and the
   * state changes our FIN's acknowledgment brings. False when the segment is to be dropped.
   */
  private processAck(ack: number, seq: number, len: number, now: number): boolean {
    const t = this.table;
    if (seqLt(this.sndMax, ack)) {
      // Acknowledges what we never sent: RFC 5961 §5.2.
      t.challengeAck(this, now);
      return false;
    }
    if (seqLt(ack, (this.sndUna - (this.maxSndWnd > 1 ? this.maxSndWnd : 1)) | 0)) {
      t.challengeAck(this, now);
      return false;
    }
    const window = t.segWnd << this.sndWscale;
    const newlySacked = this.sackOk && t.opts.sackCount > 0 && this.recordSacks();
    if (seqLt(this.sndUna, ack)) {
      const acked = seqDiff(ack, this.sndUna);
      this.sacked.advance(acked);
      this.sampleRtt(now, ack);
      this.retries = 0;
      this.persistBackoff = 0;
      // Data bytes acknowledged leave the ring; SYN and FIN have no bytes there.
      const ring = this.sendRing;
      let n = seqDiff(ack, this.dataStart);
      if (n > ring.readable) n = ring.readable;
      if (n > 0) {
        ring.discard(n);
        this.dataStart = (this.dataStart + n) | 0;
        if (this.wantsWrite) {
          this.wantsWrite = false;
          t.ready.raise(this, EVENT_OUT);
        }
      }
      this.sndUna = ack;
      if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
      this.congestionOnAck(acked, ack, now);
      this.dupAcks = 0;
      this.limitedTransmit = 0;
      this.rtoAt = this.sndUna === this.sndMax ? NEVER : now + this.rto;
      this.pendingOutput = true;
    } else if (
      ack === this.sndUna &&
      len === 0 &&
      // RFC 6675 §2: an ACK that SACKs new data is a duplicate whatever its window.
      (window === this.sndWnd || newlySacked) &&
      this.sndUna !== this.sndMax &&
      (t.segFlags & TCP_FIN) === 0
    ) {
      this.duplicateAck(ack);
    }
    // Window update (RFC 9293: SND.WL1 / SND.WL2 guard against old segments).
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, ack))) {
      if (window > this.sndWnd) this.pendingOutput = true;
      this.sndWnd = window;
      if (window > this.maxSndWnd) this.maxSndWnd = window;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      if (window > 0) {
        this.persistAt = NEVER;
        this.persistBackoff = 0;
      }
    }
    // Our FIN acknowledged?
    if (this.finQueued && ack === this.sndMax && seqLt(this.finSeq, ack)) {
      const state = this.state;
      if (state === FIN_WAIT_1) {
        this.state = FIN_WAIT_2;
        if (this.orphan) this.finWait2At = now + 2 * t.msl;
      } else if (state === CLOSING) {
        t.enterTimeWait(this, now);
        return false;
      } else if (state === LAST_ACK) {
        this.enterClosed(0);
        return false;
      }
    }
    return true;
  }

  /** Sequence number of our FIN, valid once finQueued. */
  get finSeq(): number {
    return (this.dataStart + this.sendRing.readable) | 0;
  }

  private duplicateAck(ack: number): void {
    const t = this.table;
    this.dupAcks++;
    const mss = this.mss;
    if (this.inRecovery) {
      // RFC 6582 §3.2 step 4: each further duplicate inflates the window by a segment; with SACK
      // the segment goes first to the next hole the scoreboard shows (RFC 6675 §5 NextSeg).
      this.cwnd += mss;
      if (this.sacked.count > 0) this.retransmitHole = true;
      this.pendingOutput = true;
      return;
    }
    // RFC 3042 limited transmit: each of the first two duplicates lets one new segment out, so a
    // small window still yields the third duplicate.
    if (this.dupAcks < 3) {
      this.limitedTransmit = this.dupAcks;
      this.pendingOutput = true;
    }
    // RFC 6582 §3.2 step 2: a third duplicate, unless from before the last recovery.
    if (this.dupAcks === 3 && seqLt(this.recover, ack)) {
      this.ssthresh = this.decrease(seqDiff(this.sndMax, this.sndUna));
      this.cwnd = this.ssthresh + 3 * mss;
      this.recover = this.sndMax;
      this.inRecovery = true;
      this.limitedTransmit = 0;
      this.retransmitHead = true;
      this.highRxt = this.sndUna;
      this.rttAt = -1;
      this.pendingOutput = true;
      t.stats.fastRetransmits++;
    }
  }

  /** The slow-start threshold after a loss: half the flight (RFC 5681), or β cwnd for CUBIC. */
  private decrease(flight: number): number {
    const mss = this.mss;
    if (!this.cubic) return flight >>> 1 > 2 * mss ? flight >>> 1 : 2 * mss;
    // RFC 9438 §4.7 fast convergence: a W_max lower than the last one releases bandwidth.
    const cwnd = this.cwnd;
    this.wMax = cwnd < this.wMax ? (cwnd * (1 + CUBIC_BETA)) / 2 : cwnd;
    this.epochStart = -1;
    const s = (cwnd * CUBIC_BETA) | 0;
    return s > 2 * mss ? s : 2 * mss;
  }

  /** RFC 9438 §4.2-4.4: grow toward W_cubic(t + RTT), never slower than the Reno estimate. */
  private cubicGrowth(acked: number, now: number): void {
    const mss = this.mss;
    const cwnd = this.cwnd;
    if (this.epochStart < 0) {
      this.epochStart = now;
      const origin = this.wMax > cwnd ? this.wMax : cwnd;
      this.cubicOrigin = origin;
      this.cubicK = Math.cbrt((origin - cwnd) / mss / CUBIC_C);
      this.wEst = cwnd;
    }
    const t = (now - this.epochStart + this.srtt) / 1000 - this.cubicK;
    let target = this.cubicOrigin + CUBIC_C * t * t * t * mss;
    if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    this.wEst += (CUBIC_ALPHA * acked * mss) / cwnd;
    if (this.wEst > target) target = this.wEst;
    if (target > cwnd) {
      const inc = Math.floor(((target - cwnd) * acked) / cwnd);
      this.cwnd = cwnd + (inc > 0 ? inc : 1);
    }
  }

  private congestionOnAck(acked: number, ack: number, now: number): void {
    const mss = this.mss;
    if (this.inRecovery) {
      if (seqLe(this.recover, ack)) {
        // Full acknowledgment (RFC 6582 §3.2 step 3): deflate.
        const flight = seqDiff(this.sndMax, ack);
        this.cwnd = this.ssthresh < flight + mss ? this.ssthresh : flight + mss;
        this.inRecovery = false;
      } else {
        // Partial: the next hole is lost too; resend it and deflate by what was acknowledged.
        this.retransmitHead = true;
        this.cwnd = this.cwnd > acked ? this.cwnd - acked + mss : mss;
      }
      return;
    }
    if (this.cwnd < this.ssthresh) this.cwnd += acked < mss ? acked : mss;
    else if (this.cubic) this.cubicGrowth(acked, now);
    else {
      const inc = ((mss * mss) / this.cwnd) | 0;
      this.cwnd += inc > 0 ? inc : 1;
    }
    if (this.cwnd > 0x3fffffff) this.cwnd = 0x3fffffff;
  }

  /** RFC 6298 §2 from a timestamp echo, else from the one timed segment (Karn's rule). */
  private sampleRtt(now: number, ack: number): void {
    const o = this.table.opts;
    let r = -1;
    if (this.tsOk && o.hasTimestamp && o.tsEcr !== 0) r = ((now | 0) - o.tsEcr) | 0;
    else if (this.rttAt >= 0 && seqLt(this.rttSeq, ack)) r = now - this.rttAt;
    if (this.rttAt >= 0 && seqLt(this.rttSeq, ack)) this.rttAt = -1;
    if (r < 0) return;
    if (r > MAX_RTO) r = MAX_RTO;
    if (this.srtt === 0) {
      this.srtt = r > 0 ? r : 1;
      this.rttvar = r / 2;
    } else {
      const d = this.srtt > r ? this.srtt - r : r - this.srtt;
      this.rttvar = 0.75 * this.rttvar + 0.25 * d;
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    // G, the clock granularity, is 1 ms.
    let rto = Math.ceil(this.srtt + (4 * this.rttvar > 1 ? 4 * this.rttvar : 1));
    const min = this.table.minRto;
    if (rto < min) rto = min;
    if (rto > MAX_RTO) rto = MAX_RTO;
    this.rto = rto;
  }

  /** In-order or out-of-order data at `seq` (never before rcvNxt). */
  private receiveData(bytes: Uint8Array, at: number, len: number, seq: number, now: number): void {
    const t = this.table;
    const ring = this.recvRing;
    const off = seqDiff(seq, this.rcvNxt);
    const room = ring.capacity - ring.readable - off;
    if (len > room) len = room;
    this.pendingOutput = true;
    if (len <= 0) {
      this.ackNow = true;
      return;
    }
    const hadHoles = this.ooo.count > 0;
    const n = ring.writeAt(off, bytes, at, len);
    if (!this.ooo.insert(off, n)) {
      t.stats.outOfOrderDropped++;
      this.ackNow = true;
      return;
    }
    if (off > 0) {
      // Ahead of a hole: a duplicate ACK at once (with SACK blocks) drives the sender's recovery.
      // One per segment, sent now rather than after the input pass, where a burst of them would
      // fold into one and the sender would never count three.
      t.stats.outOfOrder++;
      t.sendAck(this);
      return;
    }
    const front = this.ooo.front;
    ring.commit(front);
    this.ooo.advance(front);
    this.rcvNxt = (this.rcvNxt + front) | 0;
    t.ready.raise(this, EVENT_IN);
    this.unackedBytes += front;
    // Every second full segment is acknowledged at once (RFC 5681 §4.2), a filled hole too.
    if (hadHoles || this.unackedBytes >= 2 * this.mss) this.ackNow = true;
    else if (this.delackAt === NEVER) this.delackAt = now + t.delayedAck;
  }

  /** The peer's FIN; `inOrder` when it sits at rcvNxt (otherwise it is dropped and comes again). */
  private receiveFin(inOrder: boolean, now: number): void {
    const t = this.table;
    this.ackNow = true;
    this.pendingOutput = true;
    if (!inOrder) return;
    const state = this.state;
    if (state === CLOSE_WAIT || state === CLOSING || state === LAST_ACK) return;
    if (!this.finReceived) {
      this.finReceived = true;
      this.rcvNxt = (this.rcvNxt + 1) | 0;
    }
    t.ready.raise(this, EVENT_IN | EVENT_RDHUP);
    if (state === ESTABLISHED || state === SYN_RECEIVED) this.state = CLOSE_WAIT;
    else if (state === FIN_WAIT_1) this.state = CLOSING;
    else if (state === FIN_WAIT_2) {
      // Our ACK of the FIN goes out before the connection leaves its slot.
      this.state = TIME_WAIT;
      t.sendAck(this);
      t.enterTimeWait(this, now);
    }
  }

  // ================================================================ timers

  private armKeepalive(now: number): void {
    this.keepAt = this.keepalive ? now + this.keepIdle : NEVER;
  }

  setKeepalive(on: boolean): void {
    this.keepalive = on;
    this.keepProbes = 0;
    this.keepAt = on && this.synchronized ? this.table.now + this.keepIdle : NEVER;
    if (on) this.table.wake();
  }

  /** Runs the timers due at `now`. */
  timers(now: number): void {
    const t = this.table;
    if (this.rtoAt <= now) this.retransmitTimeout(now);
    if (this.state === CLOSED) return;
    if (this.delackAt <= now) {
      this.delackAt = NEVER;
      if (this.unackedBytes > 0 || this.ackNow) {
        t.stats.delayedAcks++;
        this.ackNow = true;
        this.pendingOutput = true;
      }
    }
    if (this.persistAt <= now) {
      // Zero-window probe: Linux's tcp_xmit_probe_skb, an old sequence number the peer answers
      // with its window; it never ends the connection while answered.
      this.persistAt = NEVER;
      if (this.sndWnd === 0 && this.sendRing.readable > seqDiff(this.sndNxt, this.dataStart)) {
        t.stats.persistProbes++;
        t.sendProbe(this);
        this.persistBackoff++;
        this.armPersist(now);
      }
    }
    if (this.keepAt <= now) {
      this.keepAt = NEVER;
      if (this.keepalive && this.synchronized) {
        if (this.sndUna !== this.sndMax || this.sendRing.readable > 0) this.armKeepalive(now);
        else if (this.keepProbes >= this.keepCount) {
          this.abort(ETIMEDOUT, true);
          return;
        } else {
          this.keepProbes++;
          t.stats.keepaliveProbes++;
          t.sendProbe(this);
          this.keepAt = now + this.keepInterval;
        }
      }
    }
    if (this.finWait2At <= now) {
      this.finWait2At = NEVER;
      if (this.state === FIN_WAIT_2 && this.orphan) this.abort(0, true);
    }
  }

  private armPersist(now: number): void {
    let d = this.rto << (this.persistBackoff < 10 ? this.persistBackoff : 10);
    if (d > MAX_PERSIST) d = MAX_PERSIST;
    if (d < this.table.minRto) d = this.table.minRto;
    this.persistAt = now + d;
  }

  /** RFC 6298 §5.4-5.7: back off, collapse the window, go back to the oldest unacknowledged. */
  private retransmitTimeout(now: number): void {
    const t = this.table;
    this.rtoAt = NEVER;
    if (this.sndUna === this.sndMax && this.state !== SYN_SENT && this.state !== SYN_RECEIVED)
      return;
    t.stats.timeouts++;
    this.retries++;
    const opening = this.state === SYN_SENT || this.state === SYN_RECEIVED;
    if (this.retries > (opening ? t.synRetries : t.maxRetries)) {
      this.abort(ETIMEDOUT, !opening);
      return;
    }
    this.rto = this.rto * 2 > MAX_RTO ? MAX_RTO : this.rto * 2;
    if (opening) {
      this.sndNxt = this.iss;
    } else {
      const mss = this.mss;
      this.ssthresh = this.decrease(seqDiff(this.sndMax, this.sndUna));
      this.cwnd = mss;
      this.sndNxt = this.sndUna;
      this.recover = this.sndMax;
      this.inRecovery = false;
      // RFC 2018 §8: after a timeout the SACKed bits are forgotten (the receiver may renege).
      this.sacked.clear();
      this.dupAcks = 0;
      this.limitedTransmit = 0;
    }
    this.rttAt = -1;
    this.pendingOutput = true;
  }

  // ================================================================ output

  /** Sends what the state, windows, Nagle and the ACK policy allow. Runs inside a poll only. */
  output(now: number): void {
    const t = this.table;
    this.pendingOutput = false;
    this.blocked = false;
    const state = this.state;
    if (state === CLOSED || state === LISTEN || state === TIME_WAIT) return;
    if (state === SYN_SENT || state === SYN_RECEIVED) {
      if (this.sndNxt === this.iss) {
        const flags = state === SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;
        if (!this.emit(flags, this.iss, 0, 0, now)) return;
        if (this.sndMax === this.iss) {
          // The first SYN is timed (Karn: never a retransmitted one).
          if (this.retries === 0) {
            this.rttSeq = this.iss;
            this.rttAt = now;
          }
        }
        this.sndNxt = (this.iss + 1) | 0;
        this.sndMax = this.sndNxt;
        if (this.retries > 0) {
          t.stats.retransmits++;
          this.totalRetransmits++;
        }
        this.rtoAt = now + this.rto;
      } else if (this.ackNow && state === SYN_RECEIVED) {
        this.emit(TCP_ACK, this.sndNxt, 0, 0, now);
      }
      return;
    }
    let sent = false;
    if (this.retransmitHead) {
      this.retransmitHead = false;
      const r = this.sendAt(this.sndUna, now, true, this.holeAt(0));
      if (r < 0) return;
      const top = (this.sndUna + r) | 0;
      if (seqLt(this.highRxt, top)) this.highRxt = top;
      sent = true;
    }
    if (this.retransmitHole) {
      this.retransmitHole = false;
      const r = this.sendHole(now);
      if (r < 0) return;
      if (r > 0) sent = true;
    }
    const ring = this.sendRing;
    for (;;) {
      const end = (this.dataStart + ring.readable) | 0;
      const queued = seqDiff(end, this.sndNxt);
      const inFlight = seqDiff(this.sndNxt, this.sndUna);
      const finNext = this.finQueued && queued <= 0 && this.sndNxt === end;
      if (queued <= 0 && !finNext) break;
      if (queued > 0) {
        const cwnd = this.cwnd + this.limitedTransmit * this.mss;
        const win = this.sndWnd < cwnd ? this.sndWnd : cwnd;
        const usable = win - inFlight;
        let len = queued < this.mss ? queued : this.mss;
        if (usable < len) {
          // Sender-side silly window avoidance (RFC 9293 §3.8.6.2.1): a partial segment only when
          // it is at least half the largest window the peer offered, or nothing is in flight.
          if (usable <= 0 || (usable < this.maxSndWnd >>> 1 && inFlight > 0)) {
            if (this.sndWnd === 0 && inFlight === 0 && this.persistAt === NEVER)
              this.armPersist(now);
            break;
          }
          len = usable;
        } else if (len < this.mss && !this.finQueued) {
          // Nagle (RFC 896) unless TCP_NODELAY; MSG_MORE holds even a lone segment.
          if (this.corked || (!this.noDelay && inFlight > 0)) break;
        }
        if (this.sendAt(this.sndNxt, now, false, this.mss) < 0) return;
      } else {
        // The FIN alone.
        if (!this.emit(TCP_FIN | TCP_ACK, this.sndNxt, 0, 0, now)) return;
        this.advanceNxt(1, now);
      }
      sent = true;
    }
    if (!sent && this.ackNow) this.emit(TCP_ACK, this.sndNxt, 0, 0, now);
  }

  /**
   * Sends one segment of data (with the FIN when it reaches it) starting at `seq`, as new data
   * (advancing sndNxt) or as a retransmission of the oldest. Returns the sequence space sent, or
   * -1 when no buffer was had.
   */
  private sendAt(seq: number, now: number, head: boolean, most: number): number {
    const ring = this.sendRing;
    const skip = seqDiff(seq, this.dataStart);
    const end = (this.dataStart + ring.readable) | 0;
    let len = seqDiff(end, seq);
    if (len > this.mss) len = this.mss;
    if (len > most) len = most;
    if (len < 0) len = 0;
    if (!head) {
      const cwnd = this.cwnd + this.limitedTransmit * this.mss;
      const win = this.sndWnd < cwnd ? this.sndWnd : cwnd;
      const usable = win - seqDiff(this.sndNxt, this.sndUna);
      if (len > usable && usable > 0) len = usable;
    }
    // The FIN rides on the last segment when it fits there (and, retransmitted, was sent before).
    const fin = this.finQueued && ((seq + len) | 0) === end && (!head || seqLt(end, this.sndMax));
    if (len === 0 && !fin) return 0;
    let flags = TCP_ACK;
    if (fin) flags |= TCP_FIN;
    if (((seq + len) | 0) === end && len > 0) flags |= TCP_PSH;
    const retransmission = seqLt(seq, this.sndMax);
    if (!this.emit(flags, seq, skip < 0 ? 0 : skip, len, now)) return -1;
    if (retransmission) {
      this.table.stats.retransmits++;
      this.totalRetransmits++;
    } else if (this.rttAt < 0 && !this.tsOk) {
      this.rttSeq = seq;
      this.rttAt = now;
    }
    if (!head) this.advanceNxt(len + (fin ? 1 : 0), now);
    else if (this.rtoAt === NEVER) this.rtoAt = now + this.rto;
    return len + (fin ? 1 : 0);
  }

  /** Records the peer's SACK blocks within what is outstanding; true when they SACK new bytes. */
  private recordSacks(): boolean {
    const o = this.table.opts;
    const before = this.sackedBytes();
    for (let i = 0; i < o.sackCount; i++) {
      let start = seqDiff(o.sackStart[i], this.sndUna);
      const end = seqDiff(o.sackEnd[i], this.sndUna);
      if (start < 0) start = 0;
      // Blocks outside what is outstanding are stale or forged (RFC 2018 §8): ignored.
      if (end <= start || end > seqDiff(this.sndMax, this.sndUna)) continue;
      this.sacked.insert(start, end - start);
    }
    return this.sackedBytes() > before;
  }

  private sackedBytes(): number {
    const s = this.sacked;
    let n = 0;
    for (let i = 0; i < s.count; i++) n += s.end(i) - s.start(i);
    return n;
  }

  /** Bytes from `offset` (past sndUna) to the next SACKed range, or a segment when none. */
  private holeAt(offset: number): number {
    const s = this.sacked;
    for (let i = 0; i < s.count; i++) if (offset < s.start(i)) return s.start(i) - offset;
    return this.mss;
  }

  /**
   * Retransmits the first hole past HighRxt below the highest SACKed byte; 0 when there is none,
   * -1 when no buffer was had.
   */
  private sendHole(now: number): number {
    const s = this.sacked;
    const n = s.count;
    if (n === 0) return 0;
    let offset = seqDiff(this.highRxt, this.sndUna);
    if (offset < 0) offset = 0;
    for (let i = 0; i < n; i++) if (offset >= s.start(i) && offset < s.end(i)) offset = s.end(i);
    if (offset >= s.end(n - 1)) return 0;
    const seq = (this.sndUna + offset) | 0;
    const r = this.sendAt(seq, now, true, this.holeAt(offset));
    if (r > 0) this.highRxt = (seq + r) | 0;
    return r;
  }

  private advanceNxt(n: number, now: number): void {
    this.sndNxt = (this.sndNxt + n) | 0;
    if (seqLt(this.sndMax, this.sndNxt)) this.sndMax = this.sndNxt;
    if (this.rtoAt === NEVER) this.rtoAt = now + this.rto;
    this.persistAt = NEVER;
  }

  /** Builds and sends one segment; false (and blocked) when no buffer could be had. */
  private emit(flags: number, seq: number, skip: number, len: number, now: number): boolean {
    const r = this.table.emit(this, flags, seq, skip, len, now);
    if (r < 0) {
      this.blocked = true;
      this.pendingOutput = true;
      this.table.stats.outBlocked++;
      return false;
    }
    return true;
  }

  /** The window field to send, updating rcvAdv; receiver-side silly window avoidance. */
  windowToAdvertise(syn: boolean): number {
    const ring = this.recvRing;
    const free = ring.capacity - ring.readable;
    if (syn) {
      this.rcvAdv = (this.rcvNxt + (free < 0xffff ? free : 0xffff)) | 0;
      return free < 0xffff ? free : 0xffff;
    }
    let current = seqDiff(this.rcvAdv, this.rcvNxt);
    if (current < 0) current = 0;
    let w = free;
    const threshold = ring.capacity >>> 1 < this.mss ? ring.capacity >>> 1 : this.mss;
    // RFC 1122 §4.2.3.3: do not open the window by less than a segment (or half the buffer).
    if (w - current < threshold && w >= current) w = current;
    // While a hole is open the window stays put, so the duplicate ACKs the sender counts carry
    // the same window (RFC 5681 §2's definition of a duplicate).
    if (this.ooo.count > 0 && w > current) w = current;
    let scaled = w >>> this.rcvWscale;
    if (scaled > 0xffff) scaled = 0xffff;
    const edge = (this.rcvNxt + (scaled << this.rcvWscale)) | 0;
    // Never move the right edge back (RFC 9293 §3.8.6.2.2).
    if (seqLt(this.rcvAdv, edge)) this.rcvAdv = edge;
    return scaled;
  }

  /** After any segment with ACK left: the delayed ACK is satisfied. */
  acked(): void {
    this.ackNow = false;
    this.unackedBytes = 0;
    this.delackAt = NEVER;
  }

  /**
   * Makes this fresh slot the child of `listener` in SYN-RECEIVED, from a SYN queue entry (or a
   * valid cookie): our SYN-ACK, sent with `iss`, is what the segment in hand acknowledges.
   * `options` is packSynOptions()' form.
   */
  fromSynQueue(
    listener: TcpConnection,
    local: number,
    remote: number,
    remotePort: number,
    iss: number,
    irs: number,
    options: number,
    tsRecent: number,
    window: number,
    synAckAt: number,
    now: number,
  ): void {
    const t = this.table;
    this.parent = listener;
    this.localAddress = local;
    this.localPort = listener.localPort;
    this.remoteAddress = remote;
    this.remotePort = remotePort;
    this.noDelay = listener.noDelay;
    this.keepalive = listener.keepalive;
    this.keepIdle = listener.keepIdle;
    this.keepInterval = listener.keepInterval;
    this.keepCount = listener.keepCount;
    this.lingerZero = listener.lingerZero;
    this.cubic = listener.cubic;
    this.irs = irs;
    this.rcvNxt = (irs + 1) | 0;
    this.peerMss = options & 0xffff;
    const ws = ((options >>> 16) & 15) - 1;
    this.wsOk = ws >= 0;
    this.sndWscale = this.wsOk ? ws : 0;
    if (!this.wsOk) this.rcvWscale = 0;
    this.sackOk = (options & SYN_SACK) !== 0;
    this.tsOk = (options & SYN_TS) !== 0;
    this.tsRecent = tsRecent;
    const iface = t.iface;
    const ourMss = iface !== null ? iface.mtu - 40 : 536;
    this.mss = (this.peerMss < ourMss ? this.peerMss : ourMss) - (this.tsOk ? 12 : 0);
    if (this.mss < 64) this.mss = 64;
    this.initSend(iss);
    this.sndNxt = (iss + 1) | 0;
    this.sndMax = this.sndNxt;
    this.sndWnd = window;
    this.maxSndWnd = window;
    this.sndWl1 = irs;
    // The SYN-ACK was timed unless it was resent (Karn).
    if (synAckAt >= 0) {
      this.rttSeq = iss;
      this.rttAt = synAckAt;
    }
    this.windowToAdvertise(true);
    this.lastHeard = now;
    this.state = SYN_RECEIVED;
    t.stats.passiveOpens++;
  }

  /** Writes the SACK blocks to report into the table's scratch; returns how many. */
  sackBlocks(max: number, starts: Int32Array, ends: Int32Array): number {
    const ooo = this.ooo;
    const count = ooo.count;
    if (count === 0 || !this.sackOk) return 0;
    let n = 0;
    // RFC 2018 §4: the block holding the latest segment first, then the others.
    const recent = ooo.recent;
    if (recent >= 0 && recent < count) {
      starts[0] = (this.rcvNxt + ooo.start(recent)) | 0;
      ends[0] = (this.rcvNxt + ooo.end(recent)) | 0;
      n = 1;
    }
    for (let i = 0; i < count && n < max; i++) {
      if (i === recent) continue;
      starts[n] = (this.rcvNxt + ooo.start(i)) | 0;
      ends[n] = (this.rcvNxt + ooo.end(i)) | 0;
      n++;
    }
    return n;
  }
}
