// One stack on one end of a LinkPair, with the test holding the other end as a raw wire: it writes
// hand-built frames into the stack and reads back whatever the stack sends. Time is virtual.

import { LinkPair, LinkPairOptions } from "../../hal/pair.js";
import { DEVICE_RECEIVE, TX_TAKEN, type NetDevice } from "../../src/device.js";
import { StackOptions } from "../../src/config.js";
import { Stack } from "../../src/stack.js";
import { Memory } from "../../src/storage/memory.js";
import { VirtualNet } from "./virtual.js";
import {
  BROADCAST_MAC,
  decode,
  ether,
  ETH_ARP,
  ETH_IPV4,
  arp,
  ipv4,
  mac,
  ip,
  pattern,
  udp,
  Sent,
} from "./frames.js";

export const STACK_MAC = mac("02:00:00:00:00:0a");
export const PEER_MAC = mac("02:00:00:00:00:0b");
export const OTHER_MAC = mac("02:00:00:00:00:0c");
export const STACK_IP = ip("192.0.2.1");
export const PEER_IP = ip("192.0.2.2");
export const OTHER_IP = ip("192.0.2.3");
export const SUBNET_BROADCAST = ip("192.0.2.255");
/** The UDP port tests listen on. */
export const PORT = 7;

/** A UDP header and payload from the peer (port 4000) to the stack (port 7), checksum right. */
export function udpPacket(
  payload: Uint8Array,
  o: { source?: number; destination?: number; port?: number; sourcePort?: number } = {},
): Uint8Array {
  return udp({
    source: o.source ?? PEER_IP,
    destination: o.destination ?? STACK_IP,
    sourcePort: o.sourcePort ?? 4000,
    destinationPort: o.port ?? PORT,
    payload,
  });
}

/** A whole frame carrying udpPacket(payload). */
export function udpFrame(
  payload: Uint8Array,
  o: {
    source?: number;
    destination?: number;
    port?: number;
    sourcePort?: number;
    dstMac?: Uint8Array;
  } = {},
): Uint8Array {
  const source = o.source ?? PEER_IP;
  const destination = o.destination ?? STACK_IP;
  return ether(
    o.dstMac ?? STACK_MAC,
    PEER_MAC,
    ETH_IPV4,
    ipv4({ source, destination, protocol: 17, payload: udpPacket(payload, o) }),
  );
}

/** An IPv4 frame from the peer to the stack; by default a UDP datagram to port 7. */
export function ipFrame(
  fields: Partial<Parameters<typeof ipv4>[0]>,
  dstMac = STACK_MAC,
): Uint8Array {
  return ether(
    dstMac,
    PEER_MAC,
    ETH_IPV4,
    ipv4({
      source: PEER_IP,
      destination: STACK_IP,
      protocol: 17,
      payload: udpPacket(pattern(16)),
      ...fields,
    }),
  );
}

export interface SoloOptions {
  stack?: StackOptions;
  pair?: LinkPairOptions;
  /** Wraps the stack's end before attaching (a shim, an impairment). */
  wrap?: (end: NetDevice) => NetDevice;
  /** Configure 192.0.2.1/24 (default true). */
  configure?: boolean;
  /** The virtual clock's first time, ms (default 0). */
  start?: number;
}

export class Solo {
  readonly memory: Memory;
  readonly pair: LinkPair;
  readonly stack: Stack;
  readonly net: VirtualNet;
  /** Frames the stack sent that the test has not yet taken. */
  private readonly pending: Sent[] = [];

  constructor(options: SoloOptions = {}) {
    const stackOptions = options.stack ?? {};
    const slots = options.pair?.slots ?? 32;
    const mtu = options.pair?.mtu ?? 1500;
    this.memory = new Memory(
      new Uint8Array(Stack.memoryNeeded(stackOptions) + 2 * slots * (mtu + 14) + 4096),
    );
    this.pair = new LinkPair({ ...options.pair, slots, memory: this.memory });
    this.stack = new Stack({ seed: 7, ...stackOptions, memory: this.memory });
    const device = options.wrap ? options.wrap(this.pair.a) : this.pair.a;
    this.stack.attach(
      device,
      options.configure === false ? undefined : { address: STACK_IP, prefix: 24 },
    );
    this.net = new VirtualNet(options.start ?? 0).add(this.stack).attach(device);
  }

  get iface() {
    return this.stack.iface!;
  }

  get now(): number {
    return this.net.now;
  }

  /** Sends a frame down the cable to the stack, and lets the stack handle it. */
  send(frame: Uint8Array): void {
    if (this.pair.b.transmit(frame, 0, frame.length) !== TX_TAKEN)
      throw new Error(`the cable refused a ${frame.length}-byte frame`);
    this.settle();
  }

  /**
   * Puts a frame straight into the stack's receive queue, bypassing the cable's own length checks,
   * for frames no Ethernet cable would carry (runts).
   */
  push(frame: Uint8Array): void {
    if (!this.pair.a.inbound.push(frame, 0, frame.length)) throw new Error("queue full");
    this.pair.a.pendingEvents |= DEVICE_RECEIVE;
    this.pair.notify();
    this.settle();
  }

  /** Polls until the stack has nothing left to do now (time does not move). */
  settle(): void {
    this.net.runUntilIdle(10_000, 0);
  }

  /**
   * Moves virtual time on by `ms`, running every deadline on the way, and polls at the end: sends
   * between polls take their time from the latest poll, so this models a platform that keeps the
   * stack's clock current before the application acts.
   */
  advance(ms: number): void {
    this.net.advance(ms);
    this.net.poll();
    this.settle();
  }

  /**
   * Every frame the stack has sent since the last call, decoded. The stack first gets the poll its
   * driver would give it after an application's send (sends go out in the output pass).
   */
  take(): Sent[] {
    this.settle();
    const b = this.pair.b;
    const buffer = new Uint8Array(b.mtu + 14);
    for (;;) {
      const n = b.receive(buffer, 0, buffer.length);
      if (n === 0) break;
      this.pending.push(decode(buffer.slice(0, n)));
    }
    return this.pending.splice(0);
  }

  /** Runs the start-up announcements to the end and discards them, and teaches the stack the peer. */
  warm(learnPeer = true): this {
    this.settle();
    this.advance(3000);
    if (learnPeer) {
      // A request aimed at us teaches the address (STALE); the reply then confirms it.
      this.peerAsks();
      this.peerAnswers();
    }
    this.take();
    return this;
  }

  /** The peer asks the stack for its address (the answer stays to be taken). */
  peerAsks(senderMac = PEER_MAC, senderIp = PEER_IP): void {
    this.send(
      ether(
        BROADCAST_MAC,
        senderMac,
        ETH_ARP,
        arp({ op: 1, senderMac, senderIp, targetIp: STACK_IP }),
      ),
    );
  }

  /** The peer sends the stack an ARP reply with its address (new frames stay to be taken). */
  peerAnswers(senderMac = PEER_MAC, senderIp = PEER_IP): void {
    this.send(
      ether(
        STACK_MAC,
        senderMac,
        ETH_ARP,
        arp({ op: 2, senderMac, senderIp, targetMac: STACK_MAC, targetIp: STACK_IP }),
      ),
    );
  }

  poolFull(): boolean {
    return this.stack.pool.available === this.stack.pool.count && this.stack.pool.badFrees === 0;
  }
}

export type Counters = Record<string, number>;

/** Every counter of the stack, flat: "link.runts", "ip.badChecksum", "udp.noPort", ... */
export function counters(stack: Stack): Counters {
  const iface = stack.iface!;
  const out: Counters = {};
  const groups: [string, object][] = [
    ["link", iface.link],
    ["arp", iface.arpStats],
    ["ip", iface.ipStats],
    ["icmp", iface.icmpStats],
    ["udp", stack.udp.stats],
  ];
  for (const [name, stats] of groups)
    for (const [key, value] of Object.entries(stats))
      if (typeof value === "number") out[`${name}.${key}`] = value;
  return out;
}

/** Counters that moved between two snapshots, byte counts left out. */
export function delta(before: Counters, after: Counters): Counters {
  const out: Counters = {};
  for (const key of Object.keys(after)) {
    if (/bytes/i.test(key)) continue;
    const d = after[key] - (before[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}

/** Runs `action` and returns which counters it moved. */
export function measure(stack: Stack, action: () => void): Counters {
  const before = counters(stack);
  action();
  return delta(before, counters(stack));
}
