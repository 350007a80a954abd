// A W5500 driver on a simulated chip whose wire is another NetDevice (a TAP, a LinkPair end): what
// the desktop simulator and the interop suite run. The simulator's clock is the platform's.

import type { NetDevice } from "../../src/device.js";
import { W5500 } from "./driver.js";
import { W5500Simulator, type W5500SimOptions } from "./simulator.js";

export interface SimulatedW5500 {
  driver: W5500;
  chip: W5500Simulator;
}

/** Builds the chip on `wire`, the driver on the chip (INTn wired), and starts it; throws on failure. */
export function simulatedW5500(
  wire: NetDevice,
  mac: Uint8Array,
  clock: () => number,
  options: Partial<W5500SimOptions> = {},
): SimulatedW5500 {
  const chip = new W5500Simulator({ wire, clock, ...options });
  const driver = new W5500({ spi: chip.spi, mac, interrupt: chip.interrupt });
  chip.interrupt.onReadable = () => driver.onInterrupt();
  const started = driver.begin();
  if (started !== 0) throw new Error(`w5500: begin() failed (${started})`);
  return { driver, chip };
}
