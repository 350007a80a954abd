// IPv4 reassembly under a fragment flood: first fragments with fresh identifications that never go
// on, interleaved with the fragments of real datagrams, on the virtual clock. The real datagrams
// must get through; the figures print with and without the flood.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { StackOptions } from "../../src/config.js";
import { pattern } from "../support/frames.js";
import { OTHER_IP, PORT, Solo, ipFrame, udpPacket } from "../support/harness.js";

const REAL = 100;

interface Flood {
  /** Junk first fragments after each real fragment. */
  junkPerFragment: number;
  /** Source of the junk (default: the same peer as the real datagrams). */
  junkSource?: number;
}

/** Sends REAL datagrams of 3 fragments, 1 ms apart, with junk after each; returns how many came. */
function replay(options: StackOptions, flood: Flood): number {
  const solo = new Solo({
    stack: { udpReceiveBuffer: 20000, reassemblySlots: 2, ...options },
  }).warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, PORT), 0);
  const buffer = new Uint8Array(10000);
  let junkId = 0x8000;
  let received = 0;
  const junk = pattern(1480, 0xee);
  for (let d = 0; d < REAL; d++) {
    const data = pattern(4000 - 8, d & 255);
    const payload = udpPacket(data);
    for (let offset = 0; offset < payload.length; offset += 1480) {
      const more = offset + 1480 < payload.length;
      solo.send(
        ipFrame({
          payload: payload.slice(offset, offset + 1480),
          id: d + 1,
          fragment: (more ? 0x2000 : 0) | (offset >>> 3),
        }),
      );
      for (let j = 0; j < flood.junkPerFragment; j++)
        solo.send(
          ipFrame({
            payload: junk,
            id: junkId++ & 0xffff,
            fragment: 0x2000,
            ...(flood.junkSource === undefined ? {} : { source: flood.junkSource }),
          }),
        );
      solo.advance(1);
    }
    for (;;) {
      const n = socket.recvFrom(buffer, 0, buffer.length, null, 0);
      if (n < 0) break;
      assert.is(n, data.length);
      assert.equal(buffer.slice(0, n), data, "byte-exact");
      received++;
    }
  }
  solo.advance(60_000);
  solo.take();
  assert.ok(solo.poolFull());
  return received;
}

test("one junk first fragment after each real fragment: the real datagrams all get through", () => {
  const quiet = replay({}, { junkPerFragment: 0 });
  const flooded = replay({}, { junkPerFragment: 1 });
  console.log(
    `  reassembly, 2 slots, real fragments 1 ms apart: ${quiet}/${REAL} without a flood, ` +
      `${flooded}/${REAL} with one junk fragment after each`,
  );
  assert.is(quiet, REAL);
  assert.is(flooded, REAL);
});

test("a heavier flood from another host is held to its share by reassemblyPerSource", () => {
  const open = replay({ reassemblySlots: 3 }, { junkPerFragment: 3, junkSource: OTHER_IP });
  const capped = replay(
    { reassemblySlots: 3, reassemblyPerSource: 1 },
    { junkPerFragment: 3, junkSource: OTHER_IP },
  );
  console.log(
    `  reassembly, 3 slots, three junk fragments from another host after each real one: ` +
      `${open}/${REAL} without a per-source limit, ${capped}/${REAL} with reassemblyPerSource 1`,
  );
  assert.is(capped, REAL);
  assert.ok(open < REAL, "the limit is what saves them");
});

function fragmentOf(payload: Uint8Array, start: number, end: number, id: number, more = true) {
  return ipFrame({
    payload: payload.slice(start, end),
    id,
    fragment: (more ? 0x2000 : 0) | (start >>> 3),
  });
}

test("inside merged ranges, exact duplicates drop alone and any other cut drops the datagram", () => {
  const solo = new Solo({ stack: { udpReceiveBuffer: 20000, reassemblySlots: 2 } }).warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  socket.bind(null, PORT);
  const data = pattern(4000 - 8, 1);
  const payload = udpPacket(data);
  const cuts = [0, 1000, 2000, 3000, 4000];
  // Pieces 0..2 merge into one range [0, 3000); the last piece is held back.
  for (let i = 0; i < 3; i++) solo.send(fragmentOf(payload, cuts[i], cuts[i + 1], 1));
  for (let i = 0; i < 3; i++) solo.send(fragmentOf(payload, cuts[i], cuts[i + 1], 1));
  assert.is(solo.iface.ipStats.duplicateFragments, 3);
  assert.is(solo.iface.ipStats.reassemblyFailures, 0);
  for (const [start, end] of [
    [1000, 1496],
    [1496, 2000],
    [1000, 2480],
    [992, 2000],
    [504, 1504],
  ]) {
    const id = 100 + start + end;
    for (let i = 0; i < 3; i++) solo.send(fragmentOf(payload, cuts[i], cuts[i + 1], id));
    const before = solo.iface.ipStats.reassemblyOverlaps;
    solo.send(fragmentOf(payload, start, end, id));
    assert.is(solo.iface.ipStats.reassemblyOverlaps, before + 1, `[${start}, ${end})`);
  }
  solo.send(fragmentOf(payload, 3000, payload.length, 1, false));
  const buffer = new Uint8Array(5000);
  assert.is(socket.recvFrom(buffer, 0, buffer.length, null, 0), data.length);
  assert.equal(buffer.slice(0, data.length), data);
  assert.ok(solo.poolFull());
});

test("with every slot busy, a lone first fragment goes before a datagram that has grown", () => {
  const solo = new Solo({ stack: { udpReceiveBuffer: 20000, reassemblySlots: 2 } }).warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  socket.bind(null, PORT);
  const a = udpPacket(pattern(3000 - 8, 2));
  const b = udpPacket(pattern(3000 - 8, 3));
  solo.send(fragmentOf(a, 0, 1000, 1));
  solo.send(fragmentOf(a, 1000, 2000, 1)); // a has grown
  solo.advance(5);
  solo.send(fragmentOf(b, 0, 1000, 2)); // b is younger, but alone
  solo.advance(5);
  solo.send(fragmentOf(b, 0, 1000, 3)); // a third datagram evicts b, not the older a
  assert.is(solo.iface.ipStats.reassemblyFailures, 1);
  solo.send(fragmentOf(a, 2000, a.length, 1, false));
  const buffer = new Uint8Array(5000);
  assert.is(socket.recvFrom(buffer, 0, buffer.length, null, 0), 3000 - 8);
  solo.send(fragmentOf(b, 1000, 2000, 2));
  solo.send(fragmentOf(b, 2000, b.length, 2, false));
  assert.is(socket.recvFrom(buffer, 0, buffer.length, null, 0) < 0, true, "b was evicted");
});

test.run();
