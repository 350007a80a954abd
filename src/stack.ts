// The Stack: owns the arena, the packet pool, the interface and the transport endpoints, and is
// driven from outside by poll(now) / nextDeadline(). It never reads a clock or sets a timer.

import type { NetDevice, Pollable } from "./device.js";
import { StackConfig, StackOptions } from "./config.js";
import { Interface, Ipv4Info, TransportInput } from "./iface/interface.js";
import { Random } from "./random.js";
import { Memory } from "./storage/memory.js";
import { PacketPool } from "./storage/pool.js";
import { PingEndpoint, PingTable } from "./transport/icmp.js";
import { UdpEndpoint, UdpTable } from "./transport/udp.js";
import { parseIPv4 } from "./wire/address.js";
import { Checksum } from "./wire/checksum.js";

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

export class Stack implements Pollable, TransportInput {
  readonly config: StackConfig;
  readonly memory: Memory;
  readonly pool: PacketPool;
  readonly random: Random;
  readonly udp: UdpTable;
  readonly ping: PingTable;
  /** The attached interface; one per stack for now. */
  iface: Interface | null = null;
  /** The time of the latest poll. */
  now = 0;
  /** Set by the driver: called when a send gives the stack an earlier deadline. */
  onWake: (() => void) | null = null;
  private readonly summer: Checksum;

  constructor(options: StackSetup = {}) {
    const config = new StackConfig(options);
    this.config = config;
    this.memory =
      options.memory ?? new Memory(new Uint8Array(config.memoryBytes + (options.appMemory ?? 0)));
    this.pool = new PacketPool(this.memory, config.buffers, config.bufferSize);
    this.summer = new Checksum();
    this.random = new Random(config.seed);
    this.udp = new UdpTable(
      this.memory,
      config.udpSockets,
      config.udpReceiveBuffer,
      this.random,
      this.summer,
      config.ttl,
    );
    this.ping = new PingTable(
      this.memory,
      config.pingSockets,
      config.pingReceiveBuffer,
      this.random,
      config.ttl,
    );
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
    iface.transport = this;
    iface.waker = this;
    this.iface = iface;
    this.udp.iface = iface;
    this.ping.iface = iface;
    if (ipv4 !== undefined) this.configure(ipv4);
    return iface;
  }

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
    if (address === null || gateway === null || !(ipv4.prefix >= 0 && ipv4.prefix <= 32))
      throw new RangeError("stack: bad IPv4 settings");
    // Numbers given as unsigned (0xc0000202) become the signed form the stack keeps.
    iface.configure(address | 0, ipv4.prefix, gateway | 0);
  }

  wake(): void {
    if (this.onWake !== null) this.onWake();
  }

  poll(now: number): void {
    this.now = now;
    this.udp.now = now;
    this.ping.now = now;
    if (this.iface !== null) this.iface.poll(now);
  }

  nextDeadline(): number {
    return this.iface !== null ? this.iface.nextDeadline() : Infinity;
  }

  /** A new UDP endpoint, or null when all are in use. */
  openUdp(): UdpEndpoint | null {
    return this.udp.open();
  }

  /** A new ping (ICMP echo) endpoint, or null when all are in use. */
  openPing(): PingEndpoint | null {
    return this.ping.open();
  }

  echoReplyInput(
    _iface: Interface,
    info: Ipv4Info,
    bytes: Uint8Array,
    at: number,
    length: number,
  ): void {
    this.ping.input(info, bytes, at, length);
  }

  udpInput(
    _iface: Interface,
    info: Ipv4Info,
    bytes: Uint8Array,
    at: number,
    length: number,
  ): boolean {
    return this.udp.input(info, bytes, at, length);
  }

  icmpErrorInput(
    _iface: Interface,
    type: number,
    code: number,
    bytes: Uint8Array,
    at: number,
    _length: number,
  ): void {
    this.udp.icmpError(type, code, bytes, at);
  }
}
