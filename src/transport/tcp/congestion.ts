// Congestion control and RTT estimation: slow start and congestion avoidance (RFC 5681), NewReno
// fast recovery (RFC 6582), CUBIC's growth and decrease (RFC 9438), the RTO of RFC 6298; and the
// undo of a reduction that spurious retransmissions caused (RFC 3708 with D-SACK, RFC 3522's Eifel
// detection with timestamps), done as Linux does it.

import { seqDiff, seqLe, seqLt } from "../../wire/tcp.js";
import type { TcpConnection } from "./connection.js";
import { MAX_RTO } from "./constants.js";
import { sackedBytes } from "./sack.js";

/** CUBIC (RFC 9438 §5): the multiplicative decrease, the scaling constant, and the Reno-friendly
 * additive factor 3(1 - β)/(1 + β). */
const CUBIC_BETA = 0.7;
const CUBIC_C = 0.4;
const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** Congestion state for a connection that just became established (RFC 5681, RFC 6928). */
export function startCongestion(c: TcpConnection): void {
  const mss = c.mss;
  const iw = 4380 > 2 * mss ? 4380 : 2 * mss;
  c.cwnd = 10 * mss < (14600 > iw ? 14600 : iw) ? 10 * mss : 14600 > iw ? 14600 : iw;
  c.ssthresh = 0x3fffffff;
}

export function duplicateAck(c: TcpConnection, ack: number): void {
  const t = c.table;
  c.dupAcks++;
  const mss = c.mss;
  if (c.inRecovery) {
    // With SACK the scoreboard's pipe decides what may go (RFC 6675); without, each further
    // duplicate inflates the window by a segment (RFC 6582 §3.2 step 4).
    if (!c.sackOk) c.cwnd += mss;
    c.pendingOutput = true;
    return;
  }
  // RFC 3042 limited transmit: each of the first two duplicates lets one new segment out, so a
  // small window still yields the third duplicate.
  if (c.dupAcks < 3) {
    c.limitedTransmit = c.dupAcks;
    c.pendingOutput = true;
  }
  // RFC 6582 §3.2 step 2: a third duplicate, unless from before the last recovery; with SACK
  // also the oldest byte deemed lost by what is SACKed above it (RFC 6675 §5).
  const lost = c.dupAcks === 3 || (c.sackOk && sackedBytes(c) > 2 * mss);
  if (lost && c.dupAcks <= 3 && seqLt(c.recover, ack)) {
    armUndo(c, false);
    c.ssthresh = decrease(c, seqDiff(c.sndMax, c.sndUna));
    // RFC 6675 §5 step (4.2): cwnd = ssthresh, the pipe does the rest; NewReno inflates by the
    // three segments that left the network.
    c.cwnd = c.sackOk ? c.ssthresh : c.ssthresh + 3 * mss;
    c.recover = c.sndMax;
    c.inRecovery = true;
    c.limitedTransmit = 0;
    c.retransmitHead = true;
    c.highRxt = c.sndUna;
    // RFC 6675 §4 NextSeg rule 4: RescueRxt undefined, a rescue is allowed in this recovery.
    c.rescueRxt = (c.sndUna - 1) | 0;
    c.rttAt = -1;
    c.pendingOutput = true;
    t.stats.fastRetransmits++;
  }
}

/** The slow-start threshold after a loss: half the flight (RFC 5681), or β cwnd for CUBIC. */
export function decrease(c: TcpConnection, flight: number): number {
  const mss = c.mss;
  if (!c.cubic) return flight >>> 1 > 2 * mss ? flight >>> 1 : 2 * mss;
  // RFC 9438 §4.7 fast convergence: a W_max lower than the last one releases bandwidth.
  const cwnd = c.cwnd;
  c.wMax = cwnd < c.wMax ? (cwnd * (1 + CUBIC_BETA)) / 2 : cwnd;
  c.epochStart = -1;
  const s = (cwnd * CUBIC_BETA) | 0;
  return s > 2 * mss ? s : 2 * mss;
}

/** RFC 9438 §4.2-4.4: grow toward W_cubic(t + RTT), never slower than the Reno estimate. */
export function cubicGrowth(c: TcpConnection, acked: number, now: number): void {
  const mss = c.mss;
  const cwnd = c.cwnd;
  if (c.epochStart < 0) {
    c.epochStart = now;
    const origin = c.wMax > cwnd ? c.wMax : cwnd;
    c.cubicOrigin = origin;
    c.cubicK = Math.cbrt((origin - cwnd) / mss / CUBIC_C);
    c.wEst = cwnd;
  }
  const t = (now - c.epochStart + c.srtt) / 1000 - c.cubicK;
  let target = c.cubicOrigin + CUBIC_C * t * t * t * mss;
  if (target > 1.5 * cwnd) target = 1.5 * cwnd;
  c.wEst += (CUBIC_ALPHA * acked * mss) / cwnd;
  if (c.wEst > target) target = c.wEst;
  if (target > cwnd) {
    const inc = Math.floor(((target - cwnd) * acked) / cwnd);
    c.cwnd = cwnd + (inc > 0 ? inc : 1);
  }
}

/** A timeout (RFC 6298 §5.5): the window collapses and the flight goes again from sndUna. */
export function enterLoss(c: TcpConnection): void {
  // Linux's tcp_enter_loss: the reduction, and the state to undo it, once per episode; not again
  // for a backed-off timeout, nor inside a fast recovery whose reduction stands.
  if (!c.inRecovery && (!c.inLoss || c.retries === 1)) {
    armUndo(c, true);
    c.ssthresh = decrease(c, seqDiff(c.sndMax, c.sndUna));
  } else c.undoTimeout = true;
  c.cwnd = c.mss;
  c.sndNxt = c.sndUna;
  c.recover = c.sndMax;
  c.inRecovery = false;
  c.inLoss = true;
  // RFC 2018 §8: after a timeout the SACKed bits are forgotten (the receiver may renege).
  c.sacked.clear();
  c.dupAcks = 0;
  c.limitedTransmit = 0;
}

/** Before a reduction: what to restore should the episode's retransmissions prove needless. */
function armUndo(c: TcpConnection, timeout: boolean): void {
  const cwnd = c.cwnd;
  // Linux's tcp_current_ssthresh: at least 3/4 of cwnd, the rate we were sending at.
  const threeQuarters = (cwnd >>> 1) + (cwnd >>> 2);
  c.priorSsthresh = c.ssthresh > threeQuarters ? c.ssthresh : threeQuarters;
  c.priorCwnd = cwnd;
  c.priorWMax = c.wMax;
  c.undoMarker = c.sndUna;
  c.undoRetrans = -1;
  c.undoTimeout = timeout;
  c.undoArmed = true;
}

/** Every retransmission (`n` of sequence space) is counted against the episode; the first one's
 * timestamp is kept. */
export function noteRetransmit(c: TcpConnection, n: number, now: number): void {
  c.retransmittedBytes += n;
  if (!c.undoArmed) return;
  if (c.undoRetrans < 0) {
    c.undoRetrans = 0;
    c.undoStamp = now | 0;
  }
  c.undoRetrans += n;
}

/**
 * Linux's tcp_may_undo: every retransmission of the episode was reported duplicate (RFC 3708), or
 * the segment in hand echoes a timestamp older than the first retransmission, so what it
 * acknowledges arrived as first sent (RFC 3522).
 */
function mayUndo(c: TcpConnection): boolean {
  if (!c.undoArmed || c.undoRetrans < 0) return false;
  if (c.undoRetrans === 0) return true;
  const o = c.table.opts;
  return c.tsOk && o.hasTimestamp && o.tsEcr !== 0 && ((o.tsEcr - c.undoStamp) | 0) < 0;
}

/**
 * Linux's tcp_undo_cwnd_reduction: cwnd and ssthresh back to at least what they were, the
 * episode over. After a timeout the rest of the flight is not sent again (Linux unmarks it lost).
 */
function undo(c: TcpConnection): void {
  const t = c.table;
  if (c.cwnd < c.priorCwnd) c.cwnd = c.priorCwnd;
  if (c.ssthresh < c.priorSsthresh) c.ssthresh = c.priorSsthresh;
  if (c.cubic) {
    // RFC 9438 §4.9: W_max as before the spurious decrease; a new epoch recomputes K.
    c.wMax = c.priorWMax;
    c.epochStart = -1;
  }
  if (c.undoRetrans === 0) t.stats.dsackUndos++;
  if (c.undoTimeout) t.stats.timeoutUndos++;
  else t.stats.recoveryUndos++;
  c.undos++;
  c.undoArmed = false;
  c.inRecovery = false;
  c.retransmitHead = false;
  if (c.inLoss) {
    c.inLoss = false;
    if (seqLt(c.sndNxt, c.sndMax)) c.sndNxt = c.sndMax;
  }
  c.pendingOutput = true;
}

/**
 * Linux's tcp_try_undo_dsack: a D-SACK that leaves no retransmission of the episode unreported
 * undoes it at once, in fast recovery or after it; after a timeout it waits for an ACK of new
 * data (congestionOnAck), as tcp_process_loss does.
 */
export function undoOnDsack(c: TcpConnection): void {
  if (c.undoArmed && c.undoRetrans === 0 && !c.inLoss) undo(c);
}

export function congestionOnAck(c: TcpConnection, acked: number, ack: number, now: number): void {
  const mss = c.mss;
  if (c.inLoss) {
    // Linux's tcp_process_loss with F-RTO off: any ACK of new data may show the timeout spurious;
    // the episode ends when everything outstanding at the timeout is acknowledged.
    if (mayUndo(c)) undo(c);
    else if (seqLe(c.recover, ack)) c.inLoss = false;
  }
  if (c.inRecovery) {
    if (seqLe(c.recover, ack)) {
      // Full acknowledgment: undo when the retransmissions were needless (Linux's
      // tcp_try_undo_recovery), else deflate (RFC 6582 §3.2 step 3).
      if (mayUndo(c)) {
        undo(c);
        return;
      }
      const flight = seqDiff(c.sndMax, ack);
      c.cwnd = c.ssthresh < flight + mss ? c.ssthresh : flight + mss;
      c.inRecovery = false;
    } else if (!c.sackOk || c.sacked.count === 0) {
      // Partial (RFC 6582 §3.2 step 5): the next hole is lost too; resend it and deflate by what
      // was acknowledged. With SACK blocks the scoreboard finds the holes itself.
      c.retransmitHead = true;
      if (!c.sackOk) c.cwnd = c.cwnd > acked ? c.cwnd - acked + mss : mss;
    }
    return;
  }
  if (c.cwnd < c.ssthresh) c.cwnd += acked < mss ? acked : mss;
  else if (c.cubic) cubicGrowth(c, acked, now);
  else {
    const inc = ((mss * mss) / c.cwnd) | 0;
    c.cwnd += inc > 0 ? inc : 1;
  }
  if (c.cwnd > 0x3fffffff) c.cwnd = 0x3fffffff;
}

/** RFC 6298 §2 from a timestamp echo, else from the one timed segment (Karn's rule). */
export function sampleRtt(c: TcpConnection, now: number, ack: number): void {
  const o = c.table.opts;
  let r = -1;
  if (c.tsOk && o.hasTimestamp && o.tsEcr !== 0) r = ((now | 0) - o.tsEcr) | 0;
  else if (c.rttAt >= 0 && seqLt(c.rttSeq, ack)) r = now - c.rttAt;
  if (c.rttAt >= 0 && seqLt(c.rttSeq, ack)) c.rttAt = -1;
  if (r < 0) return;
  // tcpi_min_rtt: the smallest plausible sample.
  if (r <= MAX_RTO && (c.minRtt < 0 || r < c.minRtt)) c.minRtt = r;
  if (r > MAX_RTO) r = MAX_RTO;
  if (c.srtt === 0) {
    c.srtt = r > 0 ? r : 1;
    c.rttvar = r / 2;
  } else {
    const d = c.srtt > r ? c.srtt - r : r - c.srtt;
    c.rttvar = 0.75 * c.rttvar + 0.25 * d;
    c.srtt = 0.875 * c.srtt + 0.125 * r;
  }
  // G, the clock granularity, is 1 ms.
  let rto = Math.ceil(c.srtt + (4 * c.rttvar > 1 ? 4 * c.rttvar : 1));
  const min = c.table.minRto;
  if (rto < min) rto = min;
  if (rto > MAX_RTO) rto = MAX_RTO;
  c.rto = rto;
}
