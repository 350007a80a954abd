// A stack on a lab TAP, driven in real time by the NodeDriver, with the UDP echo service on port 7,
// TCP echo, discard and chargen, and HTTP on 80: what the interop suites put in front of the kernel.

import type { Test } from "uvu";
import * as assert from "uvu/assert";
import type { NetDevice } from "../../src/device.js";
import { simulatedEnc28j60 } from "../../hal/enc28j60/simulated.js";
import type { Enc28j60Sim } from "../../hal/enc28j60/simulator.js";
import { ImpairedDevice, ImpairOptions } from "../../hal/impair.js";
import { NodeDriver } from "../../hal/platform/node/driver.js";
import type { Lab } from "../../hal/platform/node/lab.js";
import type { TapDevice } from "../../hal/tap/tap.js";
import { HttpServer } from "../../src/apps/http-server.js";
import { TcpServices } from "../../src/apps/tcp-services.js";
import type { StackOptions } from "../../src/config.js";
import { UdpEcho } from "../../src/apps/udp-echo.js";
import { Stack } from "../../src/stack.js";
import { simulatedW5500 } from "../../hal/w5500/chip.js";
import type { W5500Simulator } from "../../hal/w5500/simulator.js";
import type { LabContext } from "./lab.js";

export interface TapStack {
  stack: Stack;
  /** The simulated ENC28J60 between the stack and the TAP, for that device. */
  chip: Enc28j60Sim | null;
  tap: TapDevice;
  device: NetDevice;
  impaired: ImpairedDevice | null;
  /** The simulated W5500 between the stack and the TAP, for that device. */
  simulator: W5500Simulator | null;
  driver: NodeDriver;
  echo: UdpEcho;
  /** TCP echo (7), discard (9) and chargen (19). */
  services: TcpServices;
  /** HTTP on port 80 (4 sessions). */
  http: HttpServer;
  stop(): void;
}

/** What the stack attaches to: the TAP itself, or a chip's driver whose simulated chip is on it. */
export type TapStackDevice = "tap" | "enc28j60" | "w5500";

/** TCP echo, discard and chargen: 8 sessions of 16 KB. */
const SERVICES = { sessions: 8, bufferSize: 16384 };

export async function tapStack(
  lab: Lab,
  name: string,
  impair: ImpairOptions | null = null,
  kind: TapStackDevice = "tap",
  overrides: StackOptions = {},
): Promise<TapStack> {
  const tap = await lab.tap(name, { kernelIp: "192.0.2.1/24" });
  const wire: NetDevice = impair === null ? tap : new ImpairedDevice(tap, impair);
  const driver = new NodeDriver();
  // Through a simulated SPI chip: the driver is the stack's device, the TAP the chip's wire.
  let device = wire;
  let chip: Enc28j60Sim | null = null;
  let simulator: W5500Simulator | null = null;
  if (kind === "enc28j60") {
    // The driver's clock, not performance.now(): the chip's deadlines arm the driver's timer.
    const simulated = simulatedEnc28j60(wire, tap.mac, () => driver.now());
    chip = simulated.chip;
    device = simulated.driver;
  } else if (kind === "w5500") {
    // The W5500 simulator takes the wire's events itself and wakes the driver through onWake.
    const simulated = simulatedW5500(wire, tap.mac, () => driver.now());
    simulator = simulated.chip;
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
    appMemory: 65536 + TcpServices.memoryNeeded(SERVICES) + HttpServer.memoryNeeded(),
    tcpSockets: 16,
    tcpSendBuffer: 65536,
    tcpReceiveBuffer: 65536,
    ...overrides,
  });
  stack.attach(device, { address: "192.0.2.2", prefix: 24 });
  const echo = new UdpEcho(stack, 7);
  const services = new TcpServices(stack, SERVICES);
  const http = new HttpServer(stack);
  if (chip !== null) {
    driver.add(chip);
    driver.attach(wire);
  }
  driver.add(stack);
  if (simulator !== null) driver.add(simulator);
  driver.attach(device);
  return {
    stack,
    chip,
    tap,
    device,
    impaired: wire instanceof ImpairedDevice ? wire : null,
    simulator,
    driver,
    echo,
    services,
    http,
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

/** The TapStack the running test of a suite uses; see stopAfterEach(). */
export class CurrentStack {
  current: TapStack | null = null;
}

/**
 * Stops the stack a test left in `current` after each test of `test`, and checks that every pool
 * buffer came back: `const stacks = stopAfterEach(test)`, then `stacks.current = await tapStack(...)`.
 */
export function stopAfterEach(test: Test<LabContext>): CurrentStack {
  const stacks = new CurrentStack();
  test.after.each(() => {
    const current = stacks.current;
    if (current !== null) {
      current.stop();
      assert.is(
        current.stack.pool.available,
        current.stack.pool.count,
        "every pool buffer returned",
      );
    }
    stacks.current = null;
  });
  return stacks;
}
