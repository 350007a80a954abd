// A network interface on an Ethernet device: demultiplexing, ARP, IPv4 input and output with
// reassembly and fragmentation, and ICMP. Transports receive through the TransportInput they
// register and send through sendDatagram().
//
// Buffer ownership on receive: the frame being handled is `rxHandle`. A handler that keeps the
// buffer (to answer in place, or to queue it) sets `rxHandle` to -1; otherwise the receive loop
// frees it. Every path that takes a buffer either transmits and frees it or queues it, so the pool
// is whole again whenever the stack is idle.

import type { NetDevice } from "../../hal/device.js";
import { StackConfig } from "../config.js";
import { Random } from "../random.js";
import { ArpStats, IcmpStats, Ipv4Stats, LinkStats } from "../stats.js";
import { Memory, copy } from "../storage/memory.js";
import { HandleList, PacketPool } from "../storage/pool.js";
import { ENETUNREACH, ENOBUFS, EMSGSIZE } from "../errno.js";
import { prefixMask, readU16, writeU16, writeU32 } from "../wire/address.js";
import { ARP_LENGTH, ARP_REPLY, ARP_REQUEST, ArpPacket } from "../wire/arp.js";
import { Checksum, checksumAdjust, fold, pseudoHeaderSumV4 } from "../wire/checksum.js";
import {
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  EthernetFrame,
} from "../wire/ethernet.js";
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_LENGTH,
  ICMP_PARAMETER_PROBLEM,
  ICMP_PORT_UNREACHABLE,
  ICMP_PROTOCOL_UNREACHABLE,
  ICMP_TIME_EXCEEDED,
  IcmpV4Packet,
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
import {
  ARP_DELAY_MS,
  ARP_RETRANSMIT_MS,
  ARP_REACHABLE_MS,
  ARP_SOLICITS,
  NEIGHBOR_DELAY,
  NEIGHBOR_INCOMPLETE,
  NEIGHBOR_PROBE,
  NEIGHBOR_REACHABLE,
  NEIGHBOR_STALE,
  NeighborCache,
} from "./neighbor.js";
import { Reassembler } from "./reassembly.js";

/** RFC 5227: announcements when an address comes up, and their spacing. */
const ANNOUNCE_COUNT = 2;
const ANNOUNCE_INTERVAL_MS = 2000;
/** Linux quotes as much of the offending datagram as keeps the error within 576 bytes. */
const ICMP_ERROR_MAX = 576;
/** Multicast groups an interface can join. */
const MAX_GROUPS = 8;
/** 224.0.0.1, all hosts, joined by every IPv4 host (RFC 1112). */
const ALL_HOSTS = 0xe0000001 | 0;
/** Scratch in the arena for transport headers and ICMP error bodies. */
const SCRATCH = 64 + ICMP_ERROR_MAX;

/** route()'s answer when there is none: 0.0.0.0 is never a next hop. */
export const NO_ROUTE = 0;

/** What the IP layer knows about a datagram it hands to a transport. */
export class Ipv4Info {
  source = 0;
  destination = 0;
  protocol = 0;
  ttl = 0;
  tos = 0;
  /** Where the (first fragment's) IP header is: the frame, or a reassembly slot's copy. */
  headerBytes: Uint8Array;
  headerAt = 0;
  headerLength = 0;
  /** Arrived as link-layer broadcast or multicast. */
  linkGroup = false;
  /** Addressed to a broadcast or multicast IP address. */
  groupDestination = false;

  constructor(bytes: Uint8Array) {
    this.headerBytes = bytes;
  }
}

/** Where the IP layer delivers: the stack's transports. */
export interface TransportInput {
  /**
   * A UDP datagram (header included) for us. Returns false when no endpoint wants the port, so
   * the interface can answer with port unreachable.
   */
  udpInput(
    iface: Interface,
    info: Ipv4Info,
    bytes: Uint8Array,
    at: number,
    length: number,
  ): boolean;
  /** An echo reply, for the ping endpoints: `bytes[at ..+ length)` is the ICMP message. */
  echoReplyInput(
    iface: Interface,
    info: Ipv4Info,
    bytes: Uint8Array,
    at: number,
    length: number,
  ): void;
  /**
   * An ICMP error about a datagram we sent: `bytes[at ..+ length)` is the quoted IP header and at
   * least 8 bytes of its payload.
   */
  icmpErrorInput(
    iface: Interface,
    type: number,
    code: number,
    bytes: Uint8Array,
    at: number,
    length: number,
  ): void;
}

export class Interface {
  readonly device: NetDevice;
  readonly mac = new Uint8Array(6);
  readonly mtu: number;
  readonly index: number;

  /** IPv4 configuration; address 0 means none yet. */
  address = 0;
  prefix = 0;
  mask = 0;
  gateway = 0;

  readonly link = new LinkStats();
  readonly arpStats = new ArpStats();
  readonly ipStats = new Ipv4Stats();
  readonly icmpStats = new IcmpStats();

  readonly neighbors: NeighborCache;
  readonly reassembly: Reassembler;
  readonly groups = new Int32Array(MAX_GROUPS);
  groupCount = 0;

  /** The frame being received; -1 once a handler has taken it. */
  rxHandle = -1;
  transport: TransportInput | null = null;
  /** Told when a send made work with a deadline (address resolution, a looped-back frame). */
  waker: { wake(): void } | null = null;

  private readonly pool: PacketPool;
  private readonly bytes: Uint8Array;
  private readonly summer: Checksum;
  private readonly random: Random;
  private readonly ttl: number;
  private readonly budget: number;
  private readonly scratchAt: number;
  private readonly info: Ipv4Info;
  private readonly fragmentList = new HandleList();
  /** Frames we sent to ourselves, received on the next poll so input is never re-entered. */
  private readonly loopback = new HandleList();
  private loopingBack = false;
  // Views for the frame being received and the one being built, kept apart so an answer can be
  // built while the request is still being read.
  private readonly eth = new EthernetFrame();
  private readonly arp = new ArpPacket();
  private readonly ip = new Ipv4Packet();
  private readonly icmp = new IcmpV4Packet();
  private readonly arpOut = new ArpPacket();
  private readonly ipOut = new Ipv4Packet();

  private ipId: number;
  private linkWasUp = false;
  private announcements = 0;
  private announceAt = Infinity;
  private moreToReceive = false;
  private icmpTokens: number;
  private icmpRefilled = 0;
  private readonly icmpRate: number;
  private readonly icmpBurst: number;

  constructor(
    index: number,
    device: NetDevice,
    config: StackConfig,
    memory: Memory,
    pool: PacketPool,
    summer: Checksum,
    random: Random,
  ) {
    this.index = index;
    this.device = device;
    this.mac.set(device.mac);
    // A frame is built and received in one pool buffer, so the buffer bounds the MTU whatever the
    // device claims.
    const fits = pool.size - ETHERNET_HEADER_LENGTH;
    this.mtu = device.mtu < fits ? device.mtu : fits;
    this.pool = pool;
    this.bytes = memory.bytes;
    this.summer = summer;
    this.random = random;
    this.ttl = config.ttl;
    this.budget = config.receiveBudget;
    this.scratchAt = memory.take(SCRATCH);
    this.info = new Ipv4Info(memory.bytes);
    this.neighbors = new NeighborCache(config.neighbors, config.arpQueue);
    this.reassembly = new Reassembler(
      memory,
      config.reassemblySlots,
      config.reassemblySize,
      config.reassemblyFragments,
      this.ipStats,
      config.reassemblyPerSource,
    );
    this.ipId = random.next() & 0xffff;
    this.icmpRate = config.icmpRate;
    this.icmpBurst = config.icmpBurst;
    this.icmpTokens = config.icmpBurst;
    this.groups[0] = ALL_HOSTS;
    this.groupCount = 1;
  }

  /** Sets the IPv4 address, prefix length and default gateway (0 for none), and announces it. */
  configure(address: number, prefix: number, gateway: number): void {
    this.address = address | 0;
    this.prefix = prefix;
    this.mask = prefixMask(prefix);
    this.gateway = gateway | 0;
    this.announcements = 0;
    this.announceAt = address !== 0 && this.device.linkUp ? 0 : Infinity;
    this.wake();
  }

  /** The subnet's directed broadcast address, or 0 on a /31 or /32 where there is none. */
  get broadcast(): number {
    return this.prefix < 31 && this.address !== 0 ? this.address | ~this.mask : 0;
  }

  joinGroup(group: number): boolean {
    if (this.isGroupMember(group)) return true;
    if (this.groupCount === MAX_GROUPS) return false;
    this.groups[this.groupCount++] = group | 0;
    return true;
  }

  leaveGroup(group: number): void {
    for (let i = 1; i < this.groupCount; i++) {
      if (this.groups[i] === (group | 0)) {
        this.groups[i] = this.groups[--this.groupCount];
        return;
      }
    }
  }

  isGroupMember(group: number): boolean {
    group |= 0;
    for (let i = 0; i < this.groupCount; i++) if (this.groups[i] === group) return true;
    return false;
  }

  // ---------------------------------------------------------------- polling

  poll(now: number): void {
    const device = this.device;
    device.poll(now);
    const up = device.linkUp;
    if (up && !this.linkWasUp && this.address !== 0) {
      this.announcements = 0;
      this.announceAt = now;
    }
    this.linkWasUp = up;
    if (this.announceAt <= now) this.announce(now);

    const pool = this.pool;
    // Only what was looped before this poll: answers to it wait for the next one.
    for (let n = this.loopback.length; n > 0; n--) {
      const handle = this.loopback.shift(pool);
      this.rxHandle = handle;
      this.loopingBack = true;
      this.frameInput(pool.offsetOf(handle), pool.length[handle], now);
      this.loopingBack = false;
      if (this.rxHandle >= 0) pool.free(this.rxHandle);
      this.rxHandle = -1;
    }

    const capacity = this.mtu + ETHERNET_HEADER_LENGTH;
    this.moreToReceive = false;
    for (let n = 0; n < this.budget; n++) {
      const handle = pool.alloc();
      if (handle < 0) {
        this.link.noBuffer++;
        break;
      }
      const at = pool.offsetOf(handle);
      const length = device.receive(this.bytes, at, pool.size);
      if (length === 0) {
        pool.free(handle);
        break;
      }
      if (n === this.budget - 1) this.moreToReceive = true;
      this.rxHandle = handle;
      if (length > capacity) this.link.oversized++;
      else this.frameInput(at, length, now);
      if (this.rxHandle >= 0) pool.free(this.rxHandle);
      this.rxHandle = -1;
    }

    this.neighborTimers(now);
    for (let slot = this.reassembly.expired(now); slot >= 0; slot = this.reassembly.expired(now)) {
      // RFC 792: time exceeded (code 1) only when the first fragment, which it quotes, arrived.
      if (this.reassembly.hasFirst(slot)) this.reassemblyTimedOut(slot, now);
      this.reassembly.release(slot);
    }
  }

  nextDeadline(): number {
    if (this.moreToReceive || this.loopback.length > 0) return 0;
    let t = this.neighbors.nextDeadline();
    const r = this.reassembly.nextDeadline();
    if (r < t) t = r;
    if (this.announceAt < t) t = this.announceAt;
    const d = this.device.nextDeadline();
    return d < t ? d : t;
  }

  // ---------------------------------------------------------------- receive

  private frameInput(at: number, length: number, now: number): void {
    const link = this.link;
    link.framesIn++;
    link.bytesIn += length;
    if (length < ETHERNET_HEADER_LENGTH) {
      link.runts++;
      return;
    }
    const eth = this.eth.wrap(this.bytes, at);
    const group = eth.isGroupDestination;
    if (!group && !eth.isDestination(this.mac, 0)) {
      link.notForUs++;
      return;
    }
    const type = eth.etherType;
    const payloadAt = at + ETHERNET_HEADER_LENGTH;
    const payloadLength = length - ETHERNET_HEADER_LENGTH;
    if (type === ETHERTYPE_IPV4) this.ipv4Input(payloadAt, payloadLength, group, now);
    else if (type === ETHERTYPE_ARP) this.arpInput(payloadAt, payloadLength, group, now);
    else link.unknownEtherType++;
  }

  private arpInput(at: number, length: number, linkGroup: boolean, now: number): void {
    const stats = this.arpStats;
    const arp = this.arp.wrap(this.bytes, at);
    if (length < ARP_LENGTH || !arp.isEthernetIPv4) {
      stats.malformed++;
      return;
    }
    const op = arp.operation;
    const senderIp = arp.senderProtocolAddress;
    const senderMacAt = arp.senderHardwareOffset;
    const targetIp = arp.targetProtocolAddress;
    // A group sender address or a martian sender IP is never learned.
    if (
      (this.bytes[senderMacAt] & 1) !== 0 ||
      isMulticastV4(senderIp) ||
      senderIp === IPV4_BROADCAST
    ) {
      stats.malformed++;
      return;
    }
    if (op === ARP_REQUEST) stats.requestsIn++;
    else if (op === ARP_REPLY) stats.repliesIn++;
    else {
      stats.malformed++;
      return;
    }
    const address = this.address;
    if (address === 0) {
      stats.notForUs++;
      return;
    }
    if (senderIp === address) {
      if (!this.isOwnMac(senderMacAt)) stats.conflicts++;
      return;
    }
    const cache = this.neighbors;
    const entry = senderIp === 0 ? -1 : cache.find(senderIp);
    // As Linux's arp_process: only a reply sent to us alone proves the neighbor hears us; a
    // request or a broadcast reply tells its address but leaves reachability unconfirmed.
    const confirmed = op === ARP_REPLY && !linkGroup;
    if (targetIp !== address) {
      // A gratuitous announcement refreshes an entry we already hold; anything else about other
      // hosts is not ours to learn (and learning it would invite cache poisoning).
      if (entry >= 0 && targetIp === senderIp) this.learn(entry, senderMacAt, false, now);
      else stats.notForUs++;
      return;
    }
    if (senderIp !== 0) {
      // RFC 826 puts the sender of any packet aimed at us in the table. Linux (without
      // arp_accept) does so for requests, which it is about to answer, but not for replies it
      // never asked for, so a stranger cannot plant an entry: Linux's choice.
      let e = entry;
      if (e < 0 && op === ARP_REQUEST) e = cache.create(this.pool, senderIp, now);
      if (e >= 0) this.learn(e, senderMacAt, confirmed, now);
      else if (op === ARP_REPLY) stats.unsolicited++;
    }
    if (op === ARP_REQUEST)
      this.sendArp(ARP_REPLY, this.bytes, senderMacAt, senderIp, this.bytes, senderMacAt);
  }

  private isOwnMac(at: number): boolean {
    for (let i = 0; i < 6; i++) if (this.bytes[at + i] !== this.mac[i]) return false;
    return true;
  }

  /**
   * Records a neighbor's address, confirmed (REACHABLE) or only heard (STALE), and sends whatever
   * waited for it. Heard again unchanged, a valid entry keeps its state (Linux's neigh_update).
   */
  private learn(entry: number, macAt: number, confirmed: boolean, now: number): void {
    const cache = this.neighbors;
    let previous: number;
    if (confirmed) {
      // Linux randomizes reachable time over [0.5, 1.5) x base so entries do not expire in step.
      const reachable = Math.floor(ARP_REACHABLE_MS * (0.5 + this.random.float()));
      previous = cache.confirm(entry, this.bytes, macAt, now, reachable);
    } else if (
      cache.state[entry] === NEIGHBOR_INCOMPLETE ||
      !cache.sameMac(entry, this.bytes, macAt)
    )
      previous = cache.stale(entry, this.bytes, macAt);
    else return;
    if (previous !== NEIGHBOR_INCOMPLETE || cache.waiting[entry].length === 0) return;
    // Sending on an unconfirmed address is a use of a stale entry, as any other.
    if (cache.state[entry] === NEIGHBOR_STALE) this.delayProbe(entry, now);
    for (let h = cache.dequeue(this.pool, entry); h >= 0; h = cache.dequeue(this.pool, entry)) {
      this.transmitTo(h, entry);
    }
  }

  private ipv4Input(at: number, length: number, linkGroup: boolean, now: number): void {
    const stats = this.ipStats;
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
    const address = this.address;
    const broadcast = this.broadcast;
    const limited = destination === IPV4_BROADCAST;
    const groupDestination =
      limited || (broadcast !== 0 && destination === broadcast) || isMulticastV4(destination);
    if (
      isMulticastV4(source) ||
      source === IPV4_BROADCAST ||
      (broadcast !== 0 && source === broadcast) ||
      isLoopbackV4(source) ||
      (source === address && address !== 0 && !this.loopingBack) ||
      // 0.0.0.0/8 ("this network") only as a sender that does not know its address yet, to the
      // limited broadcast (Linux: ipv4_is_zeronet is martian unless the destination is).
      (source >>> 24 === 0 && !limited)
    ) {
      stats.badSource++;
      return;
    }
    if (groupDestination) {
      if (isMulticastV4(destination) && !this.isGroupMember(destination)) {
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
      const slot = this.reassembly.insert(ip, payloadAt, payloadLength, now);
      if (slot < 0) return;
      const r = this.reassembly;
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

  /** Hands a whole datagram to its protocol. `inFrame`: the payload is in rxHandle's frame. */
  private deliver(info: Ipv4Info, at: number, length: number, inFrame: boolean, now: number): void {
    this.ipStats.delivered++;
    const protocol = info.protocol;
    if (protocol === PROTOCOL_UDP) {
      const transport = this.transport;
      if (transport !== null && transport.udpInput(this, info, this.bytes, at, length)) return;
      if (transport !== null)
        this.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, 0, info, at, length, now);
    } else if (protocol === PROTOCOL_ICMP) {
      this.icmpInput(info, at, length, inFrame, now);
    } else {
      this.ipStats.unknownProtocol++;
      this.sendIcmpError(
        ICMP_DEST_UNREACHABLE,
        ICMP_PROTOCOL_UNREACHABLE,
        0,
        info,
        at,
        length,
        now,
      );
    }
  }

  private icmpInput(
    info: Ipv4Info,
    at: number,
    length: number,
    inFrame: boolean,
    now: number,
  ): void {
    const stats = this.icmpStats;
    stats.in++;
    if (length < ICMP_HEADER_LENGTH) {
      stats.truncated++;
      return;
    }
    if (this.summer.sum(this.bytes, at, length, 0) !== 0xffff) {
      stats.badChecksum++;
      return;
    }
    const icmp = this.icmp.wrap(this.bytes, at);
    const type = icmp.type;
    if (type === ICMP_ECHO_REQUEST) {
      stats.echoRequestsIn++;
      if (info.groupDestination) {
        stats.broadcastIgnored++;
        return;
      }
      this.echoReply(info, at, length, inFrame, now);
      return;
    }
    if (type === ICMP_ECHO_REPLY) {
      if (this.transport !== null)
        this.transport.echoReplyInput(this, info, this.bytes, at, length);
      return;
    }
    if (
      type === ICMP_DEST_UNREACHABLE ||
      type === ICMP_TIME_EXCEEDED ||
      type === ICMP_PARAMETER_PROBLEM
    ) {
      stats.errorsIn++;
      // The quote must hold an IP header and 8 bytes of what followed it.
      const quoted = at + ICMP_HEADER_LENGTH;
      const quotedLength = length - ICMP_HEADER_LENGTH;
      if (quotedLength < IPV4_HEADER_LENGTH + 8) {
        stats.truncated++;
        return;
      }
      const inner = this.ipOut.wrap(this.bytes, quoted);
      if (
        inner.version !== 4 ||
        inner.headerLength < IPV4_HEADER_LENGTH ||
        inner.headerLength + 8 > quotedLength ||
        inner.source !== this.address
      ) {
        stats.truncated++;
        return;
      }
      if (this.transport !== null)
        this.transport.icmpErrorInput(this, type, icmp.code, this.bytes, quoted, quotedLength);
    }
  }

  private echoReply(
    info: Ipv4Info,
    at: number,
    length: number,
    inFrame: boolean,
    now: number,
  ): void {
    const nextHop = this.route(info.source);
    if (nextHop === NO_ROUTE) {
      this.ipStats.noRoute++;
      return;
    }
    const handle = this.rxHandle;
    if (inFrame && info.headerLength === IPV4_HEADER_LENGTH && handle >= 0) {
      // Answer in the request's own buffer: flip the type, patch the checksum, new IP header.
      this.rxHandle = -1;
      const icmp = this.icmp.wrap(this.bytes, at);
      icmp.type = ICMP_ECHO_REPLY;
      icmp.checksum = checksumAdjust(icmp.checksum, ICMP_ECHO_REQUEST << 8, ICMP_ECHO_REPLY << 8);
      const frameAt = this.pool.offsetOf(handle);
      this.ipOut
        .wrap(this.bytes, frameAt + ETHERNET_HEADER_LENGTH)
        .writeHeader(
          this.summer,
          IPV4_HEADER_LENGTH + length,
          this.nextId(),
          0,
          this.ttl,
          PROTOCOL_ICMP,
          this.address,
          info.source,
        );
      this.ipStats.packetsOut++;
      this.icmpStats.out++;
      this.icmpStats.echoRepliesOut++;
      this.sendFrame(handle, ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH + length, nextHop, now);
      return;
    }
    // Reassembled, or carrying IP options: send a fresh datagram (fragmented if need be).
    const scratch = this.scratchAt;
    copy(this.bytes, scratch, this.bytes, at, ICMP_HEADER_LENGTH);
    this.bytes[scratch] = ICMP_ECHO_REPLY;
    writeU16(this.bytes, scratch + 2, 0);
    const result = this.sendDatagram(
      PROTOCOL_ICMP,
      this.address,
      info.source,
      this.ttl,
      0,
      scratch,
      ICMP_HEADER_LENGTH,
      this.bytes,
      at + ICMP_HEADER_LENGTH,
      length - ICMP_HEADER_LENGTH,
      2,
      false,
      now,
    );
    if (result >= 0) {
      this.icmpStats.out++;
      this.icmpStats.echoRepliesOut++;
    }
  }

  // ---------------------------------------------------------------- ICMP errors

  /**
   * Sends an ICMP error about the datagram described by `info` whose payload is at `at`, unless
   * RFC 1122 §3.2.2 forbids it or the rate limit says no.
   */
  sendIcmpError(
    type: number,
    code: number,
    word: number,
    info: Ipv4Info,
    at: number,
    length: number,
    now: number,
  ): void {
    const stats = this.icmpStats;
    if (info.groupDestination || info.linkGroup || info.source === 0) return;
    if (info.protocol === PROTOCOL_ICMP && length > 0) {
      const inner = this.bytes[at];
      if (inner !== ICMP_ECHO_REQUEST && inner !== ICMP_ECHO_REPLY && inner !== 13 && inner !== 14)
        return;
    }
    if (!this.icmpAllowed(now)) {
      stats.rateLimited++;
      return;
    }
    const nextHop = this.route(info.source);
    if (nextHop === NO_ROUTE) {
      this.ipStats.noRoute++;
      return;
    }
    // Body: the offending header, then as much of its payload as fits in 576 bytes.
    const body = this.scratchAt + ICMP_HEADER_LENGTH;
    const room = ICMP_ERROR_MAX - IPV4_HEADER_LENGTH - ICMP_HEADER_LENGTH - info.headerLength;
    const quoted = length < room ? length : room;
    copy(this.bytes, body, info.headerBytes, info.headerAt, info.headerLength);
    copy(this.bytes, body + info.headerLength, this.bytes, at, quoted);
    const header = this.scratchAt;
    this.bytes[header] = type;
    this.bytes[header + 1] = code;
    writeU16(this.bytes, header + 2, 0);
    writeU32(this.bytes, header + 4, word);
    const result = this.sendDatagram(
      PROTOCOL_ICMP,
      this.address,
      info.source,
      this.ttl,
      0,
      header,
      ICMP_HEADER_LENGTH,
      this.bytes,
      body,
      info.headerLength + quoted,
      2,
      false,
      now,
    );
    if (result >= 0) {
      stats.out++;
      if (type === ICMP_DEST_UNREACHABLE) stats.destUnreachableOut++;
      else if (type === ICMP_TIME_EXCEEDED) stats.timeExceededOut++;
    }
  }

  /** Token bucket over all destinations, as Linux's icmp_msgs_per_sec / icmp_msgs_burst. */
  private icmpAllowed(now: number): boolean {
    const elapsed = now - this.icmpRefilled;
    if (elapsed > 0) {
      this.icmpTokens += (elapsed * this.icmpRate) / 1000;
      if (this.icmpTokens > this.icmpBurst) this.icmpTokens = this.icmpBurst;
      this.icmpRefilled = now;
    }
    if (this.icmpTokens < 1) return false;
    this.icmpTokens -= 1;
    return true;
  }

  private reassemblyTimedOut(slot: number, now: number): void {
    const r = this.reassembly;
    const info = this.info;
    const headerAt = r.headerAt[slot];
    const ip = this.ip.wrap(this.bytes, headerAt);
    if (ip.destination !== this.address) return;
    info.source = ip.source;
    info.destination = ip.destination;
    info.protocol = ip.protocol;
    info.linkGroup = false;
    info.groupDestination = false;
    info.headerBytes = this.bytes;
    info.headerAt = headerAt;
    info.headerLength = r.headerLength[slot];
    this.sendIcmpError(ICMP_TIME_EXCEEDED, 1, 0, info, r.dataAt[slot], 8, now);
  }

  // ---------------------------------------------------------------- send

  /**
   * The next hop for `destination`: itself when on-link, the gateway otherwise, IPV4_BROADCAST
   * for broadcasts, the group for multicast; NO_ROUTE (0.0.0.0) when there is none.
   */
  route(destination: number): number {
    if (destination === IPV4_BROADCAST) return IPV4_BROADCAST;
    if (isMulticastV4(destination)) return destination;
    const address = this.address;
    if (address === 0) return NO_ROUTE;
    if (((destination ^ address) & this.mask) === 0) {
      return destination === this.broadcast ? IPV4_BROADCAST : destination;
    }
    return this.gateway;
  }

  nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
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
    now: number,
  ): number {
    const nextHop = this.route(destination);
    if (nextHop === NO_ROUTE) {
      this.ipStats.noRoute++;
      return -ENETUNREACH;
    }
    const total = headerLength + payloadLength;
    if (total + IPV4_HEADER_LENGTH > 65535) return -EMSGSIZE;
    const room = this.mtu - IPV4_HEADER_LENGTH;
    const fragmentSize = room & ~7;
    const count = total <= room ? 1 : Math.ceil(total / fragmentSize);
    const pool = this.pool;
    if (pool.available < count) {
      this.ipStats.outNoBuffer++;
      return -ENOBUFS;
    }
    const bytes = this.bytes;
    const list = this.fragmentList;
    const dataStart = ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH;
    let sum = 0;
    let sent = 0;
    let first = -1;
    for (let k = 0; k < count; k++) {
      const handle = pool.alloc();
      const at = pool.offsetOf(handle) + dataStart;
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
      if (checksumField >= 0) sum += this.summer.sum(bytes, at, chunk, 0);
      pool.length[handle] = dataStart + chunk;
      list.push(pool, handle);
      sent += chunk;
    }
    if (checksumField >= 0) {
      if (pseudo) sum += pseudoHeaderSumV4(source, destination, protocol, total);
      let checksum = ~fold(sum) & 0xffff;
      // RFC 768: a computed zero goes out as all ones, since zero means "no checksum".
      if (checksum === 0 && protocol === PROTOCOL_UDP) checksum = 0xffff;
      writeU16(bytes, pool.offsetOf(first) + dataStart + checksumField, checksum);
    }
    const id = this.nextId();
    let offset = 0;
    for (let handle = list.shift(pool); handle >= 0; handle = list.shift(pool)) {
      const length = pool.length[handle] - dataStart;
      const more = list.length > 0 ? IPV4_MORE_FRAGMENTS : 0;
      this.ipOut
        .wrap(bytes, pool.offsetOf(handle) + ETHERNET_HEADER_LENGTH)
        .writeHeader(
          this.summer,
          IPV4_HEADER_LENGTH + length,
          id,
          more | (offset >>> 3),
          ttl,
          protocol,
          source,
          destination,
        );
      if (tos !== 0) this.rewriteTos(handle, tos);
      offset += length;
      this.ipStats.packetsOut++;
      if (count > 1) this.ipStats.fragmentsOut++;
      this.sendFrame(handle, pool.length[handle], nextHop, now);
    }
    return 0;
  }

  private rewriteTos(handle: number, tos: number): void {
    const at = this.pool.offsetOf(handle) + ETHERNET_HEADER_LENGTH;
    const old = readU16(this.bytes, at);
    this.bytes[at + 1] = tos;
    writeU16(
      this.bytes,
      at + 10,
      checksumAdjust(readU16(this.bytes, at + 10), old, readU16(this.bytes, at)),
    );
  }

  /**
   * Puts an Ethernet header on a frame whose IP packet is complete and sends it to `nextHop`,
   * resolving the address first when needed. Takes ownership of `handle`.
   */
  sendFrame(handle: number, length: number, nextHop: number, now: number): void {
    const pool = this.pool;
    const at = pool.offsetOf(handle);
    pool.length[handle] = length;
    if (nextHop === this.address && nextHop !== NO_ROUTE) {
      // To ourselves, as Linux's loopback device would carry it.
      this.loopBack(handle, at);
      return;
    }
    if (nextHop === IPV4_BROADCAST || isMulticastV4(nextHop)) {
      const b = this.bytes;
      if (nextHop === IPV4_BROADCAST) for (let i = 0; i < 6; i++) b[at + i] = 0xff;
      else {
        // RFC 1112 §6.4: 01:00:5e and the group's low 23 bits.
        b[at] = 0x01;
        b[at + 1] = 0x00;
        b[at + 2] = 0x5e;
        b[at + 3] = (nextHop >>> 16) & 0x7f;
        b[at + 4] = nextHop >>> 8;
        b[at + 5] = nextHop;
      }
      // Linux hands its own broadcasts, and multicasts to groups it has joined
      // (IP_MULTICAST_LOOP is on by default), to local sockets as well.
      if (nextHop === IPV4_BROADCAST || this.isGroupMember(nextHop))
        this.loopBackCopy(handle, at, length);
      this.finishFrame(handle, at);
      return;
    }
    const cache = this.neighbors;
    let entry = cache.find(nextHop);
    if (entry >= 0 && cache.hasMac(entry)) {
      cache.lastUsed[entry] = now;
      if (cache.state[entry] === NEIGHBOR_STALE) this.delayProbe(entry, now);
      this.transmitTo(handle, entry);
      return;
    }
    if (entry < 0) {
      entry = cache.create(pool, nextHop, now);
      if (entry < 0) {
        this.arpStats.queueDrops++;
        pool.free(handle);
        return;
      }
    }
    if (!cache.enqueue(pool, entry, handle)) this.arpStats.queueDrops++;
    if (cache.solicits[entry] === 0) {
      this.solicit(entry, now);
      this.wake();
    }
  }

  private loopBack(handle: number, at: number): void {
    const b = this.bytes;
    for (let i = 0; i < 6; i++) {
      b[at + i] = this.mac[i];
      b[at + 6 + i] = this.mac[i];
    }
    b[at + 12] = ETHERTYPE_IPV4 >>> 8;
    b[at + 13] = ETHERTYPE_IPV4 & 0xff;
    this.link.loopedBack++;
    this.loopback.push(this.pool, handle);
    this.wake();
  }

  /** Loops a copy of a group frame back; skipped (and counted) when no buffer is free. */
  private loopBackCopy(handle: number, at: number, length: number): void {
    const pool = this.pool;
    const copyHandle = pool.alloc();
    if (copyHandle < 0) {
      this.ipStats.outNoBuffer++;
      return;
    }
    const copyAt = pool.offsetOf(copyHandle);
    copy(this.bytes, copyAt, this.bytes, at, length);
    for (let i = 0; i < 6; i++) this.bytes[copyAt + 6 + i] = this.mac[i];
    this.bytes[copyAt + 12] = ETHERTYPE_IPV4 >>> 8;
    this.bytes[copyAt + 13] = ETHERTYPE_IPV4 & 0xff;
    pool.length[copyHandle] = length;
    this.link.loopedBack++;
    this.loopback.push(pool, copyHandle);
    this.wake();
  }

  private wake(): void {
    if (this.waker !== null) this.waker.wake();
  }

  private transmitTo(handle: number, entry: number): void {
    const at = this.pool.offsetOf(handle);
    const b = this.bytes;
    const mac = this.neighbors.mac;
    for (let i = 0; i < 6; i++) b[at + i] = mac[entry * 6 + i];
    this.finishFrame(handle, at);
  }

  /** Source address and EtherType, padding to the 60-byte minimum, transmit, free. */
  private finishFrame(handle: number, at: number): void {
    const b = this.bytes;
    for (let i = 0; i < 6; i++) b[at + 6 + i] = this.mac[i];
    b[at + 12] = ETHERTYPE_IPV4 >>> 8;
    b[at + 13] = ETHERTYPE_IPV4 & 0xff;
    this.transmit(handle, at, this.pool.length[handle]);
  }

  private transmit(handle: number, at: number, length: number): void {
    if (length < 60) {
      this.bytes.fill(0, at + length, at + 60);
      length = 60;
    }
    const link = this.link;
    if (this.device.transmit(this.bytes, at, length)) {
      link.framesOut++;
      link.bytesOut += length;
    } else link.transmitErrors++;
    this.pool.free(handle);
  }

  // ---------------------------------------------------------------- ARP out

  private neighborTimers(now: number): void {
    const cache = this.neighbors;
    if (cache.nextDeadline() > now) return;
    for (let i = 0; i < cache.capacity; i++) {
      if (cache.deadline[i] > now) continue;
      const state = cache.state[i];
      if (state === NEIGHBOR_REACHABLE) {
        cache.state[i] = NEIGHBOR_STALE;
        cache.deadline[i] = Infinity;
      } else if (state === NEIGHBOR_DELAY) {
        this.startProbe(i, now);
      } else if (state === NEIGHBOR_INCOMPLETE || state === NEIGHBOR_PROBE) {
        if (cache.solicits[i] >= ARP_SOLICITS) {
          this.arpStats.failures++;
          this.arpStats.unresolvedDrops += cache.release(this.pool, i);
        } else this.solicit(i, now);
      }
    }
  }

  /**
   * A stale entry was used: RFC 4861 §7.3.3 and Linux wait DELAY_FIRST_PROBE_TIME for a
   * confirmation before probing, since traffic that goes both ways usually brings one.
   */
  private delayProbe(entry: number, now: number): void {
    const cache = this.neighbors;
    cache.state[entry] = NEIGHBOR_DELAY;
    cache.deadline[entry] = now + ARP_DELAY_MS;
    this.wake();
  }

  private startProbe(entry: number, now: number): void {
    const cache = this.neighbors;
    cache.state[entry] = NEIGHBOR_PROBE;
    cache.solicits[entry] = 0;
    this.solicit(entry, now);
  }

  /** One request for an entry: broadcast while resolving, unicast while probing. */
  private solicit(entry: number, now: number): void {
    const cache = this.neighbors;
    cache.solicits[entry]++;
    cache.deadline[entry] = now + ARP_RETRANSMIT_MS;
    if (cache.state[entry] === NEIGHBOR_PROBE)
      this.sendArp(ARP_REQUEST, cache.mac, entry * 6, cache.address[entry], null, 0);
    else this.sendArp(ARP_REQUEST, null, 0, cache.address[entry], null, 0);
  }

  private announce(now: number): void {
    if (this.address === 0 || !this.device.linkUp) {
      this.announceAt = Infinity;
      return;
    }
    // RFC 5227 §2.3: an ARP request with our address as both sender and target.
    this.sendArp(ARP_REQUEST, null, 0, this.address, null, 0);
    this.announcements++;
    this.announceAt = this.announcements < ANNOUNCE_COUNT ? now + ANNOUNCE_INTERVAL_MS : Infinity;
  }

  /**
   * Sends an ARP packet from us. `to`: the frame's destination MAC (null: broadcast);
   * `targetMac`: the packet's target hardware address (null: zeros, as in a request).
   */
  private sendArp(
    op: number,
    to: Uint8Array | null,
    toAt: number,
    targetIp: number,
    targetMac: Uint8Array | null,
    targetMacAt: number,
  ): void {
    const pool = this.pool;
    const handle = pool.alloc();
    if (handle < 0) {
      this.ipStats.outNoBuffer++;
      return;
    }
    const at = pool.offsetOf(handle);
    const b = this.bytes;
    for (let i = 0; i < 6; i++) {
      b[at + i] = to === null ? 0xff : to[toAt + i];
      b[at + 6 + i] = this.mac[i];
    }
    b[at + 12] = ETHERTYPE_ARP >>> 8;
    b[at + 13] = ETHERTYPE_ARP & 0xff;
    this.arpOut
      .wrap(b, at + ETHERNET_HEADER_LENGTH)
      .write(op, this.mac, this.address, targetMac, targetMacAt, targetIp);
    if (op === ARP_REPLY) this.arpStats.repliesOut++;
    else if (targetIp === this.address) this.arpStats.announcementsOut++;
    else this.arpStats.requestsOut++;
    this.transmit(handle, at, ETHERNET_HEADER_LENGTH + ARP_LENGTH);
  }
}
