// A strict register-level W5500 simulator behind the ECMA-419 SPI and digital-pin shapes. It sees
// only what a chip-select-framed SPI bus carries: each CS window is decoded byte by byte as address
// high, address low, control, then data at an auto-incrementing address; flush(true) raises CS.
// Socket 0 in MACRAW mode moves frames to and from any NetDevice (a LinkPair end, the TAP).
//
// Strictness: every fidelity check the chip notes list for the W5500 (W1..W18) is modelled, and a
// driver access the real chip would punish is recorded in `violations` (or thrown, with
// `throwOnViolation`). Time is chip time in microseconds: it follows an external clock and advances
// with every SPI byte (8 / hz) and CS window (`transactionUs`), so polling loops end after a
// realistic number of polls and frames take wire time to leave.

import {
  DEVICE_LINK,
  DEVICE_RECEIVE,
  DEVICE_TRANSMIT,
  TX_BUSY,
  type NetDevice,
  type Pollable,
} from "../../src/device.js";
import {
  BSB_COMMON,
  CR_CLOSE,
  CR_OPEN,
  CR_RECV,
  CR_SEND,
  CTRL_WRITE,
  IMR,
  INTLEVEL,
  IR,
  IR_RECV,
  IR_SEND_OK,
  MAX_FRAME,
  MIN_FRAME,
  MR,
  MR_BCASTB,
  MR_MACRAW,
  MR_MFEN,
  MR_MIP6B,
  MR_MMB,
  MR_RST,
  PHY_LNK,
  PHY_RST,
  PHYCFGR,
  RX_HEADER,
  SHAR,
  SIMR,
  SIR,
  Sn_CR,
  Sn_IMR,
  Sn_IR,
  Sn_MR,
  Sn_RX_RD,
  Sn_RX_RSR,
  Sn_RX_WR,
  Sn_RXBUF_SIZE,
  Sn_SR,
  Sn_TX_FSR,
  Sn_TX_RD,
  Sn_TX_WR,
  Sn_TXBUF_SIZE,
  SR_CLOSED,
  SR_MACRAW,
  VERSION,
  VERSIONR,
} from "./registers.js";

export interface W5500SimOptions {
  /** Where frames go to and come from. The simulator takes its onEvent. */
  wire: NetDevice;
  /** The outside clock in milliseconds (a virtual one in tests). Default: none, chip time only. */
  clock?: () => number;
  /** SPI clock in Hz (default 20 MHz). */
  hz?: number;
  /** Fixed cost of one CS window in microseconds: the host's call and select overhead (default 1). */
  transactionUs?: number;
  /** Ethernet line rate in Mbit/s (default 100). */
  linkMbps?: number;
  /** Seed for the command-busy reads (default 1). */
  seed?: number;
  /** Sn_CR reads back the command for 1 + (0..crBusyReads) reads (default 2). */
  crBusyReads?: number;
  /** Value OPEN gives the four buffer pointers (default 0; 0xfff0 makes them roll over early: W5). */
  pointerStart?: number;
  /** Let a waiting frame land between the two bytes of an Sn_RX_RSR read (W6). Default false. */
  tearRsr?: boolean;
  /** After a frame is dropped for lack of room, store the next one with a bad length (W12). */
  corruptAfterOverflow?: boolean;
  /** Time MR.RST takes to self-clear, in microseconds (default 1000). */
  resetUs?: number;
  /** Time the link takes to come back after a PHY reset, in milliseconds (default 1500). */
  autonegMs?: number;
  /** Set Sn_IR bits only where Sn_IMR allows (the datasheet's wording; default false). */
  imrGatesIr?: boolean;
  /** Throw on a violation instead of only recording it. */
  throwOnViolation?: boolean;
}

/** Counters, all monotonic. */
export class W5500SimStats {
  /** CS windows (transactions) and bytes clocked on the bus. */
  transactions = 0;
  bytes = 0;
  /** Frames stored in the RX buffer, and frames sent on the wire. */
  rxFrames = 0;
  txFrames = 0;
  /** Frames dropped: no room in the RX buffer (W12), refused by the MAC filter (W16), link down. */
  rxOverflows = 0;
  rxFiltered = 0;
  rxLinkDown = 0;
  /** SEND commands that could not finish: the link was down (W17). */
  txStalled = 0;
}

const BUSY_NONE = 0;

/** The INTn pin as an ECMA-419 digital input: level low while an enabled interrupt is pending. */
export class W5500SimPin {
  /** Called, with `this` set to the pin, on a falling edge, at the simulator's next poll. */
  onReadable: (() => void) | null = null;
  private readonly chip: W5500Simulator;

  constructor(chip: W5500Simulator) {
    this.chip = chip;
  }

  read(): 0 | 1 {
    return this.chip.intLevel();
  }

  write(_value: 0 | 1): void {
    this.chip.violation("INTn is an input");
  }

  close(): void {
    this.onReadable = null;
  }
}

type Buffer =
  ArrayBuffer | Uint8Array | Uint8ClampedArray | Int8Array | DataView | SharedArrayBuffer;

/** The chip's SPI port, shaped as an ECMA-419 SPI instance (synchronous, CS held until flush(true)). */
export class W5500SimSpi {
  private readonly chip: W5500Simulator;

  constructor(chip: W5500Simulator) {
    this.chip = chip;
  }

  write(buffer: Buffer): void {
    const bytes = asBytes(buffer);
    for (let i = 0; i < bytes.length; i++) this.chip.clock(bytes[i]);
  }

  read(byteLength: number): ArrayBuffer;
  read(buffer: Buffer): void;
  read(target: number | Buffer): ArrayBuffer | void {
    // MOSI idles high while reading.
    if (typeof target === "number") {
      const out = new Uint8Array(target);
      for (let i = 0; i < target; i++) out[i] = this.chip.clock(0xff);
      return out.buffer;
    }
    const bytes = asBytes(target);
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.chip.clock(0xff);
  }

  transfer(buffer: Buffer): void {
    const bytes = asBytes(buffer);
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.chip.clock(bytes[i]);
  }

  flush(deselect?: boolean): void {
    if (deselect === true) this.chip.deselect();
  }

  close(): void {}
}

function asBytes(buffer: Buffer): Uint8Array {
  if (buffer instanceof Uint8Array) return buffer;
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  throw new TypeError("w5500 simulator: pass a Uint8Array or an ArrayBuffer");
}

export class W5500Simulator implements Pollable {
  readonly spi: W5500SimSpi;
  readonly interrupt: W5500SimPin;
  readonly stats = new W5500SimStats();
  /** What the driver did that the chip would punish, in order. */
  readonly violations: string[] = [];
  /** Chip time in microseconds. */
  time = 0;
  /** Set by the platform: called when frames from the wire need a poll (to deliver INTn). */
  onWake: (() => void) | null = null;
  /** Registers as the driver sees them: common block, socket 0..7 blocks. */
  readonly common = new Uint8Array(0x40);
  readonly sockets = new Uint8Array(8 * 0x30);
  readonly txMemory = new Uint8Array(16384);
  readonly rxMemory = new Uint8Array(16384);

  private readonly wire: NetDevice;
  private readonly externalClock: (() => number) | null;
  private readonly byteUs: number;
  private readonly transactionUs: number;
  private readonly linkMbps: number;
  private readonly crBusyReads: number;
  private readonly pointerStart: number;
  private readonly tearRsr: boolean;
  private readonly corruptAfterOverflow: boolean;
  private readonly resetUs: number;
  private readonly autonegUs: number;
  private readonly imrGatesIr: boolean;
  private readonly throwOnViolation: boolean;
  private random: number;

  // The CS window being decoded.
  private position = 0;
  private address = 0;
  private control = 0;
  private inWindow = false;

  // Socket 0 state behind the registers.
  private open = false;
  private latchedMode = 0;
  private txSize = 2048;
  private rxSize = 2048;
  private txRd = 0;
  private rxWr = 0;
  /** The read pointer the chip acts on: Sn_RX_RD as of the last RECV (W11). */
  private rxRdLatched = 0;
  private commandReads = BUSY_NONE;
  private sending = false;
  private sendEnd = 0;
  private sendDoneAt = 0;
  private overflowed = false;
  private resetUntil = -1;
  private phyLinkAt = 0;
  private phyInReset = false;
  private intHoldUntil = 0;
  private lastInt: 0 | 1 = 1;
  private edgePending = false;
  private wireWaiting = false;
  /** Sn_RX_RSR byte reads: the live value when the high byte was read, and whether it then tore. */
  private rsrAtHigh = -1;
  private rsrSuspect = false;
  private readonly frame = new Uint8Array(MAX_FRAME + 64);

  constructor(options: W5500SimOptions) {
    this.wire = options.wire;
    this.externalClock = options.clock ?? null;
    const hz = options.hz ?? 20_000_000;
    this.byteUs = 8e6 / hz;
    this.transactionUs = options.transactionUs ?? 1;
    this.linkMbps = options.linkMbps ?? 100;
    this.random = (options.seed ?? 1) >>> 0 || 1;
    this.crBusyReads = options.crBusyReads ?? 2;
    this.pointerStart = (options.pointerStart ?? 0) & 0xffff;
    this.tearRsr = options.tearRsr ?? false;
    this.corruptAfterOverflow = options.corruptAfterOverflow ?? false;
    this.resetUs = options.resetUs ?? 1000;
    this.autonegUs = (options.autonegMs ?? 1500) * 1000;
    this.imrGatesIr = options.imrGatesIr ?? false;
    this.throwOnViolation = options.throwOnViolation ?? false;
    this.spi = new W5500SimSpi(this);
    this.interrupt = new W5500SimPin(this);
    // SRAM is not cleared by reset: junk, so a driver cannot take zeros for "nothing there".
    for (let i = 0; i < 16384; i++) {
      this.rxMemory[i] = this.next() & 0xff;
      this.txMemory[i] = this.next() & 0xff;
    }
    this.resetRegisters();
    this.syncTime();
    this.wire.onEvent = (events: number): void => this.wireEvent(events);
  }

  /** Records (or throws) a driver access the real chip would punish. */
  violation(what: string): void {
    this.violations.push(what);
    if (this.throwOnViolation) throw new Error(`w5500 simulator: ${what}`);
  }

  /** Nanoseconds are enough: frames take whole microseconds on the wire. */
  wireTimeUs(length: number): number {
    // Preamble 8, FCS 4, inter-frame gap 12.
    return ((length < MIN_FRAME ? MIN_FRAME : length) + 24) * (8 / this.linkMbps);
  }

  /** Whether the PHY reports a link: the wire has carrier and no PHY reset is under way. */
  get linkUp(): boolean {
    return this.wire.linkUp && !this.phyInReset && this.time >= this.phyLinkAt;
  }

  poll(now: number): void {
    if (this.externalClock === null && now * 1000 > this.time) this.time = now * 1000;
    this.syncTime();
    this.catchUp(true);
    if (this.edgePending) {
      this.edgePending = false;
      const pin = this.interrupt;
      if (pin.onReadable !== null) pin.onReadable.call(pin);
    }
  }

  nextDeadline(): number {
    if (this.edgePending || this.wireWaiting) return 0;
    let t = Infinity;
    if (this.sending && this.linkUp) t = this.sendDoneAt;
    if (this.resetUntil > this.time && this.resetUntil < t) t = this.resetUntil;
    if (!this.phyInReset && this.phyLinkAt > this.time && this.phyLinkAt < t) t = this.phyLinkAt;
    if (this.intHoldUntil > this.time && this.intHoldUntil < t) t = this.intHoldUntil;
    return t === Infinity ? t : Math.ceil(t / 1000);
  }

  /** INTn: low while an enabled interrupt is pending, unless INTLEVEL still holds it off. */
  intLevel(): 0 | 1 {
    const c = this.common;
    const pending = (c[IR] & c[IMR]) !== 0 || (this.sir() & c[SIMR]) !== 0;
    return pending && this.time >= this.intHoldUntil ? 0 : 1;
  }

  // --- the SPI byte machine ------------------------------------------------------------------

  /** One byte on the bus: MOSI in, MISO out. */
  clock(mosi: number): number {
    if (!this.inWindow) {
      this.inWindow = true;
      this.position = 0;
      this.stats.transactions++;
      this.syncTime();
      this.time += this.transactionUs;
      this.catchUp(false);
    }
    this.stats.bytes++;
    this.time += this.byteUs;
    const at = this.position++;
    if (at === 0) {
      this.address = mosi << 8;
      return 0x01;
    }
    if (at === 1) {
      this.address |= mosi;
      return 0x02;
    }
    if (at === 2) {
      this.control = mosi;
      if ((mosi & 3) !== 0)
        this.violation("fixed-length data mode (OM != 0) on a CS-framed bus (W2)");
      const bsb = mosi >> 3;
      if (bsb !== 0 && (bsb & 3) === 0) this.violation(`reserved block select 0x${hex(bsb)} (W2)`);
      return 0x03;
    }
    const address = this.address;
    this.address = (address + 1) & 0xffff;
    const bsb = this.control >> 3;
    const write = (this.control & CTRL_WRITE) !== 0;
    if (write) {
      this.writeByte(bsb, address, mosi);
      return 0;
    }
    return this.readByte(bsb, address);
  }

  /** CS rises: the command ends. */
  deselect(): void {
    if (!this.inWindow) return;
    if (this.position < 3) this.violation("CS raised inside the 3-byte header (W1)");
    else if (this.position === 3)
      this.violation("a header with no data phase: header and data split across CS windows (W1)");
    this.inWindow = false;
    this.rsrAtHigh = -1;
    this.updateInt();
  }

  private readByte(bsb: number, address: number): number {
    if (bsb === BSB_COMMON) return this.readCommon(address);
    const socket = (bsb - 1) >> 2;
    const kind = (bsb - 1) & 3;
    if (kind === 0)
      return socket === 0 ? this.readSocket(address) : this.otherSocket(socket, address);
    if (socket !== 0) {
      this.violation(`buffer of socket ${socket} accessed; only socket 0 is in use`);
      return 0;
    }
    if (kind === 1) return this.txMemory[address & (this.txSize - 1)];
    // RX buffer read (W4: the offset is taken modulo the buffer size, bursts wrap).
    if (this.rsrSuspect) {
      this.violation("RX buffer read after a torn Sn_RX_RSR read that was not read again (W6)");
      this.rsrSuspect = false;
    }
    if (((address - this.rxRdLatched) & 0xffff) >= this.rsr())
      this.violation(`RX buffer read at 0x${hex(address)}, beyond the received data (W10/W11)`);
    return this.rxMemory[address & (this.rxSize - 1)];
  }

  private writeByte(bsb: number, address: number, value: number): void {
    if (this.time < this.resetUntil) {
      this.violation("write while MR.RST is still resetting the chip: ignored (W13)");
      return;
    }
    if (bsb === BSB_COMMON) return this.writeCommon(address, value);
    const socket = (bsb - 1) >> 2;
    const kind = (bsb - 1) & 3;
    if (kind === 0) {
      if (socket === 0) this.writeSocket(address, value);
      else this.writeOtherSocket(socket, address, value);
      return;
    }
    if (socket !== 0) {
      this.violation(`buffer of socket ${socket} accessed; only socket 0 is in use`);
      return;
    }
    if (kind === 2) {
      this.violation("write into the RX buffer");
      return;
    }
    // W18 / W8: bytes between TX_RD and the end of a frame being sent belong to the chip.
    if (((address - this.txRd) & 0xffff) >= this.txSize)
      this.violation(
        `TX write at 0x${hex(address)} beyond the free space: overwrites unsent data (W18)`,
      );
    else if (
      this.sending &&
      ((address - this.txRd) & 0xffff) < ((this.sendEnd - this.txRd) & 0xffff)
    )
      this.violation("TX write into the frame still being sent (W8)");
    this.txMemory[address & (this.txSize - 1)] = value;
  }

  private readCommon(address: number): number {
    const c = this.common;
    if (address > VERSIONR || (address > PHYCFGR && address < VERSIONR)) {
      this.violation(`read of undefined common register 0x${hex(address)}`);
      return 0;
    }
    const resetting = this.time < this.resetUntil;
    if (address === VERSIONR) return resetting ? 0 : VERSION;
    if (address === MR) return resetting ? c[MR] | MR_RST : c[MR];
    if (address === SIR) return this.sir();
    if (address === PHYCFGR) return (c[PHYCFGR] & 0xf8) | (this.linkUp ? PHY_LNK | 0x06 : 0);
    return c[address];
  }

  private writeCommon(address: number, value: number): void {
    const c = this.common;
    if (address > PHYCFGR || address === SIR || (address >= 0x28 && address <= 0x2d)) {
      this.violation(`write to read-only or undefined common register 0x${hex(address)}`);
      return;
    }
    if (address === MR) {
      if ((value & MR_RST) !== 0) {
        this.resetRegisters();
        this.resetUntil = this.time + this.resetUs;
        return;
      }
      c[MR] = value;
      return;
    }
    if (address === IR) {
      c[IR] &= ~value;
      this.holdInt();
      return;
    }
    if (address === PHYCFGR) {
      if ((value & PHY_RST) === 0) this.phyInReset = true;
      else if (this.phyInReset) {
        this.phyInReset = false;
        this.phyLinkAt = this.time + this.autonegUs;
      }
      c[PHYCFGR] = value & 0xf8;
      return;
    }
    c[address] = value;
  }

  private readSocket(address: number): number {
    const s = this.sockets;
    if (address >= 0x30) {
      this.violation(`read of undefined socket register 0x${hex(address)}`);
      return 0;
    }
    switch (address) {
      case Sn_CR:
        if (this.commandReads > 0) {
          this.commandReads--;
          return s[Sn_CR];
        }
        return 0;
      case Sn_TX_FSR:
        return this.fsr() >> 8;
      case Sn_TX_FSR + 1:
        return this.fsr() & 0xff;
      case Sn_TX_RD:
        return this.txRd >> 8;
      case Sn_TX_RD + 1:
        return this.txRd & 0xff;
      case Sn_RX_WR:
        return this.rxWr >> 8;
      case Sn_RX_WR + 1:
        return this.rxWr & 0xff;
      case Sn_RX_RSR: {
        const live = this.rsr();
        this.rsrAtHigh = live;
        // W6: a frame lands between the two byte reads.
        if (this.tearRsr) this.pullWire(1);
        return live >> 8;
      }
      case Sn_RX_RSR + 1: {
        const live = this.rsr();
        if (this.rsrAtHigh >= 0) {
          // A read of both bytes: torn when the value moved in between; a clean one clears doubt.
          this.rsrSuspect = live !== this.rsrAtHigh;
          this.rsrAtHigh = -1;
        }
        return live & 0xff;
      }
      default:
        return s[address];
    }
  }

  private writeSocket(address: number, value: number): void {
    const s = this.sockets;
    if (address >= 0x30) {
      this.violation(`write to undefined socket register 0x${hex(address)}`);
      return;
    }
    switch (address) {
      case Sn_MR:
        // W14: the mode is latched at OPEN.
        if (this.open)
          this.violation("Sn_MR written while the socket is open: takes effect only at OPEN (W14)");
        s[Sn_MR] = value;
        return;
      case Sn_CR:
        this.command(value);
        return;
      case Sn_IR:
        if (value === 0) this.violation("Sn_IR written with 0: its bits clear by writing 1 (W9)");
        s[Sn_IR] &= ~value;
        this.holdInt();
        return;
      case Sn_RXBUF_SIZE:
      case Sn_TXBUF_SIZE:
        this.writeSize(0, address, value);
        return;
      case Sn_SR:
      case Sn_TX_FSR:
      case Sn_TX_FSR + 1:
      case Sn_TX_RD:
      case Sn_TX_RD + 1:
      case Sn_RX_RSR:
      case Sn_RX_RSR + 1:
      case Sn_RX_WR:
      case Sn_RX_WR + 1:
        this.violation(
          `write to read-only socket register 0x${hex(address)} (a missing CS release?)`,
        );
        return;
      default:
        s[address] = value;
    }
  }

  private otherSocket(socket: number, address: number): number {
    if (address >= 0x30) {
      this.violation(`read of undefined socket register 0x${hex(address)}`);
      return 0;
    }
    return this.sockets[socket * 0x30 + address];
  }

  private writeOtherSocket(socket: number, address: number, value: number): void {
    if (address === Sn_RXBUF_SIZE || address === Sn_TXBUF_SIZE)
      return this.writeSize(socket, address, value);
    if (address >= 0x30) this.violation(`write to undefined socket register 0x${hex(address)}`);
    else this.sockets[socket * 0x30 + address] = value;
  }

  /** W15: sizes are 0, 1, 2, 4, 8 or 16 KB and change only while socket 0 is closed. */
  private writeSize(socket: number, address: number, value: number): void {
    if (value !== 0 && value !== 1 && value !== 2 && value !== 4 && value !== 8 && value !== 16)
      this.violation(`buffer size ${value} KB is not 0, 1, 2, 4, 8 or 16 (W15)`);
    else if (this.open) this.violation("buffer size changed while the socket is open (W15)");
    else this.sockets[socket * 0x30 + address] = value;
  }

  // --- commands ------------------------------------------------------------------------------

  private command(value: number): void {
    const s = this.sockets;
    if (this.commandReads > 0) {
      this.violation(`command 0x${hex(value)} while Sn_CR still reads the previous one (W7)`);
    }
    s[Sn_CR] = value;
    this.commandReads = 1 + (this.next() % (this.crBusyReads + 1));
    switch (value) {
      case CR_OPEN:
        return this.openSocket();
      case CR_CLOSE:
        this.open = false;
        this.sending = false;
        s[Sn_SR] = SR_CLOSED;
        return;
      case CR_SEND:
        return this.send();
      case CR_RECV:
        return this.recv();
      default:
        this.violation(`command 0x${hex(value)} is not used in MACRAW`);
    }
  }

  private openSocket(): void {
    const s = this.sockets;
    if ((s[Sn_MR] & 0x0f) !== MR_MACRAW) {
      this.violation("OPEN without MACRAW mode in Sn_MR");
      return;
    }
    let rx = 0;
    let tx = 0;
    for (let n = 0; n < 8; n++) {
      rx += s[n * 0x30 + Sn_RXBUF_SIZE];
      tx += s[n * 0x30 + Sn_TXBUF_SIZE];
    }
    if (rx > 16 || tx > 16) this.violation("buffer sizes add up to more than 16 KB (W15)");
    this.rxSize = s[Sn_RXBUF_SIZE] * 1024;
    this.txSize = s[Sn_TXBUF_SIZE] * 1024;
    if (this.rxSize === 0 || this.txSize === 0) {
      this.violation("OPEN with no buffer memory for socket 0 (W15)");
      return;
    }
    this.latchedMode = s[Sn_MR];
    const p = this.pointerStart;
    this.txRd = p;
    this.rxWr = p;
    this.rxRdLatched = p;
    this.setPointer(Sn_TX_WR, p);
    this.setPointer(Sn_RX_RD, p);
    this.sending = false;
    this.overflowed = false;
    this.open = true;
    s[Sn_SR] = SR_MACRAW;
  }

  private send(): void {
    if (!this.open) {
      this.violation("SEND on a closed socket");
      return;
    }
    if (this.sending) {
      // W8: whatever lies between TX_RD and TX_WR goes out as one frame.
      this.violation("SEND before the previous frame's SEND_OK (W8)");
      return;
    }
    const end = this.pointer(Sn_TX_WR);
    const length = (end - this.txRd) & 0xffff;
    if (length > this.txSize) {
      this.violation(`SEND of ${length} bytes, more than the TX buffer holds (W18)`);
      return;
    }
    if (length === 0 || length > MAX_FRAME) {
      this.violation(`SEND of a ${length}-byte frame (MACRAW takes 1..${MAX_FRAME})`);
      return;
    }
    this.sending = true;
    this.sendEnd = end;
    this.sendDoneAt = this.time + this.wireTimeUs(length);
    if (!this.linkUp) this.stats.txStalled++;
  }

  private recv(): void {
    if (!this.open) {
      this.violation("RECV on a closed socket");
      return;
    }
    const rd = this.pointer(Sn_RX_RD);
    if (((rd - this.rxRdLatched) & 0xffff) > this.rsr()) {
      this.violation("RECV with Sn_RX_RD past the received data (W11)");
      return;
    }
    this.rxRdLatched = rd;
  }

  // --- time, wire and interrupts ---------------------------------------------------------------

  private syncTime(): void {
    if (this.externalClock !== null) {
      const outside = this.externalClock() * 1000;
      if (outside > this.time) this.time = outside;
    }
  }

  /** Finishes what is due at the current chip time. */
  private catchUp(fromPoll: boolean): void {
    if (this.sending && this.linkUp && this.time >= this.sendDoneAt) this.finishSend();
    // With tearing, frames trickle in one at a time so that most land mid-read.
    if (!this.tearRsr) this.pullWire(Infinity);
    else if (fromPoll) this.pullWire(1);
    this.updateInt();
  }

  private finishSend(): void {
    const length = (this.sendEnd - this.txRd) & 0xffff;
    const f = this.frame;
    const mask = this.txSize - 1;
    let p = this.txRd;
    for (let i = 0; i < length; i++) f[i] = this.txMemory[(p + i) & mask];
    // The MAC pads short frames to the Ethernet minimum.
    let wireLength = length;
    if (wireLength < MIN_FRAME) {
      f.fill(0, wireLength, MIN_FRAME);
      wireLength = MIN_FRAME;
    }
    if (this.wire.transmit(f, 0, wireLength) === TX_BUSY) return; // the wire's queue is full: later
    // A chip's frame is on the wire once sent: a wire that batches (the TAP) sends it now.
    if (this.wire.flush !== undefined) this.wire.flush();
    p = this.sendEnd;
    this.txRd = p;
    this.sending = false;
    this.stats.txFrames++;
    this.raise(IR_SEND_OK);
  }

  private pullWire(limit: number): void {
    this.wireWaiting = false;
    const f = this.frame;
    for (let taken = 0; taken < limit; taken++) {
      const length = this.wire.receive(f, 0, f.length);
      if (length === 0) return;
      if (!this.open || !this.linkUp) {
        this.stats.rxLinkDown++;
        continue;
      }
      if (length > MAX_FRAME || !this.passes(f)) {
        this.stats.rxFiltered++;
        continue;
      }
      this.store(f, length);
    }
    // Stopped at the limit: more may wait on the wire.
    this.wireWaiting = true;
  }

  /** W16: the MACRAW filter as latched at OPEN. */
  private passes(f: Uint8Array): boolean {
    const mode = this.latchedMode;
    if ((f[0] & 1) === 0) {
      if ((mode & MR_MFEN) === 0) return true;
      const c = this.common;
      for (let i = 0; i < 6; i++) if (f[i] !== c[SHAR + i]) return false;
      return true;
    }
    if (
      f[0] === 0xff &&
      f[1] === 0xff &&
      f[2] === 0xff &&
      f[3] === 0xff &&
      f[4] === 0xff &&
      f[5] === 0xff
    )
      return (mode & MR_BCASTB) === 0;
    if (f[0] === 0x01 && f[1] === 0x00 && f[2] === 0x5e) return (mode & MR_MMB) === 0;
    if (f[0] === 0x33 && f[1] === 0x33) return (mode & MR_MIP6B) === 0;
    return true;
  }

  /** W10 / W12: a record is a 2-byte big-endian length that counts itself, then the frame. */
  private store(f: Uint8Array, length: number): void {
    const record = length + RX_HEADER;
    if (this.rsr() + record > this.rxSize) {
      this.stats.rxOverflows++;
      this.overflowed = true;
      return;
    }
    const mask = this.rxSize - 1;
    const m = this.rxMemory;
    let p = this.rxWr;
    let header = record;
    if (this.overflowed && this.corruptAfterOverflow) header = 0xffff;
    this.overflowed = false;
    m[p & mask] = header >> 8;
    m[(p + 1) & mask] = header & 0xff;
    p += RX_HEADER;
    for (let i = 0; i < length; i++) m[(p + i) & mask] = f[i];
    this.rxWr = (this.rxWr + record) & 0xffff;
    this.stats.rxFrames++;
    this.raise(IR_RECV);
  }

  private raise(bit: number): void {
    const s = this.sockets;
    if (this.imrGatesIr && (s[Sn_IMR] & bit) === 0) return;
    s[Sn_IR] |= bit;
  }

  /** INTLEVEL: after a clear, INTn may not assert again for (INTLEVEL + 1) * 4 / 150 MHz. */
  private holdInt(): void {
    const level = (this.common[INTLEVEL] << 8) | this.common[INTLEVEL + 1];
    this.intHoldUntil = this.time + ((level + 1) * 4) / 150;
    this.updateInt();
  }

  private updateInt(): void {
    const level = this.intLevel();
    if (level === 0 && this.lastInt === 1) this.edgePending = true;
    this.lastInt = level;
  }

  private wireEvent(events: number): void {
    if ((events & (DEVICE_RECEIVE | DEVICE_TRANSMIT | DEVICE_LINK)) === 0) return;
    // Frames are taken at the next CS window or poll, never in the middle of a driver's command.
    this.wireWaiting = true;
    if (!this.inWindow && !this.tearRsr) {
      this.syncTime();
      this.catchUp(true);
    }
    if (this.onWake !== null) this.onWake();
  }

  private sir(): number {
    const s = this.sockets;
    return (s[Sn_IR] & s[Sn_IMR]) !== 0 ? 1 : 0;
  }

  private rsr(): number {
    return this.open ? (this.rxWr - this.rxRdLatched) & 0xffff : 0;
  }

  private fsr(): number {
    if (!this.open) return this.txSize;
    const pending = this.sending ? (this.sendEnd - this.txRd) & 0xffff : 0;
    return this.txSize - pending;
  }

  private pointer(at: number): number {
    return (this.sockets[at] << 8) | this.sockets[at + 1];
  }

  private setPointer(at: number, value: number): void {
    this.sockets[at] = value >> 8;
    this.sockets[at + 1] = value & 0xff;
  }

  private resetRegisters(): void {
    const c = this.common;
    c.fill(0);
    c[0x19] = 0x07;
    c[0x1a] = 0xd0;
    c[0x1b] = 0x08;
    c[0x1c] = 0x28;
    c[0x26] = 0xff;
    c[0x27] = 0xff;
    c[PHYCFGR] = 0xb8;
    const s = this.sockets;
    s.fill(0);
    for (let n = 0; n < 8; n++) {
      const b = n * 0x30;
      for (let i = 0x06; i < 0x0c; i++) s[b + i] = 0xff;
      s[b + 0x16] = 0x80;
      s[b + Sn_RXBUF_SIZE] = 2;
      s[b + Sn_TXBUF_SIZE] = 2;
      s[b + Sn_IMR] = 0xff;
      s[b + 0x2d] = 0x40;
    }
    this.open = false;
    this.sending = false;
    this.commandReads = BUSY_NONE;
    this.txSize = 2048;
    this.rxSize = 2048;
  }

  private next(): number {
    // xorshift32: seeded, so every run polls the same number of times.
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x >>> 0;
    return this.random;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}
