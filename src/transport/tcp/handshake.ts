// The opening handshake's side of SEGMENT ARRIVES (RFC 9293 §3.10.7.3): SYN-SENT's answer to a
// SYN-ACK (or a crossing SYN), the options a SYN brings, the move to ESTABLISHED, and a listener's
// child made from its SYN queue entry or cookie.

import { ECONNREFUSED } from "../../errno.js";
import { TCP_ACK, TCP_RST, TCP_SYN, seqDiff, seqLe, seqLt } from "../../wire/tcp.js";
import { EVENT_OUT } from "../waiter.js";
import { sampleRtt, startCongestion } from "./congestion.js";
import type { TcpConnection } from "./connection.js";
import { ESTABLISHED, OFF, SYN_RECEIVED, SYN_SACK, SYN_TS } from "./constants.js";
import { windowToAdvertise } from "./output.js";
import { sendReset } from "./segments.js";
import { armKeepalive } from "./timers.js";

/** Options of a SYN or SYN-ACK just received, in the table's parsed options. */
export function takeSynOptions(c: TcpConnection): void {
  const o = c.table.opts;
  c.peerMss = o.mss !== 0 ? o.mss : 536;
  // Our SYN offered everything; a SYN we answer gets only what it offered.
  c.wsOk = o.wscale >= 0;
  c.sndWscale = c.wsOk ? o.wscale : 0;
  if (!c.wsOk) c.rcvWscale = 0;
  c.tsOk = o.hasTimestamp;
  if (c.tsOk) c.tsRecent = o.tsVal;
  c.sackOk = o.sackPermitted;
  const iface = c.table.iface;
  const ourMss = iface !== null ? iface.mtu - 40 : 536;
  c.mss = (c.peerMss < ourMss ? c.peerMss : ourMss) - (c.tsOk ? 12 : 0);
  if (c.mss < 64) c.mss = 64;
}

/** A segment for c connection in SYN-SENT. */
export function synSentInput(c: TcpConnection, now: number): void {
  const t = c.table;
  const flags = t.segFlags;
  const ack = t.segAck;
  if ((flags & TCP_ACK) !== 0 && (seqLe(ack, c.iss) || seqLt(c.sndMax, ack))) {
    if ((flags & TCP_RST) === 0)
      sendReset(t, c.localAddress, c.localPort, c.remoteAddress, c.remotePort, ack, 0, false);
    return;
  }
  if ((flags & TCP_RST) !== 0) {
    t.stats.resetsIn++;
    if ((flags & TCP_ACK) !== 0) c.abort(ECONNREFUSED, false);
    return;
  }
  if ((flags & TCP_SYN) === 0) return;
  c.irs = t.segSeq;
  c.rcvNxt = (t.segSeq + 1) | 0;
  // Our SYN offered its window before rcvNxt was known: its right edge starts here.
  windowToAdvertise(c, true);
  takeSynOptions(c);
  c.lastHeard = now;
  if ((flags & TCP_ACK) !== 0) {
    // Our SYN delivered, as Linux counts it.
    c.bytesAcked += seqDiff(ack, c.sndUna);
    c.delivered++;
    c.sndUna = ack;
    if (seqLt(c.sndNxt, ack)) c.sndNxt = ack;
    // The window of a SYN is never scaled (RFC 7323 §2.2).
    c.sndWnd = t.segWnd;
    c.maxSndWnd = c.sndWnd;
    c.sndWl1 = t.segSeq;
    c.sndWl2 = ack;
    sampleRtt(c, now, ack);
    establish(c, now);
    c.ackNow = true;
    c.pendingOutput = true;
    t.ready.raise(c, EVENT_OUT);
  } else {
    // Simultaneous open: answer with SYN-ACK, resending our SYN with it.
    c.state = SYN_RECEIVED;
    c.sndNxt = c.iss;
    c.rtoAt = OFF;
    c.pendingOutput = true;
  }
}

export function establish(c: TcpConnection, now: number): void {
  c.state = ESTABLISHED;
  c.wasConnected = true;
  c.retries = 0;
  c.rtoAt = seqLt(c.sndUna, c.sndMax) ? now + c.rto : OFF;
  c.rateAckedAt = now;
  c.rateAcked = c.bytesAcked;
  startCongestion(c);
  armKeepalive(c, now);
}

/**
 * Makes c fresh slot the child of `listener` in SYN-RECEIVED, from a SYN queue entry (or a
 * valid cookie): our SYN-ACK, sent with `iss`, is what the segment in hand acknowledges.
 * `options` is packSynOptions()' form.
 */
export function fromSynQueue(
  c: TcpConnection,
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
  const t = c.table;
  c.parent = listener;
  c.localAddress = local;
  c.localPort = listener.localPort;
  c.remoteAddress = remote;
  c.remotePort = remotePort;
  c.noDelay = listener.noDelay;
  c.keepalive = listener.keepalive;
  c.keepIdle = listener.keepIdle;
  c.keepInterval = listener.keepInterval;
  c.keepCount = listener.keepCount;
  c.lingerZero = listener.lingerZero;
  c.cubic = listener.cubic;
  c.oobInline = listener.oobInline;
  c.irs = irs;
  c.rcvNxt = (irs + 1) | 0;
  c.peerMss = options & 0xffff;
  const ws = ((options >>> 16) & 15) - 1;
  c.wsOk = ws >= 0;
  c.sndWscale = c.wsOk ? ws : 0;
  if (!c.wsOk) c.rcvWscale = 0;
  c.sackOk = (options & SYN_SACK) !== 0;
  c.tsOk = (options & SYN_TS) !== 0;
  c.tsRecent = tsRecent;
  const iface = t.iface;
  const ourMss = iface !== null ? iface.mtu - 40 : 536;
  c.mss = (c.peerMss < ourMss ? c.peerMss : ourMss) - (c.tsOk ? 12 : 0);
  if (c.mss < 64) c.mss = 64;
  c.initSend(iss);
  c.sndNxt = (iss + 1) | 0;
  c.sndMax = c.sndNxt;
  c.sndWnd = window;
  c.maxSndWnd = window;
  c.sndWl1 = irs;
  // The SYN-ACK was timed unless it was resent (Karn).
  if (synAckAt >= 0) {
    c.rttSeq = iss;
    c.rttAt = synAckAt;
  }
  windowToAdvertise(c, true);
  c.lastHeard = now;
  c.state = SYN_RECEIVED;
  t.stats.passiveOpens++;
}
