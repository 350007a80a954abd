// One TCP connection (RFC 9293): its state, its send and receive rings and its timers. The work on
// it lives in one file per job, as functions taking the connection: calls.ts (the application's
// calls through a TcpEndpoint), input.ts (segments arriving; TcpTable.input leaves the parsed
// segment in the table's fields) and handshake.ts (its opening handshake), output.ts (segments
// leaving, run only from the stack's poll so every timestamp, RTO and RTT sample uses that poll's
// time), timers.ts, congestion.ts, sack.ts. buffers.ts sizes the rings (SO_RCVBUF, SO_SNDBUF).
//
// Sequence space: the send ring holds every byte from `dataStart` (the oldest unacknowledged data
// byte) on, sent or not; SYN and FIN take a sequence number but no byte of the ring. The receive
// ring holds in-order bytes not yet read, and past them out-of-order bytes parked at their place,
// which the Assembler tracks relative to rcvNxt; so out-of-order data counts against the window.

import { Assembler } from "../../storage/assembler.js";
import { Memory } from "../../storage/memory.js";
import { RegionRing } from "../../storage/region-ring.js";
import { ByteRing } from "../../storage/ring.js";
import { Spans } from "../../storage/spans.js";
import { Slot } from "../endpoint-table.js";
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_PRI, EVENT_RDHUP } from "../waiter.js";
import {
  CLOSED,
  CLOSE_WAIT,
  ESTABLISHED,
  LISTEN,
  OFF,
  SYN_RECEIVED,
  SYN_SENT,
  TIME_WAIT,
  URG_NONE,
  URG_VALID,
} from "./constants.js";
import type { TcpTable } from "./table.js";
import { closeRings, openRings, resizeReceiveRing, scaleFor } from "./buffers.js";
import { sendReset } from "./segments.js";
import { stopTimers } from "./timers.js";

export class TcpConnection extends Slot {
  readonly id: number;
  readonly table: TcpTable;
  readonly sendRing: ByteRing;
  readonly recvRing: ByteRing;
  /** The rings' spans of the socket buffer region, held while the connection is open. */
  readonly sendSpan: RegionRing;
  readonly recvSpan: RegionRing;
  readonly ooo: Assembler;
  /** The SACK scoreboard (RFC 6675): what the peer holds past sndUna, relative to sndUna. */
  readonly sacked: Assembler;
  /** The shift our receive ring needs, offered in every SYN (it follows SO_RCVBUF). */
  ourWscale = 0;

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

  // -- timers (absolute, ms; OFF when not armed)
  rtoAt = OFF;
  delackAt = OFF;
  keepAt = OFF;
  persistAt = OFF;
  /** An orphan in FIN-WAIT-2 gives up at this time (Linux's tcp_fin_timeout). */
  finWait2At = OFF;

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

  // -- spurious retransmissions (RFC 3708 with D-SACK, RFC 3522 with timestamps) and their undo,
  // as Linux's undo_marker, undo_retrans, retrans_stamp, prior_cwnd and prior_ssthresh
  /** A loss episode's reduction may still be undone; the fields below describe the episode. */
  undoArmed = false;
  /** The episode had a retransmission timeout (else it is a fast recovery). */
  undoTimeout = false;
  /** sndUna when the episode began: only D-SACKs above it are about its retransmissions. */
  undoMarker = 0;
  /**
   * Sequence space the episode retransmitted that the peer has not reported duplicate; -1 before
   * the first retransmission. Bytes, not Linux's segments: a hole is resent in MSS pieces from its
   * start, which need not fall on the edges of the segments first sent, so one retransmission may
   * come back in two D-SACKs.
   */
  undoRetrans = -1;
  /** Our timestamp on the episode's first retransmission (valid once undoRetrans >= 0). */
  undoStamp = 0;
  /** What the reduction took: cwnd, ssthresh (at least 3/4 cwnd), CUBIC's W_max. */
  priorCwnd = 0;
  priorSsthresh = 0;
  priorWMax = 0;
  /** Going back over the flight after a timeout, until sndUna reaches recover (or an undo). */
  inLoss = false;
  /** Sequence space retransmitted, and reported duplicate by D-SACKs, over the connection's life. */
  retransmittedBytes = 0;
  dsackedBytes = 0;
  /** Loss episodes undone, over the connection's life. */
  undos = 0;
  /** RFC 6675 RescueRxt: a rescue retransmission is allowed while it is below sndUna. */
  rescueRxt = 0;

  // -- acknowledgments
  /** An ACK must go in the next output. */
  ackNow = false;
  /** Duplicate data to report in the next ACK's first SACK block (RFC 2883 D-SACK). */
  dsack = false;
  dsackStart = 0;
  dsackEnd = 0;
  /** When the last out-of-window segment without data was answered (rate-limited). */
  oowAckAt = -Infinity;
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

  // -- urgent data (RFC 9293 §3.8.5, as Linux reads the pointer: it names the byte after)
  /** Urgent data we were told of: URG_NONE, URG_NOT_YET (the byte is still to come), URG_VALID, URG_READ. */
  urgState = URG_NONE;
  /** Sequence number of the urgent byte, while urgState is not URG_NONE. */
  urgSeq = 0;
  /** SO_OOBINLINE: the urgent byte stays in the stream instead of being taken out. */
  oobInline = false;
  /** send(MSG_OOB): urgent mode until sndUna passes sndUp, the sequence after the urgent byte. */
  urgentMode = false;
  sndUp = 0;

  // -- what TCP_INFO and SO_TIMESTAMP report (Linux's tcp_info figures)
  /** When the last segment with data arrived (stack ms), -1 before any. */
  dataReceivedAt = -1;
  /** When data last left (stack ms). */
  dataSentAt = 0;
  /** Sequence space the peer acknowledged, and that we received in order (data and FIN). */
  bytesAcked = 0;
  bytesReceived = 0;
  /** Data bytes sent, retransmissions included, and retransmitted. */
  bytesSent = 0;
  bytesRetransmitted = 0;
  segmentsIn = 0;
  segmentsOut = 0;
  dataSegmentsIn = 0;
  dataSegmentsOut = 0;
  /** Data segments the peer acknowledged, counted in MSS-sized pieces. */
  delivered = 0;
  /** Segments that arrived out of order. */
  outOfOrderIn = 0;
  /** The largest payload the peer sent, from 536 up (Linux's rcv_mss estimate). */
  receiveMss = 536;
  /** The smallest RTT sample (ms), -1 before any. */
  minRtt = -1;
  /** Delivery rate (bytes/s) over the last round trip, and where that round trip started. */
  deliveryRate = 0;
  rateAckedAt = 0;
  rateAcked = 0;

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
    this.ourWscale = scaleFor(recvBuffer);
    this.rcvWscale = this.ourWscale;
  }

  claimBuffers(): boolean {
    return openRings(this);
  }

  freeBuffers(): void {
    closeRings(this);
  }

  resizeReceive(bytes: number): void {
    resizeReceiveRing(this, bytes);
  }

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
    stopTimers(this);
    this.srtt = this.rttvar = 0;
    this.rto = this.table.initialRto;
    this.retries = 0;
    this.rttAt = -1;
    this.cwnd = 0;
    this.ssthresh = 0x3fffffff;
    this.dupAcks = 0;
    this.inRecovery = false;
    this.retransmitHead = false;
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
    this.undoArmed = this.undoTimeout = this.inLoss = false;
    this.undoMarker = this.undoStamp = this.rescueRxt = 0;
    this.undoRetrans = -1;
    this.priorCwnd = this.priorSsthresh = this.priorWMax = 0;
    this.retransmittedBytes = this.dsackedBytes = this.undos = 0;
    this.ackNow = false;
    this.dsack = false;
    this.dsackStart = this.dsackEnd = 0;
    this.oowAckAt = -Infinity;
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
    this.urgState = URG_NONE;
    this.urgSeq = 0;
    this.oobInline = false;
    this.urgentMode = false;
    this.sndUp = 0;
    this.dataReceivedAt = -1;
    this.dataSentAt = 0;
    this.bytesAcked = this.bytesReceived = this.bytesSent = this.bytesRetransmitted = 0;
    this.segmentsIn = this.segmentsOut = this.dataSegmentsIn = this.dataSegmentsOut = 0;
    this.delivered = 0;
    this.outOfOrderIn = 0;
    this.receiveMss = 536;
    this.minRtt = -1;
    this.deliveryRate = 0;
    this.rateAckedAt = 0;
    this.rateAcked = 0;
    this.sendRing.clear();
    this.recvRing.clear();
    this.ooo.clear();
  }

  /** Whether the state has a synchronized sequence space (RFC 9293's "synchronized states"). */
  get synchronized(): boolean {
    return this.state >= ESTABLISHED;
  }

  /** Asks for an output pass: at once inside a poll, otherwise at the next one. */
  schedule(): void {
    this.pendingOutput = true;
    this.table.wake();
  }

  // ================================================================ application calls

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
      // An urgent byte out of line at the read point is not data to read (tcp_poll's target++).
      let readable = this.recvRing.readable;
      if (readable > 0 && this.urgState !== URG_NONE && !this.oobInline) {
        if (this.urgSeq === this.copiedSeq) readable--;
      }
      if (readable > 0 || this.finReceived || this.readShut) events |= EVENT_IN;
      if (this.urgState === URG_VALID) events |= EVENT_PRI;
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
   * Ends the connection: a reset to the peer when `withReset` and synchronized, the error kept for
   * the application (0: none), every event raised. An orphan's slot is freed.
   */
  abort(error: number, withReset: boolean): void {
    const table = this.table;
    if (withReset && this.state >= SYN_RECEIVED && this.state !== TIME_WAIT)
      sendReset(
        table,
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
    stopTimers(this);
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

  /**
   * The sequence number of the first byte not yet read (Linux's copied_seq): the receive ring
   * holds the bytes from there to rcvNxt, and rcvNxt has taken a sequence number for the FIN.
   */
  get copiedSeq(): number {
    return (this.rcvNxt - this.recvRing.readable - (this.finReceived ? 1 : 0)) | 0;
  }

  /** Sequence number of our FIN, valid once finQueued. */
  get finSeq(): number {
    return (this.dataStart + this.sendRing.readable) | 0;
  }
}
