// TCP against the Linux kernel over a TAP, in a namespace this suite makes: kernel clients (python3)
// to the stack's echo, discard and chargen services, 64 MB each, and the stack as a client of a
// kernel server, 16 MB each way, with SHA-256 equal on both ends; then the stack as a client through
// a link that loses, reorders, duplicates and corrupts frames, 16 MB each way; a reader that stops
// (zero window), and clients that reset mid-stream. Each bulk test prints how long it took.

import { createHash } from "node:crypto";
import * as assert from "uvu/assert";
import { kernelEcho } from "../support/kernel-echo.js";
import { labOrSkip } from "../support/lab.js";
import { stopAfterEach, tapStack, until } from "../support/tap-stack.js";
import { stackClient } from "./tcp-peers.js";

const test = labOrSkip("interop/tcp");
const MB = 1024 * 1024;

const stacks = stopAfterEach(test);

/** Prints a transfer's time and rate, for the README's figures. */
function report(what: string, bytes: number, started: number): void {
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `  ${what}: ${bytes / MB} MB in ${seconds.toFixed(1)} s, ${((bytes * 8) / seconds / 1e6).toFixed(0)} Mbit/s`,
  );
}

test("kernel client to the echo service: 64 MB echoed, SHA-256 equal", async ({ lab }) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const started = performance.now();
  const r = await kernelEcho(lab, 64 * MB, 240_000);
  report("echo", 64 * MB, started);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.count, 64 * MB);
  assert.is(r.got, r.sent);
  await until(() => run.services.active === 0, 2000);
  assert.is(run.services.active, 0);
});

const DISCARD_CLIENT = `
import socket, random, sys
n = int(sys.argv[1])
s = socket.create_connection(("192.0.2.2", 9), timeout=60)
block = random.Random(3).randbytes(1 << 20)
for i in range(n >> 20): s.sendall(block)
s.shutdown(socket.SHUT_WR)
print("eof" if s.recv(10) == b"" else "data")
`;

test("kernel client to the discard service: 64 MB taken, every byte, then a clean close", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const started = performance.now();
  const r = await lab.run("python3", ["-c", DISCARD_CLIENT, String(64 * MB)], {
    timeoutMs: 240_000,
  });
  report("discard", 64 * MB, started);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), "eof");
  assert.is(run.services.bytesIn, 64 * MB);
});

const CHARGEN_CLIENT = `
import socket, sys, hashlib
n = int(sys.argv[1])
s = socket.create_connection(("192.0.2.2", 19), timeout=60)
h = hashlib.sha256(); got = 0; head = bytearray()
while got < n:
    b = s.recv(min(65536, n - got))
    if not b: break
    h.update(b); got += len(b)
    if len(head) < 74 * 200: head += b[:74 * 200 - len(head)]
s.close()
lines = bytes(head).split(b"\\r\\n")[:-1]
rot = all(len(l) == 72 for l in lines) and all(lines[i][1:] == lines[i + 1][:71] for i in range(len(lines) - 1))
print(got, h.hexdigest(), rot)
`;

/** RFC 864's stream from its start, the first `n` bytes: 72 printable characters rotating by one. */
function chargenSha256(n: number): string {
  const period = 74 * 95;
  const cycle = new Uint8Array(period);
  for (let p = 0; p < period; p++) {
    const line = (p / 74) | 0;
    const column = p % 74;
    cycle[p] = column === 72 ? 13 : column === 73 ? 10 : 32 + ((line + column) % 95);
  }
  const hash = createHash("sha256");
  for (let at = 0; at < n; at += period) hash.update(cycle.subarray(0, Math.min(period, n - at)));
  return hash.digest("hex");
}

test("kernel client to chargen: 64 MB of RFC 864 lines, SHA-256 of the expected stream", async ({
  lab,
}) => {
  stacks.current = await tapStack(lab, "tap0");
  const started = performance.now();
  const r = await lab.run("python3", ["-c", CHARGEN_CLIENT, String(64 * MB)], {
    timeoutMs: 240_000,
  });
  report("chargen", 64 * MB, started);
  assert.is(r.status, 0, r.stderr);
  const [bytes, digest, rotating] = r.stdout.trim().split(" ");
  assert.is(Number(bytes), 64 * MB);
  assert.is(rotating, "True");
  assert.is(digest, chargenSha256(64 * MB));
});

const PAUSING_READER = `
import socket, sys, hashlib, time
n = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
s.settimeout(60)
s.connect(("192.0.2.2", 19))
h = hashlib.sha256(); got = 0; paused = False
while got < n:
    if not paused and got >= n // 2:
        paused = True; time.sleep(3)
    b = s.recv(min(65536, n - got))
    if not b: break
    h.update(b); got += len(b)
s.close()
print(got, h.hexdigest())
`;

test("a kernel reader with a small buffer and MSS 536 that stops for 3 s: zero window, probes, the stream resumes intact", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const stats = run.stack.tcp.stats;
  const r = await lab.run("python3", ["-c", PAUSING_READER, String(8 * MB)], {
    timeoutMs: 120_000,
  });
  assert.is(r.status, 0, r.stderr);
  const [bytes, digest] = r.stdout.trim().split(" ");
  console.log(
    `  paused reader: ${stats.persistProbes} persist probes, ${stats.retransmits} retransmits`,
  );
  assert.is(Number(bytes), 8 * MB);
  assert.is(digest, chargenSha256(8 * MB));
  assert.ok(stats.persistProbes > 0, "the zero window was probed");
});

const RESETTING_CLIENT = `
import socket, struct, sys, time
port = int(sys.argv[1]); data = sys.argv[2].encode() * int(sys.argv[3])
s = socket.create_connection(("192.0.2.2", port), timeout=20)
s.sendall(data)
time.sleep(0.2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("reset")
`;

test("kernel clients that reset mid-stream (SO_LINGER 0): every session and buffer comes back", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const stats = run.stack.tcp.stats;
  // Into discard 1 MB; echo and chargen 100 KB, less than the kernel buffers unread; HTTP half a head.
  for (const [port, text, times] of [
    [9, "x", 1_000_000],
    [7, "x", 100_000],
    [19, "x", 100_000],
    [80, "GET / HTTP/1.1\r\nHost:", 1],
  ] as const) {
    const r = await lab.run(
      "python3",
      ["-c", RESETTING_CLIENT, String(port), text, String(times)],
      {
        timeoutMs: 30_000,
      },
    );
    assert.is(r.status, 0, r.stderr);
  }
  assert.ok(
    await until(() => run.services.active === 0 && run.http.active === 0, 3000),
    "sessions free",
  );
  assert.ok(
    await until(() => run.stack.tcp.live === 4, 3000),
    `only the listeners (${run.stack.tcp.live})`,
  );
  assert.is(stats.establishedResets, 4);
  assert.is(stats.resetsIn, 4);
});

test("the stack as a client of a kernel server: 16 MB up, 16 MB down, SHA-256 equal", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const started = performance.now();
  await stackClient(run, lab, 16 * MB, 16 * MB);
  report("stack client, up then down", 32 * MB, started);
});

test("the same through --impair loss=0.05,reorder=0.02,dup=0.01,corrupt=0.001: 16 MB each way", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0", {
    loss: 0.05,
    reorder: 0.02,
    duplicate: 0.01,
    corrupt: 0.001,
    seed: 5,
  }));
  const started = performance.now();
  await stackClient(run, lab, 16 * MB, 16 * MB);
  report("impaired stack client, up then down", 32 * MB, started);
  const r = await kernelEcho(lab, 1 * MB, 120_000);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.got, r.sent);
  const stats = run.stack.tcp.stats;
  console.log(
    `  impaired: ${stats.retransmits} retransmits, ${stats.badChecksum} bad checksums in`,
  );
  assert.ok(stats.retransmits > 0);
  assert.ok(run.impaired !== null);
});

test.run();
