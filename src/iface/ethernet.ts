// Ethernet in and out: the receive loop with its budgets, demultiplexing by EtherType, frames we
// send to ourselves (looped back without the device, as Linux's loopback carries them), next-hop
// resolution, and the transmit queue that gives a busy device backpressure instead of losses.
//
// Frames leave in two steps. output() puts an IP packet in front of its next hop: inside a poll it
// is resolved at once with the poll's time; outside a poll (an application's send) it waits in the
// outbound list until the next poll, so no neighbor deadline is ever taken from a stale clock.
// Resolved frames join the transmit queue, which is offered to the device until it says busy.

import { TX_BUSY, type NetDevice } from "../device.js";
import { copy } from "../storage/memory.js";
import { HandleList, PacketPool } from "../storage/pool.js";
import {
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  EthernetFrame,
} from "../wire/ethernet.js";
import { IPV4_BROADCAST, isMulticastV4 } from "../wire/ipv4.js";
import type { Interface } from "./interface.js";
import {
  CREATE_GATEWAY,
  CREATE_REPLY,
  CREATE_SEND,
  NEIGHBOR_REACHABLE,
  NEIGHBOR_STALE,
  QUEUED,
} from "./neighbor.js";

/** The shortest frame on the wire without FCS. */
const MIN_FRAME = 60;

export class EthernetLayer {
  private readonly iface: Interface;
  private readonly pool: PacketPool;
  private readonly bytes: Uint8Array;
  private readonly device: NetDevice;
  private readonly eth = new EthernetFrame();
  /** Packets sent between polls, waiting for the next one to be resolved and queued. */
  private readonly outbound = new HandleList();
  /** The next hop of each outbound packet, by handle. */
  private readonly nextHopOf: Int32Array;
  /** Frames ready for the device, oldest first. */
  private readonly txQueue = new HandleList();
  /** Frames we sent to ourselves, received on the next poll so input is never re-entered. */
  private readonly loopback = new HandleList();
  private readonly frameBudget: number;
  private readonly byteBudget: number;
  /** The device said busy: wait for DEVICE_TRANSMIT (or the next poll) before offering again. */
  private deviceBusy = false;
  /** The receive budget ran out with frames possibly still waiting. */
  moreToReceive = false;
  /** Frames went to the device since its last flush(). */
  private unflushed = false;
  /** True while a looped-back frame is being handled (our own address is then a valid source). */
  loopingBack = false;
  /**
   * True while a received frame is handled: what is sent then answers it, and a neighbor we hold
   * no entry for gets only the strangers' share of the neighbor cache.
   */
  private receiving = false;

  constructor(iface: Interface, frameBudget: number, byteBudget: number) {
    this.iface = iface;
    this.pool = iface.pool;
    this.bytes = iface.bytes;
    this.device = iface.device;
    this.nextHopOf = new Int32Array(iface.pool.count);
    this.frameBudget = frameBudget;
    this.byteBudget = byteBudget;
  }

  /**
   * Outgoing frames waiting for a poll or for the device. Frames waiting for address resolution
   * are not counted: the ARP queue has its own bound and drops its oldest, as Linux's does.
   */
  get held(): number {
    return this.outbound.length + this.txQueue.length;
  }

  /** Frames waiting for the device. */
  get queued(): number {
    return this.txQueue.length;
  }

  /** Whether poll() has work now. */
  get pending(): boolean {
    return (
      this.moreToReceive ||
      this.loopback.length > 0 ||
      this.outbound.length > 0 ||
      (this.txQueue.length > 0 && !this.deviceBusy)
    );
  }

  // ---------------------------------------------------------------- receive

  /** Handles what we looped to ourselves before this poll, then up to the budget from the device. */
  receive(now: number): void {
    const pool = this.pool;
    const iface = this.iface;
    // Only what was looped before this poll: answers to it wait for the next one.
    for (let n = this.loopback.length; n > 0; n--) {
      const handle = this.loopback.shift(pool);
      iface.rxHandle = handle;
      this.loopingBack = true;
      this.input(pool.offsetOf(handle), pool.length[handle], now);
      this.loopingBack = false;
      if (iface.rxHandle >= 0) pool.free(iface.rxHandle);
      iface.rxHandle = -1;
    }

    const device = this.device;
    const capacity = iface.mtu + ETHERNET_HEADER_LENGTH;
    const lends = device.receiveBuffer !== undefined;
    let bytes = 0;
    this.moreToReceive = false;
    for (let n = 0; ; n++) {
      if (n === this.frameBudget || bytes >= this.byteBudget) {
        // Yield to timers and the application; the next poll continues at once.
        this.moreToReceive = true;
        break;
      }
      let handle: number;
      let length: number;
      if (lends) {
        handle = (device.receiveBuffer as (pool: PacketPool) => number)(pool);
        if (handle < 0) break;
        length = pool.length[handle];
      } else {
        handle = pool.peekFree();
        if (handle < 0) {
          pool.exhausted++;
          iface.link.noBuffer++;
          break;
        }
        length = device.receive(this.bytes, pool.offsetOf(handle), pool.size);
        if (length === 0) break;
        pool.alloc();
      }
      bytes += length;
      iface.rxHandle = handle;
      if (length > capacity) iface.link.oversized++;
      else this.input(pool.offsetOf(handle), length, now);
      if (iface.rxHandle >= 0) pool.free(iface.rxHandle);
      iface.rxHandle = -1;
    }
  }

  private input(at: number, length: number, now: number): void {
    this.receiving = true;
    this.demux(at, length, now);
    this.receiving = false;
  }

  private demux(at: number, length: number, now: number): void {
    const iface = this.iface;
    const link = iface.link;
    link.framesIn++;
    link.bytesIn += length;
    if (length < ETHERNET_HEADER_LENGTH) {
      link.runts++;
      return;
    }
    const eth = this.eth.wrap(this.bytes, at);
    const group = eth.isGroupDestination;
    if (!group && !eth.isDestination(iface.mac, 0)) {
      link.notForUs++;
      return;
    }
    const type = eth.etherType;
    const payloadAt = at + ETHERNET_HEADER_LENGTH;
    const payloadLength = length - ETHERNET_HEADER_LENGTH;
    if (type === ETHERTYPE_IPV4) iface.ip.input(payloadAt, payloadLength, group, now);
    else if (type === ETHERTYPE_ARP) iface.arp.input(payloadAt, payloadLength, group, now);
    else link.unknownEtherType++;
  }

  // ---------------------------------------------------------------- send

  /**
   * Sends the IP packet in `handle` (length in pool.length, Ethernet header still to write) to
   * `nextHop`. Takes ownership of `handle`.
   */
  output(handle: number, nextHop: number): void {
    const iface = this.iface;
    if (iface.polling) {
      this.resolve(handle, nextHop, iface.now);
      return;
    }
    // Outside a poll, a frame for a neighbor confirmed reachable needs no time at all: it goes to
    // the device at once when nothing is ahead of it. Anything else (resolution, a stale entry's
    // probe) waits for the next poll, whose time is fresh.
    if (this.outbound.length === 0 && this.txQueue.length === 0 && !this.deviceBusy) {
      const cache = iface.neighbors;
      const entry = nextHop !== iface.address ? cache.find(nextHop) : -1;
      if (entry >= 0 && cache.state[entry] === NEIGHBOR_REACHABLE) {
        // For least-recently-used order only: the last poll's time is a fine bound for that.
        cache.lastUsed[entry] = iface.now;
        this.sendTo(handle, entry);
        const device = this.device;
        this.unflushed = false;
        if (device.flush !== undefined) device.flush();
        return;
      }
    }
    this.nextHopOf[handle] = nextHop;
    this.outbound.push(this.pool, handle);
    // One wake for a burst of sends: the driver polls once for all of them.
    if (this.outbound.length === 1) iface.wake();
  }

  /** The output pass: resolves what was sent between polls, then feeds the device. */
  flush(now: number): void {
    const pool = this.pool;
    for (let handle = this.outbound.shift(pool); handle >= 0; handle = this.outbound.shift(pool))
      this.resolve(handle, this.nextHopOf[handle], now);
    if (this.txQueue.length > 0) this.drain();
    // Once per pass, not per drain(): queue() drains after every frame it adds; and only when
    // frames went to the device since the last flush.
    if (this.unflushed) {
      this.unflushed = false;
      if (this.device.flush !== undefined) this.device.flush();
    }
  }

  private resolve(handle: number, nextHop: number, now: number): void {
    const iface = this.iface;
    const pool = this.pool;
    const at = pool.offsetOf(handle);
    const length = pool.length[handle];
    const b = this.bytes;
    if (nextHop === iface.address && nextHop !== 0) {
      // To ourselves, as Linux's loopback device would carry it.
      this.writeHeader(at, iface.mac, 0, ETHERTYPE_IPV4);
      this.loopBack(handle);
      return;
    }
    if (nextHop === IPV4_BROADCAST || isMulticastV4(nextHop)) {
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
      this.writeHeader(at, b, at, ETHERTYPE_IPV4);
      // Linux hands its own broadcasts, and multicasts to groups it has joined
      // (IP_MULTICAST_LOOP is on by default), to local sockets as well.
      if (nextHop === IPV4_BROADCAST || iface.isGroupMember(nextHop))
        this.loopBackCopy(handle, at, length);
      this.queue(handle);
      return;
    }
    const cache = iface.neighbors;
    const stats = iface.arpStats;
    let entry = cache.find(nextHop);
    if (entry >= 0 && cache.hasMac(entry)) {
      cache.lastUsed[entry] = now;
      if (cache.state[entry] === NEIGHBOR_STALE) iface.arp.delayProbe(entry, now);
      this.sendTo(handle, entry);
      return;
    }
    if (entry < 0) {
      const gateway = iface.gateway;
      const why =
        nextHop === gateway ? CREATE_GATEWAY : this.receiving ? CREATE_REPLY : CREATE_SEND;
      entry = cache.create(pool, nextHop, now, why, gateway);
      stats.evictedDrops += cache.evicted;
      if (entry < 0) {
        if (why === CREATE_REPLY) stats.replyDrops++;
        else stats.queueDrops++;
        pool.free(handle);
        return;
      }
    } else if (!this.receiving) cache.adopt(entry);
    // Full for everyone or only for strangers' replies, a frame left the ARP queue.
    if (cache.enqueue(pool, entry, handle) !== QUEUED) stats.queueDrops++;
    if (cache.solicits[entry] === 0) iface.arp.solicit(entry, now);
  }

  /** Addresses a frame to a resolved neighbor and queues it. */
  sendTo(handle: number, entry: number): void {
    const at = this.pool.offsetOf(handle);
    this.writeHeader(at, this.iface.neighbors.mac, entry * 6, ETHERTYPE_IPV4);
    this.queue(handle);
  }

  /** Destination from `to[toAt ..+ 6)`, our source address and the EtherType. */
  writeHeader(at: number, to: Uint8Array, toAt: number, etherType: number): void {
    const b = this.bytes;
    const mac = this.iface.mac;
    if (to !== b || toAt !== at) for (let i = 0; i < 6; i++) b[at + i] = to[toAt + i];
    for (let i = 0; i < 6; i++) b[at + 6 + i] = mac[i];
    b[at + 12] = etherType >>> 8;
    b[at + 13] = etherType & 0xff;
  }

  /** Queues a finished frame (length in pool.length) for the device, padded to 60 bytes. */
  queue(handle: number): void {
    const pool = this.pool;
    const length = pool.length[handle];
    if (length < MIN_FRAME) {
      const at = pool.offsetOf(handle);
      this.bytes.fill(0, at + length, at + MIN_FRAME);
      pool.length[handle] = MIN_FRAME;
    }
    this.txQueue.push(pool, handle);
    if (this.txQueue.length === 1) this.drain();
  }

  /** Offers queued frames to the device, in order, until it is busy. */
  drain(): void {
    if (this.deviceBusy) return;
    const pool = this.pool;
    const device = this.device;
    const link = this.iface.link;
    const lends = device.transmitBuffer !== undefined;
    for (let handle = this.txQueue.head; handle >= 0; handle = this.txQueue.head) {
      const at = pool.offsetOf(handle);
      const length = pool.length[handle];
      const result = lends
        ? (
            device.transmitBuffer as (
              pool: PacketPool,
              handle: number,
              offset: number,
              length: number,
            ) => number
          )(pool, handle, at, length)
        : device.transmit(this.bytes, at, length);
      if (result === TX_BUSY) {
        this.deviceBusy = true;
        return;
      }
      this.txQueue.shift(pool);
      if (result > 0) {
        link.framesOut++;
        this.unflushed = true;
        link.bytesOut += length;
        this.sent(at);
        // A lending device frees the buffer itself when the transfer is done.
        if (!lends) pool.free(handle);
      } else {
        link.transmitErrors++;
        pool.free(handle);
      }
    }
  }

  /**
   * A new poll offers again: the driver polls on the device's DEVICE_TRANSMIT, and the stack does
   * not need to tell that event from the others.
   */
  retry(): void {
    this.deviceBusy = false;
  }

  /** Counts a frame at `at` in the protocol that sent it, now that it has left. */
  private sent(at: number): void {
    const b = this.bytes;
    const type = (b[at + 12] << 8) | b[at + 13];
    if (type === ETHERTYPE_IPV4) this.iface.ip.sent(at + ETHERNET_HEADER_LENGTH);
    else if (type === ETHERTYPE_ARP) this.iface.arp.sent(at + ETHERNET_HEADER_LENGTH);
  }

  private loopBack(handle: number): void {
    this.sent(this.pool.offsetOf(handle));
    this.iface.link.loopedBack++;
    this.loopback.push(this.pool, handle);
    this.iface.wake();
  }

  /** Loops a copy of a group frame back; skipped (and counted) when no buffer is free. */
  private loopBackCopy(handle: number, at: number, length: number): void {
    const pool = this.pool;
    const copyHandle = pool.alloc();
    if (copyHandle < 0) {
      this.iface.ipStats.outNoBuffer++;
      return;
    }
    const copyAt = pool.offsetOf(copyHandle);
    copy(this.bytes, copyAt, this.bytes, at, length);
    pool.length[copyHandle] = length;
    // Counted once, when the original leaves.
    this.iface.link.loopedBack++;
    this.loopback.push(pool, copyHandle);
    this.iface.wake();
  }

  /** Frees every held frame (the interface goes away). */
  clear(): void {
    const pool = this.pool;
    this.outbound.freeAll(pool);
    this.txQueue.freeAll(pool);
    this.loopback.freeAll(pool);
  }
}
