// A stack on the W5500 driver, on the simulated chip, on one end of a LinkPair, with a second
// stack on the other end: everything on the virtual clock.

import { LinkPair } from "../../hal/pair.js";
import { W5500, type W5500Options } from "../../hal/w5500/driver.js";
import { W5500Simulator, type W5500SimOptions } from "../../hal/w5500/simulator.js";
import type { StackOptions } from "../../src/config.js";
import { Stack } from "../../src/stack.js";
import { VirtualNet } from "../support/virtual.js";

export interface Rig {
  net: VirtualNet;
  pair: LinkPair;
  sim: W5500Simulator;
  driver: W5500;
  a: Stack;
  b: Stack;
}

export type DriverClass = new (options: W5500Options) => W5500;

export interface RigOptions {
  sim?: Partial<W5500SimOptions>;
  driver?: Partial<W5500Options>;
  stack?: StackOptions;
  slots?: number;
  /** A driver class with a deliberate fault, for the fidelity checks. */
  Driver?: DriverClass;
  /** Skip begin() (the test calls it). */
  noBegin?: boolean;
}

export const CHIP_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x55, 0x00);

export function rig(options: RigOptions = {}): Rig {
  const pair = new LinkPair({ slots: options.slots ?? 256 });
  const net = new VirtualNet();
  const sim = new W5500Simulator({ wire: pair.a, clock: () => net.now, ...options.sim });
  const Driver = options.Driver ?? W5500;
  const driver = new Driver({
    spi: sim.spi,
    mac: CHIP_MAC,
    interrupt: sim.interrupt,
    linkDeadline: false,
    ...options.driver,
  });
  sim.interrupt.onReadable = () => driver.onInterrupt();
  if (options.noBegin !== true) {
    const started = driver.begin();
    if (started !== 0) throw new Error(`begin() = ${started}: ${sim.violations.join("; ")}`);
  }
  const stackOptions = {
    udpReceiveBuffer: 65536,
    buffers: 128,
    reassemblySize: 8192 + 64,
    ...options.stack,
  };
  const a = new Stack({ ...stackOptions, seed: 11 });
  const b = new Stack({ ...stackOptions, seed: 22 });
  a.attach(driver, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  net.add(a).add(b).add(sim).attach(driver).attach(pair.b);
  return { net, pair, sim, driver, a, b };
}
