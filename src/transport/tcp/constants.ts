// TCP's states (RFC 9293 §3.3.2, numbered as Linux's TCP_INFO reports them is not needed: these
// are the RFC's order) and the flags of send and receive calls.

/** No connection. */
export const CLOSED = 0;
/** Waiting for connections (listen()). */
export const LISTEN = 1;
/** connect() sent its SYN and waits for the answer. */
export const SYN_SENT = 2;
/** A SYN came and was answered; waiting for its ACK. */
export const SYN_RECEIVED = 3;
/** Open: data flows both ways. */
export const ESTABLISHED = 4;
/** Closed by us; our FIN is not yet acknowledged. */
export const FIN_WAIT_1 = 5;
/** Closed by us and acknowledged; waiting for the peer's FIN. */
export const FIN_WAIT_2 = 6;
/** The peer closed; we may still send. */
export const CLOSE_WAIT = 7;
/** Both closed at once; waiting for the ACK of our FIN. */
export const CLOSING = 8;
/** The peer closed, then we did; waiting for the ACK of our FIN. */
export const LAST_ACK = 9;
/** Closed; old segments are let die for 2 MSL before the tuple is reused. */
export const TIME_WAIT = 10;

/** Names for diagnostics and tests; never used per segment. */
export const STATE_NAMES: readonly string[] = Object.freeze([
  "CLOSED",
  "LISTEN",
  "SYN-SENT",
  "SYN-RECEIVED",
  "ESTABLISHED",
  "FIN-WAIT-1",
  "FIN-WAIT-2",
  "CLOSE-WAIT",
  "CLOSING",
  "LAST-ACK",
  "TIME-WAIT",
]);

/** recv flag: look without consuming (Linux's value). */
export const MSG_PEEK = 0x2;
/** send flag: more data follows, hold a partial segment (cork) until a send without it. */
export const MSG_MORE = 0x8000;

/** shutdown(how). */
export const SHUT_RD = 0;
/** shutdown(how): no more sending (a FIN goes out). */
export const SHUT_WR = 1;
/** shutdown(how): neither. */
export const SHUT_RDWR = 2;

/** A timer not armed (see time.ts: a small integer, so timer fields stay small integers). */
export { OFF } from "../../time.js";

/** RFC 6298 §2.5: a maximum of at least 60 s; Linux uses 120 s. */
export const MAX_RTO = 120_000;

/** Flags of a SYN's options as the SYN queue keeps them: MSS in the low 16 bits, WS + 1 above. */
export const SYN_SACK = 1 << 20;
/** The SYN carried timestamps; packed beside SYN_SACK. */
export const SYN_TS = 1 << 21;

/** The options of a SYN, packed for a SYN queue entry. */
export function packSynOptions(mss: number, wscale: number, sack: boolean, ts: boolean): number {
  return (mss & 0xffff) | ((wscale + 1) << 16) | (sack ? SYN_SACK : 0) | (ts ? SYN_TS : 0);
}

/** Linux's tcp_invalid_ratelimit: out-of-window segments and challenges are answered at most this
 * often per connection (ms). */
export const OOW_ACK_INTERVAL = 500;

/** Urgent data (Linux's urg_data): none. */
export const URG_NONE = 0;
/** Urgent data announced by a pointer, its byte not arrived yet. */
export const URG_NOT_YET = 1;
/** The urgent byte has arrived and waits for recv(MSG_OOB). */
export const URG_VALID = 2;
/** The urgent byte was read with MSG_OOB (out of line, it is still stepped over in the stream). */
export const URG_READ = 3;

/** send and recv flag: urgent ("out-of-band") data (Linux's value). */
export const MSG_OOB = 0x1;
/** recv flag with MSG_OOB: count the urgent byte without copying it (Linux's value). */
export const MSG_TRUNC = 0x20;
