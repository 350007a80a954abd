// Every number that sizes the stack, in one place, like lwIP's lwipopts.h. The stack allocates all
// of it when it is created and never again; running out at run time is an ordinary, counted
// condition (ENOBUFS, a dropped frame), never an exception.
//
// Three profiles give every option a value; options given one by one override the profile's:
// - "small": a tiny board (about 32 KB of arena): a few buffers, 4 UDP sockets, 1 TCP connection;
// - "default": an ESP32 with Moddable's default heaps (78,848 B of chunks), leaving about half of
//   the chunk heap to the application;
// - "simulator": a desktop, with large pools and buffers for throughput.

import { Memory } from "./storage/memory.js";
import { poolStride } from "./storage/pool.js";

/** The named sets of sizes options start from: see PROFILES. */
export type Profile = "small" | "default" | "simulator";

/** Options of a Stack: every size it allocates at construction, and its timers. Each absent one takes its profile's value. */
export interface StackOptions {
  /** The sizes to start from ("default" when absent); the options below override its values. */
  profile?: Profile;
  /**
   * Seed for ephemeral ports, IP identifications and ARP jitter, a 32-bit integer. When absent it
   * comes from `crypto.getRandomValues` where the engine has it (Node), else the profile's fixed
   * value: on a device, which has no such source under XS, give one from hardware entropy (the
   * ESP32's RNG, a floating ADC), or every boot picks the same ports. Give one in tests to make
   * runs repeatable.
   */
  seed?: number;
  /** Packet buffers in the pool. Each holds one Ethernet frame. */
  buffers?: number;
  /** Bytes per packet buffer: a full 1514-byte frame, rounded up. */
  bufferSize?: number;
  /** Neighbor (ARP) cache entries. */
  neighbors?: number;
  /**
   * Frames that may wait for address resolution, over all neighbors; at most buffers - 1, since
   * the reply that releases them needs a buffer to be received into.
   */
  arpQueue?: number;
  /** Datagrams that may be in reassembly at once. */
  reassemblySlots?: number;
  /** Largest IP payload reassembled, in bytes; larger datagrams are dropped. */
  reassemblySize?: number;
  /** Fragments one datagram may arrive in before it is dropped as an attack. */
  reassemblyFragments?: number;
  /** Reassembly slots one source address may hold at once; 0: no limit. */
  reassemblyPerSource?: number;
  /**
   * Bytes of the region socket buffers come from (a Spans allocator reserved at start-up): each
   * socket takes its receive queue there when it opens and gives it back when it closes, and
   * SO_RCVBUF resizes it. 0: every socket's default buffer plus socketBufferHeadroom.
   */
  socketBufferSpace?: number;
  /** Bytes of the region beyond every socket's default buffer, for sockets that grow them. */
  socketBufferHeadroom?: number;
  /**
   * Spans that may be live at once in the region; 0: one per UDP and ping socket, two per TCP
   * socket, and one for a resize in progress.
   */
  socketBufferSpans?: number;
  /**
   * The least SO_RCVBUF a socket can be set to (Linux's SOCK_MIN_RCVBUF); SO_SNDBUF's least is
   * twice this, as Linux's SOCK_MIN_SNDBUF.
   */
  socketBufferMin?: number;
  /** The most SO_RCVBUF a socket may ask for, before Linux's doubling (net.core.rmem_max). */
  receiveBufferMax?: number;
  /** The most SO_SNDBUF a socket may ask for, before Linux's doubling (net.core.wmem_max). */
  sendBufferMax?: number;
  /** UDP endpoints. */
  udpSockets?: number;
  /** Bytes of queued datagrams (plus 48 bytes of bookkeeping each) per UDP endpoint at first. */
  udpReceiveBuffer?: number;
  /**
   * SO_SNDBUF a UDP or ping endpoint starts with. Only recorded: a datagram goes straight into a
   * pool buffer, so it takes no arena.
   */
  udpSendBuffer?: number;
  /** Ping (ICMP echo) endpoints, and the bytes each may queue at first. */
  pingSockets?: number;
  /** Bytes of echo replies each ping endpoint may queue at first. */
  pingReceiveBuffer?: number;
  /** Frames handled per poll before yielding to timers and the application. */
  receiveBudget?: number;
  /**
   * Bytes received per poll before yielding, whichever budget ends first: over a slow bus (32 full
   * frames over an 8 MHz SPI bus take 50 ms) frames alone would starve timers.
   */
  receiveBudgetBytes?: number;
  /**
   * Outgoing frames the stack may hold at once (waiting for a poll, for address resolution, or
   * for a busy device); a send that would exceed it gets EAGAIN and later EVENT_OUT. At most
   * buffers - 1, so a buffer is always left to receive into.
   */
  sendQueue?: number;
  /** ICMP errors per second over all destinations, and the burst allowed (Linux: 1000 and 50). */
  icmpRate?: number;
  /** ICMP errors that may go out in a burst before icmpRate applies. */
  icmpBurst?: number;
  /** Default TTL of datagrams sent (Linux: 64). */
  ttl?: number;
  // -- TCP (RFC 9293): every connection's state is made at start-up, its rings come from the
  // socket buffer region.
  /** TCP connections (listeners, connections and those waiting to be accepted). */
  tcpSockets?: number;
  /** Bytes of each connection's send ring (unacknowledged and unsent data). */
  tcpSendBuffer?: number;
  /** Bytes of each connection's receive ring (in-order and out-of-order data: the window). */
  tcpReceiveBuffer?: number;
  /** Connections in TIME-WAIT kept without rings; the oldest goes when full. */
  tcpTimeWait?: number;
  /** Half-open connections (SYN-RECEIVED) all listeners may hold at once. */
  tcpSynQueue?: number;
  /** Holes the out-of-order queue may track per connection. */
  tcpOutOfOrderRanges?: number;
  /** Maximum segment lifetime in ms; TIME-WAIT lasts 2 MSL (Linux: 60 s in all). */
  msl?: number;
  /** Longest delay of an ACK for one segment, ms (Linux: 40 to 200). */
  tcpDelayedAck?: number;
  /** Retransmission timeout floor and initial value, ms (Linux: 200 and 1000). */
  tcpMinRto?: number;
  /** Retransmission timeout before the first round-trip measurement, ms. */
  tcpInitialRto?: number;
  /** Retransmissions of a SYN, and of data, before giving up (Linux: 6 and 15). */
  tcpSynRetries?: number;
  /** Retransmissions of data before the connection is given up. */
  tcpRetries?: number;
  /** Arena to carve from; the stack makes its own of the exact size when none is given. */
  memory?: Memory;
}

/** Every option with a value: what a profile holds. */
export type Sizes = Readonly<Required<Omit<StackOptions, "memory" | "profile">>>;

/** TCP's timers and limits, the same in every profile (Linux's values where it has them). */
const TCP_TIMING = Object.freeze({
  tcpOutOfOrderRanges: 4,
  msl: 30_000,
  tcpDelayedAck: 40,
  tcpMinRto: 200,
  tcpInitialRto: 1000,
  tcpSynRetries: 6,
  tcpRetries: 15,
});

const SMALL: Sizes = Object.freeze({
  seed: 1,
  buffers: 8,
  bufferSize: 1536,
  neighbors: 4,
  arpQueue: 4,
  // Two slots, however small: with one, a single junk fragment per real one starves reassembly.
  reassemblySlots: 2,
  reassemblySize: 2048,
  reassemblyFragments: 16,
  reassemblyPerSource: 0,
  socketBufferSpace: 0,
  socketBufferHeadroom: 512,
  socketBufferSpans: 0,
  socketBufferMin: 512,
  receiveBufferMax: 4096,
  sendBufferMax: 4096,
  udpSockets: 4,
  udpReceiveBuffer: 2048,
  udpSendBuffer: 2048,
  pingSockets: 1,
  pingReceiveBuffer: 512,
  tcpSockets: 1,
  tcpSendBuffer: 2920,
  tcpReceiveBuffer: 2920,
  tcpTimeWait: 4,
  tcpSynQueue: 2,
  receiveBudget: 8,
  receiveBudgetBytes: 8 * 1024,
  sendQueue: 4,
  icmpRate: 100,
  icmpBurst: 10,
  ttl: 64,
  ...TCP_TIMING,
});

const DEFAULT: Sizes = Object.freeze({
  seed: 1,
  buffers: 10,
  bufferSize: 1536,
  neighbors: 8,
  arpQueue: 8,
  // Two slots: the eviction policy needs a second one to keep a progressing datagram under a flood.
  // 4 KB each holds the largest EDNS0 answer a resolver asks for, with its headers.
  reassemblySlots: 2,
  reassemblySize: 4096 + 64,
  reassemblyFragments: 64,
  reassemblyPerSource: 0,
  socketBufferSpace: 0,
  socketBufferHeadroom: 1024,
  socketBufferSpans: 0,
  socketBufferMin: 512,
  receiveBufferMax: 16384,
  sendBufferMax: 16384,
  udpSockets: 4,
  udpReceiveBuffer: 2048,
  udpSendBuffer: 4096,
  pingSockets: 1,
  pingReceiveBuffer: 1024,
  tcpSockets: 2,
  tcpSendBuffer: 2048,
  tcpReceiveBuffer: 2920,
  tcpTimeWait: 8,
  tcpSynQueue: 4,
  receiveBudget: 16,
  receiveBudgetBytes: 16 * 1024,
  sendQueue: 8,
  icmpRate: 1000,
  icmpBurst: 50,
  ttl: 64,
  ...TCP_TIMING,
});

const SIMULATOR: Sizes = Object.freeze({
  seed: 1,
  buffers: 512,
  bufferSize: 1536,
  neighbors: 64,
  arpQueue: 128,
  reassemblySlots: 8,
  reassemblySize: 65535,
  reassemblyFragments: 64,
  reassemblyPerSource: 0,
  socketBufferSpace: 0,
  socketBufferHeadroom: 1024 * 1024,
  socketBufferSpans: 0,
  socketBufferMin: 2304,
  receiveBufferMax: 4 * 1024 * 1024,
  sendBufferMax: 4 * 1024 * 1024,
  udpSockets: 16,
  udpReceiveBuffer: 256 * 1024,
  udpSendBuffer: 212992,
  pingSockets: 4,
  pingReceiveBuffer: 64 * 1024,
  tcpSockets: 16,
  tcpSendBuffer: 64 * 1024,
  tcpReceiveBuffer: 128 * 1024,
  tcpTimeWait: 256,
  tcpSynQueue: 128,
  receiveBudget: 64,
  receiveBudgetBytes: 96 * 1024,
  sendQueue: 256,
  icmpRate: 1000,
  icmpBurst: 50,
  ttl: 64,
  ...TCP_TIMING,
});

/** Every option's value in each profile. */
export const PROFILES: Readonly<Record<Profile, Sizes>> = Object.freeze({
  small: SMALL,
  default: DEFAULT,
  simulator: SIMULATOR,
});

/** The documented defaults: the "default" profile. */
export const DEFAULTS: Sizes = DEFAULT;

/** Arena every span and buffer is aligned to (Memory.take's default). */
const ALIGN = 8;
/** Arena scratch taken by the layers, here so memoryBytes can count it: the memory test checks. */
const REASSEMBLY_HEADER_ROOM = 60; // iface/reassembly.ts HEADER_ROOM, per slot
const ICMP_SCRATCH = 576; // iface/icmp.ts, one per interface
// A UDP, an ICMP and a TCP header, and a record header for each table.
const TRANSPORT_SCRATCH = 8 + 8 + 20 + 48 + 48 + 48;
/** Bytes of a datagram queue's record header (datagram-queue.ts RECORD_HEADER). */
const RECORD_BYTES = 48;

function aligned(n: number): number {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}

/** An integer option within [min, max], or a RangeError naming it, its value and the range. */
function pick(options: StackOptions, base: Sizes, name: keyof Sizes, min: number, max: number) {
  const value = options[name] ?? base[name];
  if (!(Number.isInteger(value) && value >= min && value <= max))
    throw new RangeError(`${name} ${value}: must be ${min}..${max}`);
  return value;
}

const MAX_SOCKET_BUFFER = 16 * 1024 * 1024;

/** The engine's Web Crypto, where it has one (Node, browsers); XS on a device has none. */
interface EngineCrypto {
  getRandomValues(array: Uint32Array): Uint32Array;
}

/** A seed from the engine's random source, or `fallback` when it has none. */
function engineSeed(fallback: number): number {
  const crypto = (globalThis as { crypto?: EngineCrypto }).crypto;
  if (crypto === undefined || typeof crypto.getRandomValues !== "function") return fallback;
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** The options with every default filled in, checked. */
export class StackConfig {
  /** The profile the values start from. */
  readonly profile: Profile;
  /** `seed` as given, or its profile's value; checked against its range. */
  readonly seed: number;
  /** `buffers` as given, or its profile's value; checked against its range. */
  readonly buffers: number;
  /** `bufferSize` as given, or its profile's value; checked against its range. */
  readonly bufferSize: number;
  /** `neighbors` as given, or its profile's value; checked against its range. */
  readonly neighbors: number;
  /** `arpQueue` as given, or its profile's value; checked against its range. */
  readonly arpQueue: number;
  /** `reassemblySlots` as given, or its profile's value; checked against its range. */
  readonly reassemblySlots: number;
  /** `reassemblySize` as given, or its profile's value; checked against its range. */
  readonly reassemblySize: number;
  /** `reassemblyFragments` as given, or its profile's value; checked against its range. */
  readonly reassemblyFragments: number;
  /** `reassemblyPerSource` as given, or its profile's value; checked against its range. */
  readonly reassemblyPerSource: number;
  /** Bytes of the socket buffer region, computed when the option is 0. */
  readonly socketBufferSpace: number;
  /** `socketBufferHeadroom` as given, or its profile's value; checked against its range. */
  readonly socketBufferHeadroom: number;
  /** `socketBufferSpans` as given, or its profile's value; checked against its range. */
  readonly socketBufferSpans: number;
  /** `socketBufferMin` as given, or its profile's value; checked against its range. */
  readonly socketBufferMin: number;
  /** `receiveBufferMax` as given, or its profile's value; checked against its range. */
  readonly receiveBufferMax: number;
  /** `sendBufferMax` as given, or its profile's value; checked against its range. */
  readonly sendBufferMax: number;
  /** `udpSockets` as given, or its profile's value; checked against its range. */
  readonly udpSockets: number;
  /** `udpReceiveBuffer` as given, or its profile's value; checked against its range. */
  readonly udpReceiveBuffer: number;
  /** `udpSendBuffer` as given, or its profile's value; checked against its range. */
  readonly udpSendBuffer: number;
  /** `pingSockets` as given, or its profile's value; checked against its range. */
  readonly pingSockets: number;
  /** `pingReceiveBuffer` as given, or its profile's value; checked against its range. */
  readonly pingReceiveBuffer: number;
  /** `receiveBudget` as given, or its profile's value; checked against its range. */
  readonly receiveBudget: number;
  /** `receiveBudgetBytes` as given, or its profile's value; checked against its range. */
  readonly receiveBudgetBytes: number;
  /** `sendQueue` as given, or its profile's value; checked against its range. */
  readonly sendQueue: number;
  /** `icmpRate` as given, or its profile's value; checked against its range. */
  readonly icmpRate: number;
  /** `icmpBurst` as given, or its profile's value; checked against its range. */
  readonly icmpBurst: number;
  /** `ttl` as given, or its profile's value; checked against its range. */
  readonly ttl: number;
  /** `tcpSockets` as given, or its profile's value; checked against its range. */
  readonly tcpSockets: number;
  /** `tcpSendBuffer` as given, or its profile's value; checked against its range. */
  readonly tcpSendBuffer: number;
  /** `tcpReceiveBuffer` as given, or its profile's value; checked against its range. */
  readonly tcpReceiveBuffer: number;
  /** `tcpTimeWait` as given, or its profile's value; checked against its range. */
  readonly tcpTimeWait: number;
  /** `tcpSynQueue` as given, or its profile's value; checked against its range. */
  readonly tcpSynQueue: number;
  /** `tcpOutOfOrderRanges` as given, or its profile's value; checked against its range. */
  readonly tcpOutOfOrderRanges: number;
  /** `msl` as given, or its profile's value; checked against its range. */
  readonly msl: number;
  /** `tcpDelayedAck` as given, or its profile's value; checked against its range. */
  readonly tcpDelayedAck: number;
  /** `tcpMinRto` as given, or its profile's value; checked against its range. */
  readonly tcpMinRto: number;
  /** `tcpInitialRto` as given, or its profile's value; checked against its range. */
  readonly tcpInitialRto: number;
  /** `tcpSynRetries` as given, or its profile's value; checked against its range. */
  readonly tcpSynRetries: number;
  /** `tcpRetries` as given, or its profile's value; checked against its range. */
  readonly tcpRetries: number;

  constructor(options: StackOptions) {
    const profile = options.profile ?? "default";
    if (profile !== "small" && profile !== "default" && profile !== "simulator")
      throw new RangeError(`profile ${String(profile)}: must be small, default or simulator`);
    this.profile = profile;
    const o = options;
    const b = PROFILES[profile];
    const seed = options.seed ?? engineSeed(b.seed);
    if (!(Number.isInteger(seed) && seed >= -0x80000000 && seed <= 0xffffffff))
      throw new RangeError(`seed ${seed}: must be an integer -2147483648..4294967295`);
    this.seed = seed;
    this.buffers = pick(o, b, "buffers", 2, 0x7fff);
    this.bufferSize = pick(o, b, "bufferSize", 1514, 65535);
    this.neighbors = pick(o, b, "neighbors", 1, 4096);
    const arpQueue = pick(o, b, "arpQueue", 0, 0xffff);
    this.arpQueue = arpQueue < this.buffers - 1 ? arpQueue : this.buffers - 1;
    this.reassemblySlots = pick(o, b, "reassemblySlots", 0, 1024);
    this.reassemblySize = pick(o, b, "reassemblySize", 576, 65535);
    this.reassemblyFragments = pick(o, b, "reassemblyFragments", 1, 65535);
    this.reassemblyPerSource = pick(o, b, "reassemblyPerSource", 0, 1024);
    this.socketBufferMin = pick(o, b, "socketBufferMin", 2 * RECORD_BYTES, 65536);
    const min = this.socketBufferMin;
    this.receiveBufferMax = pick(o, b, "receiveBufferMax", min, MAX_SOCKET_BUFFER);
    this.sendBufferMax = pick(o, b, "sendBufferMax", min, MAX_SOCKET_BUFFER);
    this.udpSockets = pick(o, b, "udpSockets", 0, 1024);
    this.udpReceiveBuffer = pick(o, b, "udpReceiveBuffer", 1, MAX_SOCKET_BUFFER);
    this.udpSendBuffer = pick(o, b, "udpSendBuffer", min, MAX_SOCKET_BUFFER);
    this.pingSockets = pick(o, b, "pingSockets", 0, 1024);
    this.pingReceiveBuffer = pick(o, b, "pingReceiveBuffer", 1, MAX_SOCKET_BUFFER);
    this.tcpSockets = pick(o, b, "tcpSockets", 0, 1024);
    this.tcpSendBuffer = pick(o, b, "tcpSendBuffer", min, MAX_SOCKET_BUFFER);
    this.tcpReceiveBuffer = pick(o, b, "tcpReceiveBuffer", min, MAX_SOCKET_BUFFER);
    this.tcpTimeWait = pick(o, b, "tcpTimeWait", 1, 0xffff);
    this.tcpSynQueue = pick(o, b, "tcpSynQueue", 1, 0xffff);
    this.socketBufferHeadroom = pick(o, b, "socketBufferHeadroom", 0, 0x7fffffff);
    const needed = this.socketBufferDefaults + aligned(this.socketBufferHeadroom);
    const space = pick(o, b, "socketBufferSpace", 0, 0x7fffffff);
    if (space !== 0 && space < this.socketBufferDefaults)
      throw new RangeError(
        `socketBufferSpace ${space}: must be 0 or ${this.socketBufferDefaults}..${0x7fffffff} (every socket's default buffer)`,
      );
    this.socketBufferSpace = space !== 0 ? space - (space % ALIGN) : needed;
    const spans = this.udpSockets + this.pingSockets + 2 * this.tcpSockets + 1;
    const maxSpans = pick(o, b, "socketBufferSpans", 0, 0xffff);
    if (maxSpans !== 0 && maxSpans < spans)
      throw new RangeError(`socketBufferSpans ${maxSpans}: must be 0 or ${spans}..${0xffff}`);
    this.socketBufferSpans = maxSpans !== 0 ? maxSpans : spans;
    this.receiveBudget = pick(o, b, "receiveBudget", 1, 0xffff);
    this.receiveBudgetBytes = pick(o, b, "receiveBudgetBytes", 1514, 0x7fffffff);
    const sendQueue = pick(o, b, "sendQueue", 1, 0xffff);
    this.sendQueue = sendQueue < this.buffers - 1 ? sendQueue : this.buffers - 1;
    this.icmpRate = pick(o, b, "icmpRate", 0, 1000000);
    this.icmpBurst = pick(o, b, "icmpBurst", 0, 1000000);
    this.ttl = pick(o, b, "ttl", 1, 255);
    this.tcpOutOfOrderRanges = pick(o, b, "tcpOutOfOrderRanges", 1, 64);
    this.msl = pick(o, b, "msl", 1, 0x7fffffff);
    this.tcpDelayedAck = pick(o, b, "tcpDelayedAck", 1, 500);
    this.tcpMinRto = pick(o, b, "tcpMinRto", 1, 0x7fffffff);
    this.tcpInitialRto = pick(o, b, "tcpInitialRto", 1, 0x7fffffff);
    this.tcpSynRetries = pick(o, b, "tcpSynRetries", 1, 255);
    this.tcpRetries = pick(o, b, "tcpRetries", 1, 255);
  }

  /** Region bytes every socket's default buffers take (each span rounded to the alignment). */
  get socketBufferDefaults(): number {
    return (
      this.udpSockets * aligned(this.udpReceiveBuffer) +
      this.pingSockets * aligned(this.pingReceiveBuffer) +
      this.tcpSockets * (aligned(this.tcpSendBuffer) + aligned(this.tcpReceiveBuffer))
    );
  }

  /** Arena bytes of the packet pool. */
  get poolBytes(): number {
    return aligned(this.buffers * poolStride(this.bufferSize));
  }

  /** Arena bytes of the reassembly slots. */
  get reassemblyBytes(): number {
    return this.reassemblySlots * (aligned(this.reassemblySize) + aligned(REASSEMBLY_HEADER_ROOM));
  }

  /** Arena bytes of the socket buffer region. */
  get socketBufferBytes(): number {
    return this.socketBufferSpace;
  }

  /** Arena bytes of scratch space: ICMP errors built, headers and records assembled. */
  get scratchBytes(): number {
    return aligned(ICMP_SCRATCH) + aligned(TRANSPORT_SCRATCH);
  }

  /**
   * Every byte of arena the stack takes, from an arena whose next free byte is 8-aligned (a fresh
   * Memory's is): pool, reassembly, socket buffer region and scratch.
   */
  get memoryBytes(): number {
    return this.poolBytes + this.reassemblyBytes + this.socketBufferBytes + this.scratchBytes;
  }
}
