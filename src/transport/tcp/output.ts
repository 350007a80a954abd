// Output for one connection: what the state, windows, Nagle, cork and the ACK policy let go now,
// each segment built by the table straight into a pool buffer from the send ring; the receive
// window to advertise (silly window avoidance on the receiving side).

import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, seqDiff, seqLt } from "../../wire/tcp.js";
import type { TcpConnection } from "./connection.js";
import { CLOSED, LISTEN, OFF, SYN_RECEIVED, SYN_SENT, TIME_WAIT } from "./constants.js";
import { noteRetransmit } from "./congestion.js";
import { holeAt, pipe, sackRecovery, sendHole, sendRescue } from "./sack.js";
import { armPersist } from "./timers.js";
import { writeSegment } from "./segments.js";

/** Sends what the state, windows, Nagle and the ACK policy allow. Runs inside a poll only. */
export function transmit(c: TcpConnection, now: number): void {
  const t = c.table;
  c.pendingOutput = false;
  c.blocked = false;
  const state = c.state;
  if (state === CLOSED || state === LISTEN || state === TIME_WAIT) return;
  if (state === SYN_SENT || state === SYN_RECEIVED) {
    if (c.sndNxt === c.iss) {
      const flags = state === SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;
      if (!emitSegment(c, flags, c.iss, 0, 0, now)) return;
      if (c.sndMax === c.iss) {
        // The first SYN is timed (Karn: never a retransmitted one).
        if (c.retries === 0) {
          c.rttSeq = c.iss;
          c.rttAt = now;
        }
      }
      c.sndNxt = (c.iss + 1) | 0;
      c.sndMax = c.sndNxt;
      if (c.retries > 0) {
        t.stats.retransmits++;
        c.totalRetransmits++;
      }
      c.rtoAt = now + c.rto;
    } else if (c.ackNow && state === SYN_RECEIVED) {
      emitSegment(c, TCP_ACK, c.sndNxt, 0, 0, now);
    }
    return;
  }
  let sent = false;
  if (c.retransmitHead) {
    c.retransmitHead = false;
    const r = sendAt(c, c.sndUna, now, true, holeAt(c, 0));
    if (r < 0) return;
    const top = (c.sndUna + r) | 0;
    if (seqLt(c.highRxt, top)) c.highRxt = top;
    sent = true;
  }
  const scoreboard = sackRecovery(c);
  if (scoreboard) {
    // RFC 6675 §5 step (C): while cwnd - pipe allows a segment, lost holes first (NextSeg rule 1).
    for (;;) {
      if (c.cwnd - pipe(c) < c.mss) break;
      const r = sendHole(c, now, false);
      if (r < 0) return;
      if (r === 0) break;
      sent = true;
    }
  }
  const ring = c.sendRing;
  for (;;) {
    const end = (c.dataStart + ring.readable) | 0;
    const queued = seqDiff(end, c.sndNxt);
    // In SACK recovery what is in flight is the pipe, not everything past sndUna.
    const inFlight = scoreboard ? pipe(c) : seqDiff(c.sndNxt, c.sndUna);
    const finNext = c.finQueued && queued <= 0 && c.sndNxt === end;
    if (queued <= 0 && !finNext) break;
    if (queued > 0) {
      const cwnd = c.cwnd + c.limitedTransmit * c.mss;
      const win = c.sndWnd < cwnd ? c.sndWnd : cwnd;
      const usable = win - inFlight;
      let len = queued < c.mss ? queued : c.mss;
      if (usable < len) {
        // Sender-side silly window avoidance (RFC 9293 §3.8.6.2.1): a partial segment only when
        // it is at least half the largest window the peer offered, or nothing is in flight.
        if (usable <= 0 || (usable < c.maxSndWnd >>> 1 && inFlight > 0)) {
          if (c.sndWnd === 0 && inFlight === 0 && c.persistAt === OFF) armPersist(c, now);
          break;
        }
        len = usable;
      } else if (len < c.mss && !c.finQueued) {
        // Nagle (RFC 896) unless TCP_NODELAY; MSG_MORE holds even a lone segment. Urgent data
        // goes at once, as Linux's tcp_nagle_test lets it.
        if (!c.urgentMode && (c.corked || (!c.noDelay && inFlight > 0))) break;
      }
      if (sendAt(c, c.sndNxt, now, false, c.mss) < 0) return;
    } else {
      // The FIN alone.
      if (!emitSegment(c, TCP_FIN | TCP_ACK, c.sndNxt, 0, 0, now)) return;
      advanceNxt(c, 1, now);
    }
    sent = true;
  }
  // NextSeg rule 3: with no new data to send, holes not yet deemed lost, so the tail of a
  // transfer is repaired without waiting for the retransmission timer; failing that, rule 4's
  // rescue of the last segment.
  if (scoreboard && c.cwnd - pipe(c) >= c.mss) {
    let r = sendHole(c, now, true);
    if (r === 0) r = sendRescue(c, now);
    if (r < 0) return;
    if (r > 0) sent = true;
  }
  if (!sent && c.ackNow) emitSegment(c, TCP_ACK, c.sndNxt, 0, 0, now);
}

/**
 * Sends one segment of data (with the FIN when it reaches it) starting at `seq`, as new data
 * (advancing sndNxt) or as a retransmission of the oldest. Returns the sequence space sent, or
 * -1 when no buffer was had.
 */
export function sendAt(
  c: TcpConnection,
  seq: number,
  now: number,
  head: boolean,
  most: number,
): number {
  const ring = c.sendRing;
  const skip = seqDiff(seq, c.dataStart);
  const end = (c.dataStart + ring.readable) | 0;
  let len = seqDiff(end, seq);
  if (len > c.mss) len = c.mss;
  if (len > most) len = most;
  if (head) {
    // A retransmission never reaches past what was sent: those bytes are new data, which only
    // the new-data path may send (it moves sndNxt), or they would go twice.
    const sent = seqDiff(c.sndMax, seq);
    if (len > sent) len = sent;
  }
  if (len < 0) len = 0;
  if (!head) {
    const cwnd = c.cwnd + c.limitedTransmit * c.mss;
    const win = c.sndWnd < cwnd ? c.sndWnd : cwnd;
    const usable = win - (sackRecovery(c) ? pipe(c) : seqDiff(c.sndNxt, c.sndUna));
    if (len > usable && usable > 0) len = usable;
  }
  // The FIN rides on the last segment when it fits there (and, retransmitted, was sent before).
  const fin = c.finQueued && ((seq + len) | 0) === end && (!head || seqLt(end, c.sndMax));
  if (len === 0 && !fin) return 0;
  let flags = TCP_ACK;
  if (fin) flags |= TCP_FIN;
  if (((seq + len) | 0) === end && len > 0) flags |= TCP_PSH;
  const retransmission = seqLt(seq, c.sndMax);
  if (!emitSegment(c, flags, seq, skip < 0 ? 0 : skip, len, now)) return -1;
  if (retransmission) {
    c.table.stats.retransmits++;
    c.totalRetransmits++;
    noteRetransmit(c, len + (fin ? 1 : 0), now);
    c.bytesRetransmitted += len;
  } else if (c.rttAt < 0 && !c.tsOk) {
    c.rttSeq = seq;
    c.rttAt = now;
  }
  if (!head) advanceNxt(c, len + (fin ? 1 : 0), now);
  else if (c.rtoAt === OFF) c.rtoAt = now + c.rto;
  return len + (fin ? 1 : 0);
}

export function advanceNxt(c: TcpConnection, n: number, now: number): void {
  c.sndNxt = (c.sndNxt + n) | 0;
  if (seqLt(c.sndMax, c.sndNxt)) c.sndMax = c.sndNxt;
  if (c.rtoAt === OFF) c.rtoAt = now + c.rto;
  c.persistAt = OFF;
}

/** Builds and sends one segment; false (and blocked) when no buffer could be had. */
export function emitSegment(
  c: TcpConnection,
  flags: number,
  seq: number,
  skip: number,
  len: number,
  now: number,
): boolean {
  const r = writeSegment(c.table, c, flags, seq, skip, len, now);
  if (r < 0) {
    c.blocked = true;
    c.pendingOutput = true;
    c.table.stats.outBlocked++;
    return false;
  }
  return true;
}

/** The window field to send, updating rcvAdv; receiver-side silly window avoidance. */
export function windowToAdvertise(c: TcpConnection, syn: boolean): number {
  const ring = c.recvRing;
  const free = ring.capacity - ring.readable;
  if (syn) {
    c.rcvAdv = (c.rcvNxt + (free < 0xffff ? free : 0xffff)) | 0;
    return free < 0xffff ? free : 0xffff;
  }
  let current = seqDiff(c.rcvAdv, c.rcvNxt);
  if (current < 0) current = 0;
  let w = free;
  const threshold = ring.capacity >>> 1 < c.mss ? ring.capacity >>> 1 : c.mss;
  // RFC 1122 §4.2.3.3: do not open the window by less than a segment (or half the buffer).
  if (w - current < threshold && w >= current) w = current;
  // While a hole is open the window stays put, so the duplicate ACKs the sender counts carry
  // the same window (RFC 5681 §2's definition of a duplicate).
  if (c.ooo.count > 0 && w > current) w = current;
  let scaled = w >>> c.rcvWscale;
  if (scaled > 0xffff) scaled = 0xffff;
  const edge = (c.rcvNxt + (scaled << c.rcvWscale)) | 0;
  // Never move the right edge back (RFC 9293 §3.8.6.2.2).
  if (seqLt(c.rcvAdv, edge)) c.rcvAdv = edge;
  return scaled;
}

/** After any segment with ACK left: the delayed ACK is satisfied. */
export function acked(c: TcpConnection): void {
  c.ackNow = false;
  c.unackedBytes = 0;
  c.delackAt = OFF;
  // A D-SACK not sent with this one is dropped: it is advice about one moment.
  c.dsack = false;
}
