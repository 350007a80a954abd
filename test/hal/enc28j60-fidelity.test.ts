// The simulator's fidelity checks (ethernet-macs.md Part 4.1 and 4.3): for each, a deliberately
// wrong driver access made through raw SPI commands, and the simulator catching it, as a recorded
// violation or as the effect the silicon would have. The real driver starts the chip first and must
// itself cause no violation.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Enc28j60 } from "../../hal/enc28j60/driver.js";
import * as R from "../../hal/enc28j60/registers.js";
import {
  Enc28j60Sim,
  type Enc28j60SimOptions,
  V_BITOP_ON_MAC,
  V_DUPLEX_MISMATCH,
  V_ERXRDPT_ORDER,
  V_EVEN_ERXRDPT,
  V_EXTRA_BYTES,
  V_INCOMPLETE,
  V_MII_BUSY,
  V_NOT_READY,
  V_PKTDEC_EMPTY,
  V_RESERVED,
  V_RING_WHILE_RXEN,
  V_SLOW_CLOCK,
  V_TORN_READ,
  V_TX_IN_PROGRESS,
} from "../../hal/enc28j60/simulator.js";
import { LinkPair } from "../../hal/pair.js";
import { udpFrame } from "../support/harness.js";
import { pattern } from "../support/frames.js";
import { CHIP_MAC } from "./enc28j60-rig.js";

/** A chip on one end of a pair, started by the real driver; the test holds the other end. */
class Bench {
  readonly pair = new LinkPair({ slots: 64 });
  readonly sim: Enc28j60Sim;
  readonly driver: Enc28j60;
  now = 0;

  constructor(options: Enc28j60SimOptions = {}, start = true) {
    this.sim = new Enc28j60Sim(this.pair.a, { clock: () => this.now, seed: 3, ...options });
    this.driver = new Enc28j60({ spi: this.sim, mac: CHIP_MAC, interrupt: this.sim.pin });
    const driver = this.driver;
    this.sim.pin.onReadable = () => driver.interrupt();
    if (start) {
      this.driver.poll(0);
      this.at(3);
      this.driver.poll(3);
      assert.ok(this.driver.running, "the driver started the chip");
      assert.is(this.sim.violationCount, 0, `start-up clean (${this.sim.lastViolation})`);
    }
  }

  /** Moves the clock and lets the chip catch up (frames arrive, transmissions end). */
  at(ms: number): void {
    this.now = ms;
    this.sim.poll(ms);
  }

  later(ms = 1): void {
    this.at(this.now + ms);
  }

  /** One command in one CS window. */
  cmd(...bytes: number[]): void {
    this.sim.write(Uint8Array.from(bytes));
    this.sim.flush(true);
  }

  bank(b: number): void {
    this.cmd(R.OP_BFC | R.ECON1, 3);
    if (b !== 0) this.cmd(R.OP_BFS | R.ECON1, b);
  }

  /** RCR of an address in the current bank: byte 1 (ETH) or byte 2 (MAC/MII). */
  rcr(address: number, dummy = false): number {
    const c = new Uint8Array(dummy ? 3 : 2);
    c[0] = R.OP_RCR | address;
    this.sim.transfer(c);
    this.sim.flush(true);
    return c[c.length - 1];
  }

  wcr(address: number, value: number): void {
    this.cmd(R.OP_WCR | address, value);
  }

  rbm(n: number): Uint8Array {
    const out = new Uint8Array(n);
    this.sim.write(Uint8Array.of(R.OP_RBM));
    this.sim.read(out);
    this.sim.flush(true);
    return out;
  }

  /** Puts a frame in the TX area and starts it, as a driver would (ETXND = start + length). */
  send(frame: Uint8Array, etxndExtra = 0): void {
    this.bank(0);
    this.wcr(R.EWRPTL, 0x00);
    this.wcr(R.EWRPTH, 0x1a);
    this.sim.write(Uint8Array.of(R.OP_WBM, 0));
    this.sim.write(frame);
    this.sim.flush(true);
    const end = 0x1a00 + frame.length + etxndExtra;
    this.wcr(R.ETXNDL, end & 0xff);
    this.wcr(R.ETXNDH, end >> 8);
    this.cmd(R.OP_BFS | R.ECON1, R.ECON1_TXRTS);
  }

  /** A frame from the peer to the chip's MAC. */
  deliver(frame = udpFrame(pattern(100))): void {
    assert.is(this.pair.b.transmit(frame, 0, frame.length), 1);
    this.later(1);
  }

  violations(code: number): number {
    return this.sim.violations[code];
  }
}

test("E1: an address read in the wrong bank (EPKTCNT without bank 1) is caught", () => {
  const b = new Bench();
  b.bank(0);
  b.rcr(R.EPKTCNT & 0x1f); // 0x19 in bank 0 is unimplemented
  assert.is(b.violations(V_RESERVED), 1);
});

test("E1: a bank cache not reset by SRC writes bank 0 instead of the MAC address", () => {
  const b = new Bench();
  b.bank(3);
  b.cmd(R.OP_SRC);
  b.later(2);
  // The stale driver still believes bank 3 is selected: MAADR1 (0x04) lands in ETXSTL.
  b.wcr(R.MAADR1 & 0x1f, 0x77);
  assert.is(b.sim.regs[R.ETXSTL], 0x77);
  assert.is(b.sim.regs[R.MAADR1], 0);
});

test("E2: a MAC register read without the dummy byte is cut short", () => {
  const b = new Bench();
  b.bank(2);
  const wrong = b.rcr(R.MACON3 & 0x1f, false);
  assert.is(b.violations(V_INCOMPLETE), 1);
  const right = b.rcr(R.MACON3 & 0x1f, true);
  assert.is(right, b.sim.regs[R.MACON3]);
  assert.ok(wrong !== right || b.sim.regs[R.MACON3] === 0xff, "byte 1 is the dummy");
});

test("E3: BFS on a MAC register is ignored and recorded", () => {
  const b = new Bench();
  b.bank(2);
  const before = b.sim.regs[R.MACON1];
  b.cmd(R.OP_BFS | (R.MACON1 & 0x1f), 0x08);
  assert.is(b.sim.regs[R.MACON1], before);
  assert.is(b.violations(V_BITOP_ON_MAC), 1);
});

test("E4: a 16-bit pointer written in one WCR window: the high byte is lost", () => {
  const b = new Bench();
  b.bank(0);
  b.cmd(R.OP_WCR | R.ERDPTL, 0x34, 0x12);
  assert.is(b.violations(V_EXTRA_BYTES), 1);
  assert.is(b.sim.regs[R.ERDPTH] === 0x12, false);
});

test("E5: ERXRDPT written high byte first: the stale latch is committed", () => {
  const b = new Bench();
  b.bank(0);
  b.wcr(R.ERXRDPTH, 0x10);
  b.wcr(R.ERXRDPTL, 0x01);
  assert.is(b.violations(V_ERXRDPT_ORDER), 1);
  assert.not.equal(b.sim.receiveReadPointer, 0x1001, "the value is not what was meant");
});

test("E6: an even ERXRDPT is flagged (errata); with the option the next frame is damaged", () => {
  const b = new Bench({ evenRdptCorrupts: true });
  b.bank(0);
  b.wcr(R.ERXRDPTL, 0xfe);
  b.wcr(R.ERXRDPTH, 0x19);
  assert.is(b.violations(V_EVEN_ERXRDPT), 1);
  const frame = udpFrame(pattern(100));
  b.deliver(frame);
  b.wcr(R.ERDPTL, 0);
  b.wcr(R.ERDPTH, 0);
  const stored = b.rbm(6 + frame.length);
  let differs = false;
  for (let i = 0; i < frame.length; i++) if (stored[6 + i] !== frame[i]) differs = true;
  assert.ok(differs, "the stored frame was corrupted");
});

test("E7: RBM wraps from ERXND to ERXST; WBM wraps only at 0x1FFF", () => {
  const b = new Bench();
  const mem = b.sim.mem;
  mem[0x19fe] = 1;
  mem[0x19ff] = 2;
  mem[0] = 3;
  mem[1] = 4;
  b.bank(0);
  b.wcr(R.ERDPTL, 0xfe);
  b.wcr(R.ERDPTH, 0x19);
  assert.equal(Array.from(b.rbm(4)), [1, 2, 3, 4], "a manual wrap would read 0x1A00");
  b.wcr(R.EWRPTL, 0xff);
  b.wcr(R.EWRPTH, 0x1f);
  b.cmd(R.OP_WBM, 9, 8);
  assert.is(mem[0x1fff], 9);
  assert.is(mem[0], 8);
});

test("E8/E9: frames stored at even addresses with header, FCS counted and present, odd pad", () => {
  const b = new Bench();
  const frame = udpFrame(pattern(47)); // 14 + 20 + 8 + 47 = 89 bytes: odd
  assert.is(frame.length & 1, 1);
  b.deliver(frame);
  b.bank(0);
  b.wcr(R.ERDPTL, 0);
  b.wcr(R.ERDPTH, 0);
  const h = b.rbm(6);
  const next = h[0] | (h[1] << 8);
  const count = h[2] | (h[3] << 8);
  assert.is(count, frame.length + 4, "the byte count includes the FCS");
  assert.is(next, 6 + count + 1, "the next frame starts at an even address after a pad byte");
  assert.ok((h[4] & R.RSV_RXOK) !== 0);
  const body = b.rbm(count);
  assert.equal(Array.from(body.subarray(0, frame.length)), Array.from(frame));
  // The FCS is there: a driver passing `count` bytes up hands the stack 4 extra bytes.
  assert.ok(body[count - 1] !== 0 || body[count - 2] !== 0 || body[count - 3] !== 0);
});

test("E8: frames straddle ERXND and the driver reads them intact across the wrap", () => {
  const b = new Bench();
  const buffer = new Uint8Array(1600);
  const frame = udpFrame(pattern(1000));
  for (let i = 0; i < 20; i++) {
    frame[60] = i;
    b.deliver(frame);
    b.driver.poll(b.now);
    assert.is(b.driver.receive(buffer, 0, buffer.length), frame.length);
    assert.is(buffer[60], i);
    assert.equal(Array.from(buffer.subarray(0, frame.length)), Array.from(frame));
  }
  assert.ok(b.sim.rxStraddled >= 1, "a frame crossed the ring's end");
  assert.is(b.sim.violationCount, 0);
});

test("E10: a driver that never moves ERXRDPT fills the ring: whole frames dropped, RXERIF", () => {
  const b = new Bench();
  b.sim.pin.onReadable = null;
  for (let i = 0; i < 12; i++) b.deliver(udpFrame(pattern(1000)));
  assert.ok(b.sim.packetCount >= 5 && b.sim.packetCount <= 6, `${b.sim.packetCount} frames fit`);
  assert.ok(b.sim.rxNoRoom >= 6);
  assert.ok((b.sim.regs[R.EIR] & R.EIR_RXERIF) !== 0);
});

test("E11: PKTDEC without advancing ERXRDPT frees nothing", () => {
  const b = new Bench();
  for (let i = 0; i < 8; i++) b.deliver(udpFrame(pattern(1000)));
  const stored = b.sim.rxStored;
  const count = b.sim.packetCount;
  for (let i = 0; i < count; i++) b.cmd(R.OP_BFS | R.ECON2, R.ECON2_PKTDEC);
  assert.is(b.sim.packetCount, 0);
  b.deliver(udpFrame(pattern(1000)));
  assert.is(b.sim.rxStored, stored, "still no room: space follows ERXRDPT only");
});

test("E12: PKTIF is read-only and follows EPKTCNT", () => {
  const b = new Bench();
  b.sim.pin.onReadable = null;
  b.deliver();
  b.cmd(R.OP_BFC | R.EIR, R.EIR_PKTIF);
  assert.ok((b.sim.regs[R.EIR] & R.EIR_PKTIF) !== 0, "BFC cannot clear PKTIF");
});

test("E12: with the errata option a frame raises no PKTIF: a PKTIF-only reader misses it", () => {
  const b = new Bench({ pktifMissRate: 1 });
  b.sim.pin.onReadable = null;
  b.deliver();
  assert.is(b.sim.packetCount, 1);
  assert.is(b.sim.regs[R.EIR] & R.EIR_PKTIF, 0);
});

test("E13: PKTDEC with nothing stored is a double decrement", () => {
  const b = new Bench();
  b.cmd(R.OP_BFS | R.ECON2, R.ECON2_PKTDEC);
  assert.is(b.violations(V_PKTDEC_EMPTY), 1);
  assert.is(b.sim.regs[R.ECON2] & R.ECON2_PKTDEC, 0, "PKTDEC self-clears");
});

test("E14: a driver that polls CLKRDY after SRC instead of waiting talks to a chip not ready", () => {
  const b = new Bench();
  b.cmd(R.OP_SRC);
  // CLKRDY is still 1 after SRC: polling it proves nothing.
  const c = Uint8Array.of(R.OP_RCR | R.ESTAT, 0);
  b.sim.transfer(c);
  b.sim.flush(true);
  assert.is(b.violations(V_NOT_READY), 1);
  b.later(2);
  assert.is(b.rcr(R.ESTAT) & R.ESTAT_CLKRDY, 1);
  assert.is(b.violations(V_NOT_READY), 1, "fine after 1 ms");
});

test("E14: at power-on CLKRDY is 0 for a while", () => {
  const fresh = new Enc28j60Sim(null, { seed: 9 });
  assert.is(fresh.regs[R.ESTAT] & R.ESTAT_CLKRDY, 0);
  fresh.poll(1);
  assert.is(fresh.regs[R.ESTAT] & R.ESTAT_CLKRDY, R.ESTAT_CLKRDY, "set once the oscillator runs");
});

test("E15: buffer memory holds junk: an unwritten header does not read as zero", () => {
  const b = new Bench();
  b.bank(0);
  b.wcr(R.ERDPTL, 0);
  b.wcr(R.ERDPTH, 0);
  const h = b.rbm(6);
  assert.ok(h.some((x) => x !== 0));
});

test("E16: MIRD read while MISTAT.BUSY, and MIIRD set twice, are caught", () => {
  const b = new Bench();
  b.bank(2);
  b.wcr(R.MIREGADR & 0x1f, R.PHSTAT2);
  b.wcr(R.MICMD & 0x1f, R.MICMD_MIIRD);
  b.rcr(R.MIRDL & 0x1f, true);
  assert.is(b.violations(V_MII_BUSY), 1, "read before BUSY cleared");
  b.later(1);
  b.wcr(R.MICMD & 0x1f, R.MICMD_MIIRD); // never cleared: no new read starts
  assert.is(b.violations(V_MII_BUSY), 2);
});

test("E17: LINKIF clears only by reading PHIR; LLSTAT latches low", () => {
  const b = new Bench();
  b.sim.pin.onReadable = null;
  b.pair.setLink(false);
  b.later(1);
  assert.ok((b.sim.regs[R.EIR] & R.EIR_LINKIF) !== 0);
  b.cmd(R.OP_BFC | R.EIR, R.EIR_LINKIF);
  assert.ok((b.sim.regs[R.EIR] & R.EIR_LINKIF) !== 0, "BFC cannot clear LINKIF");
  b.pair.setLink(true);
  b.later(1);
  const readPhy = (address: number): number => {
    b.bank(2);
    b.wcr(R.MIREGADR & 0x1f, address);
    b.wcr(R.MICMD & 0x1f, R.MICMD_MIIRD);
    b.later(1);
    b.wcr(R.MICMD & 0x1f, 0);
    return b.rcr(R.MIRDL & 0x1f, true) | (b.rcr(R.MIRDH & 0x1f, true) << 8);
  };
  assert.is(readPhy(R.PHSTAT1) & R.PHSTAT1_LLSTAT, 0, "first read: latched low");
  assert.is(readPhy(R.PHSTAT1) & R.PHSTAT1_LLSTAT, R.PHSTAT1_LLSTAT, "second read: current");
  readPhy(R.PHIR);
  assert.is(b.sim.regs[R.EIR] & R.EIR_LINKIF, 0, "reading PHIR cleared LINKIF");
});

test("E18: INT is a level: an edge-triggered reader that never toggles INTIE gets no new edge", () => {
  const b = new Bench();
  b.sim.pin.onReadable = null;
  const edges = b.sim.pin.edges;
  b.deliver();
  assert.is(b.sim.pin.edges, edges + 1);
  assert.is(b.sim.pin.read(), 0, "asserted");
  b.deliver();
  b.deliver();
  assert.is(b.sim.pin.edges, edges + 1, "still the same request: no edge");
  b.cmd(R.OP_BFC | R.EIE, R.EIE_INTIE);
  assert.is(b.sim.pin.read(), 1, "released while INTIE is off");
  b.cmd(R.OP_BFS | R.EIE, R.EIE_INTIE);
  assert.is(b.sim.pin.edges, edges + 2, "toggling INTIE with flags pending makes a new edge");
});

test("E19: TXRTS stays set for the wire time; writing the TX area meanwhile is caught", () => {
  const b = new Bench();
  const frame = udpFrame(pattern(1000));
  b.send(frame);
  assert.ok((b.sim.regs[R.ECON1] & R.ECON1_TXRTS) !== 0, "still sending");
  b.wcr(R.EWRPTL, 0x10);
  b.wcr(R.EWRPTH, 0x1a);
  b.cmd(R.OP_WBM, 0xee);
  assert.is(b.violations(V_TX_IN_PROGRESS), 1);
  b.later(2);
  assert.is(b.sim.regs[R.ECON1] & R.ECON1_TXRTS, 0);
  assert.ok((b.sim.regs[R.EIR] & R.EIR_TXIF) !== 0);
  // The status vector follows ETXND.
  const end = 0x1a00 + frame.length + 1;
  b.wcr(R.ERDPTL, end & 0xff);
  b.wcr(R.ERDPTH, end >> 8);
  const tsv = b.rbm(7);
  assert.is(tsv[0] | (tsv[1] << 8), frame.length);
  assert.ok((tsv[2] & R.TSV_DONE) !== 0);
});

test("E20: ETXND one past the frame puts an extra byte on the wire", () => {
  const b = new Bench();
  const frame = udpFrame(pattern(100));
  b.send(frame, 1);
  b.later(2);
  const out = new Uint8Array(1600);
  assert.is(b.pair.b.receive(out, 0, out.length), frame.length + 1);
  b.cmd(R.OP_BFC | R.EIR, R.EIR_TXIF);
  b.send(frame, 0);
  b.later(2);
  assert.is(b.pair.b.receive(out, 0, out.length), frame.length, "exact with ETXND = last byte");
  assert.equal(Array.from(out.subarray(0, frame.length)), Array.from(frame));
});

test("E21: a late collision aborts with TXERIF, TXABRT and the TSV bit; a stall needs TXRST", () => {
  const b = new Bench({ lateCollisionEvery: 1 });
  b.sim.pin.onReadable = null;
  b.send(udpFrame(pattern(100)));
  b.later(2);
  assert.ok((b.sim.regs[R.EIR] & R.EIR_TXERIF) !== 0);
  assert.ok((b.sim.regs[R.ESTAT] & R.ESTAT_TXABRT) !== 0);
  const out = new Uint8Array(1600);
  assert.is(b.pair.b.receive(out, 0, out.length), 0, "nothing reached the wire");
  const s = new Bench({ txStallEvery: 1 });
  s.sim.pin.onReadable = null;
  s.send(udpFrame(pattern(100)));
  s.later(50);
  assert.ok((s.sim.regs[R.ECON1] & R.ECON1_TXRTS) !== 0, "stalled: TXRTS never clears");
  s.cmd(R.OP_BFS | R.ECON1, R.ECON1_TXRST);
  s.cmd(R.OP_BFC | R.ECON1, R.ECON1_TXRST);
  assert.is(s.sim.regs[R.ECON1] & R.ECON1_TXRTS, 0, "TXRST recovers");
});

test("E22: MAC bytes written in reverse order: the unicast filter drops our frames", () => {
  const b = new Bench();
  b.bank(3);
  for (let i = 0; i < 6; i++) b.wcr(R.MAADR_OF[i] & 0x1f, CHIP_MAC[5 - i]);
  const filtered = b.sim.rxFiltered;
  b.deliver();
  assert.is(b.sim.rxFiltered, filtered + 1);
});

test("E23: ERXST written while RXEN is ignored and recorded", () => {
  const b = new Bench();
  b.bank(0);
  b.wcr(R.ERXSTL, 0x10);
  assert.is(b.violations(V_RING_WHILE_RXEN), 1);
  assert.is(b.sim.regs[R.ERXSTL], 0);
});

test("E24: half duplex without HDLDIS hears its own broadcasts", () => {
  const b = new Bench();
  b.bank(2);
  b.wcr(R.MIREGADR & 0x1f, R.PHCON2);
  b.wcr(R.MIWRL & 0x1f, 0);
  b.wcr(R.MIWRH & 0x1f, 0);
  b.later(1);
  const frame = udpFrame(pattern(50), { dstMac: Uint8Array.of(255, 255, 255, 255, 255, 255) });
  b.send(frame);
  b.later(2);
  assert.is(b.sim.rxLoopedBack, 1);
  // With HDLDIS (what the driver sets) nothing comes back.
  const c = new Bench();
  c.send(frame);
  c.later(2);
  assert.is(c.sim.rxLoopedBack, 0);
});

test("E25: the receive filter: broadcasts need BCEN; nothing passes with RXEN off", () => {
  const b = new Bench();
  b.sim.pin.onReadable = null;
  b.bank(1);
  b.wcr(R.ERXFCON & 0x1f, R.ERXFCON_UCEN | R.ERXFCON_CRCEN);
  const filtered = b.sim.rxFiltered;
  b.deliver(udpFrame(pattern(50), { dstMac: Uint8Array.of(255, 255, 255, 255, 255, 255) }));
  assert.is(b.sim.rxFiltered, filtered + 1, "broadcast dropped without BCEN");
  b.deliver();
  assert.is(b.sim.rxFiltered, filtered + 1, "unicast to us passes");
  b.cmd(R.OP_BFC | R.ECON1, R.ECON1_RXEN);
  b.deliver();
  assert.is(b.sim.rxFiltered, filtered + 2, "RXEN off: dropped");
});

test("E26: ERXWRPT read as two RCRs tears when a frame lands in between", () => {
  const b = new Bench();
  b.sim.pin.onReadable = null;
  b.bank(0);
  b.rcr(R.ERXWRPTL);
  b.deliver();
  b.rcr(R.ERXWRPTH);
  assert.is(b.violations(V_TORN_READ), 1);
});

test("E27: pre-B5 silicon below 8 MHz: MAC/MII accesses are unreliable", () => {
  const b = new Bench({ revision: 4, hz: 4_000_000 }, false);
  b.driver.poll(0);
  b.at(3);
  b.driver.poll(3);
  assert.ok(b.violations(V_SLOW_CLOCK) > 0);
});

test("E28: FULDPX set while the PHY is half duplex is caught when sending", () => {
  const b = new Bench();
  b.bank(2);
  b.wcr(R.MACON3 & 0x1f, b.sim.regs[R.MACON3] | R.MACON3_FULDPX);
  b.send(udpFrame(pattern(50)));
  assert.is(b.violations(V_DUPLEX_MISMATCH), 1);
});

test("§4.3: CS not raised between commands: the second is taken as extra data", () => {
  const b = new Bench();
  b.bank(0);
  b.sim.write(Uint8Array.of(R.OP_WCR | R.ERDPTL, 0x00, R.OP_WCR | R.ERDPTH, 0x12));
  b.sim.flush(true);
  assert.is(b.violations(V_EXTRA_BYTES), 2);
  assert.is.not(b.rcr(R.ERDPTH), 0x12, "the second register was never written");
});

test("§4.3: an RBM opcode in one window and its data in the next is caught", () => {
  const b = new Bench();
  b.cmd(R.OP_RBM);
  assert.is(b.violations(V_INCOMPLETE), 1);
});

test("the real driver, through heavy traffic, causes no violation", () => {
  const b = new Bench();
  const buffer = new Uint8Array(1600);
  for (let i = 0; i < 200; i++) {
    const frame = udpFrame(pattern(18 + ((i * 97) % 1400)));
    b.deliver(frame);
    b.driver.poll(b.now);
    assert.is(b.driver.receive(buffer, 0, buffer.length), frame.length);
    assert.is(b.driver.transmit(frame, 0, frame.length), 1);
    b.later(3); // SPI time plus wire time
    b.driver.poll(b.now);
    assert.is(b.pair.b.receive(buffer, 0, buffer.length), frame.length < 60 ? 60 : frame.length);
  }
  assert.is(b.sim.violationCount, 0, b.sim.lastViolation);
  assert.is(b.driver.txFrames, 200);
});

test.run();
