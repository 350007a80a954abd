// A stack on a lab TAP, driven in real time by the NodeDriver, with the UDP echo service on port 7:
// what the interop suites put in front of the kernel.

import type { NetDevice } from "../../src/device.js";
import { simulatedEnc28j60 } from "../../hal/enc28j60/simulated.js";
import type { Enc28j60Sim } from "../../hal/enc28j60/simulator.js";
import { ImpairedDevice, ImpairOptions } from "../../hal/impair.js";
import { NodeDriver } from "../../hal/platform/node/driver.js";
import type { Lab } from "../../hal/platform/node/lab.js";
import type { TapDevice } from "../../hal/tap/tap.js";
import { UdpEcho } from "../../src/apps/udp-echo.js";
import { Stack } from "../../src/stack.js";

export interface TapStack {
  stack: Stack;
  /** The simulated chip between the stack and the TAP, for a chip device. */
  chip: Enc28j60Sim | null;
  tap: TapDevice;
  device: NetDevice;
  impaired: ImpairedDevice | null;
  driver: NodeDriver;
  echo: UdpEcho;
  stop(): void;
}

/** What the stack attaches to: the TAP itself, or a chip's driver whose simulated chip is on it. */
export type TapStackDevice = "tap" | "enc28j60";

export async function tapStack(
  lab: Lab,
  name: string,
  impair: ImpairOptions | null = null,
  kind: TapStackDevice = "tap",
): Promise<TapStack> {
  const tap = await lab.tap(name, { kernelIp: "192.0.2.1/24" });
  const wire: NetDevice = impair === null ? tap : new ImpairedDevice(tap, impair);
  let device = wire;
  let chip: Enc28j60Sim | null = null;
  if (kind === "enc28j60") {
    const simulated = simulatedEnc28j60(wire, tap.mac, () => performance.now());
    chip = simulated.chip;
    device = simulated.driver;
  }
  const stack = new Stack({
    seed: 7,
    buffers: 256,
    arpQueue: 64,
    sendQueue: 128,
    reassemblySlots: 8,
    reassemblySize: 65535,
    udpReceiveBuffer: 128 * 1024,
    appMemory: 65536,
  });
  stack.attach(device, { address: "192.0.2.2", prefix: 24 });
  const echo = new UdpEcho(stack, 7);
  const driver = new NodeDriver();
  if (chip !== null) {
    driver.add(chip);
    driver.attach(wire);
  }
  driver.add(stack);
  driver.attach(device);
  return {
    stack,
    chip,
    tap,
    device,
    impaired: wire instanceof ImpairedDevice ? wire : null,
    driver,
    echo,
    stop() {
      driver.stop();
      lab.closeTap(tap);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `done()` holds, checking every millisecond or so; false on timeout. */
export async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) return false;
    await sleep(1);
  }
  return true;
}
