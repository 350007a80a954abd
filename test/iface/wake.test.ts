// A send between polls that creates work with a deadline (resolving an address, a frame looped
// back to ourselves) wakes the driver, so a quiet driver does not sleep through the retries.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { NodeDriver } from "../../hal/platform/node/driver.js";
import { duo, endpoint } from "../support/stacks.js";

test("a burst of sends between polls wakes the stack's driver once; the next burst again", () => {
  const { a } = duo();
  let wakes = 0;
  a.onWake = () => wakes++;
  const socket = a.openUdp() as UdpEndpoint;
  assert.is(socket.sendTo(Uint8Array.of(1), 0, 1, endpoint("192.0.2.9", 9)), 1);
  assert.is(wakes, 1, "a send wakes");
  assert.is(socket.sendTo(Uint8Array.of(2), 0, 1, endpoint("192.0.2.9", 9)), 1);
  assert.is(socket.sendTo(Uint8Array.of(3), 0, 1, endpoint("192.0.2.1", 9)), 1);
  assert.is(wakes, 1, "frames sent before the poll it asked for do not");
  // The driver's polls: the frame to ourselves comes back on the second.
  for (let i = 0; i < 3 && a.nextDeadline() <= 0; i++) a.poll(0);
  assert.ok(a.nextDeadline() > 0, "the polls sent them; only timers are left");
  assert.is(socket.sendTo(Uint8Array.of(4), 0, 1, endpoint("192.0.2.9", 9)), 1);
  assert.is(wakes, 2, "a send after the poll wakes again");
});

test("a driver gives the stack its wake-up and takes it back on remove", () => {
  const { a } = duo();
  const driver = new NodeDriver();
  driver.add(a);
  assert.type(a.onWake, "function");
  driver.remove(a);
  assert.is(a.onWake, null);
  driver.stop();
});

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
}

test("with the driver idle, ARP retries still go out after a send", async () => {
  const { a, pair } = duo();
  const driver = new NodeDriver();
  driver.add(a);
  driver.attach(pair.a);
  const iface = a.iface!;
  // Let the address announcements finish, so the driver has nothing left to wake for.
  await until(() => iface.arpStats.announcementsOut === 2, 5000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.is(driver.nextDeadline(), Infinity, "idle");
  (a.openUdp() as UdpEndpoint).sendTo(Uint8Array.of(1), 0, 1, endpoint("192.0.2.77", 9));
  // Three requests a second apart, then the entry fails: the driver must wake for each.
  await until(() => iface.arpStats.failures === 1, 6000);
  driver.stop();
  assert.is(iface.arpStats.requestsOut, 3);
  assert.is(iface.arpStats.failures, 1);
});

test.run();
