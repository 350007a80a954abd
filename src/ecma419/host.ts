// The ECMA-419 sockets' tie to one socket layer: a Pollable the driver runs after the stack and
// the layer, which delivers every instance's callbacks from its poll. Callbacks therefore never
// run from inside a method or a constructor (ECMA-419 §8), and always after the stack's input
// pass. Instances sit in a table indexed by their socket's descriptor, made once; a poll walks it
// (a handful of sockets on a microcontroller) and allocates nothing. The driver polls every
// pollable in each round, so data or an acknowledgement that frees space reaches onReadable or
// onWritable without a waiter entry per socket.

import type { DnsClient } from "../apps/dns-client.js";
import type { Pollable } from "../device.js";
import type { SocketLayer } from "../epsocket/layer.js";
import { AF_INET } from "../wire/address.js";

/** What the host calls on each poll: an instance checks its socket and calls back. */
export interface Delivery {
  deliver(): void;
}

/** A request deferred to the next poll (a DNS answer). */
export interface Deferred {
  run(): void;
}

export class SocketHost implements Pollable {
  readonly layer: SocketLayer;
  /** Instances by descriptor. */
  readonly table: (Delivery | null)[] = [];
  /** Work for the next poll besides the table; bounded by the caller's requests. */
  readonly deferred: Deferred[] = [];
  /** Other instances that look at something each poll (interfaces, resolvers with requests waiting). */
  readonly watchers: Delivery[] = [];
  /** The DNS client the resolvers share, polled from here; null without one. */
  dns: DnsClient | null = null;
  /** sockaddr_in scratch for the calls the classes make (never kept across calls). */
  readonly sockaddr = new Uint8Array(16);
  /** int scratch for ioctl answers. */
  readonly int = new Uint8Array(4);
  /** ifreq scratch for the interface object. */
  readonly ifreq = new Uint8Array(40);
  onWake: (() => void) | null = null;
  private due = false;

  constructor(layer: SocketLayer) {
    this.layer = layer;
    for (let i = 0; i < layer.sockets.length; i++) this.table.push(null);
  }

  attach(fd: number, delivery: Delivery): void {
    this.table[fd] = delivery;
    this.wake();
  }

  detach(fd: number, delivery: Delivery): void {
    if (this.table[fd] === delivery) this.table[fd] = null;
  }

  watch(watcher: Delivery): void {
    this.watchers.push(watcher);
  }

  unwatch(watcher: Delivery): void {
    const i = this.watchers.indexOf(watcher);
    if (i >= 0) this.watchers.splice(i, 1);
  }

  defer(work: Deferred): void {
    this.deferred.push(work);
    this.wake();
  }

  /** Asks the driver for a poll soon: something is due that no packet will bring. */
  wake(): void {
    this.due = true;
    if (this.onWake !== null) this.onWake();
  }

  poll(now: number): void {
    this.due = false;
    const dns = this.dns;
    if (dns !== null) dns.poll(now);
    const watchers = this.watchers;
    for (let i = 0; i < watchers.length; i++) watchers[i].deliver();
    const table = this.table;
    for (let i = 0; i < table.length; i++) {
      const d = table[i];
      if (d !== null) d.deliver();
    }
    const deferred = this.deferred;
    while (deferred.length > 0) (deferred.shift() as Deferred).run();
  }

  nextDeadline(): number {
    if (this.due || this.deferred.length > 0) return 0;
    return this.dns !== null ? this.dns.nextDeadline() : Infinity;
  }

  /**
   * Writes an AF_INET sockaddr for a dotted quad and port into `sockaddr`; false when the text is
   * not one (our DNS answers dotted quads only).
   */
  putSockaddr(address: string | undefined, port: number): boolean {
    let v = 0;
    if (address !== undefined) {
      v = dottedQuad(address);
      if (v < 0) return false;
    }
    this.putSockaddrValue(v, port);
    return true;
  }

  /** An AF_INET sockaddr for an address already parsed. */
  putSockaddrValue(v: number, port: number): void {
    const b = this.sockaddr;
    b.fill(0);
    b[0] = AF_INET;
    b[2] = (port >> 8) & 255;
    b[3] = port & 255;
    b[4] = (v >>> 24) & 255;
    b[5] = (v >>> 16) & 255;
    b[6] = (v >>> 8) & 255;
    b[7] = v & 255;
  }

  /** The address in `sockaddr` (after a get*Name or recvMsg), as an integer. */
  sockaddrAddress(): number {
    const b = this.sockaddr;
    return ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
  }

  sockaddrPort(): number {
    const b = this.sockaddr;
    return (b[2] << 8) | b[3];
  }

  readInt(): number {
    const b = this.int;
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
  }
}

/**
 * A dotted quad to its address as an unsigned integer, or -1: by character, since UDP's write
 * parses its destination on every packet and split() would allocate.
 */
export function dottedQuad(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}
