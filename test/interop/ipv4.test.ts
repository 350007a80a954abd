// The stack against the Linux kernel over a TAP, inside a namespace this suite makes: ping, arping,
// UDP echo both ways with fragmentation, ICMP port unreachable, broadcast, and the same UDP run over
// an impaired link. The kernel and Debian's tools are the judges.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import * as assert from "uvu/assert";
import { ImpairedDevice } from "../../hal/impair.js";
import { ECONNREFUSED } from "../../src/errno.js";
import { Random } from "../../src/random.js";
import { FullAddress } from "../../src/wire/address.js";
import { labOrSkip } from "../support/lab.js";
import { endpoint } from "../support/stacks.js";
import { TapStack, sleep, tapStack, until } from "../support/tap-stack.js";

const test = labOrSkip("interop/ipv4");
const STACK = "192.0.2.2";

let current: TapStack | null = null;

test.after.each(() => {
  if (current !== null) {
    assert.is(current.stack.pool.available, current.stack.pool.count, "every pool buffer returned");
    current.stop();
  }
  current = null;
});

test("ping -c 20 from the kernel: 20 of 20 answered", async ({ lab }) => {
  current = await tapStack(lab, "tap0");
  const ping = await lab.run("ping", ["-c", "20", "-i", "0.02", "-W", "2", STACK], {
    timeoutMs: 20000,
  });
  assert.match(ping.stdout, /20 packets transmitted, 20 received, 0% packet loss/);
  assert.is(current.stack.iface!.icmpStats.echoRepliesOut, 20);
});

test("large pings are reassembled and answered in fragments", async ({ lab }) => {
  current = await tapStack(lab, "tap0");
  const ping = await lab.run("ping", ["-c", "3", "-i", "0.05", "-s", "6000", "-W", "2", STACK], {
    timeoutMs: 10000,
  });
  assert.match(ping.stdout, /3 packets transmitted, 3 received/);
  assert.ok(current.stack.iface!.ipStats.reassembled >= 3);
  assert.ok(current.stack.iface!.ipStats.fragmentsOut >= 3 * 5);
});

test("arping is answered", async ({ lab }) => {
  current = await tapStack(lab, "tap0");
  const arping = await lab.run("arping", ["-c", "3", "-w", "5", "-I", "tap0", STACK], {
    timeoutMs: 10000,
  });
  assert.match(arping.stdout, /Received 3 response/);
  assert.match(arping.stdout.toLowerCase(), /02:54:41:50:00:02/);
});

/** Sends one datagram from the stack and waits for the echo; returns its length or -1. */
async function roundTrip(
  run: TapStack,
  socket: ReturnType<TapStack["stack"]["openUdp"]> & object,
  data: Uint8Array,
  to: FullAddress,
  reply: Uint8Array,
  timeoutMs: number,
): Promise<number> {
  const sent = socket.sendTo(data, 0, data.length, to);
  if (sent !== data.length) throw new Error(`sendTo returned ${sent}`);
  let n = -1;
  await until(() => {
    n = socket.recvFrom(reply, 0, reply.length, null, 0);
    return n >= 0;
  }, timeoutMs);
  return n;
}

test("1000 datagrams of 1..8000 bytes echoed byte-exact by socat, fragmented both ways", async ({
  lab,
}) => {
  const run = (current = await tapStack(lab, "tap0"));
  const socat = lab.spawn("socat", ["-b", "65536", "-T", "1", "UDP4-RECVFROM:9000,fork", "PIPE"], {
    stdio: "ignore",
  });
  try {
    await sleep(200);
    const socket = run.stack.openUdp() as UdpEndpoint;
    const random = new Random(1234);
    const to = endpoint("192.0.2.1", 9000);
    const reply = new Uint8Array(9000);
    let exact = 0;
    for (let i = 0; i < 1000; i++) {
      const size = 1 + random.below(8000);
      const data = new Uint8Array(size);
      for (let k = 0; k < size; k++) data[k] = random.next() & 255;
      const n = await roundTrip(run, socket, data, to, reply, 2000);
      assert.is(n, size, `datagram ${i} of ${size} bytes`);
      for (let k = 0; k < size; k++)
        if (reply[k] !== data[k]) assert.unreachable(`datagram ${i} differs at ${k}`);
      exact++;
    }
    assert.is(exact, 1000);
    const ip = run.stack.iface!.ipStats;
    assert.ok(ip.fragmentsOut > 1000, "the stack fragmented");
    assert.ok(ip.reassembled > 500, "the stack reassembled the kernel's fragments");
  } finally {
    socat.kill("SIGKILL");
  }
});

const PY_ECHO_CLIENT = `
import os, random, socket, sys
random.seed(99)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
ok = 0
for i in range(int(sys.argv[1])):
    data = os.urandom(random.randint(1, 8000))
    s.sendto(data, ("${STACK}", 7))
    reply, peer = s.recvfrom(65535)
    if reply != data or peer != ("${STACK}", 7):
        print("mismatch", i, len(data), len(reply)); sys.exit(1)
    ok += 1
print("echoed", ok)
`;

test("the kernel's datagrams of 1..8000 bytes are echoed byte-exact by the stack", async ({
  lab,
}) => {
  const run = (current = await tapStack(lab, "tap0"));
  const result = await lab.run("python3", ["-c", PY_ECHO_CLIENT, "1000"], { timeoutMs: 60000 });
  assert.match(result.stdout, /echoed 1000/, result.stdout + result.stderr);
  assert.is(run.echo.echoed, 1000);
});

const PY_REFUSED = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("${STACK}", 4444))
s.send(b"anyone there?")
s.settimeout(2)
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("ECONNREFUSED")
except socket.timeout:
    print("timeout")
`;

test("ICMP port unreachable: the kernel's connected socket gets ECONNREFUSED, and ours too", async ({
  lab,
}) => {
  const run = (current = await tapStack(lab, "tap0"));
  const result = await lab.run("python3", ["-c", PY_REFUSED], { timeoutMs: 10000 });
  assert.is(result.stdout.trim(), "ECONNREFUSED", result.stderr);
  assert.is(run.stack.iface!.icmpStats.destUnreachableOut, 1);

  const socket = run.stack.openUdp() as UdpEndpoint;
  assert.is(socket.connect(endpoint("192.0.2.1", 4445)), 0);
  assert.is(socket.sendTo(Uint8Array.of(1, 2, 3), 0, 3, null), 3);
  let error = 0;
  await until(() => {
    error = socket.recvFrom(new Uint8Array(8), 0, 8, null, 0);
    return error === -ECONNREFUSED;
  }, 3000);
  assert.is(error, -ECONNREFUSED);
});

test("broadcasts: the kernel's reach the stack, the stack's reach the kernel", async ({ lab }) => {
  const run = (current = await tapStack(lab, "tap0"));
  const socket = run.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, 5000), 0);
  for (const address of ["192.0.2.255", "255.255.255.255"]) {
    await lab.run(
      "socat",
      ["-u", "-", `UDP4-DATAGRAM:${address}:5000,broadcast,so-bindtodevice=tap0`],
      { input: `to ${address}`, timeoutMs: 5000 },
    );
    const buf = new Uint8Array(64);
    let n = -1;
    await until(() => (n = socket.recvFrom(buf, 0, 64, null, 0)) >= 0, 3000);
    assert.is(new TextDecoder().decode(buf.subarray(0, Math.max(n, 0))), `to ${address}`);
  }

  const listener = lab.run("socat", ["-u", "-T", "3", "UDP4-RECV:5001", "-"], { timeoutMs: 5000 });
  await sleep(300);
  socket.broadcast = true;
  const data = new TextEncoder().encode("from the stack");
  assert.is(socket.sendTo(data, 0, data.length, endpoint("192.0.2.255", 5001)), data.length);
  const heard = await listener;
  assert.is(heard.stdout, "from the stack");
});

test("through loss 0.1, reorder 0.05, dup 0.02: every datagram arrives intact or not at all", async ({
  lab,
}) => {
  // The simulator's --impair text, through the same parser.
  const impair = ImpairedDevice.parse("loss=0.1,reorder=0.05,dup=0.02,seed=5");
  if (typeof impair === "string") throw new Error(impair);
  const run = (current = await tapStack(lab, "tap0", impair));
  const socat = lab.spawn("socat", ["-b", "65536", "-T", "1", "UDP4-RECVFROM:9000,fork", "PIPE"], {
    stdio: "ignore",
  });
  try {
    await sleep(200);
    const socket = run.stack.openUdp() as UdpEndpoint;
    const random = new Random(77);
    const to = endpoint("192.0.2.1", 9000);
    const sent: Uint8Array[] = [];
    const reply = new Uint8Array(9000);
    let intact = 0;
    const window = 8;
    for (let base = 0; base < 1000; base += window) {
      for (let i = base; i < base + window; i++) {
        // Each datagram names itself: index, then bytes derived from it, so any mix-up shows.
        const size = 4 + random.below(7997);
        const data = new Uint8Array(size);
        data[0] = i >>> 8;
        data[1] = i & 255;
        for (let k = 2; k < size; k++) data[k] = random.next() & 255;
        sent.push(data);
        const result = socket.sendTo(data, 0, size, to);
        assert.ok(result === size, `send ${i}: ${result}`);
      }
      const deadline = Date.now() + 150;
      while (Date.now() < deadline) {
        const n = socket.recvFrom(reply, 0, reply.length, null, 0);
        if (n < 0) {
          await sleep(1);
          continue;
        }
        const index = (reply[0] << 8) | reply[1];
        const original = sent[index];
        assert.ok(
          original !== undefined && original.length === n,
          `echo of unknown datagram ${index}`,
        );
        for (let k = 0; k < n; k++)
          if (reply[k] !== original[k]) assert.unreachable(`datagram ${index} corrupted`);
        intact++;
      }
    }
    const impaired = run.impaired!;
    assert.ok(intact > 100, `only ${intact} datagrams came back`);
    assert.ok(impaired.tx.lost + impaired.rx.lost > 100, "the link really lost frames");
    console.log(`    impaired run: ${intact} intact echoes of 1000 datagrams`);
  } finally {
    socat.kill("SIGKILL");
  }
});

test.run();
