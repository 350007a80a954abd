// Profiles and the arena: options override a profile's values, setup errors name the option, its
// value and the range, and Stack.memoryNeeded counts every byte: a stack in an arena of exactly
// that size works, one byte fewer fails at construction saying how many bytes are missing.

import type { UdpEndpoint } from "../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LinkPair } from "../hal/pair.js";
import { DEFAULTS, PROFILES, StackConfig, type Profile } from "../src/config.js";
import { EMFILE } from "../src/errno.js";
import { Stack } from "../src/stack.js";
import { Memory } from "../src/storage/memory.js";
import { endpoint, poolFull } from "./support/stacks.js";
import { VirtualNet } from "./support/virtual.js";

const profiles: Profile[] = ["small", "default", "simulator"];

test("options override the profile's values; no profile means the default one", () => {
  const small = new StackConfig({ profile: "small", buffers: 12 });
  assert.is(small.buffers, 12);
  assert.is(small.udpSockets, PROFILES.small.udpSockets);
  assert.is(small.reassemblySlots, 2);
  const plain = new StackConfig({});
  assert.is(plain.profile, "default");
  assert.is(plain.buffers, DEFAULTS.buffers);
  assert.is(new StackConfig({ profile: "simulator" }).buffers, PROFILES.simulator.buffers);
  assert.ok(Object.isFrozen(PROFILES) && Object.isFrozen(PROFILES.small));
});

test("setup errors name the option, its value and the range allowed", () => {
  assert.throws(
    () => new StackConfig({ bufferSize: 1000 }),
    /^bufferSize 1000: must be 1514\.\.65535$/,
  );
  assert.throws(() => new StackConfig({ buffers: 1 }), /buffers 1: must be 2\.\.32767/);
  assert.throws(() => new StackConfig({ ttl: 256 }), /ttl 256: must be 1\.\.255/);
  assert.throws(() => new StackConfig({ udpSockets: 2.5 }), /udpSockets 2\.5: must be 0\.\.1024/);
  assert.throws(
    () => new StackConfig({ profile: "huge" as Profile }),
    /profile huge: must be small, default or simulator/,
  );
  assert.throws(
    () =>
      new StackConfig({
        udpSockets: 2,
        udpReceiveBuffer: 1000,
        pingSockets: 0,
        tcpSockets: 0,
        socketBufferSpace: 1999,
      }),
    /socketBufferSpace 1999: must be 0 or 2000\.\./,
  );
});

test("memoryBytes is the sum of its parts, and the profiles fit their boards", () => {
  for (const profile of profiles) {
    const c = new StackConfig({ profile });
    assert.is(
      c.memoryBytes,
      c.poolBytes + c.reassemblyBytes + c.socketBufferBytes + c.scratchBytes,
    );
    assert.is(c.socketBufferBytes, c.socketBufferDefaults + c.socketBufferHeadroom);
  }
  // A tiny board, and an ESP32 with Moddable's default 78,848-byte chunk heap left half free.
  assert.ok(new StackConfig({ profile: "small" }).memoryBytes <= 32 * 1024);
  assert.ok(new StackConfig({}).memoryBytes <= 46 * 1024);
});

/** A stack in an arena of exactly `bytes`, attached and used: every socket opened, one datagram each way. */
function exercise(profile: Profile, bytes: number): void {
  const memory = new Memory(new Uint8Array(bytes));
  const stack = new Stack({ profile, memory });
  const peer = new Stack({ profile: "small", seed: 5 });
  const pair = new LinkPair();
  stack.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  peer.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  assert.is(memory.free, 0, `${profile}: every byte counted, none left over`);
  const net = new VirtualNet().add(stack).add(peer).attach(pair.a).attach(pair.b);
  const sockets = [];
  for (let i = 0; i < stack.config.udpSockets; i++) sockets.push(stack.openUdp() as UdpEndpoint);
  assert.ok(sockets.every((s) => typeof s !== "number"));
  assert.is(stack.openUdp(), -EMFILE, "all open: EMFILE, as socket() past the descriptor limit");
  for (let i = 0; i < stack.config.pingSockets; i++)
    assert.ok(typeof stack.openPing() !== "number");
  assert.is(sockets[0].bind(null, 7), 0);
  const client = peer.openUdp() as UdpEndpoint;
  const data = new Uint8Array(1000).fill(7);
  assert.is(client.sendTo(data, 0, data.length, endpoint("192.0.2.1", 7)), 1000);
  net.runUntilIdle();
  const got = new Uint8Array(2000);
  const from = endpoint("0.0.0.0", 0);
  assert.is(sockets[0].recvFrom(got, 0, got.length, from, 0), 1000);
  assert.is(sockets[0].sendTo(got, 0, 1000, from), 1000);
  net.runUntilIdle();
  assert.is(client.recvFrom(got, 0, got.length, null, 0), 1000);
  assert.ok(poolFull(stack) && poolFull(peer));
}

for (const profile of profiles) {
  test(`${profile}: an arena of exactly Stack.memoryNeeded works; one byte fewer fails at construction`, () => {
    const need = Stack.memoryNeeded({ profile });
    exercise(profile, need);
    assert.throws(
      () => new Stack({ profile, memory: new Memory(new Uint8Array(need - 1)) }),
      (e: Error) =>
        e instanceof RangeError &&
        e.message ===
          `memory ${need - 1}: the stack needs ${need} bytes of arena, 1 more (Stack.memoryNeeded)`,
    );
  });
}

test("a stack making its own arena makes it of memoryNeeded bytes plus appMemory", () => {
  const stack = new Stack({ profile: "small", appMemory: 100 });
  assert.is(stack.memory.bytes.length, Stack.memoryNeeded({ profile: "small" }) + 100);
});

test.run();
