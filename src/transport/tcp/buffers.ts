// A connection's send and receive rings, sized by SO_SNDBUF and SO_RCVBUF.
//
// Both rings are spans of the socket buffer region (Spans), reserved in the arena at start-up and
// handed out when a connection opens, back when it closes. So SO_RCVBUF and SO_SNDBUF can size
// one connection's rings without allocating: before connect or listen the rings are carved again
// at the size asked (a listener's children take its sizes), growing only into the region's
// headroom beyond every socket's promised default, so the budget fixed at start-up always holds
// and every socket can still open. The receive window offered, and its scale, follow the ring.

import { MAX_WSCALE } from "../../wire/tcp.js";
import type { TcpConnection } from "./connection.js";
import { CLOSED } from "./constants.js";

/** The window scale a receive ring of `capacity` bytes needs for its whole window. */
export function scaleFor(capacity: number): number {
  let shift = 0;
  while (shift < MAX_WSCALE && capacity >>> shift > 0xffff) shift++;
  return shift;
}

/** Takes both rings' spans, of the configured sizes, as the connection opens. */
export function openRings(c: TcpConnection): boolean {
  if (!c.sendSpan.open()) return false;
  if (c.recvSpan.open()) {
    c.ourWscale = scaleFor(c.recvRing.capacity);
    c.rcvWscale = c.ourWscale;
    return true;
  }
  c.sendSpan.close();
  return false;
}

/** Gives both spans back as the connection closes. */
export function closeRings(c: TcpConnection): void {
  c.sendSpan.close();
  c.recvSpan.close();
}

/** Whether the rings may still change size: never connected, not listening, both empty. */
function ringsMovable(c: TcpConnection): boolean {
  return (
    c.state === CLOSED && !c.wasConnected && c.sendRing.readable === 0 && c.recvRing.readable === 0
  );
}

/**
 * SO_RCVBUF on a connection not yet opened: the receive ring moves to a span of `bytes` (what
 * the region allows, see RegionRing.resize), and the window scale offered follows it, as
 * Linux's tcp_select_initial_window follows a locked sk_rcvbuf. Once connecting or listening,
 * the window has been offered and its scale fixed, so the ring keeps its size.
 */
export function resizeReceiveRing(c: TcpConnection, bytes: number): void {
  if (!ringsMovable(c)) return;
  c.recvSpan.resize(bytes);
  c.ourWscale = scaleFor(c.recvRing.capacity);
  c.rcvWscale = c.ourWscale;
}

/** SO_SNDBUF on a connection not yet opened: the send ring moves to a span of `bytes`. */
export function resizeSendRing(c: TcpConnection, bytes: number): void {
  if (ringsMovable(c)) c.sendSpan.resize(bytes);
}

/**
 * A child of listener `l` takes its rings' sizes and the window scale its SYN-ACK offered, as
 * Linux's children inherit the listener's sk_rcvbuf and sk_sndbuf.
 */
export function inheritRings(c: TcpConnection, l: TcpConnection): void {
  c.sendSpan.resize(l.sendRing.capacity);
  c.recvSpan.resize(l.recvRing.capacity);
  c.ourWscale = l.ourWscale;
  c.rcvWscale = l.ourWscale;
}
