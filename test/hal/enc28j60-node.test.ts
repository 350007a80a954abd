// The simulated ENC28J60 and its driver run by the NodeDriver on Node's real event loop, as the
// interop suites and the desktop simulator run them, with a peer stack on the far end of a LinkPair.
// The chip's deadlines (a transmission ending, the wire free again) are in its clock, and the
// NodeDriver arms its timer from them against its own: the two must be one clock, or a finished
// transmission waits for the driver's transmit timeout (or the next frame) to be noticed.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { UdpEcho } from "../../src/apps/udp-echo.js";
import { simulatedEnc28j60 } from "../../hal/enc28j60/simulated.js";
import { LinkPair } from "../../hal/pair.js";
import { NodeDriver } from "../../hal/platform/node/driver.js";
import { Stack } from "../../src/stack.js";
import { Memory } from "../../src/storage/memory.js";
import { FullAddress } from "../../src/wire/address.js";
import { endpoint, poolFull } from "../support/stacks.js";
import { until } from "../support/tap-stack.js";
import { CHIP_MAC } from "./enc28j60-rig.js";

test("every transmission's end is reported by its interrupt, none found by the timeout", async () => {
  const memory = new Memory(new Uint8Array(2 * Stack.memoryNeeded({}) + 64 * 2 * 1600 + 4096));
  const pair = new LinkPair({ memory, slots: 64 });
  const driver = new NodeDriver();
  // The chip keeps the time of the driver that polls it, as tapStack and the simulator wire it.
  const { chip, driver: enc } = simulatedEnc28j60(pair.a, CHIP_MAC, () => driver.now());
  const a = new Stack({ memory, seed: 11 });
  const b = new Stack({ memory, seed: 22 });
  a.attach(enc, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const echo = new UdpEcho(a, 7);
  driver.add(chip);
  driver.attach(pair.a);
  driver.add(a);
  driver.attach(enc);
  driver.add(b);
  driver.attach(pair.b);
  try {
    assert.ok(await until(() => enc.linkUp, 2000), "the chip came up with link");
    const client = b.openUdp() as UdpEndpoint;
    const to = endpoint("192.0.2.1", 7);
    const from = new FullAddress();
    // 1400 bytes: 1.2 ms on the wire, longer than the SPI work after TXRTS, so only the chip's
    // deadline (or the transmit timeout) can end the transmission.
    const data = new Uint8Array(1400);
    const reply = new Uint8Array(1500);
    for (let i = 0; i < 10; i++) {
      data.fill(i);
      assert.is(client.sendTo(data, 0, data.length, to), data.length);
      let n = -1;
      assert.ok(
        await until(() => {
          n = client.recvFrom(reply, 0, reply.length, from, 0);
          return n >= 0;
        }, 2000),
        `echo ${i} answered`,
      );
      assert.is(n, data.length);
      assert.is(reply[0], i);
    }
    assert.is(echo.echoed, 10);
    assert.ok(enc.txFrames >= 10);
    assert.is(enc.txUnreported, 0, "transmissions noticed only by the transmit timeout");
    assert.is(enc.txTimeouts, 0);
    assert.is(chip.violationCount, 0, `simulator violations (last: ${chip.lastViolation})`);
  } finally {
    driver.stop();
  }
  assert.ok(poolFull(a) && poolFull(b), "every pool buffer returned");
});

test.run();
