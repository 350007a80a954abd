// Records every frame crossing a device, both directions, as a classic pcap capture that tcpdump and
// Wireshark read. The bytes go to a sink (a file on Node, a socket or flash elsewhere); each record
// header is written into one preallocated 16-byte buffer and the frame straight from the caller's
// bytes, so recording allocates nothing per frame.

import type { NetDevice } from "../src/device.js";
import { DeviceWrapper } from "./wrapper.js";

/** Where capture bytes go, in order. Must take the bytes before it returns. */
export interface PcapSink {
  /** Appends `bytes[offset ..+ length)` to the capture. */
  write(bytes: Uint8Array, offset: number, length: number): void;
}

/** Options of a PcapDevice. */
export interface PcapOptions {
  /** Milliseconds since the Unix epoch at time 0 of the clock given to poll(). Default 0. */
  epoch?: number;
  /** Longest part of a frame to record. Default 65535. */
  snaplen?: number;
}

const PCAP_MAGIC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;

/** Wraps a device and records every frame it sends or receives. */
export class PcapDevice extends DeviceWrapper {
  /** Where records go. */
  readonly sink: PcapSink;
  /** Frames recorded, and their bytes as recorded (after snaplen). */
  records = 0;
  /** Bytes written to the sink, header included. */
  recordedBytes = 0;

  private readonly epoch: number;
  private readonly snaplen: number;
  private readonly header = new Uint8Array(16);
  private readonly view: DataView;
  private now = 0;

  constructor(inner: NetDevice, sink: PcapSink, options: PcapOptions = {}) {
    super(inner);
    this.sink = sink;
    this.epoch = options.epoch ?? 0;
    this.snaplen = options.snaplen ?? 65535;
    if (!(this.snaplen > 0 && this.snaplen <= 0x40000)) throw new RangeError("pcap: bad snaplen");
    if (!(this.epoch >= 0 && this.epoch < 4294967296000)) throw new RangeError("pcap: bad epoch");
    this.view = new DataView(this.header.buffer);
    // The file header, little-endian as most hosts write it; readers detect the order from the magic.
    const file = new Uint8Array(24);
    const v = new DataView(file.buffer);
    v.setUint32(0, PCAP_MAGIC, true);
    v.setUint16(4, 2, true); // version 2.4
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true); // timestamps are UTC
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    sink.write(file, 0, 24);
  }

  /**
   * Records the frame when the wrapped device takes it; a busy or refused frame is not on the wire
   * (a busy one is offered again later and recorded then). The result passes through.
   */
  transmit(frame: Uint8Array, offset: number, length: number): number {
    const result = this.inner.transmit(frame, offset, length);
    if (result > 0) this.record(frame, offset, length, length);
    return result;
  }

  /** Records what the caller received; a frame cut short by its buffer keeps its true length. */
  receive(frame: Uint8Array, offset: number, capacity: number): number {
    const length = this.inner.receive(frame, offset, capacity);
    if (length > 0) this.record(frame, offset, length < capacity ? length : capacity, length);
    return length;
  }

  /** Polls the wrapped device if it has deadlines. */
  poll(now: number): void {
    this.now = now;
    this.inner.poll(now);
  }

  /** The wrapped device's next deadline. */
  nextDeadline(): number {
    return this.inner.nextDeadline();
  }

  private record(frame: Uint8Array, offset: number, have: number, length: number): void {
    const caplen = have < this.snaplen ? have : this.snaplen;
    const t = this.epoch + this.now;
    const seconds = Math.floor(t / 1000);
    let micros = Math.round((t - seconds * 1000) * 1000);
    if (micros > 999999) micros = 999999;
    const v = this.view;
    v.setUint32(0, seconds >>> 0, true);
    v.setUint32(4, micros, true);
    v.setUint32(8, caplen, true);
    v.setUint32(12, length, true);
    this.sink.write(this.header, 0, 16);
    this.sink.write(frame, offset, caplen);
    this.records++;
    this.recordedBytes += caplen;
  }
}
