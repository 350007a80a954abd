// A register-level ENC28J60 behind the shapes of ECMA-419 `embedded:io/spi` and
// `embedded:io/digital`: it decodes the SPI byte stream per chip-select window, keeps the chip's
// registers, 8 KB buffer and pointers, and moves frames to and from a NetDevice (a LinkPair end,
// the TAP) at 10 Mbit/s. It is strict: every fidelity check of the chip's reference (E1..E28) is
// modelled, and driver mistakes that the silicon would punish are recorded as violations (and
// thrown, when `throwOnViolation` is set) rather than forgiven.
//
// Time: the simulator keeps its own clock in microseconds. Every CS window costs `windowUs` and
// every byte 8 / hz; the clock never falls behind the host clock given in `options.clock` (ms).
// Frames arrive and leave at wire time, so the figures project what an MCU at a given SPI clock
// can move. Nothing is allocated per frame or per transaction.

import { TX_BUSY, type NetDevice } from "../../src/device.js";
import {
  ECON1,
  ECON1_BSEL,
  ECON1_RXEN,
  ECON1_RXRST,
  ECON1_TXRST,
  ECON1_TXRTS,
  ECON2,
  ECON2_AUTOINC,
  ECON2_PKTDEC,
  EIE,
  EIE_INTIE,
  EIR,
  EIR_LINKIF,
  EIR_PKTIF,
  EIR_RXERIF,
  EIR_TXERIF,
  EIR_TXIF,
  EPKTCNT,
  ERDPTH,
  ERDPTL,
  EREVID,
  ERXFCON,
  ERXFCON_ANDOR,
  ERXFCON_BCEN,
  ERXFCON_HTEN,
  ERXFCON_MCEN,
  ERXFCON_UCEN,
  ERXNDH,
  ERXNDL,
  ERXRDPTH,
  ERXRDPTL,
  ERXSTH,
  ERXSTL,
  ERXWRPTH,
  ERXWRPTL,
  ESTAT,
  ESTAT_CLKRDY,
  ESTAT_INT,
  ESTAT_LATECOL,
  ESTAT_TXABRT,
  ETXNDH,
  ETXNDL,
  ETXSTH,
  ETXSTL,
  EWRPTH,
  EWRPTL,
  hashIndex,
  MAADR_OF,
  MACON1,
  MACON1_MARXEN,
  MACON3,
  MACON3_FULDPX,
  MACON3_HFRMEN,
  MACON3_TXCRCEN,
  MAMXFLH,
  MAMXFLL,
  MICMD,
  MICMD_MIIRD,
  MIRDH,
  MIRDL,
  MIREGADR,
  MISTAT,
  MISTAT_BUSY,
  MIWRH,
  MIWRL,
  needsDummy,
  PHCON1,
  PHCON1_PDPXMD,
  PHCON2,
  PHCON2_HDLDIS,
  PHID1,
  PHID2,
  PHIE,
  PHIE_PGEIE,
  PHIE_PLNKIE,
  PHIR,
  PHIR_PGIF,
  PHIR_PLNKIF,
  PHLCON,
  PHSTAT1,
  PHSTAT1_LLSTAT,
  PHSTAT2,
  PHSTAT2_DPXSTAT,
  PHSTAT2_LSTAT,
  RSV_BROADCAST,
  RSV_MULTICAST,
  RSV_RXOK,
  TSV_DONE,
  TSV_LATE_COLLISION,
} from "./registers.js";

// ------------------------------------------------------------------- violations
/** E1: access to an address the selected bank does not implement. */
export const V_RESERVED = 0;
/** E3: BFS/BFC on a MAC/MII register (ignored by the chip). */
export const V_BITOP_ON_MAC = 1;
/** E4: more than one data byte in an RCR/WCR/BFS/BFC window (no register auto-increment). */
export const V_EXTRA_BYTES = 2;
/** §4.3: a command cut short by CS rising (opcode without its data byte). */
export const V_INCOMPLETE = 3;
/** E5: ERXRDPTH written without a fresh ERXRDPTL before it (stale latch committed). */
export const V_ERXRDPT_ORDER = 4;
/** E6: ERXRDPT committed with an even value (errata: ring corruption). */
export const V_EVEN_ERXRDPT = 5;
/** E13: PKTDEC with EPKTCNT already 0. */
export const V_PKTDEC_EMPTY = 6;
/** E14: a command during the start-up window after SRC or power-on (ignored, reads junk). */
export const V_NOT_READY = 7;
/** E16: an MII register touched while MISTAT.BUSY, or MIIRD set again without clearing it. */
export const V_MII_BUSY = 8;
/** E19: TX buffer or pointers changed, or TXRTS set, while a transmission is in progress. */
export const V_TX_IN_PROGRESS = 9;
/** E23: ERXST/ERXND written while RXEN = 1 (ignored). */
export const V_RING_WHILE_RXEN = 10;
/** E26: ERXWRPT read as two RCRs with a frame stored in between (torn value). */
export const V_TORN_READ = 11;
/** E27: MAC/MII access below 8 MHz on pre-B5 silicon. */
export const V_SLOW_CLOCK = 12;
/** E28: MACON3.FULDPX differs from PHCON1.PDPXMD when transmitting or enabling reception. */
export const V_DUPLEX_MISMATCH = 13;
/** RBM/WBM opcode with an argument other than 0x1A, or an unknown opcode. */
export const V_BAD_OPCODE = 14;
/** E21: a transmission abandoned (TXRST) or a stall never recovered: counted, not an error. */
export const V_COUNT = 15;

const VIOLATION_NAMES: readonly string[] = Object.freeze([
  "reserved register in this bank",
  "BFS/BFC on a MAC/MII register",
  "extra bytes in a register command",
  "command cut short by CS",
  "ERXRDPTH written without ERXRDPTL first",
  "even ERXRDPT",
  "PKTDEC with EPKTCNT = 0",
  "command during the start-up window",
  "MII access while busy",
  "TX buffer touched during transmission",
  "ERXST/ERXND written while RXEN",
  "torn ERXWRPT read",
  "MAC/MII access below 8 MHz (pre-B5)",
  "FULDPX differs from PDPXMD",
  "bad opcode",
]);

export interface Enc28j60SimOptions {
  /** SPI clock in Hz (default 20 MHz): 8 / hz seconds per byte. */
  hz?: number;
  /** Cost of one CS window (select, call overhead, deselect) in µs (default 2). */
  windowUs?: number;
  /**
   * The host clock in ms, which the chip's clock never falls behind (default: none). It must be the
   * clock poll() is given: nextDeadline() answers in it.
   */
  clock?: (() => number) | null;
  /** EREVID (default 6 = B7). Below 5 the slow-clock errata (E27) applies. */
  revision?: number;
  /** Throw an Error on the first violation instead of only counting it. */
  throwOnViolation?: boolean;
  /** Seed for the junk in buffer memory and the errata dice. */
  seed?: number;
  /** E6: corrupt a stored frame while ERXRDPT is even (besides recording the violation). */
  evenRdptCorrupts?: boolean;
  /** E12: probability that a stored frame fails to raise PKTIF (errata). */
  pktifMissRate?: number;
  /** E21: every n-th transmission is aborted with a late collision (0 = never). */
  lateCollisionEvery?: number;
  /** E21: every n-th transmission stalls: TXRTS never clears until a TXRST pulse (0 = never). */
  txStallEvery?: number;
  /** E23: writing ERXST loads 0 into the write pointer instead of ERXST (errata). */
  erxstErrata?: boolean;
  /** The link partner's duplex: a full-duplex chip against a half-duplex peer collides (E28). */
  peerFullDuplex?: boolean;
}

/** The INT pin, shaped as an ECMA-419 Digital input: read() is 0 while the chip requests. */
export class SimInterruptPin {
  /** Set by whoever wires the pin (the Digital constructor's onReadable, with `target`). */
  onReadable: ((this: SimInterruptPin) => void) | null = null;
  target: unknown = null;
  /** Falling edges so far. */
  edges = 0;
  private readonly chip: Enc28j60Sim;

  constructor(chip: Enc28j60Sim) {
    this.chip = chip;
  }

  read(): 0 | 1 {
    return this.chip.intAsserted ? 0 : 1;
  }

  close(): void {
    this.onReadable = null;
  }
}

const RING_MASK = 0x1fff;

export class Enc28j60Sim {
  /** The buffer SRAM (8 KB). */
  readonly mem = new Uint8Array(8192);
  /** Control registers, 4 banks × 32 (the common five live in bank 0's slots). */
  readonly regs = new Uint8Array(128);
  /** PHY registers. */
  readonly phy = new Uint16Array(32);
  readonly pin: SimInterruptPin;
  /** The wire: frames go to and come from here. */
  link: NetDevice | null;
  /** Whether the chip's own link (cable) is plugged; ANDed with the wire device's linkUp. */
  cable = true;

  hz: number;
  readonly windowUs: number;
  /** The chip's clock, µs. */
  timeUs = 0;

  // ---- counters
  /** CS windows and bytes clocked so far. */
  transactions = 0;
  bytes = 0;
  /** Frames stored in the ring, dropped for lack of room, dropped by the filter, and looped back. */
  rxStored = 0;
  rxNoRoom = 0;
  rxFiltered = 0;
  rxLoopedBack = 0;
  /** Frames stored across the ring's end (ERXND -> ERXST). */
  rxStraddled = 0;
  /** Frames put on the wire, aborted, and offers the wire answered busy (retried later). */
  txSent = 0;
  txAborted = 0;
  txWireBusy = 0;
  resets = 0;
  /** Violations by V_* code, and the last one's description. */
  readonly violations = new Int32Array(V_COUNT);
  lastViolation = "";

  // ---- SPI decoder state
  private opcode = -1;
  private argument = 0;
  private count = 0;
  private selected = false;

  // ---- chip state
  private readonly clock: (() => number) | null;
  private readonly revision: number;
  private readonly throwOnViolation: boolean;
  private readonly evenRdptCorrupts: boolean;
  private readonly pktifMissRate: number;
  private readonly lateCollisionEvery: number;
  private readonly txStallEvery: number;
  private readonly erxstErrata: boolean;
  private readonly peerFullDuplex: boolean;
  private random: number;
  private readyAtUs = 0;
  private rdptLatch = 0;
  private rdptLatchFresh = false;
  private readPointer = 0;
  private writePointer = 0;
  private rxWrite = 0;
  private rxRead = 0;
  private rxStart = 0;
  private rxEnd = 0;
  private packets = 0;
  private pktifMissed = false;
  private miiBusyUntil = 0;
  private miiPending = 0; // 0 none, 1 read, 2 write
  private miiValue = 0;
  private linkWasUp = false;
  private torn = -1;
  private txDoneAt = Infinity;
  private txLength = 0;
  private txNumber = 0;
  private txStalled = false;
  private txAbort = false;
  private txStart = 0;
  private txEnd = 0;
  private readonly txFrame = new Uint8Array(1600);
  private readonly rxFrame = new Uint8Array(1600);
  private rxWireFreeAt = 0;
  private rxMore = true;
  private intWas = false;
  private readonly crcTable = new Int32Array(256);
  private edgePending = false;

  constructor(link: NetDevice | null, options: Enc28j60SimOptions = {}) {
    this.link = link;
    this.hz = options.hz ?? 20_000_000;
    this.windowUs = options.windowUs ?? 2;
    this.clock = options.clock ?? null;
    this.revision = options.revision ?? 6;
    this.throwOnViolation = options.throwOnViolation ?? false;
    this.random = (options.seed ?? 1) >>> 0 || 1;
    this.evenRdptCorrupts = options.evenRdptCorrupts ?? false;
    this.pktifMissRate = options.pktifMissRate ?? 0;
    this.lateCollisionEvery = options.lateCollisionEvery ?? 0;
    this.txStallEvery = options.txStallEvery ?? 0;
    this.erxstErrata = options.erxstErrata ?? false;
    this.peerFullDuplex = options.peerFullDuplex ?? true;
    this.pin = new SimInterruptPin(this);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let b = 0; b < 8; b++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
      this.crcTable[n] = c;
    }
    // E15: SRAM holds junk after power-up.
    for (let i = 0; i < 8192; i++) this.mem[i] = this.next() & 0xff;
    this.syncClock();
    this.reset();
    // Power-on: the oscillator start-up timer holds CLKRDY low for a while (E14).
    this.regs[ESTAT] &= ~ESTAT_CLKRDY;
    this.readyAtUs = this.timeUs + 300;
    // PHY power-on state: half duplex strap, LEDs at reset.
    this.phy[PHID1] = 0x0083;
    this.phy[PHID2] = 0x1400;
    this.phy[PHLCON] = 0x3422;
  }

  /** A short name for violation `code`. */
  static violationName(code: number): string {
    return VIOLATION_NAMES[code] ?? "?";
  }

  /** Total violations recorded. */
  get violationCount(): number {
    let n = 0;
    for (let i = 0; i < V_COUNT; i++) n += this.violations[i];
    return n;
  }

  /** Whether the chip drives INT (active low). */
  get intAsserted(): boolean {
    const r = this.regs;
    return (r[EIE] & EIE_INTIE) !== 0 && (r[EIR] & r[EIE] & 0x7b) !== 0;
  }

  /** Link state as the PHY sees it. */
  get linkUp(): boolean {
    return this.cable && (this.link === null || this.link.linkUp);
  }

  /** Frames stored but not yet released by PKTDEC. */
  get packetCount(): number {
    return this.packets;
  }

  /** ERXRDPT, ERXWRPT as committed. */
  get receiveReadPointer(): number {
    return this.rxRead;
  }

  // ================================================================ ECMA-419 SPI shape

  write(buffer: Uint8Array): void {
    this.begin();
    for (let i = 0; i < buffer.length; i++) this.exchange(buffer[i]);
  }

  read(buffer: Uint8Array): void {
    this.begin();
    for (let i = 0; i < buffer.length; i++) buffer[i] = this.exchange(0);
  }

  transfer(buffer: Uint8Array): void {
    this.begin();
    for (let i = 0; i < buffer.length; i++) buffer[i] = this.exchange(buffer[i]);
  }

  flush(deselect?: boolean): void {
    if (deselect !== true || !this.selected) return;
    this.selected = false;
    this.endCommand();
    this.afterWindow();
  }

  // ================================================================ host side

  /** Catches up with the host clock and the wire; delivers a pending INT edge (a later turn). */
  poll(now: number): void {
    const us = now * 1000;
    if (us > this.timeUs) this.timeUs = us;
    this.rxMore = true;
    this.advance();
    this.updateInt();
    if (this.edgePending) {
      this.edgePending = false;
      const handler = this.pin.onReadable;
      if (handler !== null) handler.call(this.pin);
    }
  }

  /** When poll() has work: an INT edge to deliver, a transmission ending, the wire free again. */
  nextDeadline(): number {
    if (this.edgePending) return 0;
    let t = Infinity;
    if (this.txDoneAt < t && !this.txStalled) t = this.txDoneAt;
    if (this.rxMore && this.rxWireFreeAt < t) t = this.rxWireFreeAt;
    return t === Infinity ? t : Math.ceil(t / 1000);
  }

  /** Called by the wire device's owner when frames arrived for the chip. */
  wake(): void {
    this.rxMore = true;
  }

  /** Unplugs or plugs the chip's cable. */
  setCable(up: boolean): void {
    this.cable = up;
    this.advance();
    this.updateInt();
  }

  // ================================================================ SPI decoding

  private begin(): void {
    if (this.selected) return;
    this.selected = true;
    this.transactions++;
    this.syncClock();
    this.timeUs += this.windowUs;
    this.advance();
  }

  private syncClock(): void {
    if (this.clock !== null) {
      const us = this.clock() * 1000;
      if (us > this.timeUs) this.timeUs = us;
    }
  }

  private exchange(mosi: number): number {
    this.bytes++;
    this.timeUs += 8_000_000 / this.hz;
    if (this.opcode < 0) {
      this.opcode = mosi;
      this.count = 0;
      this.argument = mosi & 0x1f;
      if (mosi === 0xff) {
        this.softReset();
        return 0xff;
      }
      if (this.timeUs < this.readyAtUs) {
        this.violation(V_NOT_READY);
        this.opcode = 0x100; // swallow the rest of the window
      }
      const op = mosi & 0xe0;
      if ((op === 0x20 || op === 0x60) && this.argument !== 0x1a) this.violation(V_BAD_OPCODE);
      if (op === 0xc0) this.violation(V_BAD_OPCODE);
      return 0xff;
    }
    const n = this.count++;
    const op = this.opcode;
    if (op === 0xff) return 0xff; // SRC's extra clock bytes
    if (op === 0x100) return 0xff; // junk during start-up
    switch (op & 0xe0) {
      case 0x00: {
        const reg = this.address(this.argument);
        const dummy = needsDummy(reg);
        if (n === 0) {
          this.touch(reg);
          if (dummy) return this.next() & 0xff; // E2: the dummy byte
          return this.readRegister(reg);
        }
        if (n === 1 && dummy) return this.readRegister(reg);
        this.violation(V_EXTRA_BYTES);
        return 0xff;
      }
      case 0x40:
        if (n === 0) this.writeRegister(this.address(this.argument), mosi);
        else this.violation(V_EXTRA_BYTES);
        return 0xff;
      case 0x80:
      case 0xa0: {
        if (n > 0) {
          this.violation(V_EXTRA_BYTES);
          return 0xff;
        }
        const reg = this.address(this.argument);
        if (this.isMacMii(reg)) {
          this.violation(V_BITOP_ON_MAC); // E3: ignored by the chip
          return 0xff;
        }
        const old = this.peek(reg);
        this.writeRegister(reg, (op & 0xe0) === 0x80 ? old | mosi : old & ~mosi, true);
        return 0xff;
      }
      case 0x20:
        return this.readBuffer();
      case 0x60:
        this.writeBuffer(mosi);
        return 0xff;
    }
    return 0xff;
  }

  /** What CS rising means for the command in progress. */
  private endCommand(): void {
    const op = this.opcode;
    this.opcode = -1;
    if (op < 0 || op === 0xff || op === 0x100) return;
    const kind = op & 0xe0;
    const needed = kind === 0x00 ? (needsDummy(this.address(op & 0x1f)) ? 2 : 1) : 1;
    // Every command carries at least one byte after its opcode: a buffer opcode alone means its
    // data went into another window (§4.3).
    if (this.count < needed) this.violation(V_INCOMPLETE);
  }

  private afterWindow(): void {
    this.updateInt();
  }

  private address(argument: number): number {
    return argument >= 0x1b ? argument : ((this.regs[ECON1] & ECON1_BSEL) << 5) | argument;
  }

  private isMacMii(reg: number): boolean {
    const bank = reg >> 5;
    const a = reg & 0x1f;
    return bank === 2 || (bank === 3 && (a <= 0x05 || a === 0x0a));
  }

  /** Register storage index: the common five are kept once. */
  private slot(reg: number): number {
    return (reg & 0x1f) >= 0x1b ? reg & 0x1f : reg;
  }

  private implemented(reg: number): boolean {
    const a = reg & 0x1f;
    if (a >= 0x1b) return true;
    switch (reg >> 5) {
      case 0:
        return a <= 0x17;
      case 1:
        return a <= 0x11 || a === 0x14 || a === 0x15 || a === 0x18 || a === 0x19;
      case 2:
        return (
          a <= 0x04 ||
          (a >= 0x06 && a <= 0x0b) ||
          a === 0x0d ||
          a === 0x11 ||
          a === 0x12 ||
          a === 0x14 ||
          (a >= 0x16 && a <= 0x19)
        );
      default:
        return a <= 0x0a || a === 0x12 || a === 0x15 || (a >= 0x17 && a <= 0x19);
    }
  }

  private touch(reg: number): void {
    if (!this.implemented(reg)) this.violation(V_RESERVED);
    if (this.isMacMii(reg) && this.hz < 8_000_000 && this.revision < 5)
      this.violation(V_SLOW_CLOCK);
  }

  private peek(reg: number): number {
    return this.regs[this.slot(reg)];
  }

  private readRegister(reg: number): number {
    this.advance();
    const r = this.regs;
    switch (reg) {
      case ERDPTL:
        return this.readPointer & 0xff;
      case ERDPTH:
        return this.readPointer >> 8;
      case EWRPTL:
        return this.writePointer & 0xff;
      case EWRPTH:
        return this.writePointer >> 8;
      case ERXRDPTL:
        return this.rxRead & 0xff;
      case ERXRDPTH:
        return this.rxRead >> 8;
      case ERXWRPTL:
        this.torn = this.rxStored + this.rxLoopedBack;
        return this.rxWrite & 0xff;
      case ERXWRPTH:
        if (this.torn >= 0 && this.torn !== this.rxStored + this.rxLoopedBack)
          this.violation(V_TORN_READ);
        this.torn = -1;
        return this.rxWrite >> 8;
      case EPKTCNT:
        return this.packets;
      case MISTAT:
        return this.timeUs < this.miiBusyUntil ? MISTAT_BUSY : 0;
      case MIRDL:
      case MIRDH:
        if (this.timeUs < this.miiBusyUntil) this.violation(V_MII_BUSY);
        return r[reg];
      case EREVID:
        return this.revision;
      case ESTAT:
        return (r[ESTAT] & ~ESTAT_INT) | (this.intAsserted ? ESTAT_INT : 0);
    }
    return r[this.slot(reg)];
  }

  private writeRegister(reg: number, value: number, bitOp = false): void {
    const r = this.regs;
    this.touch(reg);
    value &= 0xff;
    const txBusy = (r[ECON1] & ECON1_TXRTS) !== 0;
    switch (reg) {
      case ECON1:
        this.writeEcon1(value);
        return;
      case ECON2:
        if ((value & ECON2_PKTDEC) !== 0) {
          if (this.packets === 0) this.violation(V_PKTDEC_EMPTY);
          else this.packets--;
          if (this.packets === 0) r[EIR] &= ~EIR_PKTIF;
        }
        r[ECON2] = value & 0xb8 & ~ECON2_PKTDEC;
        return;
      case EIR: {
        // PKTIF and LINKIF are read-only: they follow EPKTCNT and PHIR.
        const keep = r[EIR] & (EIR_PKTIF | EIR_LINKIF);
        r[EIR] = (value & ~(EIR_PKTIF | EIR_LINKIF)) | keep;
        return;
      }
      case ESTAT: {
        // Only BUFER, LATECOL and TXABRT can be cleared by software.
        const fixed = r[ESTAT] & ~(0x40 | ESTAT_LATECOL | ESTAT_TXABRT);
        r[ESTAT] = fixed | (value & r[ESTAT] & (0x40 | ESTAT_LATECOL | ESTAT_TXABRT));
        return;
      }
      case EIE:
        r[EIE] = value;
        return;
      case ERDPTL:
        this.readPointer = (this.readPointer & 0x1f00) | value;
        return;
      case ERDPTH:
        this.readPointer = ((value & 0x1f) << 8) | (this.readPointer & 0xff);
        return;
      case EWRPTL:
        this.writePointer = (this.writePointer & 0x1f00) | value;
        return;
      case EWRPTH:
        this.writePointer = ((value & 0x1f) << 8) | (this.writePointer & 0xff);
        return;
      case ETXSTL:
      case ETXSTH:
      case ETXNDL:
      case ETXNDH:
        if (txBusy) this.violation(V_TX_IN_PROGRESS);
        r[reg] = reg === ETXSTH || reg === ETXNDH ? value & 0x1f : value;
        return;
      case ERXSTL:
      case ERXSTH:
      case ERXNDL:
      case ERXNDH:
        if ((r[ECON1] & ECON1_RXEN) !== 0) {
          this.violation(V_RING_WHILE_RXEN);
          return;
        }
        r[reg] = reg === ERXSTH || reg === ERXNDH ? value & 0x1f : value;
        this.rxStart = r[ERXSTL] | (r[ERXSTH] << 8);
        this.rxEnd = r[ERXNDL] | (r[ERXNDH] << 8);
        if (reg === ERXSTL || reg === ERXSTH)
          this.rxWrite = this.erxstErrata && this.rxStart !== 0 ? 0 : this.rxStart;
        return;
      case ERXRDPTL:
        this.rdptLatch = value;
        this.rdptLatchFresh = true;
        return;
      case ERXRDPTH:
        if (!this.rdptLatchFresh) this.violation(V_ERXRDPT_ORDER);
        this.rdptLatchFresh = false;
        this.rxRead = ((value & 0x1f) << 8) | this.rdptLatch;
        r[ERXRDPTL] = this.rdptLatch;
        r[ERXRDPTH] = value & 0x1f;
        if ((this.rxRead & 1) === 0) this.violation(V_EVEN_ERXRDPT);
        return;
      case ERXWRPTL:
      case ERXWRPTH:
      case EPKTCNT:
      case EREVID:
      case MISTAT:
      case MIRDL:
      case MIRDH:
        return; // read-only
      case MIREGADR:
      case MIWRL:
        if (this.timeUs < this.miiBusyUntil) this.violation(V_MII_BUSY);
        r[reg] = value;
        return;
      case MIWRH:
        if (this.timeUs < this.miiBusyUntil) this.violation(V_MII_BUSY);
        r[reg] = value;
        this.miiPending = 2;
        this.miiValue = r[MIWRL] | (value << 8);
        this.miiBusyUntil = this.timeUs + 10.24;
        return;
      case MICMD: {
        if (this.timeUs < this.miiBusyUntil) this.violation(V_MII_BUSY);
        const was = r[MICMD];
        r[MICMD] = value & 3;
        if ((value & MICMD_MIIRD) !== 0) {
          if ((was & MICMD_MIIRD) !== 0) {
            // A read starts on a 0 -> 1 transition only: MIRD keeps its old value.
            this.violation(V_MII_BUSY);
            return;
          }
          this.miiPending = 1;
          this.miiBusyUntil = this.timeUs + 10.24;
        }
        return;
      }
    }
    if (bitOp && this.isMacMii(reg)) return;
    r[this.slot(reg)] = value;
  }

  private writeEcon1(value: number): void {
    const r = this.regs;
    const old = r[ECON1];
    if ((value & ECON1_TXRST) !== 0 && (old & ECON1_TXRTS) !== 0) {
      // Resetting the transmit logic abandons a transmission (the stall workaround).
      value &= ~ECON1_TXRTS;
      this.txDoneAt = Infinity;
      this.txStalled = false;
    }
    if ((value & ECON1_TXRTS) !== 0 && (old & ECON1_TXRTS) === 0 && (value & ECON1_TXRST) === 0)
      this.startTransmit();
    else if ((value & ECON1_TXRTS) !== 0 && (old & ECON1_TXRTS) !== 0 && value !== old) {
      // TXRTS is already set: writing it again while other bits change is harmless.
    }
    if ((value & ECON1_RXRST) !== 0) {
      this.packets = 0;
      this.rxWrite = this.rxStart;
      r[EIR] &= ~EIR_PKTIF;
      value &= ~ECON1_RXEN;
    }
    if ((value & ECON1_RXEN) !== 0 && (old & ECON1_RXEN) === 0) this.checkDuplex();
    r[ECON1] = value;
  }

  private checkDuplex(): void {
    const full = (this.phy[PHCON1] & PHCON1_PDPXMD) !== 0;
    if (full !== ((this.regs[MACON3] & MACON3_FULDPX) !== 0)) this.violation(V_DUPLEX_MISMATCH);
  }

  // ================================================================ buffer memory

  private readBuffer(): number {
    const p = this.readPointer;
    const value = this.mem[p];
    if ((this.regs[ECON2] & ECON2_AUTOINC) !== 0) {
      // E7: inside the ring, the pointer wraps from ERXND to ERXST; elsewhere at 0x1FFF.
      if (p === this.rxEnd) this.readPointer = this.rxStart;
      else this.readPointer = (p + 1) & RING_MASK;
    }
    return value;
  }

  private writeBuffer(value: number): void {
    const p = this.writePointer;
    if ((this.regs[ECON1] & ECON1_TXRTS) !== 0 && p >= this.txStart && p <= this.txEnd + 7)
      this.violation(V_TX_IN_PROGRESS);
    this.mem[p] = value;
    if ((this.regs[ECON2] & ECON2_AUTOINC) !== 0) this.writePointer = (p + 1) & RING_MASK;
  }

  // ================================================================ resets

  private softReset(): void {
    this.resets++;
    this.reset();
    // E14: CLKRDY stays 1 after SRC, yet the chip ignores commands for a while.
    this.readyAtUs = this.timeUs + 1000;
    this.opcode = 0xff;
  }

  private reset(): void {
    const r = this.regs;
    const clkrdy = r[ESTAT] & ESTAT_CLKRDY;
    r.fill(0);
    r[ERDPTL] = 0xfa;
    r[ERDPTH] = 0x05;
    r[ERXSTL] = 0xfa;
    r[ERXSTH] = 0x05;
    r[ERXNDL] = 0xff;
    r[ERXNDH] = 0x1f;
    r[ERXRDPTL] = 0xfa;
    r[ERXRDPTH] = 0x05;
    r[ECON2] = ECON2_AUTOINC;
    r[ERXFCON] = 0xa1;
    r[0x48] = 0x0f; // MACLCON1
    r[0x49] = 0x37; // MACLCON2
    r[MAMXFLL] = 0x00;
    r[MAMXFLH] = 0x06;
    r[ESTAT] = clkrdy | ESTAT_CLKRDY;
    this.readPointer = 0x05fa;
    this.writePointer = 0;
    this.rxStart = 0x05fa;
    this.rxEnd = 0x1fff;
    this.rxRead = 0x05fa;
    this.rxWrite = 0;
    this.rdptLatch = 0xfa;
    this.rdptLatchFresh = false;
    this.packets = 0;
    this.txDoneAt = Infinity;
    this.txStalled = false;
    this.txStart = 0;
    this.txEnd = 0;
    this.miiBusyUntil = 0;
    this.miiPending = 0;
    const p = this.phy;
    p[PHCON1] = 0;
    p[PHCON2] = 0;
    p[PHIE] = 0;
    p[PHIR] = 0;
    this.linkWasUp = this.linkUp;
    p[PHSTAT1] = 0x1800 | (this.linkWasUp ? PHSTAT1_LLSTAT : 0);
    p[PHSTAT2] = this.linkWasUp ? PHSTAT2_LSTAT : 0;
  }

  // ================================================================ asynchronous effects

  /** Does everything due by timeUs: MII completion, link changes, transmit end, arrivals. */
  private advance(): void {
    const r = this.regs;
    const p = this.phy;
    if ((r[ESTAT] & ESTAT_CLKRDY) === 0 && this.timeUs >= this.readyAtUs) r[ESTAT] |= ESTAT_CLKRDY;
    if (this.miiPending !== 0 && this.timeUs >= this.miiBusyUntil) {
      const address = r[MIREGADR] & 0x1f;
      if (this.miiPending === 1) {
        const v = this.phyRead(address);
        r[MIRDL] = v & 0xff;
        r[MIRDH] = v >> 8;
      } else this.phyWrite(address, this.miiValue);
      this.miiPending = 0;
    }
    const up = this.linkUp;
    if (up !== this.linkWasUp) {
      this.linkWasUp = up;
      if (up) p[PHSTAT2] |= PHSTAT2_LSTAT;
      else {
        p[PHSTAT2] &= ~PHSTAT2_LSTAT;
        p[PHSTAT1] &= ~PHSTAT1_LLSTAT; // latches low
      }
      p[PHIR] |= PHIR_PLNKIF;
      if ((p[PHIE] & PHIE_PLNKIE) !== 0) p[PHIR] |= PHIR_PGIF;
      if ((p[PHIE] & PHIE_PGEIE) !== 0 && (p[PHIR] & PHIR_PGIF) !== 0) r[EIR] |= EIR_LINKIF;
      if (!up && (r[ECON1] & ECON1_TXRTS) !== 0) this.txDoneAt = this.timeUs; // aborts below
    }
    if (this.txDoneAt <= this.timeUs && !this.txStalled) this.finishTransmit();
    while (this.rxMore && this.rxWireFreeAt <= this.timeUs) {
      if (!this.arrive()) break;
    }
  }

  private phyRead(address: number): number {
    const p = this.phy;
    const v = p[address];
    if (address === PHIR) {
      // Reading PHIR clears it, and LINKIF with it (E17).
      p[PHIR] = 0;
      this.regs[EIR] &= ~EIR_LINKIF;
    } else if (address === PHSTAT1 && this.linkUp) p[PHSTAT1] |= PHSTAT1_LLSTAT;
    if (address === PHSTAT2)
      return (v & ~PHSTAT2_DPXSTAT) | ((p[PHCON1] & PHCON1_PDPXMD) !== 0 ? PHSTAT2_DPXSTAT : 0);
    return v;
  }

  private phyWrite(address: number, value: number): void {
    const p = this.phy;
    switch (address) {
      case PHCON1:
        p[PHCON1] = value & ~0x8000; // PRST self-clears
        return;
      case PHCON2:
      case PHIE:
        p[address] = value;
        return;
      case PHLCON:
        p[PHLCON] = value;
        return;
    }
  }

  /** Takes one frame off the wire into the ring; false when the wire had none. */
  private arrive(): boolean {
    const link = this.link;
    if (link === null) {
      this.rxMore = false;
      return false;
    }
    const frame = this.rxFrame;
    const length = link.receive(frame, 0, frame.length);
    if (length === 0) {
      this.rxMore = false;
      return false;
    }
    this.rxWireFreeAt = this.timeUs + wireUs(length);
    if (length > frame.length) return true; // too long for any MAC: lost on the wire
    this.store(frame, length, false);
    return true;
  }

  /** The receive filter and the ring: what the MAC does with a frame from the wire. */
  private store(frame: Uint8Array, length: number, looped: boolean): void {
    const r = this.regs;
    if (
      !this.linkUp ||
      (r[ECON1] & (ECON1_RXEN | ECON1_RXRST)) !== ECON1_RXEN ||
      (r[MACON1] & MACON1_MARXEN) === 0
    ) {
      this.rxFiltered++;
      return;
    }
    if (!this.accepts(frame)) {
      this.rxFiltered++;
      return;
    }
    // Short frames were padded on the wire; the stored count includes the FCS (E9).
    const data = length < 60 ? 60 : length;
    if (length < 60) frame.fill(0, length, 60);
    const count = data + 4;
    const need = (6 + count + 1) & ~1;
    if (this.packets === 255 || need > this.freeSpace()) {
      this.rxNoRoom++;
      r[EIR] |= EIR_RXERIF;
      return;
    }
    const start = this.rxWrite;
    let next = start + need;
    if (next > this.rxEnd) next = this.rxStart + (next - this.rxEnd - 1);
    let at = start;
    const mem = this.mem;
    const multicast = (frame[0] & 1) !== 0;
    const broadcast = isBroadcast(frame);
    at = this.put(at, next & 0xff);
    at = this.put(at, next >> 8);
    at = this.put(at, count & 0xff);
    at = this.put(at, count >> 8);
    at = this.put(at, RSV_RXOK);
    at = this.put(
      at,
      (multicast && !broadcast ? RSV_MULTICAST : 0) | (broadcast ? RSV_BROADCAST : 0),
    );
    const crc = this.crc32(frame, data);
    for (let i = 0; i < data; i++) at = this.put(at, frame[i]);
    at = this.put(at, crc & 0xff);
    at = this.put(at, (crc >>> 8) & 0xff);
    at = this.put(at, (crc >>> 16) & 0xff);
    at = this.put(at, crc >>> 24);
    if ((this.rxRead & 1) === 0 && this.evenRdptCorrupts) {
      // E6: the errata's effect, a damaged stored frame.
      let c = start + 20;
      if (c > this.rxEnd) c -= this.rxEnd - this.rxStart + 1;
      mem[c] ^= 0x5a;
    }
    if (next < start) this.rxStraddled++;
    this.rxWrite = next;
    if (looped) this.rxLoopedBack++;
    else this.rxStored++;
    if (this.packets === 0)
      this.pktifMissed = this.pktifMissRate > 0 && this.chance(this.pktifMissRate);
    this.packets++;
    if (!this.pktifMissed) r[EIR] |= EIR_PKTIF;
  }

  private put(at: number, value: number): number {
    this.mem[at] = value;
    return at === this.rxEnd ? this.rxStart : (at + 1) & RING_MASK;
  }

  /** Free ring space by the datasheet's formula: what lies between the write and read pointers. */
  private freeSpace(): number {
    const size = this.rxEnd - this.rxStart;
    if (this.rxWrite > this.rxRead) return size - (this.rxWrite - this.rxRead);
    if (this.rxWrite === this.rxRead) return size;
    return this.rxRead - this.rxWrite - 1;
  }

  private accepts(frame: Uint8Array): boolean {
    const f = this.regs[ERXFCON];
    if ((f & (ERXFCON_UCEN | ERXFCON_BCEN | ERXFCON_MCEN | ERXFCON_HTEN | 0x18)) === 0) return true; // promiscuous
    const and = (f & ERXFCON_ANDOR) !== 0;
    let any = false;
    let all = true;
    if ((f & ERXFCON_UCEN) !== 0) {
      let own = true;
      for (let i = 0; i < 6; i++) if (frame[i] !== this.regs[MAADR_OF[i]]) own = false;
      any = any || own;
      all = all && own;
    }
    if ((f & ERXFCON_BCEN) !== 0) {
      const b = isBroadcast(frame);
      any = any || b;
      all = all && b;
    }
    if ((f & ERXFCON_MCEN) !== 0) {
      const m = (frame[0] & 1) !== 0;
      any = any || m;
      all = all && m;
    }
    if ((f & ERXFCON_HTEN) !== 0) {
      const index = hashIndex(frame, 0);
      const h = (this.regs[0x20 + (index >> 3)] & (1 << (index & 7))) !== 0;
      any = any || h;
      all = all && h;
    }
    return and ? all : any;
  }

  private startTransmit(): void {
    const r = this.regs;
    this.txStart = r[ETXSTL] | (r[ETXSTH] << 8);
    this.txEnd = r[ETXNDL] | (r[ETXNDH] << 8);
    let length = this.txEnd - this.txStart; // ETXND is the last byte; ETXST the control byte
    if (length < 1 || length > this.txFrame.length - 4) length = 0;
    const mem = this.mem;
    for (let i = 0; i < length; i++) this.txFrame[i] = mem[(this.txStart + 1 + i) & RING_MASK];
    const control = mem[this.txStart];
    const macon3 = r[MACON3];
    const pad = (control & 1) !== 0 ? (control & 4) !== 0 : (macon3 & 0xe0) !== 0;
    const crc = (control & 1) !== 0 ? (control & 2) !== 0 : (macon3 & MACON3_TXCRCEN) !== 0;
    if (pad && length < 60) {
      this.txFrame.fill(0, length, 60);
      length = 60;
    }
    const huge = (control & 1) !== 0 ? (control & 8) !== 0 : (macon3 & MACON3_HFRMEN) !== 0;
    const max = r[MAMXFLL] | (r[MAMXFLH] << 8);
    this.txAbort = length === 0 || (!huge && length + (crc ? 4 : 0) > max);
    this.txLength = length;
    this.txNumber++;
    const full = (this.phy[PHCON1] & PHCON1_PDPXMD) !== 0;
    if (full !== ((macon3 & MACON3_FULDPX) !== 0)) this.violation(V_DUPLEX_MISMATCH);
    if (this.lateCollisionEvery > 0 && this.txNumber % this.lateCollisionEvery === 0)
      this.txAbort = true;
    if (full && !this.peerFullDuplex) this.txAbort = true; // duplex mismatch: late collisions
    this.txStalled = this.txStallEvery > 0 && this.txNumber % this.txStallEvery === 0;
    this.txDoneAt = this.timeUs + wireUs(length);
  }

  private finishTransmit(): void {
    const r = this.regs;
    if ((r[ECON1] & ECON1_TXRTS) === 0) {
      this.txDoneAt = Infinity;
      return;
    }
    const length = this.txLength;
    let abort = this.txAbort || !this.linkUp;
    if (!abort && this.link !== null) {
      const result = this.link.transmit(this.txFrame, 0, length);
      if (result === TX_BUSY) {
        // The medium is busy: defer, as CSMA/CD does, and try again a frame time later.
        this.txWireBusy++;
        this.txDoneAt = this.timeUs + wireUs(60);
        return;
      }
      if (result < 0) abort = true;
      // A chip's frame is on the wire once sent: a wire that batches (the TAP) sends it now.
      else if (this.link.flush !== undefined) this.link.flush();
    }
    // E24: in half duplex without HDLDIS the PHY hears its own transmission.
    if (
      !abort &&
      (this.phy[PHCON1] & PHCON1_PDPXMD) === 0 &&
      (this.phy[PHCON2] & PHCON2_HDLDIS) === 0
    )
      this.store(this.txFrame, length, true);
    // The transmit status vector lands after ETXND (E19).
    let at = (this.txEnd + 1) & RING_MASK;
    const mem = this.mem;
    const frame = this.txFrame;
    mem[at] = length & 0xff;
    at = (at + 1) & RING_MASK;
    mem[at] = length >> 8;
    at = (at + 1) & RING_MASK;
    mem[at] = abort ? 0 : TSV_DONE;
    at = (at + 1) & RING_MASK;
    mem[at] =
      (abort && this.txAbort ? TSV_LATE_COLLISION : 0) |
      ((frame[0] & 1) !== 0 ? (isBroadcast(frame) ? 2 : 1) : 0);
    at = (at + 1) & RING_MASK;
    mem[at] = (length + 4) & 0xff;
    at = (at + 1) & RING_MASK;
    mem[at] = (length + 4) >> 8;
    at = (at + 1) & RING_MASK;
    mem[at] = 0;
    r[ECON1] &= ~ECON1_TXRTS;
    this.txDoneAt = Infinity;
    if (abort) {
      this.txAborted++;
      r[EIR] |= EIR_TXERIF;
      r[ESTAT] |= ESTAT_TXABRT | (this.txAbort ? ESTAT_LATECOL : 0);
    } else {
      this.txSent++;
      r[EIR] |= EIR_TXIF;
    }
  }

  private updateInt(): void {
    const asserted = this.intAsserted;
    if (asserted && !this.intWas) {
      this.pin.edges++;
      this.edgePending = true;
    }
    this.intWas = asserted;
  }

  // ================================================================ helpers

  private violation(code: number): void {
    this.violations[code]++;
    if (this.throwOnViolation) {
      this.lastViolation = VIOLATION_NAMES[code];
      throw new Error(`enc28j60 simulator: ${VIOLATION_NAMES[code]}`);
    }
    this.lastViolation = VIOLATION_NAMES[code];
  }

  /** The Ethernet FCS of `frame[0 .. length)`, by table. */
  private crc32(frame: Uint8Array, length: number): number {
    const table = this.crcTable;
    let crc = -1;
    for (let i = 0; i < length; i++) crc = table[(crc ^ frame[i]) & 0xff] ^ (crc >>> 8);
    return ~crc >>> 0;
  }

  private next(): number {
    // xorshift32: seeded junk and dice.
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x >>> 0;
    return this.random;
  }

  private chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
}

/** Wire time of a frame of `length` bytes without FCS: preamble, FCS and gap included. */
export function wireUs(length: number): number {
  return ((length < 60 ? 60 : length) + 8 + 4 + 12) * 0.8;
}

function isBroadcast(frame: Uint8Array): boolean {
  return (
    frame[0] === 0xff &&
    frame[1] === 0xff &&
    frame[2] === 0xff &&
    frame[3] === 0xff &&
    frame[4] === 0xff &&
    frame[5] === 0xff
  );
}
