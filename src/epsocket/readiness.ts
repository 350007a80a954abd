// A socket's readiness: what Linux's tcp_poll and datagram_poll report, from the endpoint's events
// and the socket-level state above it (shutdown, a connection over).

import {
  CLOSED,
  CLOSE_WAIT,
  ESTABLISHED,
  LISTEN,
  SYN_RECEIVED,
  SYN_SENT,
} from "../transport/tcp/constants.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import {
  EVENT_ERR,
  EVENT_HUP,
  EVENT_IN,
  EVENT_OUT,
  EVENT_PRI,
  EVENT_RDHUP,
} from "../transport/waiter.js";
import type { SocketOperations } from "./socket.js";

/** The events among `mask` that hold now (EVENT_IN, OUT, ERR, HUP, RDHUP): tcp_poll, datagram_poll. */
export function readiness(s: SocketOperations, mask: number): number {
  if (!s.inUse) return 0;
  let events = 0;
  const tcp = s.tcp;
  if (tcp !== null) {
    const state = tcp.state;
    const endpoint = tcp.readiness(
      EVENT_IN | EVENT_PRI | EVENT_OUT | EVENT_ERR | EVENT_RDHUP | EVENT_HUP,
    );
    if (state === LISTEN) return endpoint & (EVENT_IN | EVENT_ERR) & mask;
    const ended = s.ended;
    const readShut = s.shutRead || ended || (endpoint & EVENT_RDHUP) !== 0;
    const writeShut = s.shutWrite || ended;
    if ((readShut && writeShut) || state === CLOSED) events |= EVENT_HUP;
    if (readShut) events |= EVENT_IN | EVENT_RDHUP;
    if (state !== SYN_SENT && state !== SYN_RECEIVED) {
      // Readable data (an urgent byte out of line at the mark is not), and EPOLLPRI.
      events |= endpoint & (EVENT_IN | EVENT_PRI);
      if (
        writeShut ||
        (endpoint & EVENT_OUT) !== 0 ||
        (state !== ESTABLISHED && state !== CLOSE_WAIT)
      )
        events |= EVENT_OUT;
    }
    if ((endpoint & EVENT_ERR) !== 0 || s.socketError !== 0) events |= EVENT_ERR;
  } else {
    const udp = s.udp as UdpEndpoint;
    events = udp.readiness(EVENT_IN | EVENT_OUT | EVENT_ERR);
    if (s.shutRead) events |= EVENT_IN | EVENT_RDHUP;
    if (s.shutRead && s.shutWrite) events |= EVENT_HUP;
  }
  return events & mask;
}
