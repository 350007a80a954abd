// UDP echo (RFC 862) on a port: every datagram goes back to its sender unchanged. A Pollable, so
// it answers in its own turn after the stack's poll rather than from inside packet input.

import type { Pollable } from "../device.js";
import type { Stack } from "../stack.js";
import { FullAddress } from "../wire/address.js";
import { UdpEndpoint } from "../transport/udp.js";
import { EVENT_IN, Waiter } from "../transport/waiter.js";

export class UdpEcho implements Pollable, Waiter {
  readonly endpoint: UdpEndpoint;
  /** Datagrams echoed, and those the stack could not send back (no buffer, no route). */
  echoed = 0;
  failed = 0;
  private readonly bytes: Uint8Array;
  private readonly bufferAt: number;
  private readonly bufferSize: number;
  private readonly from = new FullAddress();
  private pending = false;

  /** `bufferSize` bytes are taken from the stack's arena (see StackSetup.appMemory). */
  constructor(stack: Stack, port = 7, bufferSize = 65507) {
    const endpoint = stack.openUdp();
    if (endpoint === null) throw new Error("udp-echo: no UDP endpoint free");
    const result = endpoint.bind(null, port);
    if (result < 0) throw new Error(`udp-echo: bind to port ${port} failed (${-result})`);
    endpoint.waiter = this;
    this.endpoint = endpoint;
    this.bytes = stack.memory.bytes;
    this.bufferAt = stack.memory.take(bufferSize);
    this.bufferSize = bufferSize;
  }

  notify(events: number): void {
    if ((events & EVENT_IN) !== 0) this.pending = true;
  }

  poll(_now: number): void {
    if (!this.pending) return;
    this.pending = false;
    const endpoint = this.endpoint;
    for (;;) {
      const n = endpoint.recvFrom(this.bytes, this.bufferAt, this.bufferSize, this.from, 0);
      if (n < 0) break;
      if (endpoint.sendTo(this.bytes, this.bufferAt, n, this.from) === n) this.echoed++;
      else this.failed++;
    }
  }

  nextDeadline(): number {
    return this.pending ? 0 : Infinity;
  }

  close(): void {
    this.endpoint.close();
  }
}
