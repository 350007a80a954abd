// ICMP on the interface (RFC 792, RFC 1122 §3.2.2): answering echo requests, handing echo replies
// to the ping sockets, passing errors about what we sent to the protocol that sent it, and sending
// errors of our own under Linux's rate limit.

import { copy } from "../storage/memory.js";
import { PacketPool } from "../storage/pool.js";
import { IcmpStats } from "../stats.js";
import { writeU16, writeU32 } from "../wire/address.js";
import { Checksum, checksumAdjust } from "../wire/checksum.js";
import { ETHERNET_HEADER_LENGTH } from "../wire/ethernet.js";
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_LENGTH,
  ICMP_PARAMETER_PROBLEM,
  ICMP_TIME_EXCEEDED,
  IcmpV4Packet,
} from "../wire/icmpv4.js";
import { IPV4_HEADER_LENGTH, Ipv4Packet, PROTOCOL_ICMP } from "../wire/ipv4.js";
import type { Interface } from "./interface.js";
import { NO_ROUTE } from "./ipv4.js";
import { DELIVERED, Ipv4Info, ProtocolHandler } from "./protocols.js";

/** Linux quotes as much of the offending datagram as keeps the error within 576 bytes. */
const ICMP_ERROR_MAX = 576;
/** Scratch in the arena for an ICMP header and an error's quoted body. */
export const ICMP_SCRATCH = ICMP_ERROR_MAX;

/** echoReply()'s answers. */
export const ECHO_QUEUED = 0;
export const ECHO_UNWANTED = 1;
export const ECHO_QUEUE_FULL = 2;

/** Where echo replies go: the ping sockets. */
export interface EchoReplyHandler {
  /** An echo reply (`bytes[at ..+ length)` is the ICMP message): ECHO_QUEUED or why not. */
  echoReply(info: Ipv4Info, bytes: Uint8Array, at: number, length: number): number;
}

export class IcmpLayer implements ProtocolHandler {
  /** The ping sockets, when the stack has them. */
  echoReplies: EchoReplyHandler | null = null;
  private readonly iface: Interface;
  private readonly pool: PacketPool;
  private readonly bytes: Uint8Array;
  private readonly summer: Checksum;
  private readonly stats: IcmpStats;
  private readonly scratchAt: number;
  private readonly icmp = new IcmpV4Packet();
  private readonly quoted = new Ipv4Packet();
  private readonly info: Ipv4Info;
  private readonly rate: number;
  private readonly burst: number;
  /** One number, fractional: in a plain field each new value would be a fresh heap number on V8. */
  private readonly tokens = new Float64Array(1);
  private refilled = 0;

  constructor(iface: Interface, scratchAt: number, rate: number, burst: number) {
    this.iface = iface;
    this.pool = iface.pool;
    this.bytes = iface.bytes;
    this.summer = iface.summer;
    this.stats = iface.icmpStats;
    this.scratchAt = scratchAt;
    this.info = new Ipv4Info(iface.bytes);
    this.rate = rate;
    this.burst = burst;
    this.tokens[0] = burst;
  }

  input(info: Ipv4Info, bytes: Uint8Array, at: number, length: number): number {
    const stats = this.stats;
    stats.in++;
    if (length < ICMP_HEADER_LENGTH) {
      stats.truncated++;
      return DELIVERED;
    }
    if (this.summer.sum(bytes, at, length, 0) !== 0xffff) {
      stats.badChecksum++;
      return DELIVERED;
    }
    const icmp = this.icmp.wrap(bytes, at);
    const type = icmp.type;
    // To a broadcast or multicast address only echo (ignored below), timestamp and address mask
    // requests and replies are taken: Linux's icmp_rcv drops the rest, errors above all.
    if (
      info.groupDestination &&
      type !== ICMP_ECHO_REQUEST &&
      type !== 13 &&
      type !== 14 &&
      type !== 17 &&
      type !== 18
    ) {
      stats.groupDropped++;
      return DELIVERED;
    }
    if (type === ICMP_ECHO_REQUEST) {
      stats.echoRequestsIn++;
      if (info.groupDestination) {
        stats.broadcastIgnored++;
        return DELIVERED;
      }
      this.echoReply(info, at, length);
      return DELIVERED;
    }
    if (type === ICMP_ECHO_REPLY) {
      const result =
        this.echoReplies !== null
          ? this.echoReplies.echoReply(info, bytes, at, length)
          : ECHO_UNWANTED;
      if (result === ECHO_QUEUED) stats.echoRepliesIn++;
      else if (result === ECHO_QUEUE_FULL) stats.echoRepliesQueueFull++;
      else stats.echoRepliesUnwanted++;
      return DELIVERED;
    }
    if (
      type === ICMP_DEST_UNREACHABLE ||
      type === ICMP_TIME_EXCEEDED ||
      type === ICMP_PARAMETER_PROBLEM
    ) {
      // The quote must hold an IP header and 8 bytes of what followed it.
      const quotedAt = at + ICMP_HEADER_LENGTH;
      const quotedLength = length - ICMP_HEADER_LENGTH;
      if (quotedLength < IPV4_HEADER_LENGTH + 8) {
        stats.truncated++;
        return DELIVERED;
      }
      const inner = this.quoted.wrap(bytes, quotedAt);
      if (
        inner.version !== 4 ||
        inner.headerLength < IPV4_HEADER_LENGTH ||
        inner.headerLength + 8 > quotedLength
      ) {
        stats.truncated++;
        return DELIVERED;
      }
      if (inner.source !== this.iface.address) {
        stats.errorsNotOurs++;
        return DELIVERED;
      }
      const handler = this.iface.ip.protocols.get(inner.protocol);
      if (handler === null) {
        stats.errorsNoHandler++;
        return DELIVERED;
      }
      stats.errorsIn++;
      handler.error(type, icmp.code, bytes, quotedAt, quotedLength);
      return DELIVERED;
    }
    stats.ignoredType++;
    return DELIVERED;
  }

  /** Errors about ICMP messages we sent: none of ours needs one (RFC 1122 §3.2.2 forbids them). */
  error(_type: number, _code: number, _bytes: Uint8Array, _at: number, _length: number): void {}

  private echoReply(info: Ipv4Info, at: number, length: number): void {
    const iface = this.iface;
    const ip = iface.ip;
    const nextHop = ip.route(info.source);
    if (nextHop === NO_ROUTE) {
      iface.ipStats.noRoute++;
      return;
    }
    const handle = iface.rxHandle;
    if (info.inFrame && info.headerLength === IPV4_HEADER_LENGTH && handle >= 0) {
      // Answer in the request's own buffer: flip the type, patch the checksum, new IP header.
      iface.rxHandle = -1;
      const icmp = this.icmp.wrap(this.bytes, at);
      icmp.type = ICMP_ECHO_REPLY;
      icmp.checksum = checksumAdjust(icmp.checksum, ICMP_ECHO_REQUEST << 8, ICMP_ECHO_REPLY << 8);
      this.pool.length[handle] = ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH + length;
      ip.writeHeader(
        handle,
        length,
        ip.nextId(),
        0,
        iface.ttl,
        0,
        PROTOCOL_ICMP,
        iface.address,
        info.source,
      );
      ip.output(handle, nextHop);
      return;
    }
    // Reassembled, or carrying IP options: send a fresh datagram (fragmented if need be).
    const scratch = this.scratchAt;
    copy(this.bytes, scratch, this.bytes, at, ICMP_HEADER_LENGTH);
    this.bytes[scratch] = ICMP_ECHO_REPLY;
    writeU16(this.bytes, scratch + 2, 0);
    ip.sendDatagram(
      PROTOCOL_ICMP,
      iface.address,
      info.source,
      iface.ttl,
      0,
      scratch,
      ICMP_HEADER_LENGTH,
      this.bytes,
      at + ICMP_HEADER_LENGTH,
      length - ICMP_HEADER_LENGTH,
      2,
      false,
    );
  }

  /**
   * Sends an ICMP error about the datagram described by `info` whose payload is at `at`, unless
   * RFC 1122 §3.2.2 forbids it or the rate limit says no.
   */
  sendError(
    type: number,
    code: number,
    word: number,
    info: Ipv4Info,
    at: number,
    length: number,
    now: number,
  ): void {
    const stats = this.stats;
    const iface = this.iface;
    if (info.groupDestination || info.linkGroup || info.source === 0) return;
    if (info.protocol === PROTOCOL_ICMP && length > 0) {
      const inner = this.bytes[at];
      if (inner !== ICMP_ECHO_REQUEST && inner !== ICMP_ECHO_REPLY && inner !== 13 && inner !== 14)
        return;
    }
    if (!this.allowed(now)) {
      stats.rateLimited++;
      return;
    }
    const ip = iface.ip;
    if (ip.route(info.source) === NO_ROUTE) {
      iface.ipStats.noRoute++;
      return;
    }
    // Body: the offending header, then as much of its payload as fits in 576 bytes.
    const header = this.scratchAt;
    const body = header + ICMP_HEADER_LENGTH;
    const room = ICMP_ERROR_MAX - IPV4_HEADER_LENGTH - ICMP_HEADER_LENGTH - info.headerLength;
    const quoted = length < room ? length : room;
    copy(this.bytes, body, info.headerBytes, info.headerAt, info.headerLength);
    copy(this.bytes, body + info.headerLength, this.bytes, at, quoted);
    this.bytes[header] = type;
    this.bytes[header + 1] = code;
    writeU16(this.bytes, header + 2, 0);
    writeU32(this.bytes, header + 4, word);
    ip.sendDatagram(
      PROTOCOL_ICMP,
      iface.address,
      info.source,
      iface.ttl,
      0,
      header,
      ICMP_HEADER_LENGTH,
      this.bytes,
      body,
      info.headerLength + quoted,
      2,
      false,
    );
  }

  /** Counts an ICMP message as it leaves: `type` is its first byte. */
  sent(type: number): void {
    const stats = this.stats;
    stats.out++;
    if (type === ICMP_ECHO_REPLY) stats.echoRepliesOut++;
    else if (type === ICMP_ECHO_REQUEST) stats.echoRequestsOut++;
    else if (type === ICMP_DEST_UNREACHABLE) stats.destUnreachableOut++;
    else if (type === ICMP_TIME_EXCEEDED) stats.timeExceededOut++;
  }

  /** Token bucket over all destinations, as Linux's icmp_msgs_per_sec / icmp_msgs_burst. */
  private allowed(now: number): boolean {
    const elapsed = now - this.refilled;
    if (elapsed > 0) {
      const tokens = this.tokens[0] + (elapsed * this.rate) / 1000;
      this.tokens[0] = tokens > this.burst ? this.burst : tokens;
      this.refilled = now;
    }
    if (this.tokens[0] < 1) return false;
    this.tokens[0] -= 1;
    return true;
  }

  /** Time exceeded in reassembly (code 1) about a reassembly slot that held the first fragment. */
  reassemblyTimedOut(slot: number, now: number): void {
    const iface = this.iface;
    const r = iface.reassembly;
    const info = this.info;
    const headerAt = r.headerAt[slot];
    const ip = this.quoted.wrap(this.bytes, headerAt);
    if (ip.destination !== iface.address) return;
    info.source = ip.source;
    info.destination = ip.destination;
    info.protocol = ip.protocol;
    info.linkGroup = false;
    info.groupDestination = false;
    info.headerBytes = this.bytes;
    info.headerAt = headerAt;
    info.headerLength = r.headerLength[slot];
    this.sendError(ICMP_TIME_EXCEEDED, 1, 0, info, r.dataAt[slot], 8, now);
  }
}
