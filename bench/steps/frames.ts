// One stack fed frames of one kind, for the per-kind allocation figures (frames-alloc.ts on V8, and
// under XS through xs-alloc.ts): the stack, the LinkPair and the application's buffers each have
// their own memory, as an application is written. The test side holds the pair's other end as a
// raw wire: it writes frames from a prebuilt set into the stack, drains whatever the stack sends
// back (answering its ARP requests for the peer, as a peer would), and the application reads its
// sockets from a waiter callback, as a Moddable application does.
//
// Portable (no Node modules): the XS benchmark bundles it. Everything is built in setup(); step()
// is the measured path and must allocate nothing of its own.

import { LinkPair, type PairEnd } from "../../hal/pair.js";
import { DEVICE_RECEIVE, TX_TAKEN } from "../../src/device.js";
import { Stack } from "../../src/stack.js";
import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import {
  EVENT_ERR,
  EVENT_IN,
  WaiterEntry,
  type EntryCallback,
} from "../../src/transport/waiter.js";
import { FullAddress } from "../../src/wire/address.js";
import {
  arp,
  BROADCAST_MAC,
  concat,
  ether,
  ETH_ARP,
  ETH_IPV4,
  icmp,
  inetChecksum,
  ip,
  ipv4,
  mac,
  pattern,
  udp,
} from "../../test/support/frames.js";

const STACK_MAC = mac("02:00:00:00:00:0a");
const PEER_MAC = mac("02:00:00:00:00:0b");
const OTHER_MAC = mac("02:00:00:00:00:0c");
const STACK_IP = ip("192.0.2.1");
const PEER_IP = ip("192.0.2.2");
const OTHER_IP = ip("192.0.2.3");
const FAR_IP = ip("192.0.2.77");
const SUBNET_BROADCAST = ip("192.0.2.255");
const ALL_HOSTS = ip("224.0.0.1");
/** The port the application reads; a connected socket on ERROR_PORT receives ICMP errors. */
const PORT = 7;
const ERROR_PORT = 5000;
const CLOSED_PORT = 9;

/** The frame kinds, each measured on its own; "mixed" interleaves them all. */
export const FRAME_KINDS = Object.freeze([
  "udp",
  "udp-closed-port",
  "udp-bad-checksum",
  "echo-64",
  "echo-1400",
  "echo-checksum-edge",
  "icmp-error-ours",
  "icmp-error-other",
  "arp-request",
  "arp-reply",
  "arp-other",
  "fragments",
  "fragments-incomplete",
  "ip-bad-checksum",
  "ip-bad-version",
  "truncated",
  "runt",
  "unknown-ethertype",
  "group-udp",
  "ttl-0",
] as const);

export type FrameKind = (typeof FRAME_KINDS)[number] | "mixed";

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function ipFrame(
  payload: Uint8Array,
  protocol: number,
  o: Partial<Parameters<typeof ipv4>[0]> = {},
  dstMac = STACK_MAC,
): Uint8Array {
  return ether(
    dstMac,
    PEER_MAC,
    ETH_IPV4,
    ipv4({ source: PEER_IP, destination: STACK_IP, protocol, payload, ...o }),
  );
}

function udpTo(
  port: number,
  size: number,
  o: { destination?: number; seed?: number; checksum?: number } = {},
): Uint8Array {
  return udp({
    source: PEER_IP,
    destination: o.destination ?? STACK_IP,
    sourcePort: 4000,
    destinationPort: port,
    payload: pattern(size, o.seed ?? 0),
    checksum: o.checksum,
  });
}

/** An ICMP echo request whose whole message is `size` bytes. */
function echo(size: number, sequence: number): Uint8Array {
  return icmp({ type: 8, rest: (0x4242 << 16) | sequence, payload: pattern(size - 8, sequence) });
}

/** Echo requests at the checksum's edges: a field of 0x0000, the same sent as 0xffff, and those
 * whose reply (type 8 -> 0, an incremental update) lands on 0x0000 or 0xffff. */
function echoEdges(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const wanted = [0x0000, 0xf7ff, 0x07ff, 0xf800, 0x0800];
  for (const target of wanted) {
    for (let sequence = 0; sequence < 0x10000; sequence++) {
      const m = echo(64, 1);
      put16(m, 6, sequence);
      put16(m, 2, 0);
      if (inetChecksum(m) !== target) continue;
      put16(m, 2, target);
      out.push(m);
      if (target === 0) {
        const negativeZero = m.slice();
        put16(negativeZero, 2, 0xffff);
        out.push(negativeZero);
      }
      break;
    }
  }
  return out.map((m) => ipFrame(m, 1));
}

/** Destination unreachable (port) quoting a UDP datagram from `source`:`sourcePort`. */
function portUnreachable(source: number, sourcePort: number, destinationPort: number): Uint8Array {
  const quotedUdp = udp({
    source,
    destination: PEER_IP,
    sourcePort,
    destinationPort,
    payload: pattern(32),
  });
  const quoted = ipv4({ source, destination: PEER_IP, protocol: 17, payload: quotedUdp });
  return ipFrame(icmp({ type: 3, code: 3, payload: quoted }), 1);
}

/** A datagram of `size` UDP bytes to PORT in fragments of `piece` bytes (a multiple of 8). */
function fragmented(id: number, size: number, piece: number, complete: boolean): Uint8Array[] {
  const datagram = udpTo(PORT, size - 8, { seed: id });
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < datagram.length; offset += piece) {
    const last = offset + piece >= datagram.length;
    if (last && !complete) break;
    out.push(
      ipFrame(datagram.slice(offset, offset + piece), 17, {
        id,
        fragment: (last ? 0 : 0x2000) | (offset >>> 3),
      }),
    );
  }
  return out;
}

function withByte(frame: Uint8Array, at: number, value: number): Uint8Array {
  const f = frame.slice();
  f[at] = value;
  return f;
}

/** The frames of one kind, sent in turn. */
export function framesOf(kind: FrameKind): Uint8Array[] {
  const valid = ipFrame(udpTo(PORT, 64), 17);
  switch (kind) {
    case "udp":
      return [ipFrame(udpTo(PORT, 64), 17), ipFrame(udpTo(PORT, 1000, { seed: 1 }), 17)];
    case "udp-closed-port":
      return [ipFrame(udpTo(CLOSED_PORT, 64), 17), ipFrame(udpTo(CLOSED_PORT, 1400), 17)];
    case "udp-bad-checksum":
      return [ipFrame(udpTo(PORT, 64, { checksum: 0x1234 }), 17)];
    case "echo-64":
      return [ipFrame(echo(64, 1), 1), ipFrame(echo(64, 2), 1)];
    case "echo-1400":
      return [ipFrame(echo(1400, 1), 1)];
    case "echo-checksum-edge":
      return echoEdges();
    case "icmp-error-ours":
      return [portUnreachable(STACK_IP, ERROR_PORT, 4001)];
    case "icmp-error-other":
      return [portUnreachable(OTHER_IP, ERROR_PORT, 4001)];
    case "arp-request":
      return [
        ether(
          BROADCAST_MAC,
          PEER_MAC,
          ETH_ARP,
          arp({ op: 1, senderMac: PEER_MAC, senderIp: PEER_IP, targetIp: STACK_IP }),
        ),
      ];
    case "arp-reply":
      return [peerArpReply()];
    case "arp-other":
      return [
        ether(
          BROADCAST_MAC,
          OTHER_MAC,
          ETH_ARP,
          arp({ op: 1, senderMac: OTHER_MAC, senderIp: OTHER_IP, targetIp: PEER_IP }),
        ),
        ether(
          BROADCAST_MAC,
          OTHER_MAC,
          ETH_ARP,
          arp({ op: 2, senderMac: OTHER_MAC, senderIp: OTHER_IP, targetIp: FAR_IP }),
        ),
      ];
    case "fragments": {
      const out: Uint8Array[] = [];
      // First, middle(s) and last, in order and out of order.
      for (let id = 0; id < 4; id++) out.push(...fragmented(0x100 + id, 1200, 400, true));
      const reversed = fragmented(0x200, 3000, 1000, true).reverse();
      out.push(...reversed);
      return out;
    }
    case "fragments-incomplete": {
      // Three datagrams that keep their slots, repeated (duplicates) until they time out (time
      // exceeded, rate limited), and a stream of first fragments that evict one another.
      const out: Uint8Array[] = [];
      for (let id = 0; id < 3; id++) out.push(...fragmented(0x300 + id, 1200, 400, false));
      for (let id = 0; id < 8; id++) out.push(fragmented(0x400 + id, 1200, 400, false)[0]);
      return out;
    }
    case "ip-bad-checksum":
      return [withByte(valid, 14 + 10, valid[14 + 10] ^ 0x55)];
    case "ip-bad-version":
      return [withByte(valid, 14, 0x65)];
    case "truncated":
      return [
        // Shorter than an IP header.
        valid.slice(0, 14 + 12),
        // A header length past the frame, and one below 20 bytes.
        withByte(valid.slice(0, 14 + 24), 14, 0x4f),
        withByte(valid, 14, 0x43),
        // A total length longer than the frame.
        ipFrame(udpTo(PORT, 64), 17, { totalLength: 400 }),
        // A UDP length longer than the datagram, and an ICMP message shorter than its header.
        ipFrame(udp({ ...udpFields(), length: 200 }), 17),
        ipFrame(Uint8Array.of(8, 0, 0xf7), 1),
      ];
    case "runt":
      return [new Uint8Array(0), valid.slice(0, 1), valid.slice(0, 13)];
    case "unknown-ethertype":
      return [
        ether(STACK_MAC, PEER_MAC, 0x86dd, pattern(60)),
        ether(STACK_MAC, PEER_MAC, 0x88cc, pattern(40)),
      ];
    case "group-udp":
      return [
        ipFrame(
          udpTo(PORT, 64, { destination: ALL_HOSTS }),
          17,
          { destination: ALL_HOSTS },
          mac("01:00:5e:00:00:01"),
        ),
        ipFrame(
          udpTo(PORT, 64, { destination: SUBNET_BROADCAST }),
          17,
          { destination: SUBNET_BROADCAST },
          BROADCAST_MAC,
        ),
        ipFrame(
          udpTo(CLOSED_PORT, 64, { destination: -1 }),
          17,
          { destination: -1 },
          BROADCAST_MAC,
        ),
        // Unicast IP in a broadcast frame: dropped.
        ipFrame(udpTo(PORT, 64), 17, {}, BROADCAST_MAC),
      ];
    case "ttl-0":
      return [
        ipFrame(udpTo(PORT, 64), 17, { ttl: 0 }),
        ipFrame(udpTo(CLOSED_PORT, 64), 17, { ttl: 0 }),
      ];
    case "mixed": {
      // Round robin over every kind, so each follows every other.
      const lists = FRAME_KINDS.map((k) => framesOf(k));
      const out: Uint8Array[] = [];
      const longest = Math.max(...lists.map((l) => l.length));
      for (let i = 0; i < longest; i++) for (const l of lists) out.push(l[i % l.length]);
      return out;
    }
  }
}

function udpFields() {
  return {
    source: PEER_IP,
    destination: STACK_IP,
    sourcePort: 4000,
    destinationPort: PORT,
    payload: pattern(64),
  };
}

function peerArpReply(): Uint8Array {
  return ether(
    STACK_MAC,
    PEER_MAC,
    ETH_ARP,
    arp({
      op: 2,
      senderMac: PEER_MAC,
      senderIp: PEER_IP,
      targetMac: STACK_MAC,
      targetIp: STACK_IP,
    }),
  );
}

/** The application: reads every datagram into its own buffer, and takes errors, when told. */
class Application implements EntryCallback {
  readonly bytes = new Uint8Array(2048);
  readonly from = new FullAddress();
  datagrams = 0;
  errors = 0;
  socket: UdpEndpoint | null = null;
  errorSocket: UdpEndpoint | null = null;

  callback(_entry: WaiterEntry, events: number): void {
    if ((events & EVENT_IN) !== 0) {
      const s = this.socket as UdpEndpoint;
      while (s.recvFrom(this.bytes, 0, this.bytes.length, this.from, 0) >= 0) this.datagrams++;
    }
    if ((events & EVENT_ERR) !== 0 && (this.errorSocket as UdpEndpoint).takeError() !== 0)
      this.errors++;
  }
}

export class FrameRig {
  readonly stack: Stack;
  readonly pair: LinkPair;
  readonly app = new Application();
  /** The prebuilt frames, back to back, with their offsets and lengths. */
  private readonly frames: Uint8Array;
  private readonly offsets: Int32Array;
  private readonly lengths: Int32Array;
  private readonly count: number;
  private readonly drained = new Uint8Array(1514);
  private readonly arpReply = peerArpReply();
  private readonly wire: PairEnd;
  private readonly end: PairEnd;
  /** Virtual time in whole milliseconds, as the Node driver gives it. */
  now = 0;
  /** Frames the stack sent back, and the ARP requests the peer answered. */
  sent = 0;
  answered = 0;

  constructor(kind: FrameKind) {
    const list = framesOf(kind);
    this.count = list.length;
    this.frames = concat(...list);
    this.offsets = new Int32Array(list.length);
    this.lengths = new Int32Array(list.length);
    for (let i = 0, at = 0; i < list.length; at += list[i].length, i++) {
      this.offsets[i] = at;
      this.lengths[i] = list[i].length;
    }
    this.pair = new LinkPair({ slots: 64 });
    this.wire = this.pair.b;
    this.end = this.pair.a;
    // A lower ICMP rate than Linux's 1000/s, so at one frame per millisecond the limiter both
    // passes and refuses errors.
    this.stack = new Stack({ seed: 7, icmpRate: 200, icmpBurst: 10, reassemblySlots: 4 });
    this.stack.attach(this.end, { address: STACK_IP, prefix: 24 });
    this.stack.iface!.joinGroup(ALL_HOSTS);
    const socket = this.stack.openUdp();
    const errorSocket = this.stack.openUdp();
    if (typeof socket === "number" || typeof errorSocket === "number")
      throw new Error("frames: no sockets");
    socket.bind(null, PORT);
    errorSocket.bind(null, ERROR_PORT);
    const peer = new FullAddress();
    peer.address.setV4(PEER_IP);
    peer.port = 4001;
    errorSocket.connect(peer);
    this.app.socket = socket;
    this.app.errorSocket = errorSocket;
    socket.eventRegister(new WaiterEntry(this.app), EVENT_IN);
    errorSocket.eventRegister(new WaiterEntry(this.app), EVENT_ERR);
    // Announcements, then the peer asks for us and confirms its own address, as a host that
    // talks to us would: the steady state starts here.
    for (let i = 0; i < 5; i++) {
      this.tick();
      this.now += 999;
    }
    const request = framesOf("arp-request")[0];
    this.push(request, 0, request.length);
    this.tick();
    this.push(this.arpReply, 0, this.arpReply.length);
    this.tick();
  }

  /** One frame in, one poll (more while the stack asks for them), everything sent drained. */
  step(i: number): void {
    const k = i % this.count;
    this.push(this.frames, this.offsets[k], this.lengths[k]);
    this.tick();
  }

  private push(frame: Uint8Array, offset: number, length: number): void {
    // Runts go straight into the stack's queue: the cable itself refuses them.
    if (length < 14 || this.wire.transmit(frame, offset, length) !== TX_TAKEN) {
      this.end.inbound.push(frame, offset, length);
      this.end.pendingEvents |= DEVICE_RECEIVE;
    }
  }

  private tick(): void {
    const stack = this.stack;
    const now = this.now;
    stack.poll(now);
    for (let k = 0; k < 8 && stack.nextDeadline() <= now; k++) stack.poll(now);
    this.drain();
    this.now = now + 1;
  }

  private drain(): void {
    const b = this.drained;
    const wire = this.wire;
    for (let n = wire.receive(b, 0, b.length); n > 0; n = wire.receive(b, 0, b.length)) {
      this.sent++;
      // An ARP request (broadcast, or a unicast probe) for the peer: the peer answers.
      if (
        b[12] === 0x08 &&
        b[13] === 0x06 &&
        b[21] === 1 &&
        b[38] === 192 &&
        b[39] === 0 &&
        b[40] === 2 &&
        b[41] === 2
      ) {
        this.answered++;
        wire.transmit(this.arpReply, 0, this.arpReply.length);
      }
    }
  }

  /** Pool buffers not back: 0 when nothing leaked. */
  leaked(): number {
    return this.stack.pool.count - this.stack.pool.available;
  }
}

let rig: FrameRig | null = null;

/** Builds the rig for `kind` (the XS benchmark calls it with the kind bound in its bundle). */
export function setup(kind: FrameKind = "mixed"): void {
  rig = new FrameRig(kind);
}

export function step(i: number): void {
  (rig as FrameRig).step(i);
}

export function current(): FrameRig {
  return rig as FrameRig;
}
