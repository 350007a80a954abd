// A stack on a lab TAP, driven in real time by the NodeDriver, with the UDP echo service on port 7:
// what the interop suites put in front of the kernel.

import type { NetDevice } from "../../src/device.js";
import { ImpairedDevice, ImpairOptions } from "../../hal/impair.js";
import { NodeDriver } from "../../hal/platform/node/driver.js";
import type { Lab } from "../../hal/platform/node/lab.js";
import type { TapDevice } from "../../hal/tap/tap.js";
import { TcpServices } from "../../src/apps/tcp-services.js";
import { UdpEcho } from "../../src/apps/udp-echo.js";
import { Stack } from "../../src/stack.js";

export interface TapStack {
  stack: Stack;
  tap: TapDevice;
  device: NetDevice;
  impaired: ImpairedDevice | null;
  driver: NodeDriver;
  echo: UdpEcho;
  /** TCP echo (7), discard (9) and chargen (19). */
  services: TcpServices;
  stop(): void;
}

export async function tapStack(
  lab: Lab,
  name: string,
  impair: ImpairOptions | null = null,
): Promise<TapStack> {
  const tap = await lab.tap(name, { kernelIp: "192.0.2.1/24" });
  const device: NetDevice = impair === null ? tap : new ImpairedDevice(tap, impair);
  const stack = new Stack({
    seed: 7,
    buffers: 256,
    arpQueue: 64,
    sendQueue: 128,
    reassemblySlots: 8,
    reassemblySize: 65535,
    udpReceiveBuffer: 128 * 1024,
    appMemory: 65536 + 8 * 16384,
    tcpSockets: 16,
    tcpSendBuffer: 65536,
    tcpReceiveBuffer: 65536,
  });
  stack.attach(device, { address: "192.0.2.2", prefix: 24 });
  const echo = new UdpEcho(stack, 7);
  const services = new TcpServices(stack, { sessions: 8, bufferSize: 16384 });
  const driver = new NodeDriver();
  driver.add(stack);
  driver.attach(device);
  return {
    stack,
    tap,
    device,
    impaired: device instanceof ImpairedDevice ? device : null,
    driver,
    echo,
    services,
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
