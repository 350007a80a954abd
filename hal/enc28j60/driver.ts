// ENC28J60 driver over ECMA-419 `embedded:io/spi` (and, optionally, an `embedded:io/digital` INT
// input): a NetDevice the stack attaches like any other.
//
//   const driver = new Enc28j60({ spi, mac, interrupt: intPin });
//   new Digital({ pin: 5, mode: Digital.InputPullUp, edge: Digital.Falling, target: driver,
//                 onReadable() { this.target.interrupt(); } });
//
// Every chip command is one chip-select window: Moddable keeps CS asserted across write/read/
// transfer calls until flush(true), so the driver ends each command with flush(true) and may split a
// buffer command (RBM/WBM) into several calls inside one window. Frames move through one fixed
// staging buffer with preallocated views of every power-of-two size up to 1 KB, so a frame of any
// length costs a handful of SPI calls and no allocation.
//
// Buffer layout (as Linux): the receive ring at 0x0000..0x19FF (the errata's write-pointer bug
// wants the ring at 0), the transmit area 0x1A00..0x1FFF. Half duplex by default: the chip does not
// auto-negotiate, and a negotiating partner settles on half duplex.

/// <reference path="../../node_modules/@moddable/typings/embedded_io/_common.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/spi.d.ts" />
import type SPI from "embedded:io/spi";
import { DEVICE_RECEIVE, TX_BUSY, TX_TAKEN, type NetDevice } from "../../src/device.js";
import { EMSGSIZE, ENETDOWN } from "../../src/errno.js";
import { copy } from "../../src/memops.js";
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
  EHT0,
  EIE,
  EIE_INTIE,
  EIE_LINKIE,
  EIE_PKTIE,
  EIE_RXERIE,
  EIE_TXERIE,
  EIE_TXIE,
  EIR,
  EIR_LINKIF,
  EIR_RXERIF,
  EIR_TXERIF,
  EIR_TXIF,
  EPKTCNT,
  ERDPTL,
  EREVID,
  ERXFCON,
  ERXFCON_BCEN,
  ERXFCON_CRCEN,
  ERXFCON_HTEN,
  ERXFCON_UCEN,
  ERXNDL,
  ERXRDPTL,
  ERXSTL,
  ESTAT,
  ESTAT_CLKRDY,
  ESTAT_LATECOL,
  ESTAT_TXABRT,
  ETXNDL,
  ETXSTL,
  EWRPTL,
  hashIndex,
  MAADR_OF,
  MABBIPG,
  MACON1,
  MACON1_MARXEN,
  MACON1_RXPAUS,
  MACON1_TXPAUS,
  MACON3,
  MACON3_FRMLNEN,
  MACON3_FULDPX,
  MACON3_PADCFG0,
  MACON3_TXCRCEN,
  MACON4,
  MACON4_DEFER,
  MAIPGH,
  MAIPGL,
  MAMXFLL,
  MAX_FRAME,
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
  OP_BFC,
  OP_BFS,
  OP_RBM,
  OP_RCR,
  OP_SRC,
  OP_WBM,
  OP_WCR,
  PHCON1,
  PHCON1_PDPXMD,
  PHCON2,
  PHCON2_HDLDIS,
  PHIE,
  PHIE_PGEIE,
  PHIE_PLNKIE,
  PHIR,
  PHLCON,
  PHSTAT2,
  PHSTAT2_LSTAT,
  RSV_RXOK,
  TSV_LATE_COLLISION,
} from "./registers.js";

/** The part of an ECMA-419 SPI instance the driver uses; a Moddable `SPI` fits it. */
export interface SpiBus {
  write(buffer: Uint8Array): void;
  read(buffer: Uint8Array): void;
  transfer(buffer: Uint8Array): void;
  flush(deselect?: boolean): void;
}

/** Compile-time proof that Moddable's SPI class satisfies SpiBus. */
export type ModdableSpiFits = SPI extends SpiBus ? true : never;

/** The INT input: read() is 0 while the chip requests service (an ECMA-419 Digital fits). */
export interface InterruptInput {
  read(): number;
}

export interface Enc28j60Options {
  spi: SpiBus;
  /** Station address, 6 bytes. */
  mac: Uint8Array;
  /**
   * The INT input. With it, the owner calls interrupt() from the pin's falling-edge callback and the
   * driver services the chip only then; without it, poll() services the chip every time and the
   * driver asks to be polled every `pollIntervalMs`.
   */
  interrupt?: InterruptInput | null;
  /** Full duplex (the link partner must be forced to full duplex too). Default false. */
  fullDuplex?: boolean;
  /** Polling period without an INT input, ms (default 1). */
  pollIntervalMs?: number;
  /** How long a transmission may take before the transmit logic is reset, ms (default 20). */
  txTimeoutMs?: number;
  /**
   * With an INT input, the longest time between two services, ms (default 1000): a safety net for
   * a frame whose PKTIF never rose (errata) and for a ring gone deaf.
   */
  watchdogMs?: number;
}

const STATE_OFF = 0;
const STATE_RESET = 1;
const STATE_RUNNING = 2;
const STATE_DEAD = 3;

/** Receive ring [0, RX_END], transmit area after it (Linux's split). */
const RX_START = 0x0000;
const RX_END = 0x19ff;
const TX_START = 0x1a00;
/** Wait after SRC, ms: the errata says CLKRDY proves nothing after SRC, so wait ≥ 1 ms. */
const RESET_WAIT_MS = 2;
/** Late-collision retries before a frame is given up, as Linux and Microchip do. */
const TX_RETRIES = 16;
/** MISTAT polls before a PHY access is declared dead. */
const MII_POLLS = 1000;
/** Staging buffer for frame transfers: one view per power of two up to this size. */
const STAGE = 1024;

export class Enc28j60 implements NetDevice {
  readonly mac: Uint8Array;
  readonly mtu = 1500;
  onEvent: ((events: number) => void) | null = null;

  // ---- counters
  rxFrames = 0;
  /** Frames the chip flagged bad (status, length), skipped. */
  rxErrors = 0;
  /** Receive-error interrupts: frames the chip dropped for lack of ring space. */
  rxOverflows = 0;
  /** Receive-logic resets (corrupt header, a deaf ring). */
  rxResets = 0;
  txFrames = 0;
  /** Frames given up after aborts. */
  txErrors = 0;
  /** Retransmissions after a late collision or a stall. */
  txRetries = 0;
  /** Transmissions that did not finish in time (the TX-stall errata), recovered by TXRST. */
  txTimeouts = 0;
  /** Transmissions that had finished, yet only the timeout noticed: their interrupt never came. */
  txUnreported = 0;
  /** Offers answered TX_BUSY. */
  txBusyAnswers = 0;
  linkChanges = 0;
  /** PHY accesses whose BUSY never cleared. */
  miiTimeouts = 0;
  /** Services of the chip's interrupt flags. */
  services = 0;
  /** EREVID read at start-up (0 before). */
  revision = 0;

  private readonly spi: SpiBus;
  private readonly pin: InterruptInput | null;
  private readonly fullDuplex: boolean;
  private readonly pollIntervalMs: number;
  private readonly txTimeoutMs: number;
  private readonly watchdogMs: number;
  private lastService = 0;
  private state = STATE_OFF;
  private now = 0;
  private resetAt = 0;
  private lastPoll = 0;
  private bank = 0;
  private link = false;
  private irq = true;
  private rxCheck = true;
  private pending = 0;
  private nextPacket = RX_START;
  /** Where ERDPT is known to point, or -1. */
  private readPointer = -1;
  private txBusy = false;
  private txStartedAt = 0;
  private txEnd = 0;
  private txAttempts = 0;
  private readonly hashTable = new Uint8Array(8);
  private hashGroups = 0;
  private readonly cmd2 = new Uint8Array(2);
  private readonly cmd3 = new Uint8Array(3);
  private readonly rbm = Uint8Array.of(OP_RBM);
  private readonly wbm = Uint8Array.of(OP_WBM, 0x00); // opcode, per-packet control byte
  private readonly src = Uint8Array.of(OP_SRC);
  private readonly header = new Uint8Array(6);
  private readonly tsv = new Uint8Array(7);
  private readonly stage = new Uint8Array(STAGE);
  /** views[i] is the first STAGE >> i bytes of the staging buffer. */
  private readonly views: Uint8Array[] = [];

  constructor(options: Enc28j60Options) {
    if (options.mac.length !== 6) throw new RangeError("enc28j60: a MAC address is 6 bytes");
    this.spi = options.spi;
    this.mac = Uint8Array.from(options.mac);
    this.pin = options.interrupt ?? null;
    this.fullDuplex = options.fullDuplex ?? false;
    this.pollIntervalMs = options.pollIntervalMs ?? 1;
    this.txTimeoutMs = options.txTimeoutMs ?? 20;
    this.watchdogMs = options.watchdogMs ?? 1000;
    for (let size = STAGE; size >= 1; size >>= 1)
      this.views.push(new Uint8Array(this.stage.buffer, 0, size));
  }

  get linkUp(): boolean {
    return this.link;
  }

  /** Whether start-up finished and the chip answers. */
  get running(): boolean {
    return this.state === STATE_RUNNING;
  }

  /** Call from the INT pin's falling-edge callback: the next poll services the chip. */
  interrupt(): void {
    this.irq = true;
    const listener = this.onEvent;
    if (listener !== null) listener(DEVICE_RECEIVE);
  }

  // ================================================================ NetDevice

  poll(now: number): void {
    this.now = now;
    this.lastPoll = now;
    switch (this.state) {
      case STATE_OFF:
        this.startReset(now);
        return;
      case STATE_RESET:
        if (now - this.resetAt >= RESET_WAIT_MS) this.initialise(now);
        return;
      case STATE_RUNNING:
        break;
      default:
        return;
    }
    if (this.pin === null || this.irq || now - this.lastService >= this.watchdogMs) this.service();
    if (this.txBusy && now - this.txStartedAt >= this.txTimeoutMs) this.txStalled();
  }

  nextDeadline(): number {
    switch (this.state) {
      case STATE_OFF:
        return 0;
      case STATE_RESET:
        return this.resetAt + RESET_WAIT_MS;
      case STATE_DEAD:
        return Infinity;
    }
    if (this.pin === null) return this.lastPoll + this.pollIntervalMs;
    if (this.irq) return this.now;
    const watchdog = this.lastService + this.watchdogMs;
    const tx = this.txStartedAt + this.txTimeoutMs;
    return this.txBusy && tx < watchdog ? tx : watchdog;
  }

  transmit(frame: Uint8Array, offset: number, length: number): number {
    if (this.state !== STATE_RUNNING || !this.link) return -ENETDOWN;
    if (length < 14 || length > this.mtu + 14) return -EMSGSIZE;
    if (this.txBusy) {
      // The chip holds one frame; ECON1.TXRTS is still set.
      this.txBusyAnswers++;
      return TX_BUSY;
    }
    this.write16(EWRPTL, TX_START);
    const spi = this.spi;
    spi.write(this.wbm);
    this.writeChunks(frame, offset, length);
    spi.flush(true);
    // ETXND is the frame's last byte: the control byte sits at ETXST.
    this.txEnd = TX_START + length;
    this.write16(ETXNDL, this.txEnd);
    this.bitSet(ECON1, ECON1_TXRTS);
    this.txBusy = true;
    this.txStartedAt = this.now;
    this.txAttempts = 1;
    return TX_TAKEN;
  }

  receive(frame: Uint8Array, offset: number, capacity: number): number {
    if (this.state !== STATE_RUNNING) return 0;
    for (;;) {
      if (this.pending === 0) {
        // EPKTCNT, not PKTIF, says whether frames wait (errata: PKTIF can miss one).
        if (!this.rxCheck) return 0;
        this.rxCheck = false;
        this.pending = this.readRegister(EPKTCNT);
        if (this.pending === 0) return 0;
      }
      const length = this.receiveOne(frame, offset, capacity);
      if (length !== 0) return length;
      if (this.state !== STATE_RUNNING) return 0;
    }
  }

  setMulticastFilter(macs: Uint8Array, count: number): void {
    const table = this.hashTable;
    table.fill(0);
    for (let g = 0; g < count; g++) {
      const index = hashIndex(macs, g * 6);
      table[index >> 3] |= 1 << (index & 7);
    }
    this.hashGroups = count;
    if (this.state === STATE_RUNNING) this.writeFilter();
  }

  // ================================================================ start-up

  private startReset(now: number): void {
    const spi = this.spi;
    spi.write(this.src);
    spi.flush(true);
    this.bank = 0; // ECON1 (and BSEL) is 0 after reset
    this.readPointer = -1;
    this.resetAt = now;
    this.state = STATE_RESET;
  }

  private initialise(now: number): void {
    const revision = this.readRegister(EREVID);
    if (revision === 0 || revision === 0xff) {
      this.state = STATE_DEAD; // no chip, or MISO stuck
      return;
    }
    if ((this.readRegister(ESTAT) & ESTAT_CLKRDY) === 0) {
      this.resetAt = now - RESET_WAIT_MS + 1; // oscillator not up yet: look again in 1 ms
      return;
    }
    this.revision = revision;
    this.writeRegister(ECON1, 0);
    this.bank = 0;
    this.writeRegister(ECON2, ECON2_AUTOINC);
    this.ringInit();
    this.write16(ETXSTL, TX_START);
    const full = this.fullDuplex;
    this.writeRegister(MACON1, MACON1_MARXEN | (full ? MACON1_TXPAUS | MACON1_RXPAUS : 0));
    this.writeRegister(
      MACON3,
      MACON3_PADCFG0 | MACON3_TXCRCEN | MACON3_FRMLNEN | (full ? MACON3_FULDPX : 0),
    );
    this.writeRegister(MACON4, full ? 0 : MACON4_DEFER);
    this.writeRegister(MABBIPG, full ? 0x15 : 0x12);
    this.writeRegister(MAIPGL, 0x12);
    if (!full) this.writeRegister(MAIPGH, 0x0c);
    this.write16(MAMXFLL, MAX_FRAME);
    for (let i = 0; i < 6; i++) this.writeRegister(MAADR_OF[i], this.mac[i]);
    this.writeFilter();
    this.writePhy(PHCON1, full ? PHCON1_PDPXMD : 0);
    // Half duplex: without HDLDIS the PHY loops our own frames back into the ring.
    this.writePhy(PHCON2, full ? 0 : PHCON2_HDLDIS);
    this.writePhy(PHLCON, 0x3476); // LEDA link, LEDB activity; bits 13:12 must be 1
    this.writePhy(PHIE, PHIE_PGEIE | PHIE_PLNKIE);
    this.readPhy(PHIR);
    this.link = (this.readPhy(PHSTAT2) & PHSTAT2_LSTAT) !== 0;
    this.bitClear(EIR, 0xff);
    this.writeRegister(
      EIE,
      (this.pin !== null ? EIE_INTIE : 0) |
        EIE_PKTIE |
        EIE_LINKIE |
        EIE_TXIE |
        EIE_TXERIE |
        EIE_RXERIE,
    );
    this.bitSet(ECON1, ECON1_RXEN);
    this.state = STATE_RUNNING;
    this.irq = true;
    this.rxCheck = true;
    if (this.link) this.linkChanges++;
  }

  /** The receive ring, with reception off: start, end, and an odd ERXRDPT (errata). */
  private ringInit(): void {
    this.write16(ERXSTL, RX_START);
    this.write16(ERXNDL, RX_END);
    this.write16(ERXRDPTL, RX_END);
    this.nextPacket = RX_START;
    this.pending = 0;
    this.readPointer = -1;
  }

  private writeFilter(): void {
    for (let i = 0; i < 8; i++) this.writeRegister(EHT0 + i, this.hashTable[i]);
    this.writeRegister(
      ERXFCON,
      ERXFCON_UCEN | ERXFCON_CRCEN | ERXFCON_BCEN | (this.hashGroups > 0 ? ERXFCON_HTEN : 0),
    );
  }

  // ================================================================ interrupts

  /** Reads and clears the interrupt flags, with INTIE off so the pin releases meanwhile. */
  private service(): void {
    this.irq = false;
    this.services++;
    this.lastService = this.now;
    const edge = this.pin !== null;
    if (edge) this.bitClear(EIE, EIE_INTIE);
    const flags = this.readRegister(EIR);
    if ((flags & EIR_LINKIF) !== 0) {
      this.readPhy(PHIR); // clears LINKIF
      const up = (this.readPhy(PHSTAT2) & PHSTAT2_LSTAT) !== 0;
      if (up !== this.link) {
        this.link = up;
        this.linkChanges++;
      }
    }
    if ((flags & (EIR_TXIF | EIR_TXERIF)) !== 0 && this.txBusy) this.transmitDone(flags);
    if ((flags & EIR_RXERIF) !== 0) {
      this.rxOverflows++;
      this.bitClear(EIR, EIR_RXERIF);
      // A ring that overflowed yet holds no frame has gone deaf: reset the receive logic.
      if (this.pending === 0 && this.readRegister(EPKTCNT) === 0) this.receiveReset();
    }
    // Always look at EPKTCNT: PKTIF can fail to report a frame (errata).
    this.rxCheck = true;
    if (edge) {
      this.bitSet(EIE, EIE_INTIE);
      // Still requesting: the new edge may coalesce with the old one, so service again.
      if ((this.pin as InterruptInput).read() === 0) this.irq = true;
    }
  }

  private transmitDone(flags: number): void {
    if ((flags & EIR_TXERIF) !== 0) {
      // The status vector after ETXND says why.
      this.write16(ERDPTL, (this.txEnd + 1) & 0x1fff);
      const spi = this.spi;
      spi.write(this.rbm);
      spi.read(this.tsv);
      spi.flush(true);
      this.readPointer = -1;
      const late = (this.tsv[3] & TSV_LATE_COLLISION) !== 0;
      this.resetTransmitter();
      if (late && this.txAttempts < TX_RETRIES) {
        this.txAttempts++;
        this.txRetries++;
        this.txStartedAt = this.now;
        this.bitSet(ECON1, ECON1_TXRTS); // the frame is still in the buffer
        return;
      }
      this.txErrors++;
    } else {
      this.txFrames++;
      this.bitClear(EIR, EIR_TXIF);
    }
    this.txBusy = false;
  }

  /** The errata workaround: pulse TXRST, clear the abort flags. */
  private resetTransmitter(): void {
    this.bitSet(ECON1, ECON1_TXRST);
    this.bitClear(ECON1, ECON1_TXRST);
    this.bitClear(ESTAT, ESTAT_TXABRT | ESTAT_LATECOL);
    this.bitClear(EIR, EIR_TXERIF | EIR_TXIF);
  }

  /** TXRTS did not clear in time (errata: the transmit logic can hang). */
  private txStalled(): void {
    if ((this.readRegister(ECON1) & ECON1_TXRTS) === 0) {
      // It finished; the flags will tell how at the next service.
      this.txUnreported++;
      this.irq = true;
      this.txStartedAt = this.now;
      return;
    }
    this.txTimeouts++;
    this.resetTransmitter();
    if (this.txAttempts < TX_RETRIES) {
      this.txAttempts++;
      this.txRetries++;
      this.txStartedAt = this.now;
      this.bitSet(ECON1, ECON1_TXRTS);
      return;
    }
    this.txErrors++;
    this.txBusy = false;
  }

  // ================================================================ receive

  /** Reads the frame at nextPacket: its length, or 0 when it was skipped. */
  private receiveOne(frame: Uint8Array, offset: number, capacity: number): number {
    const spi = this.spi;
    if (this.readPointer !== this.nextPacket) this.write16(ERDPTL, this.nextPacket);
    const h = this.header;
    spi.write(this.rbm);
    spi.read(h);
    const next = h[0] | (h[1] << 8);
    const count = h[2] | (h[3] << 8);
    if ((next & 1) !== 0 || next > RX_END || count > MAX_FRAME + 4) {
      // A corrupt header: nothing after it can be trusted.
      spi.flush(true);
      this.receiveReset();
      return 0;
    }
    const length = count - 4;
    const good = (h[4] & RSV_RXOK) !== 0 && length >= 14;
    if (good) {
      const n = length < capacity ? length : capacity;
      this.readChunks(frame, offset, n);
      if (n === length) {
        // FCS and pad too, which leaves ERDPT at the next frame.
        this.readChunks(this.stage, 0, 4 + (count & 1));
        this.readPointer = next;
      } else this.readPointer = -1;
    } else this.readPointer = -1;
    spi.flush(true);
    // Free the space: ERXRDPT must be odd (errata), so one behind the even next pointer.
    this.write16(ERXRDPTL, next === RX_START ? RX_END : next - 1);
    this.bitSet(ECON2, ECON2_PKTDEC);
    this.nextPacket = next;
    this.pending--;
    if (!good) {
      this.rxErrors++;
      return 0;
    }
    this.rxFrames++;
    return length;
  }

  private receiveReset(): void {
    this.rxResets++;
    this.bitClear(ECON1, ECON1_RXEN);
    this.bitSet(ECON1, ECON1_RXRST);
    this.bitClear(ECON1, ECON1_RXRST);
    this.ringInit();
    this.bitClear(EIR, EIR_RXERIF);
    this.bitSet(ECON1, ECON1_RXEN);
  }

  // ================================================================ bus

  /** Reads `n` bytes of an open RBM window into `dst[offset..]`, in power-of-two chunks. */
  private readChunks(dst: Uint8Array, offset: number, n: number): void {
    const spi = this.spi;
    const views = this.views;
    const stage = this.stage;
    while (n >= STAGE) {
      spi.read(views[0]);
      if (dst !== stage) copy(dst, offset, stage, 0, STAGE);
      offset += STAGE;
      n -= STAGE;
    }
    for (let i = 1; n > 0; i++) {
      const size = STAGE >> i;
      if (n < size) continue;
      spi.read(views[i]);
      if (dst !== stage) copy(dst, offset, stage, 0, size);
      offset += size;
      n -= size;
    }
  }

  /** Writes `n` bytes from `src[offset..]` into an open WBM window, in power-of-two chunks. */
  private writeChunks(src: Uint8Array, offset: number, n: number): void {
    const spi = this.spi;
    const views = this.views;
    const stage = this.stage;
    while (n >= STAGE) {
      copy(stage, 0, src, offset, STAGE);
      spi.write(views[0]);
      offset += STAGE;
      n -= STAGE;
    }
    for (let i = 1; n > 0; i++) {
      const size = STAGE >> i;
      if (n < size) continue;
      copy(stage, 0, src, offset, size);
      spi.write(views[i]);
      offset += size;
      n -= size;
    }
  }

  /** One two-byte command in its own CS window. */
  private command(opcode: number, value: number): void {
    const c = this.cmd2;
    c[0] = opcode;
    c[1] = value;
    this.spi.write(c);
    this.spi.flush(true);
  }

  /** Selects the bank of `reg` (common registers need none), with BFC/BFS on ECON1. */
  private select(reg: number): void {
    if ((reg & 0x1f) >= 0x1b) return;
    const bank = reg >> 5;
    const current = this.bank;
    if (bank === current) return;
    const clear = current & ~bank & ECON1_BSEL;
    const set = bank & ~current & ECON1_BSEL;
    if (clear !== 0) this.command(OP_BFC | ECON1, clear);
    if (set !== 0) this.command(OP_BFS | ECON1, set);
    this.bank = bank;
  }

  private readRegister(reg: number): number {
    this.select(reg);
    const spi = this.spi;
    if (needsDummy(reg)) {
      const c = this.cmd3;
      c[0] = OP_RCR | (reg & 0x1f);
      c[1] = 0;
      c[2] = 0;
      spi.transfer(c);
      spi.flush(true);
      return c[2];
    }
    const c = this.cmd2;
    c[0] = OP_RCR | (reg & 0x1f);
    c[1] = 0;
    spi.transfer(c);
    spi.flush(true);
    return c[1];
  }

  private writeRegister(reg: number, value: number): void {
    this.select(reg);
    this.command(OP_WCR | (reg & 0x1f), value);
  }

  /** A 16-bit register pair, low byte first (ERXRDPT commits on the high byte). */
  private write16(low: number, value: number): void {
    this.writeRegister(low, value & 0xff);
    this.writeRegister(low + 1, (value >> 8) & 0xff);
  }

  /** BFS: ETH registers only. */
  private bitSet(reg: number, mask: number): void {
    this.select(reg);
    this.command(OP_BFS | (reg & 0x1f), mask);
  }

  private bitClear(reg: number, mask: number): void {
    this.select(reg);
    this.command(OP_BFC | (reg & 0x1f), mask);
  }

  private waitMii(): boolean {
    for (let i = 0; i < MII_POLLS; i++)
      if ((this.readRegister(MISTAT) & MISTAT_BUSY) === 0) return true;
    this.miiTimeouts++;
    return false;
  }

  private readPhy(address: number): number {
    this.writeRegister(MIREGADR, address);
    this.writeRegister(MICMD, MICMD_MIIRD);
    const ok = this.waitMii();
    this.writeRegister(MICMD, 0);
    if (!ok) return 0;
    return this.readRegister(MIRDL) | (this.readRegister(MIRDH) << 8);
  }

  private writePhy(address: number, value: number): void {
    this.writeRegister(MIREGADR, address);
    this.writeRegister(MIWRL, value & 0xff);
    this.writeRegister(MIWRH, value >> 8);
    this.waitMii();
  }
}
