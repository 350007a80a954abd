// Congestion control and RTT estimation: slow start and congestion avoidance (RFC 5681), NewReno
// fast recovery (RFC 6582), CUBIC's growth and decrease (RFC 9438), the RTO of RFC 6298.

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
    c.ssthresh = decrease(c, seqDiff(c.sndMax, c.sndUna));
    // RFC 6675 §5 step (4.2): cwnd = ssthresh, the pipe does the rest; NewReno inflates by the
    // three segments that left the network.
    c.cwnd = c.sackOk ? c.ssthresh : c.ssthresh + 3 * mss;
    c.recover = c.sndMax;
    c.inRecovery = true;
    c.limitedTransmit = 0;
    c.retransmitHead = true;
    c.highRxt = c.sndUna;
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

export function congestionOnAck(c: TcpConnection, acked: number, ack: number, now: number): void {
  const mss = c.mss;
  if (c.inRecovery) {
    if (seqLe(c.recover, ack)) {
      // Full acknowledgment (RFC 6582 §3.2 step 3): deflate.
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
