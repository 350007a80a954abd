// A send between polls that creates work with a deadline (resolving an address, a frame looped
// back to ourselves) wakes the driver, so a quiet driver does not sleep through the retries.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { NodeDriver } from "../../hal/platform/node/driver.js";
import { duo, endpoint } from "../support/stacks.js";

test("sending to an unresolved neighbor wakes the stack's driver once", () => {
  const { a } = duo();
  let wakes = 0;
  a.onWake = () => wakes++;
  const socket = a.openUdp()!;
  assert.is(socket.sendTo(Uint8Array.of(1), 0, 1, endpoint("192.0.2.9", 9)), 1);
  assert.is(wakes, 1, "a new resolution wakes");
  assert.is(socket.sendTo(Uint8Array.of(2), 0, 1, endpoint("192.0.2.9", 9)), 1);
  assert.is(wakes, 1, "a frame queued behind it does not");
  assert.is(socket.sendTo(Uint8Array.of(3), 0, 1, endpoint("192.0.2.1", 9)), 1);
  assert.is(wakes, 2, "a frame to ourselves does");
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
  a.openUdp()!.sendTo(Uint8Array.of(1), 0, 1, endpoint("192.0.2.77", 9));
  // Three requests a second apart, then the entry fails: the driver must wake for each.
  await until(() => iface.arpStats.failures === 1, 6000);
  driver.stop();
  assert.is(iface.arpStats.requestsOut, 3);
  assert.is(iface.arpStats.failures, 1);
});

test.run();
