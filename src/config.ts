// Every number that sizes the stack, in one place, like lwIP's lwipopts.h. The stack allocates all
// of it when it is created and never again; running out at run time is an ordinary, counted
// condition (ENOBUFS, a dropped frame), never an exception.

import { Memory } from "./storage/memory.js";

export interface StackOptions {
  /** Seed for ephemeral ports, IP identifications and ARP jitter. Give real entropy on a device. */
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
  // -- Reassembly under attack, and socket buffers sized per socket at run time.
  /** Reassembly slots one source address may hold at once; 0: no limit. */
  reassemblyPerSource?: number;
  /**
   * Bytes reserved at start-up for socket buffers whose size each socket chooses at run time
   * (SO_RCVBUF, SO_SNDBUF), handed out and taken back by a Spans allocator; 0: none.
   */
  socketBufferSpace?: number;
  /** Spans that may be live at once in socketBufferSpace (two per socket: receive and send). */
  socketBufferSpans?: number;
  /** UDP endpoints. */
  udpSockets?: number;
  /** Bytes of queued datagrams (plus 40 bytes of bookkeeping each) per UDP endpoint. */
  udpReceiveBuffer?: number;
  /** Ping (ICMP echo) endpoints, and the bytes each may queue. */
  pingSockets?: number;
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
  icmpBurst?: number;
  /** Default TTL of datagrams sent (Linux: 64). */
  ttl?: number;
  // -- TCP (RFC 9293): every connection's rings and state are made at start-up.
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
  tcpInitialRto?: number;
  /** Retransmissions of a SYN, and of data, before giving up (Linux: 6 and 15). */
  tcpSynRetries?: number;
  tcpRetries?: number;
  /** Arena to carve from; the stack makes its own of the exact size when none is given. */
  memory?: Memory;
}

/** The documented defaults: sized for a microcontroller with a few tens of kilobytes to spare. */
export const DEFAULTS: Readonly<Required<Omit<StackOptions, "memory">>> = Object.freeze({
  seed: 1,
  buffers: 16,
  bufferSize: 1536,
  neighbors: 8,
  arpQueue: 8,
  reassemblySlots: 2,
  reassemblySize: 8192 + 64,
  reassemblyFragments: 64,
  reassemblyPerSource: 0,
  socketBufferSpace: 0,
  socketBufferSpans: 16,
  udpSockets: 8,
  udpReceiveBuffer: 4096,
  pingSockets: 2,
  pingReceiveBuffer: 1024,
  receiveBudget: 32,
  receiveBudgetBytes: 24 * 1024,
  sendQueue: 8,
  icmpRate: 1000,
  icmpBurst: 50,
  ttl: 64,
  tcpSockets: 4,
  tcpSendBuffer: 4096,
  tcpReceiveBuffer: 4096,
  tcpTimeWait: 16,
  tcpSynQueue: 8,
  tcpOutOfOrderRanges: 4,
  msl: 30_000,
  tcpDelayedAck: 40,
  tcpMinRto: 200,
  tcpInitialRto: 1000,
  tcpSynRetries: 6,
  tcpRetries: 15,
});

/** The options with every default filled in. */
export class StackConfig {
  readonly seed: number;
  readonly buffers: number;
  readonly bufferSize: number;
  readonly neighbors: number;
  readonly arpQueue: number;
  readonly reassemblySlots: number;
  readonly reassemblySize: number;
  readonly reassemblyFragments: number;
  readonly reassemblyPerSource: number;
  readonly socketBufferSpace: number;
  readonly socketBufferSpans: number;
  readonly udpSockets: number;
  readonly udpReceiveBuffer: number;
  readonly pingSockets: number;
  readonly pingReceiveBuffer: number;
  readonly receiveBudget: number;
  readonly receiveBudgetBytes: number;
  readonly sendQueue: number;
  readonly icmpRate: number;
  readonly icmpBurst: number;
  readonly ttl: number;
  readonly tcpSockets: number;
  readonly tcpSendBuffer: number;
  readonly tcpReceiveBuffer: number;
  readonly tcpTimeWait: number;
  readonly tcpSynQueue: number;
  readonly tcpOutOfOrderRanges: number;
  readonly msl: number;
  readonly tcpDelayedAck: number;
  readonly tcpMinRto: number;
  readonly tcpInitialRto: number;
  readonly tcpSynRetries: number;
  readonly tcpRetries: number;

  constructor(options: StackOptions) {
    this.seed = options.seed ?? DEFAULTS.seed;
    this.buffers = options.buffers ?? DEFAULTS.buffers;
    this.bufferSize = options.bufferSize ?? DEFAULTS.bufferSize;
    this.neighbors = options.neighbors ?? DEFAULTS.neighbors;
    const arpQueue = options.arpQueue ?? DEFAULTS.arpQueue;
    this.arpQueue = arpQueue < this.buffers - 1 ? arpQueue : this.buffers - 1;
    this.reassemblySlots = options.reassemblySlots ?? DEFAULTS.reassemblySlots;
    this.reassemblySize = options.reassemblySize ?? DEFAULTS.reassemblySize;
    this.reassemblyFragments = options.reassemblyFragments ?? DEFAULTS.reassemblyFragments;
    this.reassemblyPerSource = options.reassemblyPerSource ?? DEFAULTS.reassemblyPerSource;
    this.socketBufferSpace = options.socketBufferSpace ?? DEFAULTS.socketBufferSpace;
    this.socketBufferSpans = options.socketBufferSpans ?? DEFAULTS.socketBufferSpans;
    this.udpSockets = options.udpSockets ?? DEFAULTS.udpSockets;
    this.udpReceiveBuffer = options.udpReceiveBuffer ?? DEFAULTS.udpReceiveBuffer;
    this.pingSockets = options.pingSockets ?? DEFAULTS.pingSockets;
    this.pingReceiveBuffer = options.pingReceiveBuffer ?? DEFAULTS.pingReceiveBuffer;
    this.receiveBudget = options.receiveBudget ?? DEFAULTS.receiveBudget;
    this.receiveBudgetBytes = options.receiveBudgetBytes ?? DEFAULTS.receiveBudgetBytes;
    const sendQueue = options.sendQueue ?? DEFAULTS.sendQueue;
    this.sendQueue = sendQueue < this.buffers - 1 ? sendQueue : this.buffers - 1;
    this.icmpRate = options.icmpRate ?? DEFAULTS.icmpRate;
    this.icmpBurst = options.icmpBurst ?? DEFAULTS.icmpBurst;
    this.ttl = options.ttl ?? DEFAULTS.ttl;
    this.tcpSockets = options.tcpSockets ?? DEFAULTS.tcpSockets;
    this.tcpSendBuffer = options.tcpSendBuffer ?? DEFAULTS.tcpSendBuffer;
    this.tcpReceiveBuffer = options.tcpReceiveBuffer ?? DEFAULTS.tcpReceiveBuffer;
    this.tcpTimeWait = options.tcpTimeWait ?? DEFAULTS.tcpTimeWait;
    this.tcpSynQueue = options.tcpSynQueue ?? DEFAULTS.tcpSynQueue;
    this.tcpOutOfOrderRanges = options.tcpOutOfOrderRanges ?? DEFAULTS.tcpOutOfOrderRanges;
    this.msl = options.msl ?? DEFAULTS.msl;
    this.tcpDelayedAck = options.tcpDelayedAck ?? DEFAULTS.tcpDelayedAck;
    this.tcpMinRto = options.tcpMinRto ?? DEFAULTS.tcpMinRto;
    this.tcpInitialRto = options.tcpInitialRto ?? DEFAULTS.tcpInitialRto;
    this.tcpSynRetries = options.tcpSynRetries ?? DEFAULTS.tcpSynRetries;
    this.tcpRetries = options.tcpRetries ?? DEFAULTS.tcpRetries;
    if (!(this.tcpTimeWait >= 1)) throw new RangeError("tcpTimeWait must be at least 1");
    if (this.bufferSize < 1514) throw new RangeError("bufferSize must hold a 1514-byte frame");
    if (this.reassemblySize > 65535) throw new RangeError("reassemblySize is at most 65535");
  }

  /** Bytes of arena the stack needs, with room for alignment. */
  get memoryBytes(): number {
    return (
      this.buffers * this.bufferSize +
      this.reassemblySlots * (this.reassemblySize + 80) +
      this.udpSockets * (this.udpReceiveBuffer + 8) +
      this.pingSockets * (this.pingReceiveBuffer + 8) +
      (this.socketBufferSpace > 0 ? this.socketBufferSpace + 8 : 0) +
      this.tcpSockets * (this.tcpSendBuffer + this.tcpReceiveBuffer + 16) +
      1024
    );
  }
}
