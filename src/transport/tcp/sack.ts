// SACK (RFC 2018) both ways: the scoreboard of what the peer holds past sndUna, which drives the
// retransmission of holes (RFC 6675's NextSeg), and the blocks we report for our own
// out-of-order data.

import { seqDiff, seqLe, seqLt } from "../../wire/tcp.js";
import type { TcpConnection } from "./connection.js";
import { sendAt } from "./output.js";

/** Records the peer's SACK blocks within what is outstanding; true when they SACK new bytes. */
export function recordSacks(c: TcpConnection): boolean {
  const o = c.table.opts;
  const before = sackedBytes(c);
  for (let i = 0; i < o.sackCount; i++) {
    let start = seqDiff(o.sackStart[i], c.sndUna);
    const end = seqDiff(o.sackEnd[i], c.sndUna);
    if (start < 0) start = 0;
    // Blocks outside what is outstanding are stale or forged (RFC 2018 §8): ignored.
    if (end <= start || end > seqDiff(c.sndMax, c.sndUna)) continue;
    c.sacked.insert(start, end - start);
  }
  return sackedBytes(c) > before;
}

/** RFC 2883 §4: the first SACK block reports a duplicate: below the ACK, or inside the second. */
export function isDsack(c: TcpConnection, ack: number): boolean {
  const o = c.table.opts;
  const start = o.sackStart[0];
  if (seqLt(start, ack)) return true;
  return o.sackCount > 1 && seqLe(o.sackStart[1], start) && seqLe(o.sackEnd[0], o.sackEnd[1]);
}

/**
 * A D-SACK (isDsack): one that covers data the current loss episode retransmitted takes those
 * bytes off what the episode has yet to see reported (Linux's tcp_check_dsack, in bytes). Runs
 * before sndUna moves; true when the report was believed.
 */
export function receiveDsack(c: TcpConnection): boolean {
  const o = c.table.opts;
  const start = o.sackStart[0];
  const end = o.sackEnd[0];
  const len = seqDiff(end, start);
  // Empty, or more than we could ever have had outstanding: not about our data.
  if (len <= 0 || len > c.maxSndWnd) return false;
  c.dsackedBytes += len;
  // More reported duplicate than we ever retransmitted: the network duplicated them (Linux's
  // tcp_dsack_seen), so they say nothing about our retransmissions.
  if (c.dsackedBytes > c.retransmittedBytes) return false;
  c.table.stats.dsacksReceived++;
  if (c.undoArmed && c.undoRetrans > 0 && seqLe(end, c.sndUna) && seqLt(c.undoMarker, end)) {
    const from = seqLt(start, c.undoMarker) ? c.undoMarker : start;
    const n = seqDiff(end, from);
    c.undoRetrans = c.undoRetrans > n ? c.undoRetrans - n : 0;
  }
  return true;
}

export function sackedBytes(c: TcpConnection): number {
  const s = c.sacked;
  let n = 0;
  for (let i = 0; i < s.count; i++) n += s.end(i) - s.start(i);
  return n;
}

/** Bytes from `offset` (past sndUna) to the next SACKed range, or a segment when none. */
export function holeAt(c: TcpConnection, offset: number): number {
  const s = c.sacked;
  for (let i = 0; i < s.count; i++) if (offset < s.start(i)) return s.start(i) - offset;
  return c.mss;
}

/** RFC 6675's DupThresh: SACKed bytes above a hole beyond (DupThresh - 1) segments make it lost. */
const DUP_THRESH = 3;

/** Whether recovery runs on the scoreboard (RFC 6675) rather than NewReno's window inflation. */
export function sackRecovery(c: TcpConnection): boolean {
  return c.inRecovery && c.sackOk;
}

/**
 * RFC 6675 SetPipe: the bytes the sender thinks are in the network. Every byte from sndUna to
 * sndMax not SACKed counts once unless it is deemed lost (more than DupThresh - 1 segments'
 * worth SACKed above it), and once more if it was retransmitted (below HighRxt).
 */
export function pipe(c: TcpConnection): number {
  const s = c.sacked;
  const n = s.count;
  const flight = seqDiff(c.sndMax, c.sndUna);
  let rxt = seqDiff(c.highRxt, c.sndUna);
  if (rxt < 0) rxt = 0;
  let above = 0;
  for (let i = 0; i < n; i++) above += s.end(i) - s.start(i);
  const lostAbove = (DUP_THRESH - 1) * c.mss;
  let total = 0;
  let from = 0;
  // Holes in order: [from, start(i)), then the tail [end(n - 1), flight).
  for (let i = 0; i <= n; i++) {
    const to = i < n ? s.start(i) : flight;
    if (to > from) {
      if (above <= lostAbove) total += to - from;
      if (rxt > from) total += (rxt < to ? rxt : to) - from;
    }
    if (i < n) {
      above -= s.end(i) - s.start(i);
      from = s.end(i);
    }
  }
  return total;
}

/**
 * RFC 6675 NextSeg, rules 1 and 3: retransmits the first hole past HighRxt below the highest
 * SACKed byte, only when it is deemed lost unless `any`. Returns the sequence space sent, 0 when
 * there is no such hole, -1 when no buffer was had.
 */
export function sendHole(c: TcpConnection, now: number, any: boolean): number {
  const s = c.sacked;
  const n = s.count;
  if (n === 0) return 0;
  let offset = seqDiff(c.highRxt, c.sndUna);
  if (offset < 0) offset = 0;
  let above = 0;
  for (let i = 0; i < n; i++) above += s.end(i) - s.start(i);
  const lostAbove = (DUP_THRESH - 1) * c.mss;
  for (let i = 0; i < n; i++) {
    if (offset < s.start(i)) {
      if (!any && above <= lostAbove) return 0;
      const seq = (c.sndUna + offset) | 0;
      const r = sendAt(c, seq, now, true, s.start(i) - offset);
      if (r > 0) c.highRxt = (seq + r) | 0;
      return r;
    }
    if (offset < s.end(i)) offset = s.end(i);
    above -= s.end(i) - s.start(i);
  }
  return 0;
}

/**
 * RFC 6675 NextSeg rule 4, the rescue retransmission: when nothing else may go, once per recovery
 * (while RescueRxt is below sndUna) a segment ending at the highest unSACKed byte outstanding goes
 * again, so a loss at the tail of the window, which no SACK above it can reveal, is repaired
 * without waiting for the partial ACK or the retransmission timer. HighRxt stays. Returns as
 * sendHole.
 */
export function sendRescue(c: TcpConnection, now: number): number {
  if (!seqLt(c.rescueRxt, c.sndUna)) return 0;
  const s = c.sacked;
  const n = s.count;
  const flight = seqDiff(c.sndMax, c.sndUna);
  // The unSACKed range holding the highest such byte: the tail past the last SACKed range, or
  // the hole below it when the SACKs reach the end.
  let end = flight;
  let low = n > 0 ? s.end(n - 1) : 0;
  if (n > 0 && low >= flight) {
    end = s.start(n - 1);
    low = n > 1 ? s.end(n - 2) : 0;
  }
  // What this recovery already retransmitted is not sent again by the rescue.
  const rxt = seqDiff(c.highRxt, c.sndUna);
  if (rxt > low) low = rxt;
  if (end <= low) return 0;
  const start = end - c.mss > low ? end - c.mss : low;
  const r = sendAt(c, (c.sndUna + start) | 0, now, true, end - start);
  if (r > 0) {
    c.rescueRxt = c.recover;
    c.table.stats.rescueRetransmits++;
  }
  return r;
}

/** Writes the SACK blocks to report into the table's scratch; returns how many. */
export function sackBlocks(
  c: TcpConnection,
  max: number,
  starts: Int32Array,
  ends: Int32Array,
): number {
  const ooo = c.ooo;
  const count = ooo.count;
  if ((count === 0 && !c.dsack) || !c.sackOk) return 0;
  let n = 0;
  // RFC 2883: a D-SACK block, once, before all others.
  if (c.dsack) {
    c.dsack = false;
    c.table.stats.dsacksSent++;
    starts[0] = c.dsackStart;
    ends[0] = c.dsackEnd;
    n = 1;
  }
  // RFC 2018 §4: the block holding the latest segment first, then the others.
  const recent = ooo.recent;
  if (recent >= 0 && recent < count) {
    starts[n] = (c.rcvNxt + ooo.start(recent)) | 0;
    ends[n] = (c.rcvNxt + ooo.end(recent)) | 0;
    n++;
  }
  for (let i = 0; i < count && n < max; i++) {
    if (i === recent) continue;
    starts[n] = (c.rcvNxt + ooo.start(i)) | 0;
    ends[n] = (c.rcvNxt + ooo.end(i)) | 0;
    n++;
  }
  return n;
}
