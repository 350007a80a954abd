// A connection's figures for TCP_INFO, read into one reusable object: what Linux's tcp_get_info
// reports, from this stack's own state, in Linux's units (times in microseconds or milliseconds
// since, windows in bytes, counts in segments). Figures this stack does not keep (pacing, ECN,
// receive-side RTT, the RTO recovery totals) stay 0; the socket layer lays the rest out in
// struct tcp_info.

import { seqDiff } from "../../wire/tcp.js";
import type { TcpConnection } from "./connection.js";
import { CLOSED, LISTEN } from "./constants.js";
import { sackedBytes } from "./sack.js";

/** Linux's congestion-avoidance states (tcpi_ca_state). */
export const CA_OPEN = 0;
export const CA_DISORDER = 1;
export const CA_RECOVERY = 3;
export const CA_LOSS = 4;

export class TcpInfo {
  caState = CA_OPEN;
  /** RTO backoffs of the segment at sndUna, and probes out (zero-window or keepalive). */
  retransmits = 0;
  probes = 0;
  backoff = 0;
  /** Microseconds. */
  rto = 0;
  ato = 0;
  sendMss = 0;
  receiveMss = 0;
  /** Segments in flight, SACKed, and the MSS-sized pieces of both. */
  unacked = 0;
  sacked = 0;
  /** Milliseconds since data was sent, data arrived, an ACK arrived. */
  lastDataSent = 0;
  lastDataReceived = 0;
  lastAckReceived = 0;
  pmtu = 0;
  receiveSsthresh = 0;
  /** Microseconds. */
  rtt = 0;
  rttVariance = 0;
  /** Segments. */
  sendSsthresh = 0;
  sendCwnd = 0;
  advertisedMss = 0;
  receiveSpace = 0;
  totalRetransmits = 0;
  bytesAcked = 0;
  bytesReceived = 0;
  segmentsOut = 0;
  segmentsIn = 0;
  notSentBytes = 0;
  /** Microseconds; 0 before a sample (Linux shows ~0U then, written as such by the layer). */
  minRtt = -1;
  dataSegmentsIn = 0;
  dataSegmentsOut = 0;
  /** Bytes per second. */
  deliveryRate = 0;
  appLimited = false;
  delivered = 0;
  bytesSent = 0;
  bytesRetransmitted = 0;
  outOfOrderIn = 0;
  /** The peer's window and ours, in bytes after scaling. */
  sendWindow = 0;
  receiveWindow = 0;
}

/** Fills `info` from `c` at stack time `now`. */
export function readInfo(c: TcpConnection, info: TcpInfo, now: number): void {
  const mss = c.mss;
  const state = c.state;
  const open = state !== LISTEN && state !== CLOSED;
  info.caState = c.inRecovery
    ? CA_RECOVERY
    : c.retries > 0 && open
      ? CA_LOSS
      : c.dupAcks > 0
        ? CA_DISORDER
        : CA_OPEN;
  info.retransmits = c.retries;
  info.backoff = c.retries;
  info.probes = c.persistBackoff > 0 ? c.persistBackoff : c.keepProbes;
  info.rto = c.rto * 1000;
  info.ato = open ? c.table.delayedAck * 1000 : 0;
  info.sendMss = mss;
  info.receiveMss = c.receiveMss;
  const inFlight = seqDiff(c.sndMax, c.sndUna);
  info.unacked = mss > 0 && inFlight > 0 ? Math.ceil(inFlight / mss) : 0;
  info.sacked = mss > 0 ? Math.ceil(sackedBytes(c) / mss) : 0;
  info.lastDataSent = open ? now - c.dataSentAt : 0;
  info.lastDataReceived = open ? now - (c.dataReceivedAt >= 0 ? c.dataReceivedAt : 0) : 0;
  info.lastAckReceived = open ? now - c.lastHeard : 0;
  const iface = c.table.iface;
  info.pmtu = iface !== null ? iface.mtu : 0;
  info.receiveSsthresh = c.recvRing.capacity;
  info.rtt = Math.round(c.srtt * 1000);
  info.rttVariance = Math.round(c.rttvar * 1000);
  info.sendSsthresh =
    c.ssthresh >= 0x3fffffff || mss <= 0 ? 0x7fffffff : Math.floor(c.ssthresh / mss);
  info.sendCwnd = mss > 0 ? Math.floor(c.cwnd / mss) : 0;
  info.advertisedMss = iface !== null ? iface.mtu - 40 - (c.tsOk ? 12 : 0) : mss;
  info.receiveSpace = c.recvRing.capacity;
  info.totalRetransmits = c.totalRetransmits;
  info.bytesAcked = c.bytesAcked;
  info.bytesReceived = c.bytesReceived;
  info.segmentsOut = c.segmentsOut;
  info.segmentsIn = c.segmentsIn;
  const unsent = c.sendRing.readable - seqDiff(c.sndNxt, c.dataStart);
  info.notSentBytes = unsent > 0 ? unsent : 0;
  info.minRtt = c.minRtt >= 0 ? c.minRtt * 1000 : -1;
  info.dataSegmentsIn = c.dataSegmentsIn;
  info.dataSegmentsOut = c.dataSegmentsOut;
  info.deliveryRate = c.deliveryRate;
  info.appLimited = c.sendRing.readable === 0;
  info.delivered = c.delivered;
  info.bytesSent = c.bytesSent;
  info.bytesRetransmitted = c.bytesRetransmitted;
  info.outOfOrderIn = c.outOfOrderIn;
  info.sendWindow = c.sndWnd;
  const window = seqDiff(c.rcvAdv, c.rcvNxt);
  info.receiveWindow = open && window > 0 ? window : 0;
}
