// The connection's timers: retransmission (RFC 6298 §5), delayed ACK, persist (zero-window
// probes), keepalive and the orphan's FIN-WAIT-2 limit. All are absolute times run from poll(now).

import { ETIMEDOUT } from "../../errno.js";
import { seqDiff } from "../../wire/tcp.js";
import { enterLoss } from "./congestion.js";
import type { TcpConnection } from "./connection.js";
import { due, earlier } from "../../time.js";
import { CLOSED, FIN_WAIT_2, MAX_RTO, OFF, SYN_RECEIVED, SYN_SENT } from "./constants.js";
import { sendProbe } from "./segments.js";

/** Persist and keepalive probes back off up to this. */
const MAX_PERSIST = 60_000;

/** Disarms every timer. */
export function stopTimers(c: TcpConnection): void {
  c.rtoAt = OFF;
  c.delackAt = OFF;
  c.keepAt = OFF;
  c.persistAt = OFF;
  c.finWait2At = OFF;
}

/** The earliest timer (OFF: none armed), or 0 when output is waiting (and could run). */
export function deadline(c: TcpConnection, canSend: boolean): number {
  if (c.pendingOutput && (!c.blocked || canSend)) return 0;
  let t = earlier(c.rtoAt, c.delackAt);
  t = earlier(t, c.keepAt);
  t = earlier(t, c.persistAt);
  return earlier(t, c.finWait2At);
}

export function armKeepalive(c: TcpConnection, now: number): void {
  c.keepAt = c.keepalive ? now + c.keepIdle : OFF;
}

export function setKeepalive(c: TcpConnection, on: boolean): void {
  c.keepalive = on;
  c.keepProbes = 0;
  c.keepAt = on && c.synchronized ? c.table.now + c.keepIdle : OFF;
  if (on) c.table.wake();
}

/** Runs the timers due at `now`. */
export function runTimers(c: TcpConnection, now: number): void {
  const t = c.table;
  if (due(c.rtoAt, now)) retransmitTimeout(c, now);
  if (c.state === CLOSED) return;
  if (due(c.delackAt, now)) {
    c.delackAt = OFF;
    if (c.unackedBytes > 0 || c.ackNow) {
      t.stats.delayedAcks++;
      c.ackNow = true;
      c.pendingOutput = true;
    }
  }
  if (due(c.persistAt, now)) {
    // Zero-window probe: Linux's tcp_xmit_probe_skb, an old sequence number the peer answers
    // with its window; it never ends the connection while answered.
    c.persistAt = OFF;
    if (c.sndWnd === 0 && c.sendRing.readable > seqDiff(c.sndNxt, c.dataStart)) {
      t.stats.persistProbes++;
      sendProbe(t, c);
      c.persistBackoff++;
      armPersist(c, now);
    }
  }
  if (due(c.keepAt, now)) {
    c.keepAt = OFF;
    if (c.keepalive && c.synchronized) {
      if (c.sndUna !== c.sndMax || c.sendRing.readable > 0) armKeepalive(c, now);
      else if (c.keepProbes >= c.keepCount) {
        c.abort(ETIMEDOUT, true);
        return;
      } else {
        c.keepProbes++;
        t.stats.keepaliveProbes++;
        sendProbe(t, c);
        c.keepAt = now + c.keepInterval;
      }
    }
  }
  if (due(c.finWait2At, now)) {
    c.finWait2At = OFF;
    if (c.state === FIN_WAIT_2 && c.orphan) c.abort(0, true);
  }
}

export function armPersist(c: TcpConnection, now: number): void {
  let d = c.rto << (c.persistBackoff < 10 ? c.persistBackoff : 10);
  if (d > MAX_PERSIST) d = MAX_PERSIST;
  if (d < c.table.minRto) d = c.table.minRto;
  c.persistAt = now + d;
}

/** RFC 6298 §5.4-5.7: back off, collapse the window, go back to the oldest unacknowledged. */
export function retransmitTimeout(c: TcpConnection, now: number): void {
  const t = c.table;
  c.rtoAt = OFF;
  if (c.sndUna === c.sndMax && c.state !== SYN_SENT && c.state !== SYN_RECEIVED) return;
  t.stats.timeouts++;
  c.retries++;
  const opening = c.state === SYN_SENT || c.state === SYN_RECEIVED;
  if (c.retries > (opening ? t.synRetries : t.maxRetries)) {
    c.abort(ETIMEDOUT, !opening);
    return;
  }
  c.rto = c.rto * 2 > MAX_RTO ? MAX_RTO : c.rto * 2;
  if (opening) {
    c.sndNxt = c.iss;
  } else enterLoss(c);
  c.rttAt = -1;
  c.pendingOutput = true;
}
