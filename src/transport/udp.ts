// UDP endpoints (RFC 768) with the behaviour of Linux's UDP sockets: bind and connect rules,
// ephemeral ports, SO_BROADCAST, datagrams that arrive whole or not at all, errors from ICMP on
// connected sockets, and every result as a count or -errno.

import {
  EACCES,
  EADDRINUSE,
  EADDRNOTAVAIL,
  EAFNOSUPPORT,
  EAGAIN,
  EDESTADDRREQ,
  EINVAL,
  EMSGSIZE,
  ENETUNREACH,
  ENOTCONN,
} from "../errno.js";
import { NO_ROUTE } from "../iface/ipv4.js";
import { DELIVERED, Ipv4Info, type ProtocolHandler } from "../iface/protocols.js";
import { Random } from "../random.js";
import { UdpStats } from "../stats.js";
import { Memory } from "../storage/memory.js";
import { Spans } from "../storage/spans.js";
import type { StackConfig } from "../config.js";
import { AF_INET, FullAddress, IpAddress, readI32, readU16, writeU16 } from "../wire/address.js";
import { Checksum, pseudoHeaderSumV4 } from "../wire/checksum.js";
import { ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE } from "../wire/icmpv4.js";
import { IPV4_BROADCAST, PROTOCOL_UDP, isMulticastV4 } from "../wire/ipv4.js";
import { UDP_HEADER_LENGTH, UdpDatagram } from "../wire/udp.js";
import { BIND_V6_ONLY, DatagramSlot, EndpointTable, familyClash } from "./endpoint-table.js";
import { PortSpace, allocatePort } from "./ports.js";
import { DatagramQueue, RECORD_GROUP } from "./datagram-queue.js";
import { unreachableErrno, unreachableIsHard } from "./icmp-errors.js";
import { EVENT_ERR, EVENT_IN, EVENT_OUT, ReadyList } from "./waiter.js";

/** Largest UDP payload over IPv4: 65535 - 20 - 8. */
export const UDP_MAX_PAYLOAD = 65507;

/** One UDP socket's state: a slot of the table, reached by applications through a UdpEndpoint. */
export class UdpState extends DatagramSlot {
  readonly id: number;
  readonly local = new IpAddress();
  localPort = 0;
  readonly remote = new IpAddress();
  remotePort = 0;
  /**
   * `local` as input compares it, kept beside it by every change (see localChanged): whether it is
   * the wildcard, and its IPv4 number. Asked for every endpoint on every datagram in.
   */
  localAny = true;
  localV4 = 0;
  /** `remote`'s IPv4 number, kept by connect and disconnect. */
  remoteV4 = 0;
  connected = false;
  /** SO_BROADCAST: sending to a broadcast address is refused (EACCES) without it, as on Linux. */
  broadcast = false;
  /** SO_REUSEADDR: share a port with other endpoints that set it too. */
  reuseAddress = false;
  /**
   * bind() fixed the address / the port (Linux's SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK); what
   * was not fixed by bind() was chosen by connect or a send, and disconnect gives it back.
   */
  addressLocked = false;
  portLocked = false;
  /** When it was bound, in binds of its table: among equal matches the latest bound wins. */
  bindOrder = 0;
  /** IP_TTL; -1 means the stack's default. */
  ttl = -1;
  tos = 0;
  /** A pending asynchronous error (positive errno), reported once by the next call. */
  error = 0;
  readonly queue: DatagramQueue;
  private readonly table: UdpTable;

  constructor(table: UdpTable, id: number, memory: Memory, receiveBuffer: number) {
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

  get bound(): boolean {
    return this.localPort !== 0;
  }

  /** Binds to an address of ours (or the wildcard) and a port (0: an ephemeral one). */
  bind(address: IpAddress | null, port: number): number {
    if (this.localPort !== 0) return -EINVAL;
    if (port < 0 || port > 0xffff) return -EINVAL;
    const requested = port;
    if (address !== null && !address.isUnspecified) {
      if (address.family !== AF_INET) return -EAFNOSUPPORT;
      if (!this.table.isLocalAddress(address.v4)) return -EADDRNOTAVAIL;
    }
    if (port === 0) {
      port = allocatePort(this.table, this.table.random);
      if (port === 0) return -EADDRINUSE;
    } else if (this.table.conflicts(this, address, port)) return -EADDRINUSE;
    this.addressLocked = address !== null && !address.isUnspecified;
    this.portLocked = requested !== 0;
    if (address !== null) this.local.copyFrom(address);
    else this.local.clear();
    this.localChanged();
    this.localPort = port;
    this.bindOrder = ++this.table.binds;
    return 0;
  }

  /**
   * An ephemeral port for a socket that sends or connects unbound, keeping any address it has and
   * locking nothing (Linux's inet_autobind).
   */
  private autobind(): number {
    const port = allocatePort(this.table, this.table.random);
    if (port === 0) return -EAGAIN;
    this.localPort = port;
    this.bindOrder = ++this.table.binds;
    return 0;
  }

  private localChanged(): void {
    this.localAny = this.local.isUnspecified;
    this.localV4 = this.localAny ? 0 : this.local.v4;
  }

  /** Fixes the peer: only its datagrams are received, and sends need no address. */
  connect(to: FullAddress): number {
    if (to.address.family !== AF_INET) return -EAFNOSUPPORT;
    const iface = this.table.iface;
    if (iface === null) return -ENETUNREACH;
    const destination = iface.ip.destinationOf(to.address.v4);
    if (iface.route(destination) === NO_ROUTE) return -ENETUNREACH;
    if (this.localPort === 0) {
      const result = this.autobind();
      if (result < 0) return result;
    }
    if (this.local.isUnspecified && destination !== IPV4_BROADCAST && !isMulticastV4(destination))
      this.local.setV4(iface.address);
    this.localChanged();
    this.remote.copyFrom(to.address);
    this.remoteV4 = this.remote.v4;
    this.remotePort = to.port;
    this.connected = true;
    this.error = 0;
    return 0;
  }

  /**
   * connect() with AF_UNSPEC: forget the peer, and, as Linux's __udp_disconnect, the source address
   * and the port unless bind() fixed them.
   */
  disconnect(): number {
    this.connected = false;
    this.remote.clear();
    this.remoteV4 = 0;
    this.remotePort = 0;
    if (!this.addressLocked) this.local.clear();
    this.localChanged();
    if (!this.portLocked) this.localPort = 0;
    return 0;
  }

  /**
   * Sends one datagram of `length` bytes from `src[offset]` to `to` (or the connected peer when
   * null). Returns `length` or -errno.
   */
  sendTo(src: Uint8Array, offset: number, length: number, to: FullAddress | null): number {
    if (this.error !== 0) return -this.takeError();
    if (length < 0 || length > UDP_MAX_PAYLOAD) return -EMSGSIZE;
    let destination: number;
    let port: number;
    if (to === null) {
      if (!this.connected) return -EDESTADDRREQ;
      destination = this.remoteV4;
      port = this.remotePort;
    } else {
      if (to.address.family !== AF_INET) return -EAFNOSUPPORT;
      destination = to.address.v4;
      port = to.port;
      if (port === 0) return -EINVAL;
    }
    const table = this.table;
    const iface = table.iface;
    if (iface === null) return -ENETUNREACH;
    destination = iface.ip.destinationOf(destination);
    if ((destination === IPV4_BROADCAST || destination === iface.broadcast) && !this.broadcast)
      return -EACCES;
    if (this.localPort === 0) {
      const result = this.autobind();
      if (result < 0) return result;
    }
    // Bound to a broadcast or multicast address, a socket receives there but sends from the
    // interface's address (Linux's inet_bind leaves inet_saddr 0 for those).
    const local = this.localV4;
    const source =
      this.localAny || local === IPV4_BROADCAST || local === iface.broadcast || isMulticastV4(local)
        ? iface.address
        : local;
    const header = table.headerAt;
    const bytes = table.bytes;
    writeU16(bytes, header, this.localPort);
    writeU16(bytes, header + 2, port);
    writeU16(bytes, header + 4, UDP_HEADER_LENGTH + length);
    writeU16(bytes, header + 6, 0);
    const result = iface.ip.sendDatagram(
      PROTOCOL_UDP,
      source,
      destination,
      this.ttl >= 0 ? this.ttl : table.defaultTtl,
      this.tos,
      header,
      UDP_HEADER_LENGTH,
      src,
      offset,
      length,
      6,
      true,
    );
    if (result < 0) {
      if (result === -EAGAIN) this.wantsWrite = true;
      return result;
    }
    table.stats.datagramsOut++;
    return length;
  }

  /**
   * Copies the oldest datagram into `dst[offset ..+ capacity)` and its sender into `from`.
   * Returns the bytes copied (the full length with MSG_TRUNC), or -EAGAIN when none waits.
   */
  recvFrom(
    dst: Uint8Array,
    offset: number,
    capacity: number,
    from: FullAddress | null,
    flags: number,
  ): number {
    if (this.error !== 0) return -this.takeError();
    return this.queue.pop(dst, offset, capacity, from, flags);
  }

  getPeer(out: FullAddress): number {
    if (!this.connected) return -ENOTCONN;
    out.address.copyFrom(this.remote);
    out.port = this.remotePort;
    return 0;
  }

  getLocal(out: FullAddress): number {
    out.address.copyFrom(this.local);
    if (out.address.isUnspecified) out.address.setV4(0);
    out.port = this.localPort;
    return 0;
  }

  takeError(): number {
    const error = this.error;
    this.error = 0;
    return error;
  }

  /** Gives the slot back to the table. */
  release(): void {
    this.table.release(this);
  }

  /** The events that hold now, among `mask`. */
  readiness(mask: number): number {
    let events = 0;
    if (this.queue.count > 0) events |= EVENT_IN;
    if (this.error !== 0) events |= EVENT_ERR;
    const iface = this.table.iface;
    if (iface !== null && iface.ip.canSend(1)) events |= EVENT_OUT;
    return events & mask;
  }

  /** Back to the state of a fresh socket. */
  reset(): void {
    this.local.clear();
    this.localChanged();
    this.localPort = 0;
    this.remote.clear();
    this.remoteV4 = 0;
    this.remotePort = 0;
    this.connected = false;
    this.broadcast = false;
    this.reuseAddress = false;
    this.addressLocked = false;
    this.portLocked = false;
    this.bindOrder = 0;
    this.ttl = -1;
    this.tos = 0;
    this.error = 0;
    this.queue.clear();
  }

  /** Queues a datagram whose payload is `bytes[at ..+ length)`; false when the queue is full. */
  deliver(
    bytes: Uint8Array,
    at: number,
    length: number,
    sourcePort: number,
    info: Ipv4Info,
    port: number,
  ): boolean {
    const flags = info.groupDestination ? RECORD_GROUP : 0;
    const iface = this.table.iface;
    const arrival = iface !== null ? iface.now : 0;
    const queue = this.queue;
    if (
      !queue.push(
        bytes,
        at,
        length,
        info.source,
        sourcePort,
        info.destination,
        port,
        flags,
        arrival,
      )
    )
      return false;
    this.table.ready.raise(this, EVENT_IN);
    return true;
  }
}

export class UdpTable extends EndpointTable<UdpState> implements PortSpace, ProtocolHandler {
  readonly stats = new UdpStats();
  /** Binds so far, to order endpoints bound to the same port. */
  binds = 0;
  private readonly summer: Checksum;
  private readonly udp = new UdpDatagram();

  constructor(
    memory: Memory,
    config: StackConfig,
    spans: Spans,
    random: Random,
    summer: Checksum,
    ready: ReadyList,
  ) {
    super(memory, UDP_HEADER_LENGTH, random, config, spans, ready);
    this.summer = summer;
    const count = config.udpSockets;
    for (let i = 0; i < count; i++)
      this.slots.push(new UdpState(this, i, memory, config.udpReceiveBuffer));
  }

  /** A fresh slot, or null when all are in use; the stack wraps it in a UdpEndpoint. */
  open(): UdpState | null {
    return this.take();
  }

  isLocalAddress(address: number): boolean {
    const iface = this.iface;
    if (iface === null) return false;
    return (
      (address === iface.address && address !== 0) ||
      address === IPV4_BROADCAST ||
      (iface.broadcast !== 0 && address === iface.broadcast) ||
      isMulticastV4(address)
    );
  }

  portInUse(port: number): boolean {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) if (slots[i].localPort === port) return true;
    return false;
  }

  /** Whether binding `self` to address:port would clash with another endpoint (Linux rules). */
  conflicts(self: UdpState, address: IpAddress | null, port: number): boolean {
    const endpoints = this.slots;
    const wildcard = address === null || address.isUnspecified;
    for (let i = 0; i < endpoints.length; i++) {
      const other = endpoints[i];
      if (other === self || !other.inUse || other.localPort !== port) continue;
      if (self.reuseAddress && other.reuseAddress) continue;
      const clash = familyClash(self.v6Binding, other.v6Binding);
      if (clash >= 0) {
        if (clash > 0) return true;
        continue;
      }
      if (wildcard || other.local.isUnspecified || (address as IpAddress).equals(other.local))
        return true;
    }
    return false;
  }

  /**
   * Delivers a datagram; answers port unreachable when no endpoint is bound to its port.
   * Unicast goes to the best match (a connected endpoint beats a bound address beats the
   * wildcard); broadcast and multicast go to every match, as on Linux.
   */
  input(info: Ipv4Info, bytes: Uint8Array, at: number, length: number): number {
    const stats = this.stats;
    stats.datagramsIn++;
    if (length < UDP_HEADER_LENGTH) {
      stats.badLength++;
      return DELIVERED;
    }
    const udp = this.udp.wrap(bytes, at);
    const udpLength = udp.length;
    // Longer than the IP payload is a lie; shorter leaves trailing bytes, which Linux trims.
    if (udpLength < UDP_HEADER_LENGTH || udpLength > length) {
      stats.badLength++;
      return DELIVERED;
    }
    const checksum = udp.checksum;
    if (
      checksum !== 0 &&
      !(this.iface !== null && this.iface.checksumOffload) &&
      this.summer.sum(
        bytes,
        at,
        udpLength,
        pseudoHeaderSumV4(info.source, info.destination, PROTOCOL_UDP, udpLength),
      ) !== 0xffff
    ) {
      stats.badChecksum++;
      return DELIVERED;
    }
    const sourcePort = udp.sourcePort;
    const port = udp.destinationPort;
    const payloadAt = at + UDP_HEADER_LENGTH;
    const payloadLength = udpLength - UDP_HEADER_LENGTH;
    const endpoints = this.slots;
    let best: UdpState | null = null;
    let bestScore = -1;
    let found = false;
    for (let i = 0; i < endpoints.length; i++) {
      const ep = endpoints[i];
      if (!ep.inUse || ep.localPort !== port) continue;
      // IPV6_V6ONLY on `::`: no IPv4 reaches it.
      if (ep.v6Binding === BIND_V6_ONLY) continue;
      let score = 0;
      if (!ep.localAny) {
        if (ep.localV4 !== info.destination) continue;
        score += 2;
      }
      if (ep.connected) {
        if (ep.remoteV4 !== info.source || ep.remotePort !== sourcePort) continue;
        score += 4;
      }
      found = true;
      if (info.groupDestination) {
        if (!ep.deliver(bytes, payloadAt, payloadLength, sourcePort, info, port))
          stats.receiveBufferErrors++;
      } else if (
        score > bestScore ||
        // Ties go to the endpoint bound last: Linux hashes new sockets at the head of the chain,
        // so with SO_REUSEADDR the latest bind takes the unicast traffic.
        (best !== null && score === bestScore && ep.bindOrder > best.bindOrder)
      ) {
        best = ep;
        bestScore = score;
      }
    }
    if (best !== null && !best.deliver(bytes, payloadAt, payloadLength, sourcePort, info, port))
      stats.receiveBufferErrors++;
    if (found) return DELIVERED;
    stats.noPort++;
    return ICMP_PORT_UNREACHABLE;
  }

  /**
   * An ICMP error quoting a datagram we sent (IP header at `at`). Linux reports it only to a
   * connected socket (without IP_RECVERR), as a pending error.
   */
  error(type: number, code: number, bytes: Uint8Array, at: number, _length: number): void {
    // Soft errors (a router's net or host unreachable, which may pass) are not reported without
    // IP_RECVERR: Linux's __udp4_lib_err sets sk_err only for icmp_err_convert's fatal codes.
    if (type !== ICMP_DEST_UNREACHABLE || !unreachableIsHard(code)) return;
    const headerLength = (bytes[at] & 15) << 2;
    if (bytes[at + 9] !== PROTOCOL_UDP) return;
    const destination = readI32(bytes, at + 16);
    const sourcePort = readU16(bytes, at + headerLength);
    const destinationPort = readU16(bytes, at + headerLength + 2);
    const endpoints = this.slots;
    for (let i = 0; i < endpoints.length; i++) {
      const ep = endpoints[i];
      if (!ep.inUse || !ep.connected || ep.localPort !== sourcePort) continue;
      if (ep.remoteV4 !== destination || ep.remotePort !== destinationPort) continue;
      ep.error = unreachableErrno(code);
      this.ready.raise(ep, EVENT_ERR);
    }
  }
}
