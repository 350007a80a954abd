// ENC28J60 figures from the driver over the simulated chip: SPI transactions (CS windows) and bytes
// per received and per transmitted frame, for 64- and 1514-byte frames, and the throughput they
// project at a given SPI clock beside the 10 Mbit/s wire. The projection charges every byte 8 / hz
// and every transaction a fixed cost (the MCU's call and chip-select overhead, an assumption printed
// with the figures); it is arithmetic on counted bus traffic, not a timing of this machine.
//   node .build/bench/enc28j60.js            (alone; also section 4 of bench/main.ts)

import { fileURLToPath } from "node:url";
import { Enc28j60 } from "../hal/enc28j60/driver.js";
import { Enc28j60Sim, wireUs } from "../hal/enc28j60/simulator.js";
import { LinkPair } from "../hal/pair.js";

export interface BusFigures {
  size: number;
  /** Per frame received: CS windows and bytes clocked. */
  rxTransactions: number;
  rxBytes: number;
  /** Per frame transmitted. */
  txTransactions: number;
  txBytes: number;
}

const MAC = Uint8Array.of(2, 0, 0, 0, 0, 10);

function rig(): { pair: LinkPair; sim: Enc28j60Sim; driver: Enc28j60; clock: { now: number } } {
  const clock = { now: 0 };
  const pair = new LinkPair({ slots: 64 });
  const sim = new Enc28j60Sim(pair.a, { clock: () => clock.now });
  const driver = new Enc28j60({ spi: sim, mac: MAC, interrupt: sim.pin });
  sim.pin.onReadable = () => driver.interrupt();
  driver.poll(0);
  clock.now = 3;
  sim.poll(3);
  driver.poll(3);
  return { pair, sim, driver, clock };
}

/** Counts bus traffic per frame: each frame on its own (one interrupt per frame), `frames` times. */
export function busFigures(size: number, frames = 1000): BusFigures {
  const { pair, sim, driver, clock } = rig();
  const frame = new Uint8Array(size);
  frame.set(MAC);
  frame[6] = 2;
  frame[11] = 11;
  frame[12] = 0x08;
  const buffer = new Uint8Array(1514);
  const step = (): void => {
    clock.now += 4;
    sim.poll(clock.now);
    driver.poll(clock.now);
  };
  // Receive: the frame arrives, INT falls, the driver services and reads it.
  let t = sim.transactions;
  let b = sim.bytes;
  for (let i = 0; i < frames; i++) {
    pair.b.transmit(frame, 0, size);
    step();
    if (driver.receive(buffer, 0, buffer.length) !== (size < 60 ? 60 : size))
      throw new Error("enc28j60 bench: receive");
    driver.receive(buffer, 0, buffer.length);
  }
  const rxTransactions = (sim.transactions - t) / frames;
  const rxBytes = (sim.bytes - b) / frames;
  // Transmit: the driver loads and starts the frame, INT falls when it left, the driver services.
  t = sim.transactions;
  b = sim.bytes;
  for (let i = 0; i < frames; i++) {
    if (driver.transmit(frame, 0, size) !== 1) throw new Error("enc28j60 bench: transmit");
    step();
    pair.b.receive(buffer, 0, buffer.length);
  }
  if (sim.violationCount !== 0) throw new Error(`enc28j60 bench: ${sim.lastViolation}`);
  return {
    size,
    rxTransactions,
    rxBytes,
    txTransactions: (sim.transactions - t) / frames,
    txBytes: (sim.bytes - b) / frames,
  };
}

/** Bus time of one frame's traffic at `hz`, with `perTransactionUs` for each CS window. */
export function busUs(transactions: number, bytes: number, hz: number, perTransactionUs: number) {
  return (bytes * 8 * 1e6) / hz + transactions * perTransactionUs;
}

/** Frame throughput in Mbit/s (frame bytes without FCS): the bus and the wire, whichever is slower. */
export function projectedMbps(size: number, busTimeUs: number): { bus: number; wire: number } {
  return { bus: (size * 8) / busTimeUs, wire: (size * 8) / wireUs(size) };
}

export function describeEnc28j60(perTransactionUs = 2): string[] {
  const lines: string[] = [];
  const f = (n: number, d = 1): string => n.toFixed(d);
  for (const size of [64, 1514]) {
    const fig = busFigures(size);
    lines.push(
      `${String(size).padStart(4)} B frame: receive ${f(fig.rxTransactions)} transactions, ${f(fig.rxBytes, 0)} bytes;` +
        ` transmit ${f(fig.txTransactions)} transactions, ${f(fig.txBytes, 0)} bytes`,
    );
    for (const hz of [8e6, 20e6]) {
      const rx = projectedMbps(size, busUs(fig.rxTransactions, fig.rxBytes, hz, perTransactionUs));
      const tx = projectedMbps(size, busUs(fig.txTransactions, fig.txBytes, hz, perTransactionUs));
      lines.push(
        `      at ${hz / 1e6} MHz: bus allows ${f(rx.bus, 2)} Mbit/s in, ${f(tx.bus, 2)} out;` +
          ` wire ${f(rx.wire, 2)}: expect ${f(Math.min(rx.bus, rx.wire), 2)} in, ${f(Math.min(tx.bus, tx.wire), 2)} out` +
          ` (${f(1e6 / busUs(fig.rxTransactions, fig.rxBytes, hz, perTransactionUs), 0)} frames/s in)`,
      );
    }
  }
  lines.push(
    `      (${perTransactionUs} µs charged per transaction; ceilings: 10 Mbit/s half-duplex wire,` +
      ` SPI 20 MHz max; ethernet-macs.md 3.2: a 1518 B frame takes 0.61 ms to read at 20 MHz vs 1.23 ms on the wire;` +
      ` anchors.md: SPI-bound near 5.7 Mbit/s at 6 MHz)`,
  );
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log("ENC28J60 driver over the simulated chip, one interrupt per frame");
  for (const line of describeEnc28j60()) console.log(`   ${line}`);
}
