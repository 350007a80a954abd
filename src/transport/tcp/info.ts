// A connection's figures for TCP_INFO, read into one reusable object: what Linux's tcp_get_info
// reports, from this stack's own state, in Linux's units (times in microseconds or milliseconds
// since, windows in bytes, counts in segments). Figures this stack does not keep (pacing, ECN,
// receive-side RTT, the RTO recovery totals) stay 0; the socket layer lays the rest out in
// struct tcp_info. The delivery rate is measured here as ACKs arrive, called from input; the min RTT
// is kept by sampleRtt (congestion.ts) with every RTT sample.

import { seqDiff } from "../../wire/tcp.js";
import type { TcpConnection } from "./connection.js";
import { CLOSED, LISTEN } from "./constants.js";
import { sackedBytes } from "./sack.js";

/** tcpi_ca_state: no loss in sight. */
export const CA_OPEN = 0;
/** tcpi_ca_state: duplicate ACKs seen, no recovery yet. */
export const CA_DISORDER = 1;
/** tcpi_ca_state: fast recovery. */
export const CA_RECOVERY = 3;
/** tcpi_ca_state: recovering from a retransmission timeout. */
export const CA_LOSS = 4;

/** A connection's TCP_INFO figures, filled by `TcpEndpoint.readInfo`; one object, reused. */
export class TcpInfo {
  /** tcpi_ca_state: CA_OPEN, CA_DISORDER, CA_RECOVERY or CA_LOSS. */
  caState = CA_OPEN;
  /** tcpi_retransmits: RTO backoffs of the segment at sndUna. */
  retransmits = 0;
  /** tcpi_probes: zero-window or keepalive probes out. */
  probes = 0;
  /** tcpi_backoff: the RTO's exponential backoff. */
  backoff = 0;
  /** tcpi_rto, microseconds. */
  rto = 0;
  /** tcpi_ato: the delayed ACK timeout, microseconds. */
  ato = 0;
  /** tcpi_snd_mss: the largest payload we send. */
  sendMss = 0;
  /** tcpi_rcv_mss: the largest payload the peer sent, from 536 up. */
  receiveMss = 0;
  /** tcpi_unacked: segments in flight (MSS-sized pieces). */
  unacked = 0;
  /** tcpi_sacked: segments the peer SACKed (MSS-sized pieces). */
  sacked = 0;
  /** tcpi_last_data_sent: ms since data was sent. */
  lastDataSent = 0;
  /** tcpi_last_data_recv: ms since data arrived. */
  lastDataReceived = 0;
  /** tcpi_last_ack_recv: ms since an ACK arrived. */
  lastAckReceived = 0;
  /** tcpi_pmtu: the interface's MTU. */
  pmtu = 0;
  /** tcpi_rcv_ssthresh: the largest window we would offer (the receive ring). */
  receiveSsthresh = 0;
  /** tcpi_rtt: the smoothed RTT, microseconds. */
  rtt = 0;
  /** tcpi_rttvar: its variation, microseconds. */
  rttVariance = 0;
  /** tcpi_snd_ssthresh, segments (0x7fffffff before a loss). */
  sendSsthresh = 0;
  /** tcpi_snd_cwnd, segments. */
  sendCwnd = 0;
  /** tcpi_advmss: the MSS we offered, less the timestamp option when agreed. */
  advertisedMss = 0;
  /** tcpi_rcv_space: the receive ring's size. */
  receiveSpace = 0;
  /** tcpi_total_retrans: segments retransmitted over the connection's life. */
  totalRetransmits = 0;
  /** tcpi_bytes_acked: sequence space the peer acknowledged (the SYN included). */
  bytesAcked = 0;
  /** tcpi_bytes_received: sequence space received in order (data and FIN). */
  bytesReceived = 0;
  /** tcpi_segs_out: segments sent. */
  segmentsOut = 0;
  /** tcpi_segs_in: segments received. */
  segmentsIn = 0;
  /** tcpi_notsent_bytes: bytes queued and not yet sent. */
  notSentBytes = 0;
  /** tcpi_min_rtt, microseconds; -1 before a sample (Linux's ~0U). */
  minRtt = -1;
  /** tcpi_data_segs_in: segments received with data. */
  dataSegmentsIn = 0;
  /** tcpi_data_segs_out: segments sent with data. */
  dataSegmentsOut = 0;
  /** tcpi_delivery_rate: bytes per second acknowledged over the last round trip. */
  deliveryRate = 0;
  /** tcpi_delivery_rate_app_limited: nothing waits to be sent. */
  appLimited = false;
  /** tcpi_delivered: segments delivered (the SYN, then MSS-sized pieces of data). */
  delivered = 0;
  /** tcpi_bytes_sent: data bytes sent, retransmissions included. */
  bytesSent = 0;
  /** tcpi_bytes_retrans: data bytes retransmitted. */
  bytesRetransmitted = 0;
  /** tcpi_rcv_ooopack: segments that arrived out of order. */
  outOfOrderIn = 0;
  /** tcpi_snd_wnd: the peer's window, bytes after scaling. */
  sendWindow = 0;
  /** tcpi_rcv_wnd: the window we advertised, bytes after scaling. */
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

/**
 * tcpi_delivery_rate: the bytes acknowledged over the latest round trip (at least 1 ms), measured
 * once a smoothed RTT has passed since the last measure.
 */
export function noteDelivery(c: TcpConnection, now: number): void {
  const span = now - c.rateAckedAt;
  const rtt = c.srtt > 1 ? c.srtt : 1;
  if (span < rtt) return;
  c.deliveryRate = Math.floor(((c.bytesAcked - c.rateAcked) * 1000) / span);
  c.rateAckedAt = now;
  c.rateAcked = c.bytesAcked;
}
