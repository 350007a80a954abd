// A listener's side of the handshake (RFC 9293 §3.10.7.2): SYNs take a SYN queue entry (no
// connection slot, no rings) and are answered from it, or with a SYN cookie when the queue is
// full (RFC 4987 §3.6); the ACK that completes the handshake is what takes a connection slot.

import { TUPLE_FULL_FAIL } from "../../storage/tuple-table.js";
import { due } from "../../time.js";
import { MAX_WSCALE, TCP_ACK, TCP_RST, TCP_SYN, seqLt } from "../../wire/tcp.js";
import { inheritRings } from "./buffers.js";
import type { TcpConnection } from "./connection.js";
import { SYN_RECEIVED, SYN_TS, packSynOptions } from "./constants.js";
import { fromSynQueue } from "./handshake.js";
import { segmentArrives } from "./input.js";
import { resetReply, synAck } from "./segments.js";
import type { TcpTable } from "./table.js";

// SYN queue value columns.
const SQ_ISS = 0;
const SQ_IRS = 1;
const SQ_OPTIONS = 2;
const SQ_TS_RECENT = 3;
export const SQ_LISTENER = 4;
const SQ_RETRIES = 5;
const SQ_WINDOW = 6;
/** The float column: when the first SYN-ACK left, for an RTT sample (-1 after a retry: Karn). */
const SQ_SENT_AT = 0;

/** MSS values a SYN cookie can carry (Linux's msstab). */
const COOKIE_MSS: readonly number[] = Object.freeze([536, 1300, 1440, 1460]);

/**
 * RFC 9293 §3.10.7.2, LISTEN. A SYN takes a SYN queue entry (no connection slot, no rings)
 * and is answered from it; with the queue full, from a SYN cookie. The ACK that completes the
 * handshake, matching an entry or a cookie, is what takes a connection slot.
 */
export function listenInput(
  t: TcpTable,
  l: TcpConnection,
  bytes: Uint8Array,
  local: number,
  remote: number,
  now: number,
): void {
  const flags = t.segFlags;
  if ((flags & TCP_RST) !== 0) return;
  const q = t.synQ;
  const port = l.localPort;
  const remotePort = t.segSourcePort;
  const e = q.find(local, port, remote, remotePort);
  if ((flags & TCP_ACK) !== 0) {
    if ((flags & TCP_SYN) !== 0) {
      resetReply(t, local, port, remote, remotePort);
      return;
    }
    let iss: number;
    let options: number;
    let tsRecent = 0;
    let window: number;
    let sentAt = -1;
    if (e >= 0) {
      sentAt = q.floats[SQ_SENT_AT][e];
      iss = q.ints[SQ_ISS][e];
      if (t.segAck !== ((iss + 1) | 0) || t.segSeq !== ((q.ints[SQ_IRS][e] + 1) | 0)) {
        resetReply(t, local, port, remote, remotePort);
        return;
      }
      options = q.ints[SQ_OPTIONS][e];
      tsRecent = q.ints[SQ_TS_RECENT][e];
      window = q.ints[SQ_WINDOW][e];
    } else {
      const mss = cookieCheck(t, local, port, remote, remotePort, now);
      if (mss === 0) {
        t.stats.synCookiesFailed++;
        resetReply(t, local, port, remote, remotePort);
        return;
      }
      t.stats.synCookiesValid++;
      iss = (t.segAck - 1) | 0;
      options = cookieOptions(t, mss, now);
      if ((options & SYN_TS) !== 0) tsRecent = t.opts.tsVal;
      // The window of the segment in hand; processing it below scales it when WS was agreed.
      window = t.segWnd;
    }
    if (waiting(t, l) >= l.backlog) {
      // Linux drops it: the peer's retransmission may find room.
      t.stats.listenDrops++;
      return;
    }
    const child = t.open();
    if (child === null) {
      t.stats.listenDrops++;
      return;
    }
    inheritRings(child, l);
    fromSynQueue(
      child,
      l,
      local,
      remote,
      remotePort,
      iss,
      (t.segSeq - 1) | 0,
      options,
      tsRecent,
      window,
      sentAt,
      now,
    );
    segmentArrives(child, bytes, now);
    if (child.inUse && child.state === SYN_RECEIVED) {
      // The ACK was not good enough after all (PAWS, window): the half-open entry stays.
      t.release(child);
      return;
    }
    if (e >= 0) q.remove(e);
    return;
  }
  if ((flags & TCP_SYN) === 0) return;
  if (waiting(t, l) >= l.backlog) {
    t.stats.listenDrops++;
    return;
  }
  if (e >= 0) {
    // The peer's SYN again: our SYN-ACK was lost.
    if (q.ints[SQ_IRS][e] === t.segSeq) sendSynAck(t, e, now);
    return;
  }
  const o = t.opts;
  const mss = o.mss !== 0 ? o.mss : 536;
  if (q.count >= q.capacity) {
    // SYN cookies (RFC 4987 §3.6): the state rides in our ISN, and, as Linux does, the peer's
    // window scale and SACK in the low bits of our timestamp when it offered timestamps (it
    // echoes them in the ACK). Without timestamps only the MSS survives.
    t.stats.synCookiesSent++;
    const iss = cookie(t, local, port, remote, remotePort, t.segSeq, mss, now);
    const ts = o.hasTimestamp;
    synAck(
      t,
      l,
      local,
      port,
      remote,
      remotePort,
      iss,
      t.segSeq,
      packSynOptions(mss, ts ? o.wscale : -1, ts && o.sackPermitted, ts),
      o.tsVal,
      ts ? cookieTimestamp(o.wscale, o.sackPermitted, now) : 0,
    );
    return;
  }
  const f = q.insert(local, port, remote, remotePort, now + t.initialRto, TUPLE_FULL_FAIL);
  if (f < 0) return;
  q.ints[SQ_ISS][f] = t.isn(local, port, remote, remotePort, now);
  q.ints[SQ_IRS][f] = t.segSeq;
  q.ints[SQ_OPTIONS][f] = packSynOptions(mss, o.wscale, o.sackPermitted, o.hasTimestamp);
  q.ints[SQ_TS_RECENT][f] = o.tsVal;
  q.ints[SQ_LISTENER][f] = l.id;
  q.ints[SQ_RETRIES][f] = 0;
  // A SYN's window is never scaled.
  q.ints[SQ_WINDOW][f] = t.segWnd;
  q.floats[SQ_SENT_AT][f] = now;
  sendSynAck(t, f, now);
}

/** Connections of `l` established and waiting for accept(). */
export function waiting(t: TcpTable, l: TcpConnection): number {
  let n = 0;
  const slots = t.slots;
  for (let i = 0; i < slots.length; i++) if (slots[i].inUse && slots[i].parent === l) n++;
  return n;
}

export function sendSynAck(t: TcpTable, e: number, now: number): void {
  const q = t.synQ;
  synAck(
    t,
    t.slots[q.ints[SQ_LISTENER][e]],
    q.localAddress[e],
    q.localPort[e],
    q.remoteAddress[e],
    q.remotePort[e],
    q.ints[SQ_ISS][e],
    q.ints[SQ_IRS][e],
    q.ints[SQ_OPTIONS][e],
    q.ints[SQ_TS_RECENT][e],
    now,
  );
}

/** SYN queue entries whose SYN-ACK is due again, or that ran out of retries. */
export function synQueueTimers(t: TcpTable, now: number): void {
  const q = t.synQ;
  if (!due(q.nextDeadline(), now)) return;
  for (let e = q.nextExpired(now, 0); e >= 0; e = q.nextExpired(now, e + 1)) {
    const retries = ++q.ints[SQ_RETRIES][e];
    if (retries > t.synRetries) {
      q.remove(e);
      t.stats.synQueueTimeouts++;
      continue;
    }
    t.stats.retransmits++;
    q.floats[SQ_SENT_AT][e] = -1;
    sendSynAck(t, e, now);
    q.setDeadline(e, now + (t.initialRto << retries));
  }
}

/** A listener closes: its half-open connections go. */
export function dropSynQueue(t: TcpTable, l: TcpConnection): void {
  const q = t.synQ;
  for (let e = 0; e < q.capacity; e++)
    if (q.has(e) && q.ints[SQ_LISTENER][e] === l.id && q.localPort[e] === l.localPort) q.remove(e);
}

/**
 * A SYN cookie: bits 27-31 a 64-second counter, 3-26 a keyed hash of the tuple, the counter
 * and the peer's ISN, 0-2 the MSS index.
 */
export function cookie(
  t: TcpTable,
  local: number,
  localPort: number,
  remote: number,
  remotePort: number,
  irs: number,
  mss: number,
  now: number,
): number {
  let index = COOKIE_MSS.length - 1;
  while (index > 0 && COOKIE_MSS[index] > mss) index--;
  const counter = Math.floor(now / 64_000) & 31;
  const h = cookieHash(t, local, localPort, remote, remotePort, irs, counter);
  return (counter << 27) | ((h & 0xffffff) << 3) | index | 0;
}

/** The MSS a cookie in the segment's ACK carries, or 0 when it is not one of ours (or stale). */
export function cookieCheck(
  t: TcpTable,
  local: number,
  localPort: number,
  remote: number,
  remotePort: number,
  now: number,
): number {
  const c = (t.segAck - 1) | 0;
  const counter = c >>> 27;
  const current = Math.floor(now / 64_000) & 31;
  // This period or the one before: a cookie lives 64 to 128 s.
  if (counter !== current && counter !== ((current - 1) & 31)) return 0;
  const irs = (t.segSeq - 1) | 0;
  const h = cookieHash(t, local, localPort, remote, remotePort, irs, counter);
  if (((c >>> 3) & 0xffffff) !== (h & 0xffffff)) return 0;
  const index = c & 7;
  return index < COOKIE_MSS.length ? COOKIE_MSS[index] : 0;
}

/** The keyed hash of a cookie: SipHash-2-4 of the tuple, the peer's ISN and the counter. */
export function cookieHash(
  t: TcpTable,
  local: number,
  localPort: number,
  remote: number,
  remotePort: number,
  irs: number,
  counter: number,
): number {
  return t.hash.hashWords5(local, remote, (remotePort << 16) | localPort, irs, counter);
}

/** Bits of a cookie's timestamp: the peer's window scale (15: none), then SACK. */
const TS_WSCALE_NONE = 15;
const TS_SACK = 16;
const TS_BITS = 63;

/**
 * Our timestamp on a cookie's SYN-ACK (Linux's cookie_init_timestamp): the clock with its low six
 * bits replaced by the options to remember, never ahead of the clock.
 */
function cookieTimestamp(wscale: number, sack: boolean, now: number): number {
  const options = (wscale >= 0 ? wscale : TS_WSCALE_NONE) | (sack ? TS_SACK : 0);
  const clock = now | 0;
  let ts = (clock & ~TS_BITS) | options;
  if (seqLt(clock, ts)) ts = (ts - (TS_BITS + 1)) | 0;
  return ts;
}

/**
 * The options a valid cookie's ACK brings back: the MSS from the cookie, and from the echoed
 * timestamp the window scale and SACK, when it echoes one of ours (no later than now, no older
 * than a cookie lives).
 */
function cookieOptions(t: TcpTable, mss: number, now: number): number {
  const o = t.opts;
  if (!o.hasTimestamp || o.tsEcr === 0) return packSynOptions(mss, -1, false, false);
  const age = ((now | 0) - o.tsEcr) | 0;
  if (age < 0 || age > 128_000 + TS_BITS) return packSynOptions(mss, -1, false, false);
  const bits = o.tsEcr & TS_BITS;
  const ws = bits & TS_WSCALE_NONE;
  const wscale = ws === TS_WSCALE_NONE ? -1 : ws > MAX_WSCALE ? MAX_WSCALE : ws;
  return packSynOptions(mss, wscale, (bits & TS_SACK) !== 0, true);
}
