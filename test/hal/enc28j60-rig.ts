// The ENC28J60 rig the chip's suites, the XS step and the benchmark share: stack A runs through the
// driver and the simulated chip, whose wire is one end of a LinkPair; stack B sits on the other end.
// Everything is on the virtual clock, and the chip's clock follows it.

import { Enc28j60 } from "../../hal/enc28j60/driver.js";
import { Enc28j60Sim, type Enc28j60SimOptions } from "../../hal/enc28j60/simulator.js";
import { LinkPair } from "../../hal/pair.js";
import { StackOptions } from "../../src/config.js";
import { Stack } from "../../src/stack.js";
import { Memory } from "../../src/storage/memory.js";
import { VirtualNet } from "../support/virtual.js";

export const CHIP_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x0a);

export interface EncRig {
  net: VirtualNet;
  pair: LinkPair;
  sim: Enc28j60Sim;
  driver: Enc28j60;
  a: Stack;
  b: Stack;
  memory: Memory;
}

export interface EncRigOptions {
  stack?: StackOptions;
  sim?: Enc28j60SimOptions;
  fullDuplex?: boolean;
  /** Drive the chip without its INT pin (polling). */
  polling?: boolean;
  slots?: number;
  /** Bytes of the arena left for the test. */
  spare?: number;
}

export function encRig(options: EncRigOptions = {}): EncRig {
  const stackOptions = options.stack ?? {};
  const slots = options.slots ?? 64;
  const memory = new Memory(
    new Uint8Array(
      2 * Stack.memoryNeeded(stackOptions) + slots * 2 * 1600 + 4096 + (options.spare ?? 0),
    ),
  );
  const pair = new LinkPair({ memory, slots });
  const net = new VirtualNet();
  const sim = new Enc28j60Sim(pair.a, { clock: () => net.now, seed: 5, ...options.sim });
  const driver = new Enc28j60({
    spi: sim,
    mac: CHIP_MAC,
    interrupt: options.polling === true ? null : sim.pin,
    fullDuplex: options.fullDuplex ?? false,
  });
  // As a Digital's onReadable with `target` would.
  sim.pin.target = driver;
  sim.pin.onReadable = function (this) {
    (this.target as Enc28j60).interrupt();
  };
  const a = new Stack({ ...stackOptions, memory, seed: 11 });
  const b = new Stack({ ...stackOptions, memory, seed: 22 });
  a.attach(driver, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  net.add(sim).add(a).add(b).attach(driver).attach(pair.a).attach(pair.b);
  return { net, pair, sim, driver, a, b, memory };
}

/** Runs the rig until the chip is up (reset wait, start-up). */
export function started(options: EncRigOptions = {}): EncRig {
  const rig = encRig(options);
  rig.net.advance(10);
  if (!rig.driver.running) throw new Error("enc28j60 rig: the driver did not start");
  return rig;
}
