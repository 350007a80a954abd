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
      1024
    );
  }
}
