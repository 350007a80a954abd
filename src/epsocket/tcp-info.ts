// TCP_INFO: struct tcp_info in Linux's layout, from the figures the connection keeps.

import type { TcpEndpoint } from "../transport/tcp/endpoint.js";
import {
  CLOSE_WAIT,
  CLOSING,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  LAST_ACK,
  LISTEN,
  SYN_RECEIVED,
  SYN_SENT,
  TIME_WAIT,
} from "../transport/tcp/constants.js";
import { writeInt, writeLong } from "./codes.js";
import {
  LINUX_TCP_CLOSE,
  LINUX_TCP_ESTABLISHED,
  LINUX_TCP_LISTEN,
  TCP_INFO_SIZE,
  TCPI_OPT_SACK,
  TCPI_OPT_TIMESTAMPS,
  TCPI_OPT_WSCALE,
} from "./linux.js";
import type { SocketOperations } from "./socket.js";

/** Linux's number for a TCP state (include/net/tcp_states.h), as tcpi_state reports it. */
export function tcpLinuxState(state: number): number {
  switch (state) {
    case ESTABLISHED:
      return LINUX_TCP_ESTABLISHED;
    case SYN_SENT:
      return 2;
    case SYN_RECEIVED:
      return 3;
    case FIN_WAIT_1:
      return 4;
    case FIN_WAIT_2:
      return 5;
    case TIME_WAIT:
      return 6;
    case CLOSE_WAIT:
      return 8;
    case LAST_ACK:
      return 9;
    case LISTEN:
      return LINUX_TCP_LISTEN;
    case CLOSING:
      return 11;
    default:
      return LINUX_TCP_CLOSE;
  }
}

/**
 * struct tcp_info as the running kernel lays it out, in the layer's option scratch
 * (TCP_INFO_SIZE bytes; getsockopt copies min(optlen, sizeof) from there), every figure this
 * stack keeps filled from the connection (see transport/tcp/info.ts); pacing, ECN and the RTO
 * recovery totals, which it does not keep, stay 0.
 */
export function layoutTcpInfo(s: SocketOperations): void {
  const tcp = s.tcp as TcpEndpoint;
  const b = s.layer.optionScratch;
  b.fill(0, 0, TCP_INFO_SIZE);
  const state = tcp.state;
  b[0] = tcpLinuxState(state);
  // tcpi_max_pacing_rate: no limit (~0), as Linux reports without SO_MAX_PACING_RATE; Linux's
  // reordering threshold is the three duplicate ACKs this stack uses too.
  b.fill(255, 112, 120);
  writeInt(b, 88, 3);
  if (state === LISTEN) {
    // tcp_get_info on a listener: the accept queue in tcpi_unacked, its limit in tcpi_sacked.
    writeInt(b, 24, tcp.acceptQueued);
    writeInt(b, 28, tcp.backlog);
    return;
  }
  const f = s.layer.tcpFigures;
  if (tcp.readInfo(f) < 0) return;
  b[1] = f.caState;
  b[2] = f.retransmits;
  b[3] = f.probes;
  b[4] = f.backoff;
  let options = 0;
  if (tcp.timestamps) options |= TCPI_OPT_TIMESTAMPS;
  if (tcp.sack) options |= TCPI_OPT_SACK;
  if (tcp.sendWscale >= 0) {
    options |= TCPI_OPT_WSCALE;
    b[6] = (tcp.sendWscale & 15) | ((tcp.receiveWscale & 15) << 4);
  }
  b[5] = options;
  if (f.appLimited) b[7] = 1;
  writeInt(b, 8, f.rto);
  writeInt(b, 12, f.ato);
  writeInt(b, 16, f.sendMss);
  writeInt(b, 20, f.receiveMss);
  writeInt(b, 24, f.unacked);
  writeInt(b, 28, f.sacked);
  writeInt(b, 44, f.lastDataSent);
  writeInt(b, 52, f.lastDataReceived);
  writeInt(b, 56, f.lastAckReceived);
  writeInt(b, 60, f.pmtu);
  writeInt(b, 64, f.receiveSsthresh);
  writeInt(b, 68, f.rtt);
  writeInt(b, 72, f.rttVariance);
  writeInt(b, 76, f.sendSsthresh);
  writeInt(b, 80, f.sendCwnd);
  writeInt(b, 84, f.advertisedMss);
  writeInt(b, 96, f.receiveSpace);
  writeInt(b, 100, f.totalRetransmits);
  writeLong(b, 120, f.bytesAcked);
  writeLong(b, 128, f.bytesReceived);
  writeInt(b, 136, f.segmentsOut);
  writeInt(b, 140, f.segmentsIn);
  writeInt(b, 144, f.notSentBytes);
  // tcpi_min_rtt: ~0U before a sample, as Linux's minmax starts.
  writeInt(b, 148, f.minRtt >= 0 ? f.minRtt : -1);
  writeInt(b, 152, f.dataSegmentsIn);
  writeInt(b, 156, f.dataSegmentsOut);
  writeLong(b, 160, f.deliveryRate);
  writeInt(b, 192, f.delivered);
  writeLong(b, 200, f.bytesSent);
  writeLong(b, 208, f.bytesRetransmitted);
  writeInt(b, 224, f.outOfOrderIn);
  writeInt(b, 228, f.sendWindow);
  writeInt(b, 232, f.receiveWindow);
}
