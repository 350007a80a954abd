// W5500 through the driver and the simulated chip: SPI transactions and bytes per received and per
// transmitted frame (64 and 1514 B), and the throughput the SPI clock allows, projected from them.
//   node .build/bench/w5500.js
// Projection: a frame costs bytes x 8 / hz plus a per-transaction cost (CS toggling and the host's
// call overhead, 1 us assumed) on the bus; the wire takes (frame + 24) x 8 / 100 Mbit/s.

import { fileURLToPath } from "node:url";
import { LinkPair } from "../hal/pair.js";
import { W5500 } from "../hal/w5500/driver.js";
import { W5500Simulator } from "../hal/w5500/simulator.js";

export interface W5500Figures {
  size: number;
  rxTransactions: number;
  rxBytes: number;
  txTransactions: number;
  txBytes: number;
}

const PER_TRANSACTION_US = 1;

export function w5500Figures(size: number, frames = 200): W5500Figures {
  const pair = new LinkPair({ slots: 64 });
  let now = 0;
  const sim = new W5500Simulator({ wire: pair.a, clock: () => now, crBusyReads: 0 });
  const driver = new W5500({
    spi: sim.spi,
    mac: Uint8Array.of(2, 0, 0, 0, 0, 1),
    linkDeadline: false,
  });
  if (driver.begin() !== 0) throw new Error("w5500 bench: begin failed");
  const frame = new Uint8Array(1514);
  frame.set([2, 0, 0, 0, 0, 1], 0);
  frame[12] = 0x08;
  const buf = new Uint8Array(1514);
  let t0 = sim.stats.transactions;
  let b0 = sim.stats.bytes;
  for (let i = 0; i < frames; i++) {
    pair.b.transmit(frame, 0, size);
    if (driver.receive(buf, 0, buf.length) !== size) throw new Error("w5500 bench: frame lost");
  }
  const rxTransactions = (sim.stats.transactions - t0) / frames;
  const rxBytes = (sim.stats.bytes - b0) / frames;
  t0 = sim.stats.transactions;
  b0 = sim.stats.bytes;
  for (let i = 0; i < frames; i++) {
    while (driver.transmit(frame, 0, size) !== 1) {
      now += 1;
      driver.poll(now);
    }
    while (pair.b.receive(buf, 0, buf.length) > 0);
  }
  const txTransactions = (sim.stats.transactions - t0) / frames;
  const txBytes = (sim.stats.bytes - b0) / frames;
  if (sim.violations.length > 0) throw new Error(`w5500 bench: ${sim.violations[0]}`);
  return { size, rxTransactions, rxBytes, txTransactions, txBytes };
}

/** Mbit/s of frame bytes the bus allows at `hz`, bounded by the 100 Mbit/s wire. */
export function projectMbps(size: number, transactions: number, bytes: number, hz: number): number {
  const busUs = (bytes * 8e6) / hz + transactions * PER_TRANSACTION_US;
  const wireUs = ((size < 60 ? 60 : size) + 24) * 0.08;
  return (size * 8) / Math.max(busUs, wireUs);
}

export function describeW5500(): string[] {
  const lines: string[] = [];
  for (const size of [64, 1514]) {
    const f = w5500Figures(size);
    lines.push(
      `${String(size).padStart(4)} B frame: RX ${f.rxTransactions.toFixed(1)} transactions, ${f.rxBytes.toFixed(0)} bytes;` +
        ` TX ${f.txTransactions.toFixed(1)} transactions, ${f.txBytes.toFixed(0)} bytes`,
    );
    const proj = [8e6, 20e6, 40e6, 80e6]
      .map(
        (hz) =>
          `${hz / 1e6} MHz RX ${projectMbps(size, f.rxTransactions, f.rxBytes, hz).toFixed(1)} / TX ${projectMbps(size, f.txTransactions, f.txBytes, hz).toFixed(1)}`,
      )
      .join(", ");
    lines.push(`       projected Mbit/s (1 us per transaction): ${proj}`);
  }
  lines.push(
    "   ceilings (ethernet-macs Part 3, anchors): raw SPI ~19/38/75 Mbit/s at 20/40/80 MHz; reported MACRAW+lwIP ~10 (ESP32-S3, 60 MHz), ~16 (Teensy 4.1)",
  );
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log("W5500 (driver + simulated chip, socket 0 MACRAW)");
  for (const line of describeW5500()) console.log(`   ${line}`);
}
