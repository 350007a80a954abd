import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  DEVICE_LINK,
  DEVICE_RECEIVE,
  DEVICE_TRANSMIT,
  TX_BUSY,
  TX_TAKEN,
} from "../../src/device.js";
import { EMSGSIZE, ENETDOWN } from "../../src/errno.js";
import { LoopbackDevice } from "../../hal/loopback.js";

function frame(length: number, seed: number): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < length; i++) f[i] = (i * 7 + seed) & 0xff;
  return f;
}

test("transmitted frames come back in order", () => {
  const dev = new LoopbackDevice({ slots: 4 });
  const buf = new Uint8Array(1600);
  assert.is(dev.transmit(frame(60, 1), 0, 60), TX_TAKEN);
  assert.is(dev.transmit(frame(1514, 2), 0, 1514), TX_TAKEN);
  assert.is(dev.pending, 2);
  assert.is(dev.receive(buf, 0, 1600), 60);
  assert.equal(buf.subarray(0, 60), frame(60, 1));
  assert.is(dev.receive(buf, 0, 1600), 1514);
  assert.equal(buf.subarray(0, 1514), frame(1514, 2));
  assert.is(dev.receive(buf, 0, 1600), 0);
  assert.is(dev.rxFrames, 2);
  assert.is(dev.txBytes, 1574);
});

test("queue full, bad length and link down are refused and counted", () => {
  const dev = new LoopbackDevice({ slots: 2, mtu: 100 });
  const f = frame(200, 3);
  assert.is(dev.transmit(f, 0, 114), TX_TAKEN);
  assert.is(dev.transmit(f, 0, 115), -EMSGSIZE);
  assert.is(dev.txBadLength, 1);
  assert.is(dev.transmit(f, 0, 60), TX_TAKEN);
  assert.is(dev.transmit(f, 0, 60), TX_BUSY);
  assert.is(dev.txQueueFull, 1);
  dev.setLink(false);
  assert.is(dev.rxFlushed, 2);
  assert.is(dev.transmit(f, 0, 60), -ENETDOWN);
  assert.is(dev.txLinkDown, 1);
  const buf = new Uint8Array(200);
  assert.is(dev.receive(buf, 0, 200), 0);
  dev.setLink(true);
  assert.is(dev.transmit(f, 0, 60), TX_TAKEN);
  assert.is(dev.receive(buf, 0, 200), 60);
});

test("onEvent fires per frame; a callback that transmits again stays shallow", () => {
  const dev = new LoopbackDevice({ slots: 2 });
  const buf = new Uint8Array(100);
  let calls = 0;
  let depth = 0;
  let maxDepth = 0;
  dev.onEvent = () => {
    calls++;
    depth++;
    maxDepth = Math.max(maxDepth, depth);
    const n = dev.receive(buf, 0, 100);
    if (n > 0 && calls < 500) dev.transmit(buf, 0, n);
    depth--;
  };
  dev.transmit(frame(60, 4), 0, 60);
  assert.is(calls, 500);
  assert.is(maxDepth, 1);
  assert.is(dev.pending, 0);
});

test("a link change signals DEVICE_LINK; a full queue signals DEVICE_TRANSMIT once drained", () => {
  const dev = new LoopbackDevice({ slots: 1 });
  const events: number[] = [];
  const buf = new Uint8Array(100);
  assert.is(dev.transmit(frame(60, 1), 0, 60), TX_TAKEN);
  dev.onEvent = (e) => events.push(e);
  assert.is(dev.transmit(frame(60, 2), 0, 60), TX_BUSY);
  assert.is(dev.receive(buf, 0, 100), 60);
  assert.equal(events, [DEVICE_TRANSMIT]);
  dev.setLink(false);
  dev.setLink(true);
  assert.equal(events, [DEVICE_TRANSMIT, DEVICE_LINK, DEVICE_LINK]);
  assert.is(dev.transmit(frame(60, 3), 0, 60), TX_TAKEN);
  assert.equal(events, [DEVICE_TRANSMIT, DEVICE_LINK, DEVICE_LINK, DEVICE_RECEIVE]);
});

test("default MAC is locally administered unicast", () => {
  const dev = new LoopbackDevice();
  assert.is(dev.mac[0] & 0x03, 0x02);
  assert.is(dev.mtu, 1500);
  assert.ok(dev.linkUp);
  assert.is(dev.nextDeadline(), Infinity);
});

test.run();
