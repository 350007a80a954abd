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
import { LinkPair } from "../../hal/pair.js";
import { Memory } from "../../src/storage/memory.js";

function frame(length: number, seed: number): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < length; i++) f[i] = (i * 31 + seed) & 0xff;
  return f;
}

test("a frame sent on one end arrives intact on the other, in order", () => {
  const pair = new LinkPair({ slots: 8 });
  const f1 = frame(60, 1);
  const f2 = frame(1514, 2);
  assert.is(pair.a.transmit(f1, 0, 60), TX_TAKEN);
  assert.is(pair.a.transmit(f2, 0, 1514), TX_TAKEN);
  const buf = new Uint8Array(1600);
  assert.is(pair.a.receive(buf, 0, 1600), 0, "nothing comes back to the sender");
  assert.is(pair.b.receive(buf, 10, 1590), 60);
  assert.equal(buf.subarray(10, 70), f1);
  assert.is(pair.b.receive(buf, 0, 1600), 1514);
  assert.equal(buf.subarray(0, 1514), f2);
  assert.is(pair.b.receive(buf, 0, 1600), 0);
  assert.is(pair.a.txFrames, 2);
  assert.is(pair.a.txBytes, 1574);
  assert.is(pair.b.rxFrames, 2);
  assert.is(pair.b.rxBytes, 1574);
});

test("both directions are independent", () => {
  const pair = new LinkPair({ slots: 2 });
  assert.is(pair.a.transmit(frame(64, 1), 0, 64), TX_TAKEN);
  assert.is(pair.b.transmit(frame(64, 2), 0, 64), TX_TAKEN);
  const buf = new Uint8Array(100);
  assert.is(pair.a.receive(buf, 0, 100), 64);
  assert.equal(buf.subarray(0, 64), frame(64, 2));
  assert.is(pair.b.receive(buf, 0, 100), 64);
  assert.equal(buf.subarray(0, 64), frame(64, 1));
});

test("a full queue answers busy and counts it, then accepts again once drained", () => {
  const pair = new LinkPair({ slots: 3 });
  const f = frame(100, 3);
  for (let i = 0; i < 3; i++) assert.is(pair.a.transmit(f, 0, 100), TX_TAKEN);
  assert.is(pair.a.transmit(f, 0, 100), TX_BUSY);
  assert.is(pair.a.transmit(f, 0, 100), TX_BUSY);
  assert.is(pair.a.txQueueFull, 2);
  assert.is(pair.a.txFrames, 3);
  const buf = new Uint8Array(200);
  assert.is(pair.b.receive(buf, 0, 200), 100);
  assert.is(pair.a.transmit(f, 0, 100), TX_TAKEN);
  let n = 0;
  while (pair.b.receive(buf, 0, 200) > 0) n++;
  assert.is(n, 3);
});

test("the FIFO wraps around its slots without mixing frames", () => {
  const pair = new LinkPair({ slots: 4 });
  const buf = new Uint8Array(300);
  for (let i = 0; i < 50; i++) {
    assert.is(pair.a.transmit(frame(60 + i, i), 0, 60 + i), TX_TAKEN);
    if (i % 3 === 2) {
      for (let j = i - 2; j <= i; j++) {
        assert.is(pair.b.receive(buf, 0, 300), 60 + j);
        assert.equal(buf.subarray(0, 60 + j), frame(60 + j, j));
      }
    }
  }
});

test("link down refuses transmit and drops queued frames; link up restores", () => {
  const pair = new LinkPair({ slots: 4 });
  const f = frame(80, 4);
  pair.a.transmit(f, 0, 80);
  pair.a.transmit(f, 0, 80);
  pair.b.transmit(f, 0, 80);
  pair.setLink(false);
  assert.not.ok(pair.a.linkUp);
  assert.not.ok(pair.b.linkUp);
  assert.is(pair.b.rxFlushed, 2);
  assert.is(pair.a.rxFlushed, 1);
  assert.is(pair.a.transmit(f, 0, 80), -ENETDOWN);
  assert.is(pair.a.txLinkDown, 1);
  const buf = new Uint8Array(100);
  assert.is(pair.b.receive(buf, 0, 100), 0);
  pair.linkUp = true;
  assert.ok(pair.b.linkUp);
  assert.is(pair.a.transmit(f, 0, 80), TX_TAKEN);
  assert.is(pair.b.receive(buf, 0, 100), 80);
});

test("frames shorter than a header or longer than mtu + 14 are refused", () => {
  const pair = new LinkPair({ mtu: 576, slots: 2 });
  const f = frame(600, 5);
  assert.is(pair.a.transmit(f, 0, 13), -EMSGSIZE);
  assert.is(pair.a.transmit(f, 0, 591), -EMSGSIZE);
  assert.is(pair.a.transmit(f, 0, 590), TX_TAKEN);
  assert.is(pair.a.txBadLength, 2);
});

test("a short buffer gets a truncated frame and its true length", () => {
  const pair = new LinkPair();
  const f = frame(200, 6);
  pair.a.transmit(f, 0, 200);
  const buf = new Uint8Array(100).fill(0xee);
  assert.is(pair.b.receive(buf, 0, 50), 200);
  assert.equal(buf.subarray(0, 50), f.subarray(0, 50));
  assert.is(buf[50], 0xee, "nothing written past capacity");
  assert.is(pair.b.rxTruncated, 1);
});

test("minFrame pads short frames with zeros", () => {
  const pair = new LinkPair({ minFrame: 60 });
  const f = frame(42, 7);
  pair.a.transmit(f, 0, 42);
  const buf = new Uint8Array(100).fill(0xee);
  assert.is(pair.b.receive(buf, 0, 100), 60);
  assert.equal(buf.subarray(0, 42), f);
  assert.ok(buf.subarray(42, 60).every((b) => b === 0));
});

test("MAC addresses: defaults are distinct and locally administered; options are copied", () => {
  const pair = new LinkPair();
  assert.is(pair.a.mac.length, 6);
  assert.is(pair.a.mac[0] & 0x03, 0x02);
  assert.is(pair.b.mac[0] & 0x03, 0x02);
  assert.not.equal(Array.from(pair.a.mac), Array.from(pair.b.mac));
  const mac = Uint8Array.of(2, 1, 2, 3, 4, 5);
  const p2 = new LinkPair({ macA: mac });
  mac[5] = 9;
  assert.equal(Array.from(p2.a.mac), [2, 1, 2, 3, 4, 5]);
});

test("transmit signals the other end only", () => {
  const pair = new LinkPair();
  let a = 0;
  let b = 0;
  pair.a.onEvent = () => a++;
  pair.b.onEvent = () => b++;
  pair.a.transmit(frame(60, 1), 0, 60);
  assert.is(b, 1);
  assert.is(a, 0);
});

test("a callback that polls an echoing peer neither recurses nor loses a frame", () => {
  const pair = new LinkPair({ slots: 4 });
  const buf = new Uint8Array(1600);
  let depth = 0;
  let maxDepth = 0;
  let bounces = 0;
  let receivesInFlight = 0;
  // Each side echoes what it receives until the frame has bounced 1000 times: a synchronous driver.
  const echo = (end: typeof pair.a) => () => {
    assert.is(receivesInFlight, 0, "callback never runs inside receive()");
    depth++;
    maxDepth = Math.max(maxDepth, depth);
    for (;;) {
      receivesInFlight++;
      const n = end.receive(buf, 0, buf.length);
      receivesInFlight--;
      if (n === 0) break;
      if (++bounces < 1000) assert.is(end.transmit(buf, 0, n), TX_TAKEN);
    }
    depth--;
  };
  pair.a.onEvent = echo(pair.a);
  pair.b.onEvent = echo(pair.b);
  pair.a.transmit(frame(60, 9), 0, 60);
  assert.is(bounces, 1000);
  assert.ok(maxDepth <= 2, `depth ${maxDepth}`);
  assert.is(pair.a.inbound.count + pair.b.inbound.count, 0);
});

test("a one-at-a-time end is busy until the peer takes its frame, then signals DEVICE_TRANSMIT", () => {
  const pair = new LinkPair({ oneAtATime: "a" });
  const events: number[] = [];
  pair.a.onEvent = (e) => events.push(e);
  const buf = new Uint8Array(100);
  assert.is(pair.a.transmit(frame(60, 1), 0, 60), TX_TAKEN);
  assert.ok(pair.a.inFlight);
  assert.is(pair.a.transmit(frame(60, 2), 0, 60), TX_BUSY);
  assert.is(pair.a.transmit(frame(60, 2), 0, 60), TX_BUSY);
  assert.is(pair.a.txBusy, 2);
  assert.is(pair.a.txFrames, 1);
  assert.equal(events, [], "no signal while the frame is in flight");
  assert.is(pair.b.receive(buf, 0, 100), 60);
  assert.equal(buf.subarray(0, 60), frame(60, 1));
  assert.equal(events, [DEVICE_TRANSMIT], "the peer took it");
  assert.not.ok(pair.a.inFlight);
  assert.is(pair.a.transmit(frame(60, 2), 0, 60), TX_TAKEN, "offered again, taken");
  assert.is(pair.b.receive(buf, 0, 100), 60);
  assert.equal(buf.subarray(0, 60), frame(60, 2));
  // The other end is not slowed down.
  for (let i = 0; i < 3; i++) assert.is(pair.b.transmit(frame(60, i), 0, 60), TX_TAKEN);
  assert.is(pair.b.txBusy, 0);
});

test("a one-at-a-time end's signal waits for its own frame, not for older ones", () => {
  const pair = new LinkPair({ oneAtATime: "both" });
  const buf = new Uint8Array(100);
  let transmits = 0;
  pair.b.onEvent = (e) => {
    if ((e & DEVICE_TRANSMIT) !== 0) transmits++;
  };
  // b's queue gets a's frame; b's own frame goes to a, and is freed only by a's receive.
  assert.is(pair.a.transmit(frame(60, 1), 0, 60), TX_TAKEN);
  assert.is(pair.b.transmit(frame(60, 2), 0, 60), TX_TAKEN);
  assert.is(pair.b.receive(buf, 0, 100), 60);
  assert.is(transmits, 0, "b taking a's frame frees a, not b");
  assert.is(pair.b.transmit(frame(60, 3), 0, 60), TX_BUSY);
  assert.is(pair.a.receive(buf, 0, 100), 60);
  assert.is(transmits, 1);
  assert.is(pair.b.transmit(frame(60, 3), 0, 60), TX_TAKEN);
});

test("a full queue signals DEVICE_TRANSMIT to the busy sender once a frame is taken", () => {
  const pair = new LinkPair({ slots: 1 });
  const events: number[] = [];
  pair.a.onEvent = (e) => events.push(e);
  const buf = new Uint8Array(100);
  assert.is(pair.a.transmit(frame(60, 1), 0, 60), TX_TAKEN);
  assert.is(pair.b.receive(buf, 0, 100), 60);
  assert.equal(events, [], "nobody was waiting");
  assert.is(pair.a.transmit(frame(60, 1), 0, 60), TX_TAKEN);
  assert.is(pair.a.transmit(frame(60, 2), 0, 60), TX_BUSY);
  assert.is(pair.b.receive(buf, 0, 100), 60);
  assert.equal(events, [DEVICE_TRANSMIT]);
});

test("link changes signal DEVICE_LINK on both ends and free a frame in flight", () => {
  const pair = new LinkPair({ oneAtATime: "a" });
  const a: number[] = [];
  const b: number[] = [];
  pair.a.onEvent = (e) => a.push(e);
  pair.b.onEvent = (e) => b.push(e);
  assert.is(pair.a.transmit(frame(60, 1), 0, 60), TX_TAKEN);
  assert.equal(b, [DEVICE_RECEIVE]);
  pair.setLink(false);
  assert.equal(a, [DEVICE_LINK]);
  assert.equal(b, [DEVICE_RECEIVE, DEVICE_LINK], "no receive signal for the flushed frame");
  assert.not.ok(pair.a.inFlight, "the frame died on the wire");
  pair.setLink(false);
  assert.is(a.length, 1, "no change, no signal");
  pair.setLink(true);
  assert.equal(a, [DEVICE_LINK, DEVICE_LINK]);
  assert.ok(pair.a.linkUp);
  assert.is(pair.a.transmit(frame(60, 1), 0, 60), TX_TAKEN);
});

test("the multicast filter is recorded per end", () => {
  const pair = new LinkPair();
  const groups = Uint8Array.of(1, 0, 0x5e, 0, 0, 0xfb, 0x33, 0x33, 0, 0, 0, 1);
  pair.a.setMulticastFilter(groups, 2);
  assert.is(pair.a.multicastCount, 2);
  assert.is(pair.a.filterUpdates, 1);
  assert.ok(pair.a.hasMulticast(groups, 0));
  assert.ok(pair.a.hasMulticast(groups, 6));
  assert.not.ok(pair.a.hasMulticast(Uint8Array.of(1, 0, 0x5e, 0, 0, 0xfc)));
  assert.is(pair.b.multicastCount, 0);
  groups[5] = 0xfc;
  assert.not.ok(pair.a.hasMulticast(groups, 0), "a copy, not the caller's bytes");
  pair.a.setMulticastFilter(groups, 1);
  assert.is(pair.a.multicastCount, 1);
  assert.ok(pair.a.hasMulticast(groups, 0));
  assert.not.ok(pair.a.hasMulticast(groups, 6), "a group left");
  pair.a.setMulticastFilter(groups, 0);
  assert.not.ok(pair.a.hasMulticast(groups, 0));
});

test("bad oneAtATime is refused", () => {
  assert.throws(() => new LinkPair({ oneAtATime: "c" as "a" }), /oneAtATime/);
});

test("a shared arena holds both directions; frames stay in their own slots", () => {
  const memory = new Memory(new Uint8Array(64 * 1024));
  const before = memory.free;
  const pair = new LinkPair({ memory, slots: 4 });
  assert.ok(before - memory.free >= 2 * 4 * 1514);
  // A frame taken from the arena itself: the copy is a memmove within one array.
  const src = memory.take(1514);
  memory.bytes.set(frame(1514, 11), src);
  assert.is(pair.a.transmit(memory.bytes, src, 1514), TX_TAKEN);
  const dst = memory.take(1514);
  assert.is(pair.b.receive(memory.bytes, dst, 1514), 1514);
  assert.equal(memory.bytes.subarray(dst, dst + 1514), frame(1514, 11));
});

test.run();
