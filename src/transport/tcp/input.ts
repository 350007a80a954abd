// SEGMENT ARRIVES (RFC 9293 §3.10.7) for one connection: the acceptability test, resets and SYNs
// per RFC 5961, the ACK field, data into the receive ring (out-of-order bytes parked at their
// place through the Assembler) and the peer's FIN. SYN-SENT's handshake is in handshake.ts.

import { ECONNREFUSED, ECONNRESET } from "../../errno.js";
import {
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  seqDiff,
  seqLe,
  seqLt,
} from "../../wire/tcp.js";
import { EVENT_IN, EVENT_OUT, EVENT_PRI, EVENT_RDHUP } from "../waiter.js";
import { congestionOnAck, duplicateAck, sampleRtt, undoOnDsack } from "./congestion.js";
import type { TcpConnection } from "./connection.js";
import {
  CLOSE_WAIT,
  OOW_ACK_INTERVAL,
  CLOSING,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  LAST_ACK,
  OFF,
  SYN_RECEIVED,
  SYN_SENT,
  TIME_WAIT,
  URG_NONE,
  URG_NOT_YET,
  URG_VALID,
} from "./constants.js";
import { establish, synSentInput } from "./handshake.js";
import { noteDelivery } from "./info.js";
import { isDsack, receiveDsack, recordSacks } from "./sack.js";
import { armKeepalive } from "./timers.js";
import { challengeAck, sendAck, sendReset } from "./segments.js";

/** Duplicate data [start, end) to report in a D-SACK block when SACK was agreed. */
function reportDuplicate(c: TcpConnection, start: number, end: number): void {
  if (!c.sackOk) return;
  c.dsack = true;
  c.dsackStart = start;
  c.dsackEnd = end;
}

/** The segment in the table's fields, for c connection (not LISTEN, not CLOSED). */
export function segmentArrives(c: TcpConnection, bytes: Uint8Array, now: number): void {
  const t = c.table;
  const stats = t.stats;
  const o = t.opts;
  c.segmentsIn++;
  const payload = t.payloadLength;
  if (payload > 0) {
    c.dataSegmentsIn++;
    if (payload > c.receiveMss) c.receiveMss = payload < c.mss ? payload : c.mss;
  }
  if (c.state === SYN_SENT) {
    synSentInput(c, now);
    return;
  }
  const flags = t.segFlags;
  let seq = t.segSeq;
  let at = t.payloadAt;
  let len = t.payloadLength;
  if (c.state === SYN_RECEIVED && (flags & (TCP_SYN | TCP_RST | TCP_ACK)) === TCP_SYN) {
    // The peer's SYN again: our SYN-ACK was lost, or it crossed; answer it once more.
    if (seq === c.irs) {
      c.sndNxt = c.iss;
      c.pendingOutput = true;
    }
    return;
  }
  // A SYN in a synchronized state, whatever its sequence number (RFC 5961 §4): challenge it.
  if ((flags & TCP_SYN) !== 0 && (flags & TCP_RST) === 0 && c.state !== SYN_RECEIVED) {
    challengeAck(t, c, now);
    return;
  }
  // RFC 7323 §5: PAWS, before anything else is believed.
  if (c.tsOk && o.hasTimestamp && (flags & TCP_RST) === 0 && seqLt(o.tsVal, c.tsRecent)) {
    stats.pawsDropped++;
    c.ackNow = true;
    c.pendingOutput = true;
    return;
  }
  // Acceptability (RFC 9293 §3.10.7.4), against the window we advertised.
  let window = seqDiff(c.rcvAdv, c.rcvNxt);
  if (window < 0) window = 0;
  const segLen = len + ((flags & TCP_SYN) !== 0 ? 1 : 0) + ((flags & TCP_FIN) !== 0 ? 1 : 0);
  const offset = seqDiff(seq, c.rcvNxt);
  let acceptable: boolean;
  if (segLen === 0) acceptable = window === 0 ? offset === 0 : offset >= 0 && offset < window;
  else if (window === 0) acceptable = offset === 0;
  else
    acceptable =
      (offset >= 0 && offset < window) ||
      (offset + segLen - 1 >= 0 && offset + segLen - 1 < window);
  if (!acceptable) {
    if ((flags & TCP_RST) !== 0) return;
    stats.outOfWindow++;
    if (len > 0 && offset < 0) {
      // Data we already have: the sender retransmitted needlessly; say so (RFC 2883).
      const end = offset + len <= 0 ? (seq + len) | 0 : c.rcvNxt;
      reportDuplicate(c, seq, end);
    } else if (len === 0 && (flags & TCP_SYN) === 0) {
      // A bare segment out of the window may be one side of an ACK loop (two ends disagreeing
      // about the window): answer one every 500 ms at most, as Linux does.
      if (now - c.oowAckAt < OOW_ACK_INTERVAL) {
        stats.outOfWindowLimited++;
        return;
      }
      c.oowAckAt = now;
    }
    c.ackNow = true;
    c.pendingOutput = true;
    return;
  }
  // Resets (RFC 5961 §3): only an exact match resets; in-window ones get a challenge ACK.
  if ((flags & TCP_RST) !== 0) {
    stats.resetsIn++;
    if (offset !== 0) {
      challengeAck(t, c, now);
      return;
    }
    const state = c.state;
    if (state === SYN_RECEIVED && c.parent !== null) {
      c.enterClosed(0);
      return;
    }
    if (state === CLOSING || state === LAST_ACK) {
      c.enterClosed(0);
      return;
    }
    c.abort(state === SYN_RECEIVED ? ECONNREFUSED : ECONNRESET, false);
    return;
  }
  // A SYN in a synchronized state (RFC 5961 §4): challenge, never reset on its word.
  if ((flags & TCP_SYN) !== 0) {
    challengeAck(t, c, now);
    return;
  }
  if ((flags & TCP_ACK) === 0) return;
  c.lastHeard = now;
  if (c.keepalive) {
    c.keepProbes = 0;
    armKeepalive(c, now);
  }
  // Timestamps: remember the newest from a segment that starts at or before the left edge.
  if (c.tsOk && o.hasTimestamp && seqLe(seq, c.rcvNxt)) c.tsRecent = o.tsVal;

  const ack = t.segAck;
  if (c.state === SYN_RECEIVED) {
    if (seqLe(ack, c.sndUna) || seqLt(c.sndMax, ack)) {
      sendReset(t, c.localAddress, c.localPort, c.remoteAddress, c.remotePort, ack, 0, false);
      return;
    }
    c.sndWnd = t.segWnd << c.sndWscale;
    c.maxSndWnd = c.sndWnd;
    c.sndWl1 = seq;
    c.sndWl2 = ack;
    establish(c, now);
    if (c.parent !== null) {
      c.readyOrder = ++t.readyCounter;
      t.ready.raise(c.parent, EVENT_IN);
    } else t.ready.raise(c, EVENT_OUT);
    if (c.finQueued) c.state = FIN_WAIT_1;
  }
  if (!processAck(c, ack, seq, len, now)) return;

  // The URG bit (RFC 9293 §3.10.7.4, sixth), before the segment's data is queued.
  const state = c.state;
  if (
    (flags & TCP_URG) !== 0 &&
    (state === ESTABLISHED || state === FIN_WAIT_1 || state === FIN_WAIT_2)
  )
    urgentPointer(c, t.segSeq, t.segUrgent);

  // Data (RFC 9293 §3.10.7.4, seventh).
  if (len > 0 && (state === ESTABLISHED || state === FIN_WAIT_1 || state === FIN_WAIT_2)) {
    if (c.orphan && c.readShut) {
      // Data for a socket nobody will read: Linux resets.
      c.abort(0, true);
      return;
    }
    if (offset < 0) {
      // Already received in part: trim the front, and report the duplicate part (RFC 2883).
      reportDuplicate(c, seq, c.rcvNxt);
      c.ackNow = true;
      at -= offset;
      len += offset;
      seq = c.rcvNxt;
    }
    receiveData(c, bytes, at, len, seq, now);
  } else if (len > 0) {
    // Data after the peer's FIN: acknowledge what we have.
    c.ackNow = true;
    c.pendingOutput = true;
  }
  if ((flags & TCP_FIN) !== 0)
    receiveFin(c, seqDiff((t.segSeq + t.payloadLength) | 0, c.rcvNxt) === 0, now);
}

/**
 * The ACK field (RFC 9293 §3.10.7.4, fifth), with RTT sampling, congestion control and the
 * state changes our FIN's acknowledgment brings. False when the segment is to be dropped.
 */
export function processAck(
  c: TcpConnection,
  ack: number,
  seq: number,
  len: number,
  now: number,
): boolean {
  const t = c.table;
  if (seqLt(c.sndMax, ack)) {
    // Acknowledges what we never sent: RFC 5961 §5.2.
    challengeAck(t, c, now);
    return false;
  }
  if (seqLt(ack, (c.sndUna - (c.maxSndWnd > 1 ? c.maxSndWnd : 1)) | 0)) {
    challengeAck(t, c, now);
    return false;
  }
  const window = t.segWnd << c.sndWscale;
  const sacks = c.sackOk && t.opts.sackCount > 0;
  const dsack = sacks && isDsack(c, ack);
  const believed = dsack && receiveDsack(c);
  const newlySacked = sacks && recordSacks(c);
  if (seqLt(c.sndUna, ack)) {
    const acked = seqDiff(ack, c.sndUna);
    c.sacked.advance(acked);
    sampleRtt(c, now, ack);
    c.bytesAcked += acked;
    if (c.sndUna === c.iss) c.delivered++;
    if (c.urgentMode && !seqLt(ack, c.sndUp)) c.urgentMode = false;
    c.retries = 0;
    c.persistBackoff = 0;
    // Data bytes acknowledged leave the ring; SYN and FIN have no bytes there.
    const ring = c.sendRing;
    let n = seqDiff(ack, c.dataStart);
    if (n > ring.readable) n = ring.readable;
    if (n > 0) {
      ring.discard(n);
      c.dataStart = (c.dataStart + n) | 0;
      c.delivered += Math.ceil(n / c.mss);
      noteDelivery(c, now);
      if (c.wantsWrite) {
        c.wantsWrite = false;
        t.ready.raise(c, EVENT_OUT);
      }
    }
    c.sndUna = ack;
    if (seqLt(c.sndNxt, ack)) c.sndNxt = ack;
    congestionOnAck(c, acked, ack, now);
    c.dupAcks = 0;
    c.limitedTransmit = 0;
    c.rtoAt = c.sndUna === c.sndMax ? OFF : now + c.rto;
    c.pendingOutput = true;
  } else if (
    ack === c.sndUna &&
    len === 0 &&
    // RFC 6675 §2: an ACK that SACKs new data is a duplicate whatever its window; one that only
    // reports a duplicate of ours (D-SACK) says nothing of a loss.
    (newlySacked || (window === c.sndWnd && !dsack)) &&
    c.sndUna !== c.sndMax &&
    (t.segFlags & TCP_FIN) === 0
  ) {
    duplicateAck(c, ack);
  }
  if (believed) undoOnDsack(c);
  // Window update (RFC 9293: SND.WL1 / SND.WL2 guard against old segments).
  if (seqLt(c.sndWl1, seq) || (c.sndWl1 === seq && seqLe(c.sndWl2, ack))) {
    if (window > c.sndWnd) c.pendingOutput = true;
    c.sndWnd = window;
    if (window > c.maxSndWnd) c.maxSndWnd = window;
    c.sndWl1 = seq;
    c.sndWl2 = ack;
    if (window > 0) {
      c.persistAt = OFF;
      c.persistBackoff = 0;
    }
  }
  // Our FIN acknowledged?
  if (c.finQueued && ack === c.sndMax && seqLt(c.finSeq, ack)) {
    const state = c.state;
    if (state === FIN_WAIT_1) {
      c.state = FIN_WAIT_2;
      if (c.orphan) c.finWait2At = now + 2 * t.msl;
    } else if (state === CLOSING) {
      t.enterTimeWait(c, now);
      return false;
    } else if (state === LAST_ACK) {
      c.enterClosed(0);
      return false;
    }
  }
  return true;
}

/** In-order or out-of-order data at `seq` (never before rcvNxt). */
export function receiveData(
  c: TcpConnection,
  bytes: Uint8Array,
  at: number,
  len: number,
  seq: number,
  now: number,
): void {
  const t = c.table;
  const ring = c.recvRing;
  const off = seqDiff(seq, c.rcvNxt);
  const room = ring.capacity - ring.readable - off;
  if (len > room) len = room;
  c.pendingOutput = true;
  if (len <= 0) {
    c.ackNow = true;
    return;
  }
  const hadHoles = c.ooo.count > 0;
  const n = ring.writeAt(off, bytes, at, len);
  if (!c.ooo.insert(off, n)) {
    t.stats.outOfOrderDropped++;
    c.ackNow = true;
    return;
  }
  // SO_TIMESTAMP on a stream: the arrival of the last segment that brought data.
  c.dataReceivedAt = now;
  if (off > 0) {
    c.outOfOrderIn++;
    // Ahead of a hole: a duplicate ACK at once (with SACK blocks) drives the sender's recovery.
    // One per segment, sent now rather than after the input pass, where a burst of them would
    // fold into one and the sender would never count three.
    t.stats.outOfOrder++;
    sendAck(t, c);
    return;
  }
  const front = c.ooo.front;
  ring.commit(front);
  c.ooo.advance(front);
  c.rcvNxt = (c.rcvNxt + front) | 0;
  c.bytesReceived += front;
  if (c.urgState === URG_NOT_YET && seqLt(c.urgSeq, c.rcvNxt)) {
    // The urgent byte is here: recv(MSG_OOB) may take it, and poll says EPOLLPRI.
    c.urgState = URG_VALID;
    t.ready.raise(c, EVENT_IN | EVENT_PRI);
  } else t.ready.raise(c, EVENT_IN);
  c.unackedBytes += front;
  // Every second full segment is acknowledged at once (RFC 5681 §4.2), a filled hole too.
  if (hadHoles || c.unackedBytes >= 2 * c.mss) c.ackNow = true;
  else if (c.delackAt === OFF) c.delackAt = now + t.delayedAck;
}

/** The peer's FIN; `inOrder` when it sits at rcvNxt (otherwise it is dropped and comes again). */
export function receiveFin(c: TcpConnection, inOrder: boolean, now: number): void {
  const t = c.table;
  c.ackNow = true;
  c.pendingOutput = true;
  if (!inOrder) return;
  const state = c.state;
  if (state === CLOSE_WAIT || state === CLOSING || state === LAST_ACK) return;
  if (!c.finReceived) {
    c.finReceived = true;
    c.rcvNxt = (c.rcvNxt + 1) | 0;
    c.bytesReceived++;
  }
  t.ready.raise(c, EVENT_IN | EVENT_RDHUP);
  if (state === ESTABLISHED || state === SYN_RECEIVED) c.state = CLOSE_WAIT;
  else if (state === FIN_WAIT_1) c.state = CLOSING;
  else if (state === FIN_WAIT_2) {
    // Our ACK of the FIN goes out before the connection leaves its slot.
    c.state = TIME_WAIT;
    sendAck(t, c);
    t.enterTimeWait(c, now);
  }
}

/**
 * An urgent pointer (Linux's tcp_check_urg). Linux reads it as RFC 793 wrote it, naming the byte
 * after the urgent one (tcp_stdurg off), and so does every stack it talks to. A pointer to data
 * already received or read, or not past the one we hold, is old news; a newer one replaces it,
 * and an older urgent byte still waiting at the read point out of line is dropped from the stream.
 */
export function urgentPointer(c: TcpConnection, seq: number, pointer: number): void {
  const ptr = (seq + (pointer > 0 ? pointer - 1 : 0)) | 0;
  const copied = c.copiedSeq;
  if (seqLt(ptr, copied) || seqLt(ptr, c.rcvNxt)) return;
  if (c.urgState !== URG_NONE && !seqLt(c.urgSeq, ptr)) return;
  if (c.urgState !== URG_NONE && c.urgSeq === copied && !c.oobInline && c.recvRing.readable > 0)
    c.recvRing.discard(1);
  c.urgState = URG_NOT_YET;
  c.urgSeq = ptr;
}
