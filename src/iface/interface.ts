// A network interface on an Ethernet device, and the context its layers share: the device, the
// pool, the addresses, the counters. The work is done by one object per job, each in its own
// file: Ethernet in and out (ethernet.ts), ARP (arp.ts), IPv4 (ipv4.ts) and ICMP (icmp.ts).
// Transports plug into the IP layer's protocol table.
//
// Buffer ownership on receive: the frame being handled is `rxHandle`. A handler that keeps the
// buffer (to answer in place, or to queue it) sets `rxHandle` to -1; otherwise the receive loop
// frees it. Every path that takes a buffer either transmits and frees it or queues it, so the pool
// is whole again whenever the stack is idle.

import { OFF, earlier } from "../time.js";
import type { NetDevice } from "../device.js";
import { StackConfig } from "../config.js";
import { Random } from "../random.js";
import { ArpStats, IcmpStats, Ipv4Stats, LinkStats } from "../stats.js";
import { Memory } from "../storage/memory.js";
import { PacketPool } from "../storage/pool.js";
import { prefixMask } from "../wire/address.js";
import { Checksum } from "../wire/checksum.js";
import { ETHERNET_HEADER_LENGTH } from "../wire/ethernet.js";
import { PROTOCOL_ICMP } from "../wire/ipv4.js";
import { ArpLayer } from "./arp.js";
import { EthernetLayer } from "./ethernet.js";
import { ICMP_SCRATCH, IcmpLayer } from "./icmp.js";
import { Ipv4Layer } from "./ipv4.js";
import { NeighborCache } from "./neighbor.js";
import { Reassembler } from "./reassembly.js";

export { NO_ROUTE } from "./ipv4.js";
export { Ipv4Info } from "./protocols.js";

/** Multicast groups an interface can join. */
const MAX_GROUPS = 8;
/** 224.0.0.1, all hosts, joined by every IPv4 host (RFC 1112). */
const ALL_HOSTS = 0xe0000001 | 0;

/** A network interface: the device, its addresses, the layers between device and transport, and their counters (stack.iface). */
export class Interface {
  /** The device frames go to and come from. */
  readonly device: NetDevice;
  /** The interface's station address (the device's). */
  readonly mac = new Uint8Array(6);
  /** Largest IP packet sent in one frame. */
  readonly mtu: number;
  /** The interface number (1 for a stack's only interface). */
  readonly index: number;
  /** TTL of datagrams sent when a socket sets none. */
  readonly ttl: number;

  /** IPv4 configuration; address 0 means none yet. */
  address = 0;
  /** The subnet prefix length, 0..32. */
  prefix = 0;
  /** The subnet mask made from the prefix, as a signed 32-bit number. */
  mask = 0;
  /** The default gateway, 0 for none. */
  gateway = 0;

  /** Link-layer counters. */
  readonly link = new LinkStats();
  /** ARP counters. */
  readonly arpStats = new ArpStats();
  /** IPv4 counters. */
  readonly ipStats = new Ipv4Stats();
  /** ICMP counters. */
  readonly icmpStats = new IcmpStats();

  /** @internal */
  readonly pool: PacketPool;
  /** @internal */
  readonly bytes: Uint8Array;
  /** @internal */
  readonly summer: Checksum;
  /** @internal */
  readonly random: Random;
  /** @internal */
  readonly neighbors: NeighborCache;
  /** @internal */
  readonly reassembly: Reassembler;
  /** @internal */
  readonly groups = new Int32Array(MAX_GROUPS);
  /** @internal */
  groupCount = 0;

  /** @internal */
  readonly ethernet: EthernetLayer;
  /** @internal */
  readonly arp: ArpLayer;
  /** @internal */
  readonly ip: Ipv4Layer;
  /** @internal */
  readonly icmp: IcmpLayer;

  /**
   * The frame being received; -1 once a handler has taken it.
   * @internal
   */
  rxHandle = -1;
  /**
   * The time of the poll in progress, or of the latest one.
   * @internal
   */
  now = 0;
  /**
   * True during poll(): sends are then resolved at once, with `now` fresh.
   * @internal
   */
  polling = false;
  /**
   * Told when a send outside a poll made work for the next one.
   * @internal
   */
  waker: { wake(): void } | null = null;
  /**
   * The device's `checksumOffload`, read on every poll: transport checksums are then neither
   * computed on transmit nor verified on receive.
   * @internal
   */
  checksumOffload = false;

  private linkWasUp = false;
  private readonly filterMacs = new Uint8Array(MAX_GROUPS * 6);

  /** @internal */
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
    this.ttl = config.ttl;
    this.checksumOffload = device.checksumOffload === true;
    this.pool = pool;
    this.bytes = memory.bytes;
    this.summer = summer;
    this.random = random;
    this.neighbors = new NeighborCache(config.neighbors, config.arpQueue);
    this.reassembly = new Reassembler(
      memory,
      config.reassemblySlots,
      config.reassemblySize,
      config.reassemblyFragments,
      this.ipStats,
      config.reassemblyPerSource,
    );
    this.ethernet = new EthernetLayer(this, config.receiveBudget, config.receiveBudgetBytes);
    this.arp = new ArpLayer(this);
    this.ip = new Ipv4Layer(this, config.sendQueue);
    this.icmp = new IcmpLayer(this, memory.take(ICMP_SCRATCH), config.icmpRate, config.icmpBurst);
    this.ip.protocols.register(PROTOCOL_ICMP, this.icmp);
    this.groups[0] = ALL_HOSTS;
    this.groupCount = 1;
    this.updateFilter();
  }

  /**
   * Sets the IPv4 address, prefix length and default gateway (0 for none), and announces it.
   * @internal
   */
  configure(address: number, prefix: number, gateway: number): void {
    this.address = address | 0;
    this.prefix = prefix;
    this.mask = prefixMask(prefix);
    this.gateway = gateway | 0;
    this.arp.startAnnouncing(address !== 0 && this.device.linkUp ? 0 : OFF);
    this.wake();
  }

  /** The subnet's directed broadcast address, or 0 on a /31 or /32 where there is none. */
  get broadcast(): number {
    return this.prefix < 31 && this.address !== 0 ? this.address | ~this.mask : 0;
  }

  /** Joins an IPv4 multicast group (the device's filter follows); false when no room is left. */
  joinGroup(group: number): boolean {
    if (this.isGroupMember(group)) return true;
    if (this.groupCount === MAX_GROUPS) return false;
    this.groups[this.groupCount++] = group | 0;
    this.updateFilter();
    return true;
  }

  /** Leaves a multicast group joined with joinGroup. */
  leaveGroup(group: number): void {
    for (let i = 1; i < this.groupCount; i++) {
      if (this.groups[i] === (group | 0)) {
        this.groups[i] = this.groups[--this.groupCount];
        this.updateFilter();
        return;
      }
    }
  }

  /** Whether the interface receives this multicast group. */
  isGroupMember(group: number): boolean {
    group |= 0;
    for (let i = 0; i < this.groupCount; i++) if (this.groups[i] === group) return true;
    return false;
  }

  /** Tells the device which multicast MACs to let through (RFC 1112 §6.4 mapping). */
  private updateFilter(): void {
    const macs = this.filterMacs;
    for (let i = 0; i < this.groupCount; i++) {
      const group = this.groups[i];
      const at = i * 6;
      macs[at] = 0x01;
      macs[at + 1] = 0x00;
      macs[at + 2] = 0x5e;
      macs[at + 3] = (group >>> 16) & 0x7f;
      macs[at + 4] = group >>> 8;
      macs[at + 5] = group;
    }
    this.device.setMulticastFilter(macs, this.groupCount);
  }

  /**
   * The next hop for `destination` (see Ipv4Layer.route).
   * @internal
   */
  route(destination: number): number {
    return this.ip.route(destination);
  }

  /**
   * Asks the driver for a poll; never needed during one, since it reads nextDeadline() after.
   * @internal
   */
  wake(): void {
    if (!this.polling && this.waker !== null) this.waker.wake();
  }

  // ---------------------------------------------------------------- polling

  /**
   * What was sent since the last poll goes out first (resolved with this poll's time, and giving
   * its buffers back before any are needed to receive); then input from the device and from
   * ourselves; then the timers that are due.
   * @internal
   */
  poll(now: number): void {
    this.now = now;
    this.polling = true;
    const device = this.device;
    device.poll(now);
    this.checksumOffload = device.checksumOffload === true;
    const up = device.linkUp;
    if (up && !this.linkWasUp && this.address !== 0) this.arp.startAnnouncing(now);
    this.linkWasUp = up;
    this.ethernet.retry();
    this.ethernet.flush(now);
    this.ethernet.receive(now);
    this.arp.timers(now);
    this.ip.timers(now);
  }

  /**
   * The output pass: what was sent since the last poll, then the transmit queue.
   * @internal
   */
  flush(now: number): void {
    this.ethernet.flush(now);
    this.polling = false;
  }

  /** @internal The earliest time poll() has work, or OFF for none (the device's Infinity too). */
  nextDeadline(): number {
    if (this.ethernet.pending) return 0;
    const t = earlier(
      earlier(this.neighbors.nextDeadline(), this.reassembly.nextDeadline()),
      this.arp.announceAt,
    );
    const d = this.device.nextDeadline();
    return d < Infinity ? earlier(t, d) : t;
  }
}
