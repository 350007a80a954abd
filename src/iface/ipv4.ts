// IPv4 on the interface: input checks (RFC 791, RFC 1122 §3.2.1), reassembly, delivery through
// the protocol table, routing, and output with fragmentation. Transports send either a header plus
// a payload (sendDatagram, which fragments), or a single frame they built themselves in a pool
// buffer (allocDatagram / sendBuffer), which lets TCP write its header and copy from its ring
// straight into the frame.

import { EAGAIN, EMSGSIZE, ENETUNREACH, ENOBUFS } from "../errno.js";
import { copy } from "../storage/memory.js";
import { HandleList, PacketPool } from "../storage/pool.js";
import { Ipv4Stats } from "../stats.js";
import { readU16, writeU16 } from "../wire/address.js";
import { Checksum, checksumAdjust, fold, pseudoHeaderSumV4 } from "../wire/checksum.js";
import { ETHERNET_HEADER_LENGTH } from "../wire/ethernet.js";
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_HOST_UNREACHABLE,
  ICMP_PROTOCOL_UNREACHABLE,
} from "../wire/icmpv4.js";
import {
  IPV4_BROADCAST,
  IPV4_HEADER_LENGTH,
  IPV4_MORE_FRAGMENTS,
  Ipv4Packet,
  PROTOCOL_ICMP,
  PROTOCOL_UDP,
  isLoopbackV4,
  isMulticastV4,
} from "../wire/ipv4.js";
import type { Interface } from "./interface.js";
import { DELIVERED, Ipv4Info, ProtocolTable } from "./protocols.js";
import { Reassembler } from "./reassembly.js";

/** route()'s answer when there is none: 0.0.0.0 is never a next hop. */
export const NO_ROUTE = 0;

/** Where a transport's data starts in a frame built by allocDatagram(). */
export const DATAGRAM_DATA_OFFSET = ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH;

export class Ipv4Layer {
  readonly protocols = new ProtocolTable();
  private readonly iface: Interface;
  private readonly pool: PacketPool;
  private readonly bytes: Uint8Array;
  private readonly summer: Checksum;
  private readonly stats: Ipv4Stats;
  private readonly reassembly: Reassembler;
  private readonly info: Ipv4Info;
  private readonly fragmentList = new HandleList();
  private readonly ip = new Ipv4Packet();
  private readonly ipOut = new Ipv4Packet();
  /** Frames the stack may hold for sending, over every transport (the rest stay for receive). */
  private readonly sendLimit: number;
  private ipId: number;

  constructor(iface: Interface, sendLimit: number) {
    this.iface = iface;
    this.pool = iface.pool;
    this.bytes = iface.bytes;
    this.summer = iface.summer;
    this.stats = iface.ipStats;
    this.reassembly = iface.reassembly;
    this.info = new Ipv4Info(iface.bytes);
    this.sendLimit = sendLimit;
    this.ipId = iface.random.next() & 0xffff;
  }

  // ---------------------------------------------------------------- receive

  input(at: number, length: number, linkGroup: boolean, now: number): void {
    const stats = this.stats;
    const iface = this.iface;
    stats.packetsIn++;
    const ip = this.ip.wrap(this.bytes, at);
    if (length < IPV4_HEADER_LENGTH) {
      stats.truncated++;
      return;
    }
    if (ip.version !== 4) {
      stats.badVersion++;
      return;
    }
    const headerLength = ip.headerLength;
    if (headerLength < IPV4_HEADER_LENGTH || headerLength > length) {
      stats.badHeaderLength++;
      return;
    }
    const total = ip.totalLength;
    // Shorter than its header says, or longer than the frame: a lying length. Ethernet padding
    // past the total length is normal and ignored.
    if (total < headerLength || total > length) {
      stats.badLength++;
      return;
    }
    if (!ip.verifyChecksum(this.summer)) {
      stats.badChecksum++;
      return;
    }
    // No TTL check: RFC 1122 §3.2.1.7 forbids a host to drop a datagram for a TTL below 2, and
    // Linux delivers TTL 0 locally (only forwarding looks at it).
    const source = ip.source;
    const destination = ip.destination;
    const address = iface.address;
    const broadcast = iface.broadcast;
    const limited = destination === IPV4_BROADCAST;
    const groupDestination =
      limited || (broadcast !== 0 && destination === broadcast) || isMulticastV4(destination);
    if (
      isMulticastV4(source) ||
      source === IPV4_BROADCAST ||
      (broadcast !== 0 && source === broadcast) ||
      isLoopbackV4(source) ||
      (source === address && address !== 0 && !iface.ethernet.loopingBack) ||
      // 0.0.0.0/8 ("this network") only as a sender that does not know its address yet, to the
      // limited broadcast (Linux: ipv4_is_zeronet is martian unless the destination is).
      (source >>> 24 === 0 && !limited)
    ) {
      stats.badSource++;
      return;
    }
    if (groupDestination) {
      if (isMulticastV4(destination) && !iface.isGroupMember(destination)) {
        stats.notForUs++;
        return;
      }
    } else if (destination !== address || address === 0) {
      stats.notForUs++;
      return;
    } else if (linkGroup) {
      stats.linkBroadcastUnicast++;
      return;
    }

    const info = this.info;
    info.source = source;
    info.destination = destination;
    info.protocol = ip.protocol;
    info.ttl = ip.ttl;
    info.tos = ip.tos;
    info.linkGroup = linkGroup;
    info.groupDestination = groupDestination;

    const payloadAt = at + headerLength;
    const payloadLength = total - headerLength;
    if (ip.isFragment) {
      const r = this.reassembly;
      const slot = r.insert(ip, payloadAt, payloadLength, now);
      if (slot < 0) return;
      info.headerBytes = this.bytes;
      info.headerAt = r.headerAt[slot];
      info.headerLength = r.headerLength[slot];
      this.deliver(info, r.dataAt[slot], r.total[slot], false, now);
      r.release(slot);
      return;
    }
    info.headerBytes = this.bytes;
    info.headerAt = at;
    info.headerLength = headerLength;
    this.deliver(info, payloadAt, payloadLength, true, now);
  }

  /** Hands a whole datagram to its protocol. `inFrame`: the payload is in the received frame. */
  private deliver(info: Ipv4Info, at: number, length: number, inFrame: boolean, now: number): void {
    this.stats.delivered++;
    const iface = this.iface;
    const handler = this.protocols.get(info.protocol);
    if (handler === null) {
      this.stats.unknownProtocol++;
      iface.icmp.sendError(
        ICMP_DEST_UNREACHABLE,
        ICMP_PROTOCOL_UNREACHABLE,
        0,
        info,
        at,
        length,
        now,
      );
      return;
    }
    info.inFrame = inFrame;
    const answer = handler.input(info, this.bytes, at, length);
    if (answer !== DELIVERED)
      iface.icmp.sendError(ICMP_DEST_UNREACHABLE, answer, 0, info, at, length, now);
  }

  /** Gives up on reassemblies that timed out; RFC 792's time exceeded goes to the sender. */
  timers(now: number): void {
    const r = this.reassembly;
    for (let slot = r.expired(now); slot >= 0; slot = r.expired(now)) {
      // Time exceeded (code 1) only when the first fragment, which it quotes, arrived.
      if (r.hasFirst(slot)) this.iface.icmp.reassemblyTimedOut(slot, now);
      r.release(slot);
    }
  }

  /**
   * A datagram we sent could not be delivered (its next hop never answered ARP): reported to its
   * protocol as destination unreachable, host unreachable, as Linux's arp_error_report does.
   */
  unreachable(handle: number): void {
    const at = this.pool.offsetOf(handle) + ETHERNET_HEADER_LENGTH;
    const length = this.pool.length[handle] - ETHERNET_HEADER_LENGTH;
    const handler = this.protocols.get(this.bytes[at + 9]);
    if (handler === null || length < IPV4_HEADER_LENGTH) return;
    handler.error(ICMP_DEST_UNREACHABLE, ICMP_HOST_UNREACHABLE, this.bytes, at, length);
  }

  // ---------------------------------------------------------------- send

  /**
   * The next hop for `destination`: itself when on-link, the gateway otherwise, IPV4_BROADCAST
   * for broadcasts, the group for multicast; NO_ROUTE (0.0.0.0) when there is none.
   */
  route(destination: number): number {
    const iface = this.iface;
    if (destination === IPV4_BROADCAST) return IPV4_BROADCAST;
    if (isMulticastV4(destination)) return destination;
    const address = iface.address;
    // 0.0.0.0/8 is never a destination on the wire (see destinationOf for 0.0.0.0 itself), and
    // 127.0.0.0/8 belongs to a loopback interface this stack does not have.
    if (address === 0 || destination >>> 24 === 0 || isLoopbackV4(destination)) return NO_ROUTE;
    if (((destination ^ address) & iface.mask) === 0)
      return destination === iface.broadcast ? IPV4_BROADCAST : destination;
    return iface.gateway;
  }

  /**
   * Where a send to `destination` goes: 0.0.0.0 means this host, as in Linux's
   * ip_route_output_key (the datagram loops back to us, never to the wire).
   */
  destinationOf(destination: number): number {
    return destination === 0 ? this.iface.address : destination;
  }

  nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  /** Frames a datagram of `total` bytes (transport header and payload) leaves in. */
  fragmentsFor(total: number): number {
    const room = this.iface.mtu - IPV4_HEADER_LENGTH;
    return total <= room ? 1 : Math.ceil(total / (room & ~7));
  }

  /**
   * Room for a datagram of `frames` frames: 0, -EAGAIN while the stack already holds sendQueue
   * frames for the device or the pool is short (the sender waits for EVENT_OUT), or -ENOBUFS
   * when the pool could never hold it. As Linux's sndbuf, the limit is checked before a send, so one large datagram may go
   * past it.
   */
  admit(frames: number): number {
    if (frames > this.pool.count) {
      this.stats.outNoBuffer++;
      return -ENOBUFS;
    }
    if (!this.canSend(frames)) {
      this.stats.outBlocked++;
      return -EAGAIN;
    }
    return 0;
  }

  /** Whether `frames` more outgoing frames would be taken now. */
  canSend(frames: number): boolean {
    return this.iface.ethernet.held < this.sendLimit && this.pool.available >= frames;
  }

  /**
   * Sends one IPv4 datagram: a transport header already written at arena offset `headerAt`, then
   * `payload[payloadAt ..+ payloadLength)`. The transport checksum (at `checksumField` within its
   * header, -1 for none; with the pseudo-header when `pseudo`) is computed over what is copied into
   * the frames. Datagrams longer than the MTU leave in fragments. Returns 0 or -errno.
   */
  sendDatagram(
    protocol: number,
    source: number,
    destination: number,
    ttl: number,
    tos: number,
    headerAt: number,
    headerLength: number,
    payload: Uint8Array,
    payloadAt: number,
    payloadLength: number,
    checksumField: number,
    pseudo: boolean,
  ): number {
    const nextHop = this.route(destination);
    if (nextHop === NO_ROUTE) {
      this.stats.noRoute++;
      return -ENETUNREACH;
    }
    const total = headerLength + payloadLength;
    if (total + IPV4_HEADER_LENGTH > 65535) return -EMSGSIZE;
    const room = this.iface.mtu - IPV4_HEADER_LENGTH;
    const fragmentSize = room & ~7;
    const count = total <= room ? 1 : Math.ceil(total / fragmentSize);
    const admitted = this.admit(count);
    if (admitted < 0) return admitted;
    const pool = this.pool;
    const bytes = this.bytes;
    const list = this.fragmentList;
    // Offload covers a datagram in one frame, whose field stays as the caller wrote it (UDP: 0,
    // "no checksum"); fragments are summed, as Linux sums a partial checksum before fragmenting.
    const offload = pseudo && count === 1 && this.iface.checksumOffload;
    if (offload) checksumField = -1;
    let sum = 0;
    let sent = 0;
    let first = -1;
    for (let k = 0; k < count; k++) {
      const handle = pool.alloc();
      const at = pool.offsetOf(handle) + DATAGRAM_DATA_OFFSET;
      const chunk = count === 1 ? total : k < count - 1 ? fragmentSize : total - sent;
      let filled = 0;
      if (k === 0) {
        first = handle;
        copy(bytes, at, bytes, headerAt, headerLength);
        filled = headerLength;
      }
      copy(bytes, at + filled, payload, payloadAt + sent + filled - headerLength, chunk - filled);
      // Every chunk but the last has even length, so summing them one by one pairs bytes as a
      // sum over the whole datagram would.
      if (checksumField >= 0) sum = fold(sum + this.summer.sum(bytes, at, chunk, 0));
      pool.length[handle] = DATAGRAM_DATA_OFFSET + chunk;
      list.push(pool, handle);
      sent += chunk;
    }
    if (checksumField >= 0) {
      if (pseudo) sum = fold(sum + pseudoHeaderSumV4(source, destination, protocol, total));
      let checksum = ~sum & 0xffff;
      // RFC 768: a computed zero goes out as all ones, since zero means "no checksum".
      if (checksum === 0 && protocol === PROTOCOL_UDP) checksum = 0xffff;
      writeU16(bytes, pool.offsetOf(first) + DATAGRAM_DATA_OFFSET + checksumField, checksum);
    }
    const id = this.nextId();
    let offset = 0;
    for (let handle = list.shift(pool); handle >= 0; handle = list.shift(pool)) {
      const length = pool.length[handle] - DATAGRAM_DATA_OFFSET;
      const more = list.length > 0 ? IPV4_MORE_FRAGMENTS : 0;
      this.writeHeader(
        handle,
        length,
        id,
        more | (offset >>> 3),
        ttl,
        tos,
        protocol,
        source,
        destination,
      );
      offset += length;
      if (count > 1) this.stats.fragmentsOut++;
      this.output(handle, nextHop);
    }
    return 0;
  }

  /**
   * A pool buffer for a datagram that fits one frame, its transport data to be written at
   * `pool.offsetOf(handle) + DATAGRAM_DATA_OFFSET`; -EAGAIN or -ENOBUFS as admit() says.
   */
  allocDatagram(): number {
    const admitted = this.admit(1);
    if (admitted < 0) return admitted;
    return this.pool.alloc();
  }

  /**
   * Sends a datagram whose `length` bytes of transport data (checksum done) are in `handle` at
   * DATAGRAM_DATA_OFFSET. Takes ownership of `handle`. Returns 0 or -errno.
   */
  sendBuffer(
    handle: number,
    length: number,
    protocol: number,
    source: number,
    destination: number,
    ttl: number,
    tos: number,
  ): number {
    const nextHop = this.route(destination);
    if (nextHop === NO_ROUTE || length > this.iface.mtu - IPV4_HEADER_LENGTH) {
      this.pool.free(handle);
      if (nextHop !== NO_ROUTE) return -EMSGSIZE;
      this.stats.noRoute++;
      return -ENETUNREACH;
    }
    this.pool.length[handle] = DATAGRAM_DATA_OFFSET + length;
    this.writeHeader(handle, length, this.nextId(), 0, ttl, tos, protocol, source, destination);
    this.output(handle, nextHop);
    return 0;
  }

  /** Writes the IP header of a frame in `handle` whose payload is `length` bytes. */
  writeHeader(
    handle: number,
    length: number,
    id: number,
    fragment: number,
    ttl: number,
    tos: number,
    protocol: number,
    source: number,
    destination: number,
  ): void {
    const at = this.pool.offsetOf(handle) + ETHERNET_HEADER_LENGTH;
    this.ipOut
      .wrap(this.bytes, at)
      .writeHeader(IPV4_HEADER_LENGTH + length, id, fragment, ttl, protocol, source, destination);
    if (tos !== 0) {
      const old = readU16(this.bytes, at);
      this.bytes[at + 1] = tos;
      writeU16(
        this.bytes,
        at + 10,
        checksumAdjust(readU16(this.bytes, at + 10), old, readU16(this.bytes, at)),
      );
    }
  }

  /** Hands a finished IP packet to the link. Takes ownership of `handle`. */
  output(handle: number, nextHop: number): void {
    this.iface.ethernet.output(handle, nextHop);
  }

  /** Counts an IP packet at `at` as it leaves (to the device, or looped back to us). */
  sent(at: number): void {
    this.stats.packetsOut++;
    const b = this.bytes;
    // The first fragment of an ICMP message says what it is.
    if (b[at + 9] === PROTOCOL_ICMP && (readU16(b, at + 6) & 0x1fff) === 0)
      this.iface.icmp.sent(b[at + ((b[at] & 15) << 2)]);
  }
}
