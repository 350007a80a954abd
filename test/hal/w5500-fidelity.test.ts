// One test per W5500 fidelity check: a driver with one deliberate mistake (a subclass overriding
// one step), or a raw wrong access on the bus, and the simulator catching it.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { W5500 } from "../../hal/w5500/driver.js";
import {
  BSB_S0_REG,
  CR_RECV,
  CR_SEND,
  IR_SEND_OK,
  Sn_CR,
  Sn_IR,
  Sn_MR,
  Sn_RX_RD,
  Sn_RX_RSR,
  Sn_RXBUF_SIZE,
  Sn_TX_WR,
} from "../../hal/w5500/registers.js";
import { endpoint } from "../support/stacks.js";
import { rig, type Rig, type RigOptions } from "./w5500-rig.js";

/** Ping traffic both ways plus a burst of datagrams into the chip. */
function traffic(r: Rig, rounds = 20, size = 1000, burst = 1): void {
  const server = r.a.openUdp() as UdpEndpoint;
  server.bind(null, 9);
  const client = r.b.openUdp() as UdpEndpoint;
  const data = new Uint8Array(size);
  const buf = new Uint8Array(2000);
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < burst; k++) client.sendTo(data, 0, size, endpoint("192.0.2.1", 9));
    r.net.runUntilIdle(10_000, 50);
    while (server.recvFrom(buf, 0, buf.length, null, 0) > 0);
  }
}

function caught(r: Rig, pattern: RegExp): void {
  assert.ok(
    r.sim.violations.some((v) => pattern.test(v)),
    `expected a violation matching ${pattern}, got: ${r.sim.violations.slice(0, 5).join(" | ")}`,
  );
}

function run(options: RigOptions, rounds = 20, size = 1000, burst = 1): Rig {
  const r = rig(options);
  traffic(r, rounds, size, burst);
  return r;
}

test("the correct driver raises no violation under every option at once", () => {
  const r = run({ sim: { tearRsr: true, pointerStart: 0xfff0, crBusyReads: 3 } }, 40, 600, 5);
  assert.equal(r.sim.violations, []);
});

test("W1: header and data in different CS windows", () => {
  class Split extends W5500 {
    protected override writeReg(block: number, address: number, value: number): void {
      this.setHeader(address, (block << 3) | 4);
      this.spi.write(this.header);
      this.spi.flush(true);
      this.cmd[3] = value;
      this.spi.write(this.cmd.subarray(3, 4));
      this.spi.flush(true);
    }
  }
  const r = rig({ Driver: Split, noBegin: true });
  r.driver.begin();
  caught(r, /W1/);
});

test("W2: a control byte in fixed-length mode, and a reserved block", () => {
  const r = rig();
  r.sim.spi.write(Uint8Array.of(0, 0, 0x01, 0));
  r.sim.spi.flush(true);
  caught(r, /OM != 0/);
  r.sim.spi.write(Uint8Array.of(0, 0, 0x04 << 3, 0));
  r.sim.spi.flush(true);
  caught(r, /reserved block/);
});

test("W3 and CS release: a burst runs across registers, so a missing flush writes read-only ones", () => {
  const r = rig();
  // A 6-byte SHAR burst lands in six registers.
  r.sim.spi.write(Uint8Array.of(0, 9, 4, 1, 2, 3, 4, 5, 6));
  r.sim.spi.flush(true);
  assert.equal(Array.from(r.sim.common.subarray(9, 15)), [1, 2, 3, 4, 5, 6]);
  class NoRelease extends W5500 {
    protected override writeReg16(block: number, address: number, value: number): void {
      this.setHeader(address, (block << 3) | 4);
      this.cmd[3] = value >> 8;
      this.cmd[4] = value & 0xff;
      this.spi.write(this.cmdViews[2]); // no flush(true): the next command becomes data
    }
  }
  const bad = run({ Driver: NoRelease }, 3);
  caught(bad, /read-only socket register|W1/);
});

test("W4: a driver that splits bursts at the wrong buffer end reads outside the data", () => {
  class EightK extends W5500 {
    protected override readFrame(p: number, f: Uint8Array, o: number, n: number): void {
      super.readFrame(p & 0x1fff, f, o, n); // believes in an 8 KB buffer
    }
  }
  const r = run({ Driver: EightK }, 30);
  caught(r, /beyond the received data/);
});

test("W5: pointers near 0xffff catch RSR computed from unmasked pointer arithmetic", () => {
  class Unmasked extends W5500 {
    protected override readStable(address: number): number {
      if (address !== Sn_RX_RSR) return super.readStable(address);
      const wr = this.readReg16(BSB_S0_REG, 0x2a);
      const rd = this.readReg16(BSB_S0_REG, Sn_RX_RD);
      return wr - rd; // negative after the rollover
    }
  }
  const r = run({ Driver: Unmasked, sim: { pointerStart: 0xfff0 } }, 20);
  assert.ok(
    r.driver.stats.rxBadLength > 0,
    "a negative RSR after the rollover looked like a bad record",
  );
  const good = run({ sim: { pointerStart: 0xfff0 } }, 20);
  assert.is(good.driver.stats.rxBadLength, 0);
});

test("W6: a single read of Sn_RX_RSR that tore is caught when the data is read", () => {
  class Once extends W5500 {
    protected override readStable(address: number): number {
      return this.readReg16(BSB_S0_REG, address);
    }
  }
  const r = run({ Driver: Once, sim: { tearRsr: true } }, 10, 200, 5);
  caught(r, /W6/);
});

test("W7: a command while Sn_CR still reads the previous one", () => {
  class NoPoll extends W5500 {
    protected override command(value: number): void {
      this.writeReg(BSB_S0_REG, Sn_CR, value);
    }
  }
  const r = rig({ Driver: NoPoll, noBegin: true });
  r.driver.begin();
  traffic(r, 3);
  caught(r, /W7/);
});

test("W8: SEND before the previous frame's SEND_OK", () => {
  class Eager extends W5500 {
    protected override checkSent(): boolean {
      this.txInFlight = false;
      return true;
    }
  }
  const r = rig({ Driver: Eager, sim: { linkMbps: 10 } });
  const f = new Uint8Array(1514).fill(0xff);
  r.driver.transmit(f, 0, 1514);
  r.driver.transmit(f, 0, 1514);
  caught(r, /W8/);
});

test("W9: clearing Sn_IR by writing 0", () => {
  class WriteZero extends W5500 {
    protected override checkSent(): boolean {
      const ir = this.readReg(BSB_S0_REG, Sn_IR);
      if ((ir & IR_SEND_OK) === 0) return false;
      this.writeReg(BSB_S0_REG, Sn_IR, 0);
      this.txInFlight = false;
      return true;
    }
  }
  const r = rig({ Driver: WriteZero });
  const f = new Uint8Array(100).fill(0xff);
  r.driver.transmit(f, 0, 100);
  r.net.advance(1);
  r.driver.transmit(f, 0, 100);
  r.driver.transmit(f, 0, 100);
  caught(r, /W9|W8/);
});

test("W10: taking the record length as the frame length reads past the data", () => {
  class OffByTwo extends W5500 {
    protected override readFrame(p: number, f: Uint8Array, o: number, n: number): void {
      super.readFrame(p, f, o, n + 2);
    }
  }
  const r = run({ Driver: OffByTwo }, 3);
  caught(r, /beyond the received data/);
});

test("W11: without RECV the space never comes back and the driver reads past the data", () => {
  class NoRecv extends W5500 {
    protected override release(): void {
      this.writeReg16(BSB_S0_REG, Sn_RX_RD, this.rxRd);
    }
  }
  const r = run({ Driver: NoRecv }, 5);
  caught(r, /beyond the received data/);
  assert.ok(CR_RECV > 0);
});

test("W12: after an overflow a corrupt header is recovered by reopening (a driver that trusts it is caught)", () => {
  class Trusting extends W5500 {
    override receive(frame: Uint8Array, offset: number, capacity: number): number {
      const rsr = this.readStable(Sn_RX_RSR);
      if (rsr === 0) return 0;
      this.readInto(3, this.rxRd, 2);
      const record = (this.cmd[3] << 8) | this.cmd[4];
      this.readFrame((this.rxRd + 2) & 0xffff, frame, offset, Math.min(record - 2, capacity));
      this.rxRd = (this.rxRd + record) & 0xffff;
      this.release();
      return record - 2;
    }
  }
  const r = rig({ Driver: Trusting, sim: { corruptAfterOverflow: true } });
  r.sim.interrupt.onReadable = null;
  const f = new Uint8Array(1400).fill(1);
  f.fill(0xff, 0, 6);
  for (let i = 0; i < 13; i++) r.pair.b.transmit(f, 0, 1400);
  r.sim.poll(0);
  const buf = new Uint8Array(1514);
  for (let i = 0; i < 12; i++) r.driver.receive(buf, 0, 1514);
  r.pair.b.transmit(f, 0, 1400);
  r.sim.poll(0);
  r.driver.receive(buf, 0, 1514);
  assert.ok(r.sim.stats.rxOverflows > 0);
  caught(r, /beyond the received data|RECV with Sn_RX_RD past/);
});

test("W13: writes before MR.RST self-clears are ignored and flagged", () => {
  class Hasty extends W5500 {
    protected override pollUntil(b: number, a: number, m: number, v: number): boolean {
      return (a === 0 || a === 0x39) && b === 0 ? true : super.pollUntil(b, a, m, v);
    }
  }
  const r = rig({ Driver: Hasty, noBegin: true });
  r.driver.begin();
  caught(r, /W13/);
});

test("W14: Sn_MR changed without a reopen", () => {
  const r = rig();
  r.sim.spi.write(Uint8Array.of(0, Sn_MR, (BSB_S0_REG << 3) | 4, 0x04));
  r.sim.spi.flush(true);
  caught(r, /W14/);
});

test("W15: buffer sizes changed while open, and sizes that add up to more than 16 KB", () => {
  const r = rig();
  r.sim.spi.write(Uint8Array.of(0, Sn_RXBUF_SIZE, (BSB_S0_REG << 3) | 4, 8));
  r.sim.spi.flush(true);
  caught(r, /changed while the socket is open/);
  class NoSizes extends W5500 {
    protected override configureBuffers(): void {
      this.writeReg(BSB_S0_REG, Sn_RXBUF_SIZE, 16); // forgets to take the others' 2 KB away
    }
  }
  const bad = rig({ Driver: NoSizes, noBegin: true });
  bad.driver.begin();
  caught(bad, /more than 16 KB/);
});

test("W16: a reversed SHAR makes the MAC filter drop our unicast frames", () => {
  class Reversed extends W5500 {
    override begin(): number {
      this.mac.reverse();
      const result = super.begin();
      this.mac.reverse();
      return result;
    }
  }
  const r = run({ Driver: Reversed }, 3);
  assert.ok(r.sim.stats.rxFiltered >= 3, "the chip's filter refused them");
  assert.is(r.a.udp.stats.datagramsIn ?? 0, 0);
});

test("W17: with the link down SEND never completes; the driver times out and reopens", () => {
  const r = rig();
  r.pair.setLink(false);
  const f = new Uint8Array(100).fill(0xff);
  assert.is(r.driver.transmit(f, 0, 100), 1, "the driver's cached link is still up");
  r.net.advance(30);
  assert.is(r.sim.stats.txStalled, 1);
  assert.is(r.driver.stats.txTimeouts, 1);
  assert.is(r.driver.linkUp, false);
  // A PHY reset takes the link away for the auto-negotiation time.
  r.pair.setLink(true);
  r.sim.spi.write(Uint8Array.of(0, 0x2e, 4, 0x78));
  r.sim.spi.flush(true);
  r.sim.spi.write(Uint8Array.of(0, 0x2e, 4, 0xf8));
  r.sim.spi.flush(true);
  assert.is(r.sim.linkUp, false);
  r.net.advance(2000);
  assert.is(r.sim.linkUp, true);
});

test("W18: a TX write that runs past the free space onto unsent data", () => {
  const r = rig();
  const f = new Uint8Array(1000).fill(0xff);
  r.driver.transmit(f, 0, 1000);
  // Straight after SEND: write 16 KB at TX_WR, wrapping onto the frame still going out.
  const big = new Uint8Array(3 + 16384);
  const wr = (r.sim.sockets[Sn_TX_WR] << 8) | r.sim.sockets[Sn_TX_WR + 1];
  big[0] = wr >> 8;
  big[1] = wr & 0xff;
  big[2] = (2 << 3) | 4;
  r.sim.spi.write(big);
  r.sim.spi.flush(true);
  caught(r, /W18|W8/);
  assert.ok(CR_SEND > 0);
});

test("strict mode throws", () => {
  const r = rig({ sim: { throwOnViolation: true } });
  assert.throws(() => {
    r.sim.spi.write(Uint8Array.of(0, 0, 0x01, 0));
  }, /OM != 0/);
});

test.run();
