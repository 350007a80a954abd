// UDP echo (RFC 862) on a port: every datagram goes back to its sender unchanged. It answers from
// its readiness callback, which the stack calls after the input pass, so the echo goes out in the
// same poll without ever re-entering packet input.

import { EAGAIN, errnoName } from "../errno.js";
import type { Stack } from "../stack.js";
import { FullAddress } from "../wire/address.js";
import { isMulticastV4 } from "../wire/ipv4.js";
import { UDP_MAX_PAYLOAD } from "../transport/udp.js";
import { UdpEndpoint } from "../transport/udp-endpoint.js";
import { EVENT_IN, EVENT_OUT, EntryCallback, WaiterEntry } from "../transport/waiter.js";

/** The UDP echo service (RFC 862): every datagram goes back to its sender. */
export class UdpEcho implements EntryCallback {
  /** The UDP endpoint it answers on. */
  readonly endpoint: UdpEndpoint;
  /** Datagrams echoed, and those the stack could not send back (no route, or refused). */
  echoed = 0;
  /** Echoes the stack refused to send (no route, too big). */
  failed = 0;
  /**
   * Datagrams not answered because their source could be another service (a port below 1024,
   * as inetd's echo refuses) or cannot be answered (0.0.0.0, a broadcast or multicast source):
   * two echo services would otherwise bounce one spoofed datagram forever.
   */
  refused = 0;
  private readonly bytes: Uint8Array;
  private readonly bufferAt: number;
  private readonly bufferSize: number;
  private readonly from = new FullAddress();
  private readonly entry = new WaiterEntry(this);
  /** The length of a datagram read but not yet sent back for want of room; -1 for none. */
  private held = -1;

  /**
   * Echoes on `port`. Its `bufferSize`-byte buffer (by default the largest datagram the stack can
   * receive) comes from the stack's arena when `appMemory` left room for it, else from the heap,
   * once: either way nothing is allocated per datagram.
   */
  constructor(stack: Stack, port = 7, bufferSize = largestDatagram(stack)) {
    const endpoint = stack.openUdp();
    if (typeof endpoint === "number")
      throw new Error(`udp-echo: no UDP endpoint (${errnoName(endpoint)})`);
    const result = endpoint.bind(null, port);
    if (result < 0) throw new Error(`udp-echo: bind to port ${port}: ${errnoName(result)}`);
    endpoint.eventRegister(this.entry, EVENT_IN | EVENT_OUT);
    this.endpoint = endpoint;
    const memory = stack.memory;
    const inArena = memory.free >= bufferSize + 8;
    this.bytes = inArena ? memory.bytes : new Uint8Array(bufferSize);
    this.bufferAt = inArena ? memory.take(bufferSize) : 0;
    this.bufferSize = bufferSize;
  }

  /** Reads and answers every waiting datagram; the stack calls it after a poll. */
  callback(_entry: WaiterEntry, _events: number): void {
    const endpoint = this.endpoint;
    for (;;) {
      let n = this.held;
      if (n < 0) {
        n = endpoint.recvFrom(this.bytes, this.bufferAt, this.bufferSize, this.from, 0);
        if (n < 0) break;
        if (!answerable(this.from)) {
          this.refused++;
          continue;
        }
      }
      const sent = endpoint.sendTo(this.bytes, this.bufferAt, n, this.from);
      if (sent === -EAGAIN) {
        // EAGAIN: keep it and go on when EVENT_OUT says there is room again.
        this.held = n;
        return;
      }
      this.held = -1;
      if (sent === n) this.echoed++;
      else this.failed++;
    }
  }

  /** Closes its endpoint. */
  close(): void {
    this.endpoint.close();
  }
}

/** The largest UDP payload `stack` receives: reassembled, or in one frame, whichever is larger. */
function largestDatagram(stack: Stack): number {
  const config = stack.config;
  const whole = config.bufferSize - 14 - 20 - 8;
  const reassembled = config.reassemblySlots > 0 ? config.reassemblySize - 8 : 0;
  const largest = reassembled > whole ? reassembled : whole;
  return largest < UDP_MAX_PAYLOAD ? largest : UDP_MAX_PAYLOAD;
}

/** Whether an echo may go back to `from`. */
function answerable(from: FullAddress): boolean {
  if (from.port < 1024) return false;
  const source = from.address.v4;
  return source !== 0 && source !== -1 && !isMulticastV4(source);
}
