// A simulated ENC28J60 on a wire, with its driver: what the desktop simulator and the interop suite
// put between the stack and the TAP. Attach `driver` to the stack, and have whoever drives the
// stack poll `chip` too (it is a Pollable: frames arrive and leave, the INT edge is delivered).

import type { NetDevice } from "../../src/device.js";
import { Enc28j60, type Enc28j60Options } from "./driver.js";
import { Enc28j60Sim, type Enc28j60SimOptions } from "./simulator.js";

export interface SimulatedEnc28j60 {
  chip: Enc28j60Sim;
  driver: Enc28j60;
}

/** Wires the INT pin as a Digital with `target` would: the falling edge calls interrupt(). */
function onInterrupt(this: { target: unknown }): void {
  (this.target as Enc28j60).interrupt();
}

/**
 * `clock` must be the clock of whoever polls the chip (the NodeDriver's now()): the chip's deadlines
 * are in it, and a poller on another clock arms its timer at the wrong time.
 */
export function simulatedEnc28j60(
  wire: NetDevice,
  mac: Uint8Array,
  clock: () => number,
  chipOptions: Enc28j60SimOptions = {},
  driverOptions: Partial<Enc28j60Options> = {},
): SimulatedEnc28j60 {
  const chip = new Enc28j60Sim(wire, { clock, ...chipOptions });
  const driver = new Enc28j60({ ...driverOptions, spi: chip, mac, interrupt: chip.pin });
  chip.pin.target = driver;
  chip.pin.onReadable = onInterrupt;
  return { chip, driver };
}
