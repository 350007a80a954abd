// WIZnet W5500 driver: socket 0 in MACRAW mode, the host stack owns IP. Written against ECMA-419
// `embedded:io/spi` (synchronous; CS stays asserted across calls until flush(true)) and, optionally,
// `embedded:io/digital` for INTn. On Node it runs against the chip simulator, which has the same
// shape.
//
// Every chip command is one CS window: a 3-byte header (address, control byte with OM = 00,
// variable-length data), then its data, then flush(true). No allocation per frame: SPI reads and
// writes take whole buffers, so frames move through one staging buffer in power-of-two chunks
// (views made once here) inside a single CS window, and are copied between it and the caller's
// array.

/// <reference path="../../node_modules/@moddable/typings/embedded_io/_common.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/spi.d.ts" />
import { NEVER } from "../../src/time.js";
import type SPI from "embedded:io/spi";
import {
  DEVICE_LINK,
  DEVICE_RECEIVE,
  DEVICE_TRANSMIT,
  ETHERNET_HEADER,
  TX_BUSY,
  TX_TAKEN,
  type NetDevice,
} from "../../src/device.js";
import { EIO, EMSGSIZE, ENETDOWN, ETIMEDOUT } from "../../src/errno.js";
import { copy } from "../../src/memops.js";
import {
  BSB_COMMON,
  BSB_S0_REG,
  BSB_S0_RX,
  BSB_S0_TX,
  BUFFER_SIZE,
  CR_CLOSE,
  CR_OPEN,
  CR_RECV,
  CR_SEND,
  CTRL_WRITE,
  IMR,
  IR_RECV,
  IR_SEND_OK,
  MAX_FRAME,
  MIN_FRAME,
  MR,
  MR_MACRAW,
  MR_MFEN,
  MR_MMB,
  MR_RST,
  PHY_LNK,
  PHYCFGR,
  RX_HEADER,
  SHAR,
  SIMR,
  Sn_CR,
  Sn_IMR,
  Sn_IR,
  Sn_MR,
  Sn_RX_RD,
  Sn_RX_RSR,
  Sn_RXBUF_SIZE,
  Sn_SR,
  Sn_TX_FSR,
  Sn_TX_WR,
  SR_CLOSED,
  SR_MACRAW,
  VERSION,
  VERSIONR,
} from "./registers.js";

/** What the driver calls on an ECMA-419 SPI instance (the simulator's port has the same shape). */
export type W5500Bus = Pick<SPI, "write" | "read" | "transfer" | "flush">;

/** What the driver calls on an ECMA-419 digital input for INTn (active low). */
export interface W5500IntPin {
  read(): number;
}

export interface W5500Options {
  spi: W5500Bus;
  /** The station address, 6 bytes. */
  mac: Uint8Array;
  /**
   * INTn as a digital input. With it, the driver services the chip while the pin reads low (call
   * onInterrupt() from the pin's onReadable); without it, it reads Sn_IR every `pollMs`.
   */
  interrupt?: W5500IntPin | null;
  /** Polling period without an interrupt pin, in ms (default 1). */
  pollMs?: number;
  /** How often PHYCFGR is read for the link state, in ms (default 500). */
  linkPollMs?: number;
  /** Whether nextDeadline() wakes for the link poll (default true; off for runs that must idle). */
  linkDeadline?: boolean;
  /** A frame whose SEND_OK has not come after this many ms is given up: the socket reopens (20). */
  txTimeoutMs?: number;
  /** Reset the PHY at begin() (the link then takes seconds to return). Default false. */
  phyReset?: boolean;
  /** Polls of MR / Sn_CR / Sn_SR before a command is declared stuck (default 10000). */
  maxPolls?: number;
}

/** Counters, all monotonic. */
export class W5500Stats {
  rxFrames = 0;
  rxBytes = 0;
  txFrames = 0;
  txBytes = 0;
  /** Records with an impossible length (after an overflow or a bus glitch): the socket reopened. */
  rxBadLength = 0;
  /** Frames to IPv4 multicast groups nobody joined, dropped here (the chip passes all or none). */
  rxMulticastDropped = 0;
  /** Socket reopens, for any reason. */
  reopens = 0;
  /** Frames whose SEND_OK never came (link down). */
  txTimeouts = 0;
  /** transmit() answered TX_BUSY: the previous frame was still on its way out. */
  txBusy = 0;
  /** Commands whose Sn_CR did not return to 0 within maxPolls. */
  stuckCommands = 0;
}

const MAX_GROUPS = 8;
/** The staging buffer: largest chunk 1024, so any frame is at most 11 chunk transfers. */
const CHUNK_BITS = 11;

export class W5500 implements NetDevice {
  readonly mac: Uint8Array;
  readonly mtu = 1500;
  linkUp = false;
  onEvent: ((events: number) => void) | null = null;
  readonly stats = new W5500Stats();

  protected readonly spi: W5500Bus;
  protected readonly pin: W5500IntPin | null;
  /** Command buffer: 3 header bytes and up to 8 data bytes, with one view per length used. */
  protected readonly cmd = new Uint8Array(11);
  protected readonly cmdViews: Uint8Array[] = [];
  protected readonly staging = new Uint8Array(1 << (CHUNK_BITS - 1));
  protected readonly chunks: Uint8Array[] = [];
  protected readonly header: Uint8Array;
  /** Shadows of the host-owned pointers, read back at OPEN. */
  protected txWr = 0;
  protected rxRd = 0;
  /** Bytes known received and not yet consumed (from the last stable RSR read). */
  protected rxKnown = 0;
  protected txInFlight = false;
  protected txStartedAt = 0;
  protected txWanted = false;
  protected irqPending = false;
  protected mode = MR_MACRAW | MR_MFEN | MR_MMB;
  protected readonly groups = new Uint8Array(MAX_GROUPS * 6);
  protected groupCount = 0;
  /** More groups than the table holds: every IPv4 multicast passes. */
  protected allMulticast = false;
  protected now = 0;
  protected lastLinkPoll = -Infinity;
  protected lastPoll = -Infinity;
  protected readonly pollMs: number;
  protected readonly linkPollMs: number;
  protected readonly linkDeadline: boolean;
  protected readonly txTimeoutMs: number;
  protected readonly phyReset: boolean;
  protected readonly maxPolls: number;

  constructor(options: W5500Options) {
    if (options.mac.length !== 6) throw new RangeError("w5500: a MAC address is 6 bytes");
    this.spi = options.spi;
    this.mac = Uint8Array.from(options.mac);
    this.pin = options.interrupt ?? null;
    this.pollMs = options.pollMs ?? 1;
    this.linkPollMs = options.linkPollMs ?? 500;
    this.linkDeadline = options.linkDeadline ?? true;
    this.txTimeoutMs = options.txTimeoutMs ?? 20;
    this.phyReset = options.phyReset ?? false;
    this.maxPolls = options.maxPolls ?? 10000;
    const buffer = this.cmd.buffer;
    for (let n = 0; n <= 8; n++) this.cmdViews.push(new Uint8Array(buffer, 0, 3 + n));
    this.header = this.cmdViews[0];
    for (let k = 0; k < CHUNK_BITS; k++)
      this.chunks.push(new Uint8Array(this.staging.buffer, 0, 1 << k));
  }

  /**
   * Resets the chip and opens socket 0 in MACRAW mode: 0, -EIO when the chip does not answer as a
   * W5500, or -ETIMEDOUT when it stays in reset.
   */
  begin(): number {
    this.writeReg(BSB_COMMON, MR, MR_RST);
    // MR.RST self-clears; writes before that are ignored.
    if (!this.pollUntil(BSB_COMMON, MR, MR_RST, 0)) return -ETIMEDOUT;
    if (!this.pollUntil(BSB_COMMON, VERSIONR, 0xff, VERSION)) return -EIO;
    this.writeRegs(BSB_COMMON, SHAR, this.mac, 0, 6);
    const v = this.cmdViews[6];
    this.readInto(BSB_COMMON, SHAR, 6);
    for (let i = 0; i < 6; i++) if (v[3 + i] !== this.mac[i]) return -EIO;
    this.writeReg(BSB_COMMON, IMR, 0);
    this.writeReg(BSB_COMMON, SIMR, 0);
    this.configureBuffers();
    if (this.phyReset) {
      this.writeReg(BSB_COMMON, PHYCFGR, 0x78); // all capable, auto-negotiation, reset asserted
      this.writeReg(BSB_COMMON, PHYCFGR, 0xf8);
    }
    if (!this.reopen()) return -EIO;
    this.writeReg(BSB_S0_REG, Sn_IMR, IR_RECV | IR_SEND_OK);
    this.writeReg(BSB_COMMON, SIMR, this.pin === null ? 0 : 1);
    this.linkUp = (this.readReg(BSB_COMMON, PHYCFGR) & PHY_LNK) !== 0;
    return 0;
  }

  /** Socket 0 gets all 16 KB of each buffer memory, the other seven none (while closed). */
  protected configureBuffers(): void {
    const v = this.cmdViews[2];
    for (let n = 0; n < 8; n++) {
      const size = n === 0 ? BUFFER_SIZE >> 10 : 0;
      this.setHeader(Sn_RXBUF_SIZE, (((n << 2) + 1) << 3) | CTRL_WRITE);
      v[3] = size;
      v[4] = size;
      this.spi.write(v);
      this.spi.flush(true);
    }
  }

  /** CLOSE, program Sn_MR, OPEN, and take the pointers the chip starts from. */
  protected reopen(): boolean {
    this.stats.reopens++;
    this.command(CR_CLOSE);
    if (!this.pollUntil(BSB_S0_REG, Sn_SR, 0xff, SR_CLOSED)) return false;
    // Sn_MR is latched at OPEN, so the filter changes only here.
    this.writeReg(BSB_S0_REG, Sn_MR, this.mode);
    this.command(CR_OPEN);
    if (!this.pollUntil(BSB_S0_REG, Sn_SR, 0xff, SR_MACRAW)) return false;
    this.txWr = this.readReg16(BSB_S0_REG, Sn_TX_WR);
    this.rxRd = this.readReg16(BSB_S0_REG, Sn_RX_RD);
    this.rxKnown = 0;
    const wasBusy = this.txInFlight;
    this.txInFlight = false;
    this.writeReg(BSB_S0_REG, Sn_IR, 0xff);
    if (wasBusy) this.txWanted = true;
    return true;
  }

  transmit(frame: Uint8Array, offset: number, length: number): number {
    if (!this.linkUp) return -ENETDOWN;
    if (length < ETHERNET_HEADER || length > MAX_FRAME) return -EMSGSIZE;
    if (this.txInFlight && !this.checkSent()) {
      this.stats.txBusy++;
      this.txWanted = true;
      return TX_BUSY;
    }
    // One frame at a time, so the whole buffer is free; read it anyway, as the chip asks.
    const pad = length < MIN_FRAME ? MIN_FRAME : length;
    if (this.readStable(Sn_TX_FSR) < pad) {
      this.txWanted = true;
      return TX_BUSY;
    }
    this.writeFrame(this.txWr, frame, offset, length, pad);
    this.txWr = (this.txWr + pad) & 0xffff;
    this.writeReg16(BSB_S0_REG, Sn_TX_WR, this.txWr);
    this.command(CR_SEND);
    this.txInFlight = true;
    this.txStartedAt = this.now;
    this.stats.txFrames++;
    this.stats.txBytes += length;
    return TX_TAKEN;
  }

  receive(frame: Uint8Array, offset: number, capacity: number): number {
    for (;;) {
      if (this.rxKnown < RX_HEADER + MIN_FRAME) {
        this.rxKnown = this.readStable(Sn_RX_RSR);
        if (this.rxKnown === 0) return 0;
      }
      const rd = this.rxRd;
      this.readInto(BSB_S0_RX, rd, 2);
      const v = this.cmdViews[2];
      const record = (v[3] << 8) | v[4];
      // W10/W12: the length counts its own two bytes; anything outside one frame means the ring
      // is out of step (overflow, glitch): reopening is the one reliable way back.
      if (record < RX_HEADER + 14 || record > RX_HEADER + MAX_FRAME || record > this.rxKnown) {
        this.stats.rxBadLength++;
        this.reopen();
        return 0;
      }
      const length = record - RX_HEADER;
      this.readFrame(
        (rd + RX_HEADER) & 0xffff,
        frame,
        offset,
        length < capacity ? length : capacity,
      );
      this.rxRd = (rd + record) & 0xffff;
      this.rxKnown -= record;
      this.release();
      if (!this.wanted(frame, offset)) {
        this.stats.rxMulticastDropped++;
        continue;
      }
      this.stats.rxFrames++;
      this.stats.rxBytes += length;
      return length;
    }
  }

  /** Hands the consumed space back: Sn_RX_RD, then RECV (writing the pointer alone frees nothing). */
  protected release(): void {
    this.writeReg16(BSB_S0_REG, Sn_RX_RD, this.rxRd);
    this.command(CR_RECV);
  }

  /** Called from the INTn pin's onReadable: asks for a poll, where the chip is serviced. */
  onInterrupt(): void {
    this.irqPending = true;
    if (this.onEvent !== null) this.onEvent(DEVICE_RECEIVE);
  }

  poll(now: number): void {
    this.now = now;
    if (now - this.lastLinkPoll >= this.linkPollMs) this.pollLink(now);
    const service =
      this.irqPending ||
      (this.pin !== null ? this.pin.read() === 0 : now - this.lastPoll >= this.pollMs) ||
      this.txInFlight;
    if (service) this.service(now);
  }

  nextDeadline(): number {
    let t = Infinity;
    if (this.irqPending) return this.now;
    if (this.txInFlight) t = this.txStartedAt + this.txTimeoutMs;
    if (this.pin === null && this.linkUp) {
      const p = this.lastPoll + this.pollMs;
      if (p < t) t = p;
    }
    if (this.linkDeadline) {
      const l = this.lastLinkPoll + this.linkPollMs;
      if (l < t) t = l;
    }
    return t < NEVER ? t : Infinity;
  }

  /**
   * IPv4 multicast: the chip can only block it all (MMB) or pass it all, so with groups joined it
   * passes all and receive() drops the groups nobody joined. Changing MMB reopens the socket
   * (Sn_MR is latched at OPEN), which loses frames waiting in the chip; joins are rare.
   */
  setMulticastFilter(macs: Uint8Array, count: number): void {
    const n = count < MAX_GROUPS ? count : MAX_GROUPS;
    for (let i = 0; i < n * 6; i++) this.groups[i] = macs[i];
    this.groupCount = n;
    this.allMulticast = count > MAX_GROUPS;
    const mode = count === 0 ? this.mode | MR_MMB : this.mode & ~MR_MMB;
    if (mode !== this.mode) {
      this.mode = mode;
      this.reopen();
    }
  }

  // --- servicing -----------------------------------------------------------------------------

  protected service(now: number): void {
    this.lastPoll = now;
    this.irqPending = false;
    const ir = this.readReg(BSB_S0_REG, Sn_IR);
    // Clear what was seen before draining, so frames arriving meanwhile raise RECV again.
    if ((ir & (IR_RECV | IR_SEND_OK)) !== 0)
      this.writeReg(BSB_S0_REG, Sn_IR, ir & (IR_RECV | IR_SEND_OK));
    let events = 0;
    if ((ir & IR_RECV) !== 0) events |= DEVICE_RECEIVE;
    if ((ir & IR_SEND_OK) !== 0 && this.txInFlight) this.txInFlight = false;
    if (this.txInFlight && now - this.txStartedAt >= this.txTimeoutMs) {
      // W17: with the link down SEND_OK never comes; start over from a fresh socket.
      this.stats.txTimeouts++;
      this.reopen();
      this.pollLink(now);
    }
    if (!this.txInFlight && this.txWanted) {
      this.txWanted = false;
      events |= DEVICE_TRANSMIT;
    }
    if (events !== 0 && this.onEvent !== null) this.onEvent(events);
  }

  /** Whether the frame in flight has gone: reads and clears SEND_OK. */
  protected checkSent(): boolean {
    const ir = this.readReg(BSB_S0_REG, Sn_IR);
    if ((ir & IR_SEND_OK) === 0) return false;
    this.writeReg(BSB_S0_REG, Sn_IR, IR_SEND_OK);
    this.txInFlight = false;
    return true;
  }

  /** PHYCFGR.LNK, cached in linkUp: the chip has no link interrupt. */
  protected pollLink(now: number): void {
    this.lastLinkPoll = now;
    const up = (this.readReg(BSB_COMMON, PHYCFGR) & PHY_LNK) !== 0;
    if (up === this.linkUp) return;
    this.linkUp = up;
    if (this.onEvent !== null) this.onEvent(DEVICE_LINK);
  }

  protected wanted(frame: Uint8Array, offset: number): boolean {
    if (frame[offset] !== 0x01 || frame[offset + 1] !== 0x00 || frame[offset + 2] !== 0x5e)
      return true;
    if (this.allMulticast) return true;
    const g = this.groups;
    for (let k = 0; k < this.groupCount; k++) {
      const at = k * 6;
      if (
        g[at + 3] === frame[offset + 3] &&
        g[at + 4] === frame[offset + 4] &&
        g[at + 5] === frame[offset + 5]
      )
        return true;
    }
    return false;
  }

  // --- bus access ----------------------------------------------------------------------------

  protected setHeader(address: number, control: number): void {
    const c = this.cmd;
    c[0] = address >> 8;
    c[1] = address & 0xff;
    c[2] = control;
  }

  /** Issues a socket command and waits for Sn_CR to read 0 again (the command was taken). */
  protected command(value: number): void {
    this.writeReg(BSB_S0_REG, Sn_CR, value);
    if (!this.pollUntil(BSB_S0_REG, Sn_CR, 0xff, 0)) this.stats.stuckCommands++;
  }

  protected pollUntil(block: number, address: number, mask: number, value: number): boolean {
    for (let i = 0; i < this.maxPolls; i++)
      if ((this.readReg(block, address) & mask) === value) return true;
    return false;
  }

  /** RSR and FSR change while their two bytes are read: read until two reads agree. */
  protected readStable(address: number): number {
    let last = this.readReg16(BSB_S0_REG, address);
    for (let i = 0; i < 8; i++) {
      const value = this.readReg16(BSB_S0_REG, address);
      if (value === last) return value;
      last = value;
    }
    return last;
  }

  protected readReg(block: number, address: number): number {
    this.readInto(block, address, 1);
    return this.cmd[3];
  }

  protected readReg16(block: number, address: number): number {
    this.readInto(block, address, 2);
    return (this.cmd[3] << 8) | this.cmd[4];
  }

  /** One read command of `n` bytes (n <= 8) into cmd[3..]. */
  protected readInto(block: number, address: number, n: number): void {
    this.setHeader(address, block << 3);
    const v = this.cmdViews[n];
    this.spi.transfer(v);
    this.spi.flush(true);
  }

  protected writeReg(block: number, address: number, value: number): void {
    this.setHeader(address, (block << 3) | CTRL_WRITE);
    this.cmd[3] = value;
    this.spi.write(this.cmdViews[1]);
    this.spi.flush(true);
  }

  protected writeReg16(block: number, address: number, value: number): void {
    this.setHeader(address, (block << 3) | CTRL_WRITE);
    this.cmd[3] = value >> 8;
    this.cmd[4] = value & 0xff;
    this.spi.write(this.cmdViews[2]);
    this.spi.flush(true);
  }

  protected writeRegs(
    block: number,
    address: number,
    data: Uint8Array,
    at: number,
    n: number,
  ): void {
    this.setHeader(address, (block << 3) | CTRL_WRITE);
    for (let i = 0; i < n; i++) this.cmd[3 + i] = data[at + i];
    this.spi.write(this.cmdViews[n]);
    this.spi.flush(true);
  }

  /**
   * Reads `length` bytes of the RX buffer at pointer `p` into frame[offset..]: one CS window, the
   * chip wrapping the burst at the buffer's end, in power-of-two chunks through the staging views.
   */
  protected readFrame(p: number, frame: Uint8Array, offset: number, length: number): void {
    this.setHeader(p, BSB_S0_RX << 3);
    this.spi.write(this.header);
    let at = offset;
    for (let k = CHUNK_BITS - 1; k >= 0; k--) {
      const size = 1 << k;
      while (length >= size) {
        this.spi.read(this.chunks[k]);
        copy(frame, at, this.staging, 0, size);
        at += size;
        length -= size;
      }
    }
    this.spi.flush(true);
  }

  /** Writes a frame (zero-padded to `padded`) at TX pointer `p`: one CS window, chunked. */
  protected writeFrame(
    p: number,
    frame: Uint8Array,
    offset: number,
    length: number,
    padded: number,
  ): void {
    this.setHeader(p, (BSB_S0_TX << 3) | CTRL_WRITE);
    this.spi.write(this.header);
    let at = offset;
    let left = padded;
    const s = this.staging;
    for (let k = CHUNK_BITS - 1; k >= 0; k--) {
      const size = 1 << k;
      while (left >= size) {
        const real = length > size ? size : length;
        if (real > 0) copy(s, 0, frame, at, real);
        if (real < size) s.fill(0, real, size);
        this.spi.write(this.chunks[k]);
        at += real;
        length -= real;
        left -= size;
      }
    }
    this.spi.flush(true);
  }
}
