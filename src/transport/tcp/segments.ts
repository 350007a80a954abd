// Every segment the table sends, built straight in a pool buffer: a connection's segments with
// the options of its state and payload copied from the send ring, SYN-ACKs of the SYN queue,
// resets and TIME-WAIT's ACKs, and RFC 5961's rate-limited challenge ACKs.

import { ENETUNREACH } from "../../errno.js";
import { DATAGRAM_DATA_OFFSET } from "../../iface/ipv4.js";
import { copy } from "../../storage/memory.js";
import { writeU16 } from "../../wire/address.js";
import { fold, pseudoHeaderSumV4 } from "../../wire/checksum.js";
import { PROTOCOL_TCP } from "../../wire/ipv4.js";
import {
  TCP_ACK,
  TCP_FIN,
  TCP_HEADER_LENGTH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  seqDiff,
  seqLt,
  writeMss,
  writeNops,
  writeSack,
  writeSackPermitted,
  writeTimestamp,
  writeWscale,
} from "../../wire/tcp.js";
import type { TcpConnection } from "./connection.js";
import { OOW_ACK_INTERVAL, SYN_SACK, SYN_SENT, SYN_TS } from "./constants.js";
import { acked, windowToAdvertise } from "./output.js";
import { sackBlocks } from "./sack.js";
import type { TcpTable } from "./table.js";

/** RFC 5961 §7: challenge ACKs per second over all connections, on average. */
const CHALLENGE_ACK_LIMIT = 100;

/**
 * Builds one segment of `c` in a pool buffer and sends it: options for the state, `len` bytes
 * of payload from the send ring at `skip`. Returns 0, or -EAGAIN / -ENOBUFS with nothing sent.
 */
export function writeSegment(
  t: TcpTable,
  c: TcpConnection,
  flags: number,
  seq: number,
  skip: number,
  len: number,
  now: number,
): number {
  const iface = t.iface;
  if (iface === null) return -ENETUNREACH;
  const handle = iface.ip.allocDatagram();
  if (handle < 0) return handle;
  const bytes = t.bytes;
  const at = poolOffset(t, handle);
  const opt = at + TCP_HEADER_LENGTH;
  let o = 0;
  const syn = (flags & TCP_SYN) !== 0;
  if (syn) {
    // Actively opening, everything is offered; answering, what the peer's SYN offered.
    const active = c.state === SYN_SENT;
    o = synOptions(
      bytes,
      opt,
      iface.mtu - 40,
      active || c.sackOk,
      active || c.tsOk,
      now | 0,
      active ? 0 : c.tsRecent,
      active || c.wsOk ? c.rcvWscale : -1,
    );
  } else {
    if (c.tsOk) o += timestampOption(bytes, opt, now | 0, c.tsRecent);
    // SACK blocks ride on segments without data, so the MSS arithmetic never changes.
    if (len === 0 && (flags & TCP_ACK) !== 0 && c.sackOk && (c.ooo.count > 0 || c.dsack)) {
      const n = sackBlocks(c, c.tsOk ? 3 : 4, t.sackStarts, t.sackEnds);
      if (n > 0) o += writeSack(bytes, opt + o, t.sackStarts, t.sackEnds, n);
    }
  }
  const headerLength = TCP_HEADER_LENGTH + o;
  if (len > 0) {
    const ring = c.sendRing;
    const first = ring.run(skip);
    const n1 = len < first ? len : first;
    copy(bytes, opt + o, bytes, ring.offsetAt(skip), n1);
    if (len > n1) copy(bytes, opt + o + n1, bytes, ring.offsetAt(skip + n1), len - n1);
  }
  const window = windowToAdvertise(c, syn);
  const ack = (flags & TCP_ACK) !== 0 ? c.rcvNxt : 0;
  // Urgent mode (Linux's tcp_transmit_skb): every segment before the urgent pointer carries it,
  // pointing past the urgent byte, or as far as the field reaches when it is further.
  let urgent = 0;
  if (c.urgentMode && !syn && seqLt(seq, c.sndUp)) {
    if (seqLt(c.sndUp, (seq + 0x10000) | 0)) urgent = seqDiff(c.sndUp, seq);
    else if (seqLt(c.sndNxt, (seq + 0xffff) | 0)) urgent = 0xffff;
    if (urgent > 0) flags |= TCP_URG;
  }
  t.seg
    .wrap(bytes, at)
    .writeHeader(c.localPort, c.remotePort, seq, ack, headerLength, flags, window);
  if (urgent > 0) writeU16(bytes, at + 18, urgent);
  finish(t, handle, at, headerLength + len, c.localAddress, c.remoteAddress);
  c.segmentsOut++;
  if (len > 0) {
    c.dataSegmentsOut++;
    c.bytesSent += len;
    c.dataSentAt = now;
  }
  if ((flags & TCP_ACK) !== 0) acked(c);
  return 0;
}

/** Checksums and sends a segment of `length` bytes built at `at` in `handle`. */
export function finish(
  t: TcpTable,
  handle: number,
  at: number,
  length: number,
  source: number,
  destination: number,
): void {
  const bytes = t.bytes;
  const iface = t.iface;
  if (iface === null) return;
  const pseudo = pseudoHeaderSumV4(source, destination, PROTOCOL_TCP, length);
  // With offload the field carries the pseudo-header sum, as CHECKSUM_PARTIAL leaves it.
  if (iface.checksumOffload) writeU16(bytes, at + 16, fold(pseudo));
  else writeU16(bytes, at + 16, ~fold(t.summer.sum(bytes, at, length, pseudo)) & 0xffff);
  iface.ip.sendBuffer(handle, length, PROTOCOL_TCP, source, destination, t.defaultTtl, 0);
  t.stats.segmentsOut++;
}

/**
 * The options of a SYN or SYN-ACK at `opt`: MSS, then SACK-permitted and timestamps when `sack`
 * and `ts` (packed as Linux packs them), then the window scale when `wscale` >= 0. Returns their
 * length.
 */
function synOptions(
  bytes: Uint8Array,
  opt: number,
  mss: number,
  sack: boolean,
  ts: boolean,
  tsVal: number,
  tsEcr: number,
  wscale: number,
): number {
  let o = writeMss(bytes, opt, mss);
  if (sack && ts) {
    o += writeSackPermitted(bytes, opt + o, false);
    o += writeTimestamp(bytes, opt + o, tsVal, tsEcr);
  } else if (ts) o += timestampOption(bytes, opt + o, tsVal, tsEcr);
  else if (sack) o += writeSackPermitted(bytes, opt + o, true);
  if (wscale >= 0) o += writeWscale(bytes, opt + o, wscale);
  return o;
}

/** The timestamp option behind two NOPs, 4-byte aligned, at `at`; returns its length. */
function timestampOption(bytes: Uint8Array, at: number, tsVal: number, tsEcr: number): number {
  const o = writeNops(bytes, at);
  return o + writeTimestamp(bytes, at + o, tsVal, tsEcr);
}

/** A pool buffer for a segment no connection waits to send; -errno counted as blocked output. */
function allocSegment(t: TcpTable, iface: NonNullable<TcpTable["iface"]>): number {
  const handle = iface.ip.allocDatagram();
  if (handle < 0) t.stats.outBlocked++;
  return handle;
}

export function poolOffset(t: TcpTable, handle: number): number {
  return (t.iface as NonNullable<typeof t.iface>).pool.offsetOf(handle) + DATAGRAM_DATA_OFFSET;
}

/** A segment with no connection behind it: resets, TIME-WAIT's ACKs. */
export function bareSegment(
  t: TcpTable,
  local: number,
  localPort: number,
  remote: number,
  remotePort: number,
  seq: number,
  ack: number,
  flags: number,
  ts: boolean,
  tsEcr: number,
): number {
  const iface = t.iface;
  if (iface === null) return -ENETUNREACH;
  const handle = allocSegment(t, iface);
  if (handle < 0) return handle;
  const bytes = t.bytes;
  const at = poolOffset(t, handle);
  const o = ts ? timestampOption(bytes, at + TCP_HEADER_LENGTH, t.now | 0, tsEcr) : 0;
  t.seg
    .wrap(bytes, at)
    .writeHeader(localPort, remotePort, seq, ack, TCP_HEADER_LENGTH + o, flags, 0);
  finish(t, handle, at, TCP_HEADER_LENGTH + o, local, remote);
  if ((flags & TCP_RST) !== 0) t.stats.resetsOut++;
  return 0;
}

/**
 * A SYN-ACK for a SYN queue entry or a cookie of listener `l`, with the options the SYN offered
 * and `tsVal`; its window and scale are the listener's receive ring's, which the child inherits.
 */
export function synAck(
  t: TcpTable,
  l: TcpConnection,
  local: number,
  localPort: number,
  remote: number,
  remotePort: number,
  iss: number,
  irs: number,
  options: number,
  tsRecent: number,
  tsVal: number,
): void {
  const iface = t.iface;
  if (iface === null) return;
  const handle = allocSegment(t, iface);
  if (handle < 0) return;
  const bytes = t.bytes;
  const at = poolOffset(t, handle);
  const ws = ((options >>> 16) & 15) - 1;
  const ourWscale = l.ourWscale;
  const o = synOptions(
    bytes,
    at + TCP_HEADER_LENGTH,
    iface.mtu - 40,
    (options & SYN_SACK) !== 0,
    (options & SYN_TS) !== 0,
    tsVal,
    tsRecent,
    ws >= 0 ? ourWscale : -1,
  );
  const space = l.recvRing.capacity;
  const window = space < 0xffff ? space : 0xffff;
  t.seg
    .wrap(bytes, at)
    .writeHeader(
      localPort,
      remotePort,
      iss,
      (irs + 1) | 0,
      TCP_HEADER_LENGTH + o,
      TCP_SYN | TCP_ACK,
      window,
    );
  finish(t, handle, at, TCP_HEADER_LENGTH + o, local, remote);
}

/** A reset from a connection (abort, bad ACK in SYN-RECEIVED): seq given, no ACK. */
export function sendReset(
  t: TcpTable,
  local: number,
  localPort: number,
  remote: number,
  remotePort: number,
  seq: number,
  ack: number,
  withAck: boolean,
): void {
  bareSegment(
    t,
    local,
    localPort,
    remote,
    remotePort,
    seq,
    ack,
    withAck ? TCP_RST | TCP_ACK : TCP_RST,
    false,
    0,
  );
}

/** RFC 9293 §3.10.7.1: the reset answering the segment in hand. */
export function resetReply(
  t: TcpTable,
  local: number,
  localPort: number,
  remote: number,
  remotePort: number,
): void {
  const flags = t.segFlags;
  if ((flags & TCP_ACK) !== 0)
    sendReset(t, local, localPort, remote, remotePort, t.segAck, 0, false);
  else {
    let len = t.payloadLength;
    if ((flags & TCP_SYN) !== 0) len++;
    if ((flags & TCP_FIN) !== 0) len++;
    sendReset(t, local, localPort, remote, remotePort, 0, (t.segSeq + len) | 0, true);
  }
}

/** An ACK now, for `c` (our reply to a FIN that ends in TIME-WAIT). */
export function sendAck(t: TcpTable, c: TcpConnection): void {
  writeSegment(t, c, TCP_ACK, c.sndNxt, 0, 0, t.now);
}

/** A keepalive or zero-window probe: one below sndUna, which the peer must acknowledge. */
export function sendProbe(t: TcpTable, c: TcpConnection): void {
  if (writeSegment(t, c, TCP_ACK, (c.sndUna - 1) | 0, 0, 0, t.now) < 0) t.stats.outBlocked++;
}

/**
 * RFC 5961 §7: an ACK that makes a blind attacker's guess visible to the real peer. Limited first
 * per connection (one per 500 ms, as Linux's tcp_oow_rate_limited), then over the stack by a
 * budget per second drawn at random between half and one and a half times the limit: a fixed
 * stack-wide count is a side channel through which an off-path attacker learns whether a guessed
 * tuple exists (CVE-2016-5696), and a per-connection limit keeps one flow from spending it all.
 */
export function challengeAck(t: TcpTable, c: TcpConnection, now: number): void {
  if (now - c.oowAckAt < OOW_ACK_INTERVAL) {
    t.stats.challengeAcksLimited++;
    return;
  }
  if (now - t.challengeWindow >= 1000) {
    t.challengeWindow = now;
    t.challengeBudget = (CHALLENGE_ACK_LIMIT >>> 1) + t.random.below(CHALLENGE_ACK_LIMIT);
  }
  if (t.challengeBudget <= 0) {
    t.stats.challengeAcksLimited++;
    return;
  }
  t.challengeBudget--;
  c.oowAckAt = now;
  t.stats.challengeAcks++;
  writeSegment(t, c, TCP_ACK, c.sndNxt, 0, 0, now);
}
