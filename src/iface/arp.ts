// ARP (RFC 826) on the interface: answering and learning from requests and replies with Linux's
// rules, driving the neighbor cache's states and timers, and RFC 5227 announcements.

import { PacketPool } from "../storage/pool.js";
import { ArpStats } from "../stats.js";
import { OFF, due } from "../time.js";
import { ARP_LENGTH, ARP_REPLY, ARP_REQUEST, ArpPacket } from "../wire/arp.js";
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_ARP } from "../wire/ethernet.js";
import { IPV4_BROADCAST, isMulticastV4 } from "../wire/ipv4.js";
import type { Interface } from "./interface.js";
import {
  ARP_DELAY_MS,
  ARP_LOCKTIME_MS,
  ARP_REACHABLE_MS,
  ARP_RETRANSMIT_MS,
  ARP_SOLICITS,
  CREATE_LEARN,
  NEIGHBOR_DELAY,
  NEIGHBOR_INCOMPLETE,
  NEIGHBOR_PROBE,
  NEIGHBOR_REACHABLE,
  NEIGHBOR_STALE,
  NeighborCache,
} from "./neighbor.js";

/** RFC 5227: announcements when an address comes up, and their spacing. */
const ANNOUNCE_COUNT = 2;
const ANNOUNCE_INTERVAL_MS = 2000;

/** Broadcast, as a frame's destination. */
const BROADCAST_MAC = Object.freeze([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export class ArpLayer {
  private readonly iface: Interface;
  private readonly pool: PacketPool;
  private readonly bytes: Uint8Array;
  private readonly cache: NeighborCache;
  private readonly stats: ArpStats;
  private readonly arp = new ArpPacket();
  private readonly arpOut = new ArpPacket();
  private readonly broadcastMac = new Uint8Array(BROADCAST_MAC);
  private announcements = 0;
  /** When the next announcement is due (OFF: none). */
  announceAt = OFF;

  constructor(iface: Interface) {
    this.iface = iface;
    this.pool = iface.pool;
    this.bytes = iface.bytes;
    this.cache = iface.neighbors;
    this.stats = iface.arpStats;
  }

  /** Starts RFC 5227 announcements of our address at `at` (OFF: none). */
  startAnnouncing(at: number): void {
    this.announcements = 0;
    this.announceAt = at;
  }

  input(at: number, length: number, linkGroup: boolean, now: number): void {
    const stats = this.stats;
    const iface = this.iface;
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
    const address = iface.address;
    if (address === 0) {
      stats.notForUs++;
      return;
    }
    if (senderIp === address) {
      if (!this.isOwnMac(senderMacAt)) stats.conflicts++;
      return;
    }
    if (senderIp === 0) {
      // An RFC 5227 probe: its sender has no address yet, so nothing is learned. One for our
      // address is answered, which defends it, and counted: another host means to take it.
      if (op !== ARP_REQUEST) stats.badSender++;
      else if (targetIp !== address) stats.notForUs++;
      else {
        if (!this.isOwnMac(senderMacAt)) stats.conflicts++;
        this.send(ARP_REPLY, this.bytes, senderMacAt, 0, this.bytes, senderMacAt);
      }
      return;
    }
    if (!this.validSender(senderIp)) {
      stats.badSender++;
      return;
    }
    const cache = this.cache;
    const entry = cache.find(senderIp);
    // As Linux's arp_process: only a reply sent to us alone proves the neighbor hears us; a
    // request or a broadcast reply tells its address but leaves reachability unconfirmed.
    const confirmed = op === ARP_REPLY && !linkGroup;
    if (targetIp !== address) {
      // A gratuitous announcement refreshes an entry we already hold; anything else about other
      // hosts is not ours to learn (and learning it would invite cache poisoning).
      if (entry >= 0 && targetIp === senderIp) this.learn(entry, senderMacAt, false, true, now);
      else stats.notForUs++;
      return;
    }
    // RFC 826 puts the sender of any packet aimed at us in the table. Linux (without arp_accept)
    // does so for requests, which it is about to answer, but not for replies it never asked for,
    // so a stranger cannot plant an entry: Linux's choice. A request takes no entry in use: when
    // all are, it is answered all the same.
    let e = entry;
    if (e < 0 && op === ARP_REQUEST) {
      e = cache.create(this.pool, senderIp, now, CREATE_LEARN, iface.gateway);
      if (e < 0) stats.notLearned++;
    }
    // A request aimed at us overrides the locktime, as Linux's neigh_event_ns does.
    if (e >= 0) this.learn(e, senderMacAt, confirmed, op === ARP_REQUEST, now);
    else if (op === ARP_REPLY) stats.unsolicited++;
    if (op === ARP_REQUEST)
      this.send(ARP_REPLY, this.bytes, senderMacAt, senderIp, this.bytes, senderMacAt);
  }

  /**
   * Whether a host on our link may have `ip` (Linux's arp_process routes the sender back, and
   * drops martians): on our subnet, and neither its network nor its broadcast address, nor in
   * 0/8, 127/8 or 224/3. The gateway is always valid, even on a /32.
   */
  private validSender(ip: number): boolean {
    const iface = this.iface;
    if (ip === iface.gateway) return true;
    const first = ip >>> 24;
    if (first === 0 || first === 127 || first >= 224) return false;
    const mask = iface.mask;
    if (((ip ^ iface.address) & mask) !== 0) return false;
    if (iface.prefix >= 31) return true;
    const host = ip & ~mask;
    return host !== 0 && host !== ~mask;
  }

  private isOwnMac(at: number): boolean {
    const mac = this.iface.mac;
    for (let i = 0; i < 6; i++) if (this.bytes[at + i] !== mac[i]) return false;
    return true;
  }

  /**
   * Records a neighbor's address, confirmed (REACHABLE) or only heard (STALE), and sends whatever
   * waited for it. Heard again unchanged, a valid entry keeps its state (Linux's neigh_update).
   * Unless `override` (a request aimed at us, a gratuitous announcement), a new link address
   * within ARP_LOCKTIME_MS of the entry's last change is ignored.
   */
  private learn(
    entry: number,
    macAt: number,
    confirmed: boolean,
    override: boolean,
    now: number,
  ): void {
    const cache = this.cache;
    if (
      !override &&
      cache.hasMac(entry) &&
      now - cache.updated[entry] < ARP_LOCKTIME_MS &&
      !cache.sameMac(entry, this.bytes, macAt)
    ) {
      this.stats.locked++;
      return;
    }
    let previous: number;
    if (confirmed) {
      // Linux randomizes reachable time over [0.5, 1.5) x base so entries do not expire in step.
      const reachable = (ARP_REACHABLE_MS >> 1) + this.iface.random.below(ARP_REACHABLE_MS);
      previous = cache.confirm(entry, this.bytes, macAt, now, reachable);
    } else if (
      cache.state[entry] === NEIGHBOR_INCOMPLETE ||
      !cache.sameMac(entry, this.bytes, macAt)
    )
      previous = cache.stale(entry, this.bytes, macAt, now);
    else return;
    if (previous !== NEIGHBOR_INCOMPLETE || cache.waiting[entry].length === 0) return;
    // Sending on an unconfirmed address is a use of a stale entry, as any other.
    if (cache.state[entry] === NEIGHBOR_STALE) this.delayProbe(entry, now);
    const ethernet = this.iface.ethernet;
    for (let h = cache.dequeue(this.pool, entry); h >= 0; h = cache.dequeue(this.pool, entry))
      ethernet.sendTo(h, entry);
  }

  /** Counts an ARP packet at `at` as it leaves. */
  sent(at: number): void {
    const arp = this.arpOut.wrap(this.bytes, at);
    if (arp.operation === ARP_REPLY) this.stats.repliesOut++;
    else if (arp.targetProtocolAddress === arp.senderProtocolAddress) this.stats.announcementsOut++;
    else this.stats.requestsOut++;
  }

  /** Runs the neighbor cache's timers and the announcements that are due. */
  timers(now: number): void {
    if (due(this.announceAt, now)) this.announce(now);
    const cache = this.cache;
    if (!due(cache.dueAt, now)) return;
    for (let i = 0; i < cache.capacity; i++) {
      if (cache.deadline[i] > now) continue;
      const state = cache.state[i];
      if (state === NEIGHBOR_REACHABLE) {
        cache.state[i] = NEIGHBOR_STALE;
        cache.deadline[i] = Infinity;
      } else if (state === NEIGHBOR_DELAY) {
        this.startProbe(i, now);
      } else if (state === NEIGHBOR_INCOMPLETE || state === NEIGHBOR_PROBE) {
        if (cache.solicits[i] >= ARP_SOLICITS) this.fail(i);
        else this.solicit(i, now);
      }
    }
    cache.rescan();
  }

  /**
   * Resolution gave up: every frame that waited is reported to its protocol as a host
   * unreachable (Linux's arp_error_report), then dropped.
   */
  private fail(entry: number): void {
    const cache = this.cache;
    const pool = this.pool;
    const ip = this.iface.ip;
    this.stats.failures++;
    for (let h = cache.dequeue(pool, entry); h >= 0; h = cache.dequeue(pool, entry)) {
      this.stats.unresolvedDrops++;
      ip.unreachable(h);
      pool.free(h);
    }
    cache.release(pool, entry);
  }

  /**
   * A stale entry was used: RFC 4861 §7.3.3 and Linux wait DELAY_FIRST_PROBE_TIME for a
   * confirmation before probing, since traffic that goes both ways usually brings one.
   */
  delayProbe(entry: number, now: number): void {
    const cache = this.cache;
    cache.state[entry] = NEIGHBOR_DELAY;
    cache.setDeadline(entry, now + ARP_DELAY_MS);
  }

  private startProbe(entry: number, now: number): void {
    const cache = this.cache;
    cache.state[entry] = NEIGHBOR_PROBE;
    cache.solicits[entry] = 0;
    this.solicit(entry, now);
  }

  /** One request for an entry: broadcast while resolving, unicast while probing. */
  solicit(entry: number, now: number): void {
    const cache = this.cache;
    cache.solicits[entry]++;
    cache.setDeadline(entry, now + ARP_RETRANSMIT_MS);
    if (cache.state[entry] === NEIGHBOR_PROBE)
      this.send(ARP_REQUEST, cache.mac, entry * 6, cache.address[entry], null, 0);
    else this.send(ARP_REQUEST, null, 0, cache.address[entry], null, 0);
  }

  private announce(now: number): void {
    const iface = this.iface;
    if (iface.address === 0 || !iface.device.linkUp) {
      this.announceAt = OFF;
      return;
    }
    // RFC 5227 §2.3: an ARP request with our address as both sender and target.
    this.send(ARP_REQUEST, null, 0, iface.address, null, 0);
    this.announcements++;
    this.announceAt = this.announcements < ANNOUNCE_COUNT ? now + ANNOUNCE_INTERVAL_MS : OFF;
  }

  /**
   * Sends an ARP packet from us. `to`: the frame's destination MAC (null: broadcast);
   * `targetMac`: the packet's target hardware address (null: zeros, as in a request).
   */
  private send(
    op: number,
    to: Uint8Array | null,
    toAt: number,
    targetIp: number,
    targetMac: Uint8Array | null,
    targetMacAt: number,
  ): void {
    const iface = this.iface;
    const pool = this.pool;
    const handle = pool.alloc();
    if (handle < 0) {
      iface.ipStats.outNoBuffer++;
      return;
    }
    const at = pool.offsetOf(handle);
    const ethernet = iface.ethernet;
    if (to === null) ethernet.writeHeader(at, this.broadcastMac, 0, ETHERTYPE_ARP);
    else ethernet.writeHeader(at, to, toAt, ETHERTYPE_ARP);
    this.arpOut
      .wrap(this.bytes, at + ETHERNET_HEADER_LENGTH)
      .write(op, iface.mac, iface.address, targetMac, targetMacAt, targetIp);
    pool.length[handle] = ETHERNET_HEADER_LENGTH + ARP_LENGTH;
    ethernet.queue(handle);
  }
}
