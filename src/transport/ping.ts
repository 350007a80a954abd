// Ping endpoints: Linux's unprivileged ICMP sockets (SOCK_DGRAM, IPPROTO_ICMP). The application
// writes an echo request (ICMP header and data); the stack puts the endpoint's identifier in it
// and computes the checksum. Echo replies carrying that identifier are queued whole, header
// included, with the sender's address (port 0), as Linux returns them.

import {
  EACCES,
  EADDRINUSE,
  EBADF,
  EADDRNOTAVAIL,
  EAFNOSUPPORT,
  EAGAIN,
  EDESTADDRREQ,
  EINVAL,
  EMSGSIZE,
  ENETUNREACH,
} from "../errno.js";
import {
  ECHO_QUEUED,
  ECHO_QUEUE_FULL,
  ECHO_UNWANTED,
  type EchoReplyHandler,
} from "../iface/icmp.js";
import { NO_ROUTE } from "../iface/ipv4.js";
import type { Ipv4Info } from "../iface/protocols.js";
import { Random } from "../random.js";
import { Memory, copy } from "../storage/memory.js";
import { Spans } from "../storage/spans.js";
import type { StackConfig } from "../config.js";
import { AF_INET, FullAddress, IpAddress, readU16, writeU16 } from "../wire/address.js";
import { ICMP_ECHO_REQUEST, ICMP_HEADER_LENGTH } from "../wire/icmpv4.js";
import { IPV4_BROADCAST, PROTOCOL_ICMP, isMulticastV4 } from "../wire/ipv4.js";
import { DatagramQueue } from "./datagram-queue.js";
import { DatagramSlot, EndpointTable } from "./endpoint-table.js";
import { PortSpace, allocatePort } from "./ports.js";
import { DatagramHandle } from "./datagram-handle.js";
import { EVENT_IN, EVENT_OUT, ReadyList } from "./waiter.js";

/** One ping socket's state: a slot of the table, reached through a PingEndpoint. */
export class PingState extends DatagramSlot {
  readonly id: number;
  readonly local = new IpAddress();
  /** The echo identifier, which plays the port's part. */
  identifier = 0;
  readonly remote = new IpAddress();
  connected = false;
  /** SO_BROADCAST: pinging a broadcast address is refused (EACCES) without it, as on Linux. */
  broadcast = false;
  ttl = -1;
  readonly queue: DatagramQueue;
  private readonly table: PingTable;

  constructor(table: PingTable, id: number, memory: Memory, receiveBuffer: number) {
    super();
    this.table = table;
    this.id = id;
    this.queue = new DatagramQueue(memory, table.spans, receiveBuffer, table.recordAt);
  }

  /** SO_RCVBUF: Linux's doubling and limits; 0 (it never fails, as on Linux). */
  setReceiveBuffer(bytes: number): number {
    this.table.setReceiveBuffer(this, bytes);
    return 0;
  }

  /** SO_SNDBUF: Linux's doubling and limits; 0. */
  setSendBuffer(bytes: number): number {
    this.table.setSendBuffer(this, bytes);
    return 0;
  }

  bind(address: IpAddress | null, identifier: number): number {
    if (this.identifier !== 0) return -EINVAL;
    if (identifier < 0 || identifier > 0xffff) return -EINVAL;
    if (address !== null && !address.isUnspecified) {
      // Linux's ping_check_bind_addr: an address of ours, a broadcast or a group.
      if (address.family !== AF_INET) return -EAFNOSUPPORT;
      const iface = this.table.iface;
      const v4 = address.v4;
      if (
        iface === null ||
        !(
          (v4 === iface.address && v4 !== 0) ||
          v4 === IPV4_BROADCAST ||
          (iface.broadcast !== 0 && v4 === iface.broadcast) ||
          isMulticastV4(v4)
        )
      )
        return -EADDRNOTAVAIL;
    }
    if (identifier === 0) identifier = allocatePort(this.table, this.table.random);
    else if (this.table.portInUse(identifier)) return -EADDRINUSE;
    if (address !== null) this.local.copyFrom(address);
    else this.local.clear();
    this.identifier = identifier;
    return 0;
  }

  connect(to: FullAddress): number {
    if (to.address.family !== AF_INET) return -EAFNOSUPPORT;
    const iface = this.table.iface;
    if (iface === null || iface.route(to.address.v4) === NO_ROUTE) return -ENETUNREACH;
    if (this.identifier === 0) {
      const result = this.bind(null, 0);
      if (result < 0) return result;
    }
    this.remote.copyFrom(to.address);
    this.connected = true;
    return 0;
  }

  /** Sends an echo request: `src[offset ..+ length)` is the ICMP header and data. */
  sendTo(src: Uint8Array, offset: number, length: number, to: FullAddress | null): number {
    if (length < ICMP_HEADER_LENGTH) return -EINVAL;
    if (length > 65507) return -EMSGSIZE;
    // Linux accepts only an echo request, code 0, on a ping socket.
    if (src[offset] !== ICMP_ECHO_REQUEST || src[offset + 1] !== 0) return -EINVAL;
    let destination: number;
    if (to === null) {
      if (!this.connected) return -EDESTADDRREQ;
      destination = this.remote.v4;
    } else {
      if (to.address.family !== AF_INET) return -EAFNOSUPPORT;
      destination = to.address.v4;
    }
    const table = this.table;
    const iface = table.iface;
    if (iface === null) return -ENETUNREACH;
    destination = iface.ip.destinationOf(destination);
    if ((destination === IPV4_BROADCAST || destination === iface.broadcast) && !this.broadcast)
      return -EACCES;
    if (this.identifier === 0) {
      const result = this.bind(null, 0);
      if (result < 0) return result;
    }
    const header = table.headerAt;
    const bytes = table.bytes;
    copy(bytes, header, src, offset, ICMP_HEADER_LENGTH);
    writeU16(bytes, header + 2, 0);
    writeU16(bytes, header + 4, this.identifier);
    const result = iface.ip.sendDatagram(
      PROTOCOL_ICMP,
      this.local.isUnspecified ? iface.address : this.local.v4,
      destination,
      this.ttl >= 0 ? this.ttl : table.defaultTtl,
      0,
      header,
      ICMP_HEADER_LENGTH,
      src,
      offset + ICMP_HEADER_LENGTH,
      length - ICMP_HEADER_LENGTH,
      2,
      false,
    );
    if (result === -EAGAIN) this.wantsWrite = true;
    return result < 0 ? result : length;
  }

  recvFrom(
    dst: Uint8Array,
    offset: number,
    capacity: number,
    from: FullAddress | null,
    flags: number,
  ): number {
    const n = this.queue.pop(dst, offset, capacity, from, flags);
    if (n >= 0 && from !== null) from.port = 0;
    return n;
  }

  release(): void {
    this.table.release(this);
  }

  readiness(mask: number): number {
    let events = 0;
    if (this.queue.count > 0) events |= EVENT_IN;
    const iface = this.table.iface;
    if (iface !== null && iface.ip.canSend(1)) events |= EVENT_OUT;
    return events & mask;
  }

  reset(): void {
    this.local.clear();
    this.identifier = 0;
    this.remote.clear();
    this.connected = false;
    this.broadcast = false;
    this.ttl = -1;
    this.queue.clear();
  }
}

export class PingTable extends EndpointTable<PingState> implements PortSpace, EchoReplyHandler {
  constructor(memory: Memory, config: StackConfig, spans: Spans, random: Random, ready: ReadyList) {
    super(memory, ICMP_HEADER_LENGTH, random, config, spans, ready);
    const count = config.pingSockets;
    for (let i = 0; i < count; i++)
      this.slots.push(new PingState(this, i, memory, config.pingReceiveBuffer));
  }

  /** A new endpoint, or null when all are in use. */
  open(): PingEndpoint | null {
    const slot = this.take();
    return slot === null ? null : new PingEndpoint(slot);
  }

  portInUse(identifier: number): boolean {
    for (let i = 0; i < this.slots.length; i++)
      if (this.slots[i].inUse && this.slots[i].identifier === identifier) return true;
    return false;
  }

  /** An echo reply (`bytes[at ..+ length)` is the ICMP message), for the socket of its identifier. */
  echoReply(info: Ipv4Info, bytes: Uint8Array, at: number, length: number): number {
    const identifier = readU16(bytes, at + 4);
    for (let i = 0; i < this.slots.length; i++) {
      const ep = this.slots[i];
      if (!ep.inUse || ep.identifier !== identifier) continue;
      if (ep.connected && ep.remote.v4 !== info.source) continue;
      const iface = this.iface;
      const arrival = iface !== null ? iface.now : 0;
      if (!ep.queue.push(bytes, at, length, info.source, 0, info.destination, 0, 0, arrival))
        return ECHO_QUEUE_FULL;
      this.ready.raise(ep, EVENT_IN);
      return ECHO_QUEUED;
    }
    return ECHO_UNWANTED;
  }
}

/** An application's ping socket; -EBADF once closed. */
export class PingEndpoint extends DatagramHandle<PingState> {
  /** The echo identifier, which plays the port's part; 0 when unbound or closed. */
  get identifier(): number {
    const s = this.live();
    return s === null ? 0 : s.identifier;
  }

  /** Binds to a local address (null for any) and an echo identifier (0 for an ephemeral one); 0 or -errno. */
  bind(address: IpAddress | null, identifier: number): number {
    const s = this.live();
    return s === null ? -EBADF : s.bind(address, identifier);
  }
}
