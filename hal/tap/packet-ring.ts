// A second host device for Node: an AF_PACKET socket with TPACKET_V2 rings on an interface (one
// end of a veth pair whose other end the kernel uses), mapped into this process by the TAP addon.
//
// Why: a TAP takes one syscall per frame each way. Here the kernel writes received frames into
// the receive ring and receive() takes them straight from the mapping, with no syscall at all;
// transmit() writes a frame into the transmit ring and marks it, and flush() hands the kernel
// every marked frame with one send(). Readiness comes from the same addon watch as a TAP's.
//
// The rings are the kernel's own layout (linux/if_packet.h): slots of SLOT bytes, each starting
// with a tpacket2_hdr whose status word the kernel and this device hand back and forth. The
// kernel side of the veth must have its offloads off (no TSO/GSO/GRO, no checksum offload), or
// it hands over 64 KB super-frames and frames whose checksum is not yet filled in.
import { TX_BUSY, TX_TAKEN, type NetDevice } from "../../src/device.js";
import { EAGAIN, EINVAL, EMSGSIZE, ENETDOWN, ENOBUFS } from "../../src/errno.js";
import { copy } from "../../src/memops.js";
import { loadTapAddon, spanInside, tapEvents, type TapAddon } from "./tap.js";

/** The ring functions of the TAP addon (hal/tap/native/tap.cc). */
export interface RingAddon extends TapAddon {
  ringOpen(
    name: string,
    nsPid: number,
    frameSize: number,
    rxFrames: number,
    txFrames: number,
  ): number;
  ringBuffer(fd: number): ArrayBuffer | number;
  ringSend(fd: number): number;
  ringClose(fd: number): number;
}

const SLOT = 2048;
/** Where a transmitted frame starts in its slot: TPACKET2_HDRLEN - sizeof(struct sockaddr_ll). */
const TX_DATA = 32;
// tpacket2_hdr: status u32 @0, len u32 @4, snaplen u32 @8, mac u16 @12.
const TP_STATUS_KERNEL = 0;
const TP_STATUS_USER = 1;
const TP_STATUS_AVAILABLE = 0;
const TP_STATUS_SEND_REQUEST = 1;
const TP_STATUS_WRONG_FORMAT = 4;

export interface PacketRingOptions {
  /** The interface to bind to, inside nsPid's namespace. */
  name: string;
  nsPid: number;
  mac?: Uint8Array;
  mtu?: number;
  /** Slots in each ring (rounded up to whole 64 KiB blocks); default 512 each way. */
  rxFrames?: number;
  txFrames?: number;
  /** Frames marked before transmit() sends them without waiting for flush(); default 64. */
  batch?: number;
}

function notifyReady(this: PacketRingDevice, flags: number): void {
  const listener = this.onEvent;
  if (listener === null) return;
  const events = tapEvents(flags);
  if (events !== 0) listener(events);
}

export function loadRingAddon(): RingAddon | string {
  const addon = loadTapAddon();
  if (typeof addon === "string") return addon;
  const ring = addon as Partial<RingAddon>;
  return typeof ring.ringOpen === "function"
    ? (addon as RingAddon)
    : "the addon has no packet rings (rebuild it)";
}

export class PacketRingDevice implements NetDevice {
  readonly mac: Uint8Array;
  readonly mtu: number;
  framesIn = 0;
  framesOut = 0;
  /** ringSend() calls, and frames the kernel refused (TP_STATUS_WRONG_FORMAT). */
  sendsOut = 0;
  errorsOut = 0;
  /** transmit() answered TX_BUSY: the next slot was still the kernel's. */
  busyOut = 0;
  lastError = 0;
  private readonly addon: RingAddon;
  private fd: number;
  private readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  private readonly rxFrames: number;
  private readonly txFrames: number;
  private readonly txBase: number;
  private readonly batch: number;
  private rxHead = 0;
  private txHead = 0;
  /** Slots marked since the last ringSend(). */
  private txMarked = 0;
  private listener: ((events: number) => void) | null = null;

  constructor(options: PacketRingOptions) {
    const addon = loadRingAddon();
    if (typeof addon === "string") throw new Error(`PacketRingDevice: ${addon}`);
    this.addon = addon;
    this.mac = options.mac ?? Uint8Array.of(0x02, 0x00, 0x5e, 0x00, 0x53, 0x02);
    this.mtu = options.mtu ?? 1500;
    if (this.mtu + 14 > SLOT - TX_DATA) throw new RangeError("PacketRingDevice: mtu too large");
    const perBlock = 65536 / SLOT;
    this.rxFrames = Math.ceil((options.rxFrames ?? 512) / perBlock) * perBlock;
    this.txFrames = Math.ceil((options.txFrames ?? 512) / perBlock) * perBlock;
    this.batch = options.batch ?? 64;
    const fd = addon.ringOpen(options.name, options.nsPid, SLOT, this.rxFrames, this.txFrames);
    if (fd < 0) throw new Error(`PacketRingDevice: ringOpen ${options.name}: errno ${-fd}`);
    const buffer = addon.ringBuffer(fd);
    if (typeof buffer === "number") {
      addon.ringClose(fd);
      throw new Error(`PacketRingDevice: ringBuffer: errno ${-buffer}`);
    }
    this.fd = fd;
    this.bytes = new Uint8Array(buffer);
    this.words = new Uint32Array(buffer);
    this.txBase = this.rxFrames * SLOT;
  }

  get linkUp(): boolean {
    return this.fd >= 0;
  }

  get onEvent(): ((events: number) => void) | null {
    return this.listener;
  }

  set onEvent(listener: ((events: number) => void) | null) {
    const wasWatching = this.listener !== null;
    this.listener = listener;
    if (this.fd < 0) return;
    if (listener !== null && !wasWatching) {
      const result = this.addon.watch(this.fd, notifyReady, this);
      if (result < 0) this.lastError = result;
    } else if (listener === null && wasWatching) this.addon.unwatch(this.fd);
  }

  /** The next frame from the receive ring, or 0 when the kernel has put none there. */
  receive(frame: Uint8Array, offset: number, capacity: number): number {
    if (this.fd < 0 || !spanInside(frame, offset, capacity)) return 0;
    const at = this.rxHead * SLOT;
    const w = at >> 2;
    const words = this.words;
    if ((words[w] & TP_STATUS_USER) === 0) return 0;
    const length = words[w + 1];
    const kept = words[w + 2];
    const start = at + (words[w + 3] & 0xffff);
    copy(frame, offset, this.bytes, start, kept < capacity ? kept : capacity);
    words[w] = TP_STATUS_KERNEL;
    this.rxHead = this.rxHead + 1 === this.rxFrames ? 0 : this.rxHead + 1;
    this.framesIn++;
    return length;
  }

  /** Writes the frame into the next transmit slot: TX_TAKEN, TX_BUSY when the ring is full, -errno. */
  transmit(frame: Uint8Array, offset: number, length: number): number {
    if (this.fd < 0) return -ENETDOWN;
    if (!spanInside(frame, offset, length)) return -EINVAL;
    if (length > SLOT - TX_DATA) return -EMSGSIZE;
    const at = this.txBase + this.txHead * SLOT;
    const w = at >> 2;
    const words = this.words;
    let status = words[w];
    if (status !== TP_STATUS_AVAILABLE && status !== TP_STATUS_WRONG_FORMAT) {
      // Marked frames not yet sent hold the ring: send them, then look again.
      this.flush();
      status = words[w];
      if (status !== TP_STATUS_AVAILABLE && status !== TP_STATUS_WRONG_FORMAT) {
        this.busyOut++;
        if (this.listener !== null) this.addon.watchWritable(this.fd);
        return TX_BUSY;
      }
    }
    if (status === TP_STATUS_WRONG_FORMAT) this.errorsOut++;
    copy(this.bytes, at + TX_DATA, frame, offset, length);
    words[w + 1] = length;
    words[w] = TP_STATUS_SEND_REQUEST;
    this.txHead = this.txHead + 1 === this.txFrames ? 0 : this.txHead + 1;
    this.framesOut++;
    if (++this.txMarked >= this.batch) this.flush();
    return TX_TAKEN;
  }

  /** Hands every marked frame to the kernel with one syscall. */
  flush(): void {
    if (this.txMarked === 0 || this.fd < 0) return;
    const sent = this.addon.ringSend(this.fd);
    this.sendsOut++;
    if (sent < 0) {
      this.lastError = sent;
      // The kernel could take none now: the frames stay marked, and nextDeadline() asks for a
      // poll that tries again.
      if (sent === -EAGAIN || sent === -ENOBUFS) return;
    }
    this.txMarked = 0;
  }

  poll(_now: number): void {
    this.flush();
  }

  /** Now while marked frames wait for a flush; the receive ring announces itself. */
  nextDeadline(): number {
    return this.txMarked > 0 ? 0 : Infinity;
  }

  /** A packet socket sees every frame on the link: nothing to filter. */
  setMulticastFilter(_macs: Uint8Array, _count: number): void {}

  close(): void {
    if (this.fd < 0) return;
    this.addon.ringClose(this.fd);
    this.fd = -1;
  }
}
