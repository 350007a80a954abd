// The Stack: owns the arena, the packet pool, the interface and the transport endpoints, and is
// driven from outside by poll(now) / nextDeadline(). It never reads a clock or sets a timer.

import { EMFILE, ENOBUFS } from "./errno.js";
import { OFF, earlier } from "./time.js";
import { StackConfig, StackOptions } from "./config.js";
import type { NetDevice, Pollable } from "./device.js";
import { Interface } from "./iface/interface.js";
import { Random } from "./random.js";
import type { TcpStats, UdpStats } from "./stats.js";
import { Memory } from "./storage/memory.js";
import { PacketPool } from "./storage/pool.js";
import { SPAN_ALIGN, Spans } from "./storage/spans.js";
import { PingEndpoint, PingTable } from "./transport/ping.js";
import { TcpTable } from "./transport/tcp/table.js";
import { TcpEndpoint } from "./transport/tcp/endpoint.js";
import { UdpTable } from "./transport/udp.js";
import { UdpEndpoint } from "./transport/udp-endpoint.js";
import { ReadyList } from "./transport/waiter.js";
import { parseIPv4 } from "./wire/address.js";
import { Checksum } from "./wire/checksum.js";
import { PROTOCOL_TCP, PROTOCOL_UDP } from "./wire/ipv4.js";

/** IPv4 settings for an interface; text for configuration files and command lines. */
export interface Ipv4Settings {
  /** Text, or a number (signed or unsigned 32-bit). */
  address: number | string;
  /** Prefix length, 0..32. */
  prefix: number;
  /** Default gateway, or 0 / "" for none. */
  gateway?: number | string;
}

/** Stack options, plus arena space set aside for applications. */
export interface StackSetup extends StackOptions {
  /**
   * Bytes of the stack's own arena left free for applications (`stack.memory.take(n)`): buffers
   * there copy to and from socket queues with a memmove and no allocation. Ignored with `memory`.
   */
  appMemory?: number;
}

export class Stack implements Pollable {
  /** Every option's value, checked, and the arena each part takes. */
  readonly config: StackConfig;
  /** The arena; `memory.take(n)` hands out the room left by `appMemory`. */
  readonly memory: Memory;
  /** The packet buffers; `pool.available` tells how many are free. */
  readonly pool: PacketPool;
  /**
   * The socket buffer region: every socket's queue is a span of it while the socket is open.
   * @internal
   */
  readonly socketBuffers: Spans;
  /** The generator behind ephemeral ports, IP identifications and ARP jitter. */
  readonly random: Random;
  /** @internal */
  readonly udp: UdpTable;
  /** @internal */
  readonly ping: PingTable;
  /** @internal */
  readonly tcp: TcpTable;
  /**
   * Endpoints with readiness events to deliver after the input pass.
   * @internal
   */
  readonly ready = new ReadyList();
  /** The attached interface, with its counters (`ipStats`, `arpStats`...); one per stack for now. */
  iface: Interface | null = null;
  /** The time of the latest poll. */
  now = 0;
  /** Set by the driver: called when a send outside a poll gave the stack work. */
  onWake: (() => void) | null = null;
  /** @internal */
  private readonly summer: Checksum;
  /**
   * The IP layer's count of sends refused with EAGAIN, as last seen by poll().
   * @internal
   */
  private blockedSeen = 0;

  /**
   * Makes the stack and takes all of its memory: from `options.memory` when given, else a new
   * arena of exactly `Stack.memoryNeeded(options)` plus `appMemory` bytes. Throws a RangeError
   * naming the option at fault, its value and the allowed range, or the bytes missing.
   */
  constructor(options: StackSetup = {}) {
    const config = new StackConfig(options);
    this.config = config;
    const memory =
      options.memory ?? new Memory(new Uint8Array(config.memoryBytes + (options.appMemory ?? 0)));
    this.memory = memory;
    // Checked before anything is taken (attach() takes the rest), so a short arena fails here,
    // whole, with the figures to fix it.
    const top = memory.bytes.length - memory.free;
    const room = memory.free - ((SPAN_ALIGN - (top % SPAN_ALIGN)) % SPAN_ALIGN);
    if (room < config.memoryBytes)
      throw new RangeError(
        `memory ${room}: the stack needs ${config.memoryBytes} bytes of arena, ${config.memoryBytes - room} more (Stack.memoryNeeded)`,
      );
    this.pool = new PacketPool(memory, config.buffers, config.bufferSize);
    this.socketBuffers = new Spans(memory, config.socketBufferSpace, config.socketBufferSpans);
    this.summer = new Checksum();
    this.random = new Random(config.seed);
    this.udp = new UdpTable(
      memory,
      config,
      this.socketBuffers,
      this.random,
      this.summer,
      this.ready,
    );
    this.ping = new PingTable(memory, config, this.socketBuffers, this.random, this.ready);
    this.tcp = new TcpTable(
      this.memory,
      {
        sockets: config.tcpSockets,
        sendBuffer: config.tcpSendBuffer,
        receiveBuffer: config.tcpReceiveBuffer,
        timeWait: config.tcpTimeWait,
        synQueue: config.tcpSynQueue,
        outOfOrderRanges: config.tcpOutOfOrderRanges,
        msl: config.msl,
        delayedAck: config.tcpDelayedAck,
        minRto: config.tcpMinRto,
        initialRto: config.tcpInitialRto,
        synRetries: config.tcpSynRetries,
        retries: config.tcpRetries,
      },
      this.random,
      this.summer,
      config,
      this.socketBuffers,
      this.ready,
    );
  }

  /** UDP's counters, over all sockets. */
  get udpStats(): UdpStats {
    return this.udp.stats;
  }

  /** TCP's counters, over all connections. */
  get tcpStats(): TcpStats {
    return this.tcp.stats;
  }

  /** Bytes of arena a stack with these options needs, for a caller that supplies `memory`. */
  static memoryNeeded(options: StackOptions): number {
    return new StackConfig(options).memoryBytes;
  }

  /** Attaches the device and, if given, configures IPv4 on it. */
  attach(device: NetDevice, ipv4?: Ipv4Settings): Interface {
    if (this.iface !== null) throw new Error("stack: an interface is already attached");
    const iface = new Interface(
      1,
      device,
      this.config,
      this.memory,
      this.pool,
      this.summer,
      this.random,
    );
    iface.waker = this;
    iface.ip.protocols.register(PROTOCOL_UDP, this.udp);
    iface.ip.protocols.register(PROTOCOL_TCP, this.tcp);
    iface.icmp.echoReplies = this.ping;
    this.iface = iface;
    this.udp.iface = iface;
    this.ping.iface = iface;
    this.tcp.iface = iface;
    if (ipv4 !== undefined) this.configure(ipv4);
    return iface;
  }

  /** Sets the interface's IPv4 address, prefix and gateway; throws a RangeError naming a bad one. */
  configure(ipv4: Ipv4Settings): void {
    const iface = this.iface;
    if (iface === null) throw new Error("stack: no interface attached");
    const address = typeof ipv4.address === "string" ? parseIPv4(ipv4.address) : ipv4.address;
    const gateway =
      ipv4.gateway === undefined || ipv4.gateway === ""
        ? 0
        : typeof ipv4.gateway === "string"
          ? parseIPv4(ipv4.gateway)
          : ipv4.gateway;
    if (address === null)
      throw new RangeError(
        `ipv4.address ${String(ipv4.address)}: must be A.B.C.D or a 32-bit number`,
      );
    if (!(Number.isInteger(ipv4.prefix) && ipv4.prefix >= 0 && ipv4.prefix <= 32))
      throw new RangeError(`ipv4.prefix ${String(ipv4.prefix)}: must be 0..32`);
    if (gateway === null)
      throw new RangeError(
        `ipv4.gateway ${String(ipv4.gateway)}: must be A.B.C.D, a 32-bit number, or "" for none`,
      );
    // Numbers given as unsigned (0xc0000202) become the signed form the stack keeps.
    iface.configure(address | 0, ipv4.prefix, gateway | 0);
  }

  /** @internal */
  wake(): void {
    if (this.onWake !== null) this.onWake();
  }

  /**
   * One round: input and timers, then readiness events to the applications (whose sends go out
   * at once, with this poll's time), then the output pass.
   */
  poll(now: number): void {
    this.now = now;
    const iface = this.iface;
    if (iface === null) {
      this.ready.deliver();
      return;
    }
    iface.poll(now);
    this.tcp.poll(now);
    this.ready.deliver();
    // Segments for what the applications sent from their callbacks leave with this poll's time.
    this.tcp.flush(now);
    iface.flush(now);
    // Sockets refused with EAGAIN since the last look hear EVENT_OUT once there is room again.
    const blocked = iface.ipStats.outBlocked;
    if (blocked !== this.blockedSeen && iface.ip.canSend(1)) {
      this.blockedSeen = blocked;
      this.udp.writable();
      this.ping.writable();
    }
  }

  /** When the stack next needs a poll: 0 for now, Infinity when nothing is pending. */
  nextDeadline(): number {
    if (!this.ready.isEmpty) return 0;
    const t = earlier(
      this.iface !== null ? this.iface.nextDeadline() : OFF,
      this.tcp.nextDeadline(),
    );
    // Inside the stack none is OFF; the Pollable contract's Infinity is the constant, returned on
    // its own so no double is ever boxed for it.
    if (t < 0) return Infinity;
    return t;
  }

  /**
   * A new UDP endpoint, or, as Linux's socket() would answer, -EMFILE when all `udpSockets` are
   * open, -ENOBUFS when the socket buffer region has no room for its receive queue.
   */
  openUdp(): UdpEndpoint | number {
    const udp = this.udp;
    const slot = udp.open();
    if (slot !== null) return new UdpEndpoint(slot);
    return udp.live < udp.slots.length ? -ENOBUFS : -EMFILE;
  }

  /**
   * A new TCP endpoint, or -ENOBUFS when every connection slot is taken (by open sockets,
   * accepted connections or closed ones still finishing), as Linux answers when socket memory
   * runs out.
   */
  openTcp(): TcpEndpoint | number {
    const slot = this.tcp.open();
    return slot === null ? -ENOBUFS : new TcpEndpoint(slot);
  }

  /**
   * A new ping (ICMP echo) endpoint, or -EMFILE when all `pingSockets` are open, -ENOBUFS when the
   * socket buffer region has no room for its receive queue.
   */
  openPing(): PingEndpoint | number {
    const ping = this.ping;
    const endpoint = ping.open();
    if (endpoint !== null) return endpoint;
    return ping.live < ping.slots.length ? -ENOBUFS : -EMFILE;
  }
}
