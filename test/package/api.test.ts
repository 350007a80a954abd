// The edges a new user meets first: errno names, setup errors that name what is wrong, defaults
// that work together, socket calls that answer -errno instead of null, optional trailing
// arguments, and a seed that differs between runs on Node.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LinkPair } from "../../hal/pair.js";
import { TapDevice, type TapAddon } from "../../hal/tap/tap.js";
import { UdpEcho } from "../../src/apps/udp-echo.js";
import { EADDRINUSE, EAGAIN, EMFILE, EPERM, errnoName } from "../../src/errno.js";
import { Stack } from "../../src/stack.js";
import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { FullAddress } from "../../src/wire/address.js";
import { endpoint } from "../support/stacks.js";
import { VirtualNet } from "../support/virtual.js";

test("errnoName names an errno given negative or positive", () => {
  assert.is(errnoName(-98), "EADDRINUSE");
  assert.is(errnoName(EADDRINUSE), "EADDRINUSE");
  assert.is(errnoName(-EAGAIN), "EAGAIN");
  assert.is(errnoName(-EMFILE), "EMFILE");
  assert.is(errnoName(-200), "E200");
});

test("IPv4 settings errors name the field, its value and what it must be", () => {
  const stack = new Stack({ seed: 1 });
  stack.attach(new LinkPair().a);
  assert.throws(
    () => stack.configure({ address: "192.0.2.300", prefix: 24 }),
    /^ipv4\.address 192\.0\.2\.300: must be A\.B\.C\.D or a 32-bit number$/,
  );
  assert.throws(
    () => stack.configure({ address: "192.0.2.1", prefix: 33 }),
    /^ipv4\.prefix 33: must be 0\.\.32$/,
  );
  assert.throws(
    () => stack.configure({ address: "192.0.2.1", prefix: 24, gateway: "gw" }),
    /^ipv4\.gateway gw: must be A\.B\.C\.D/,
  );
  assert.throws(() => new Stack({ seed: 1.5 }), /^seed 1\.5: must be an integer/);
});

test("UdpEcho fits a default Stack and echoes a fragmented datagram", () => {
  const pair = new LinkPair();
  const server = new Stack();
  const client = new Stack();
  server.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  client.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const echo = new UdpEcho(server);
  const net = new VirtualNet().add(server).add(client).attach(pair.a).attach(pair.b);
  const socket = client.openUdp() as UdpEndpoint;
  // Two fragments, and as much as a default socket's 2048-byte queue holds with its record.
  const size = 2000;
  const data = new Uint8Array(size).map((_, i) => i * 7);
  assert.is(socket.sendTo(data, 0, size, endpoint("192.0.2.1", 7)), size);
  net.runUntilIdle();
  assert.is(socket.queuedDatagrams, 1);
  const back = new Uint8Array(size + 100);
  const from = new FullAddress();
  assert.is(socket.recvFrom(back, 0, back.length, from), size);
  assert.equal(back.subarray(0, size), data);
  assert.is(echo.echoed, 1);
});

test("openUdp and openPing answer -EMFILE when all are open, as socket() past the limit", () => {
  const stack = new Stack({ seed: 1, udpSockets: 2, pingSockets: 1 });
  const first = stack.openUdp();
  assert.ok(typeof first !== "number");
  assert.ok(typeof stack.openUdp() !== "number");
  assert.is(stack.openUdp(), -EMFILE);
  assert.ok(typeof stack.openPing() !== "number");
  assert.is(stack.openPing(), -EMFILE);
  first.close();
  assert.ok(typeof stack.openUdp() !== "number", "a slot closed is open to the next");
});

test("recvFrom and sendTo take their trailing arguments as optional", () => {
  const pair = new LinkPair();
  const a = new Stack({ seed: 3 });
  const b = new Stack({ seed: 4 });
  a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const net = new VirtualNet().add(a).add(b).attach(pair.a).attach(pair.b);
  const server = b.openUdp() as UdpEndpoint;
  assert.is(server.bind(null, 9000), 0);
  const client = a.openUdp() as UdpEndpoint;
  assert.is(client.connect(endpoint("192.0.2.2", 9000)), 0);
  // Whole buffer, connected peer.
  assert.is(client.sendTo(Uint8Array.of(1, 2, 3)), 3);
  net.runUntilIdle();
  assert.is(server.queuedDatagrams, 1);
  const into = new Uint8Array(16);
  assert.is(server.recvFrom(into), 3);
  assert.equal([...into.subarray(0, 3)], [1, 2, 3]);
  assert.is(server.recvFrom(into), -EAGAIN);
  assert.is(b.udpStats.datagramsIn, 1);
  assert.is(a.udpStats.datagramsOut, 1);
});

test("with no seed given, Node's crypto seeds each stack differently", () => {
  const seeds = new Set<number>();
  for (let i = 0; i < 8; i++) seeds.add(new Stack().config.seed);
  assert.ok(seeds.size >= 7, `seeds ${[...seeds].join(", ")}`);
  assert.is(new Stack({ seed: 5 }).config.seed, 5);
});

test("TapDevice's setup errors name the value at fault and the errno", () => {
  // A stand-in addon whose open() fails as the kernel does for a user without CAP_NET_ADMIN.
  const refusing = { open: () => -EPERM, readBatch: () => 0 } as unknown as TapAddon;
  assert.throws(
    () => new TapDevice({ name: "tap0", addon: refusing }),
    /^TapDevice: cannot open tap0: EPERM \(needs root or CAP_NET_ADMIN\)$/,
  );
  assert.throws(
    () => new TapDevice({ name: "tap0", addon: refusing, batch: 0 }),
    /^TapDevice: batch 0: must be 1\.\.4096 frames$/,
  );
  assert.throws(
    () => new TapDevice({ name: "tap0", addon: refusing, mac: new Uint8Array(4) }),
    /^TapDevice: mac of 4 bytes: must be 6$/,
  );
});

test.run();
