// TCP under attack and at scale against the kernel over the TAP, in the lab's namespace: an hping3
// SYN flood from spoofed addresses of 192.0.2.0/24 while curl still gets its page; forged in-window
// RST and SYN segments (hping3 with the live connection's ports and sequence numbers) answered
// with RFC 5961 challenge ACKs while the connection lives on; 200 connections opened by the kernel
// and the tables idle again once TIME-WAIT ends; and the ISNs and ephemeral ports of 1,000
// connections the stack opens, read off the wire with tcpdump, showing no simple pattern.

import type { ChildProcess } from "node:child_process";
import * as assert from "uvu/assert";
import type { Lab } from "../../hal/platform/node/lab.js";
import { EINPROGRESS } from "../../src/errno.js";
import { EPHEMERAL_FIRST, EPHEMERAL_LAST } from "../../src/transport/ports.js";
import { ESTABLISHED, SYN_SENT } from "../../src/transport/tcp/constants.js";
import type { TcpConnection } from "../../src/transport/tcp/connection.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";
import { FullAddress } from "../../src/wire/address.js";
import { labOrSkip } from "../support/lab.js";
import { endpoint } from "../support/stacks.js";
import { TapStack, sleep, stopAfterEach, tapStack, until } from "../support/tap-stack.js";

const test = labOrSkip("interop/tcp-attack");

const children: ChildProcess[] = [];

// The lab's children go first, then the stack they talked to.
test.after.each(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  children.length = 0;
});
const stacks = stopAfterEach(test);

/** A child in the lab whose output is collected; `lines()` is what it printed so far. */
function start(lab: Lab, command: string, args: string[]) {
  const child = lab.spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (c: string) => (out += c));
  child.stderr!.on("data", (c: string) => (err += c));
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    child,
    closed,
    out: () => out,
    err: () => err,
  };
}

async function curlStatus(lab: Lab): Promise<string> {
  const r = await lab.run(
    "curl",
    [
      "-sS",
      "--max-time",
      "20",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code} %{time_total}",
      "http://192.0.2.2/",
    ],
    { timeoutMs: 30_000 },
  );
  return r.stdout + (r.status === 0 ? "" : ` ${r.stderr.trim()}`);
}

test("an hping3 SYN flood from 12 random spoofed hosts of 192.0.2.0/24: curl still gets its page", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const stats = run.stack.tcp.stats;
  assert.is(await curlStatus(lab).then((s) => s.split(" ")[0]), "200", "before the flood");
  const segmentsBefore = stats.segmentsIn;
  // hping3 spoofs one address a process (with a new source port each SYN): 12 processes, each from
  // a host of 192.0.2.3-254 drawn at random, none of which answers ARP.
  const hosts = new Set<number>();
  while (hosts.size < 12) hosts.add(3 + Math.floor(Math.random() * 252));
  const floods = [];
  for (const host of hosts)
    floods.push(
      start(lab, "timeout", [
        "6",
        "hping3",
        "-q",
        "-S",
        "-p",
        "80",
        "-a",
        `192.0.2.${host}`,
        "--flood",
        "192.0.2.2",
      ]),
    );
  await sleep(1000);
  const during: string[] = [];
  for (let i = 0; i < 4; i++) during.push(await curlStatus(lab));
  await Promise.all(floods.map((f) => f.closed));
  const flooded = stats.segmentsIn - segmentsBefore;
  console.log(
    `  flood from .${[...hosts].join(" .")}: ${flooded} segments in, ${stats.synCookiesSent} SYN cookies sent, ${stats.synCookiesValid} valid, ` +
      `${stats.listenDrops} listen drops, SYN queue ${run.stack.tcp.synQ.count}; curl: ${during.join(", ")}`,
  );
  assert.ok(flooded > 10_000, `the flood arrived (${flooded} segments)`);
  for (const s of during) assert.is(s.split(" ")[0], "200", s);
  // The SYN queue filled, and SYN cookies answered beyond it.
  assert.ok(stats.synCookiesSent > 0, "SYN cookies sent");
  // The spoofed entries hold the queue for their SYN-ACK retries: curl came in on cookies, and the
  // flood (SYNs only) never made an ACK that failed one.
  assert.ok(stats.synCookiesValid >= 1, "curl's connections through SYN cookies");
  assert.is(stats.synCookiesFailed, 0);
  assert.is(run.stack.tcp.synQ.count, run.stack.config.tcpSynQueue, "the SYN queue full");
  assert.ok(run.http.statusPages >= 5);
  assert.is(await curlStatus(lab).then((s) => s.split(" ")[0]), "200", "after the flood");
  // SYN-ACKs to the spoofed hosts wait for ARP answers that never come; once resolution gives up
  // their buffers are back.
  const pool = run.stack.pool;
  assert.ok(
    await until(() => pool.available === pool.count, 20_000),
    `pool whole again (${pool.count - pool.available} in use)`,
  );
});

/** A kernel client of the echo service that sends a line from stdin and prints what came back. */
const LINE_CLIENT = `
import socket, sys
s = socket.create_connection(("192.0.2.2", 7), timeout=20)
print(s.getsockname()[1], flush=True)
for line in sys.stdin:
    data = line.encode()
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        b = s.recv(65536)
        if not b: break
        got += b
    print("echo " + got.decode().strip(), flush=True)
`;

function find(run: TapStack, localPort: number, remotePort: number): TcpConnection | null {
  for (const c of run.stack.tcp.slots)
    if (c.inUse && c.localPort === localPort && c.remotePort === remotePort) return c;
  return null;
}

/** One segment from the kernel's address with hping3: flags "-R" or "-S", the given sequence. */
async function forge(lab: Lab, flag: string, from: number, seq: number): Promise<void> {
  const r = await lab.run(
    "hping3",
    [
      "-q",
      "-c",
      "1",
      flag,
      "-s",
      String(from),
      "-k",
      "-p",
      "7",
      "-M",
      String(seq >>> 0),
      "192.0.2.2",
    ],
    { timeoutMs: 10_000 },
  );
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
}

test("forged in-window RST and SYN get challenge ACKs; the connection lives on", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const stats = run.stack.tcp.stats;
  const client = start(lab, "python3", ["-c", LINE_CLIENT]);
  assert.ok(await until(() => client.out().includes("\n"), 10_000), client.err());
  const port = Number(client.out().split("\n")[0]);
  const say = async (text: string): Promise<boolean> => {
    client.child.stdin!.write(`${text}\n`);
    return until(() => client.out().includes(`echo ${text}\n`), 5000);
  };
  assert.ok(await say("first"), "echo before");
  const conn = find(run, 7, port)!;
  assert.ok(conn !== null && conn.state === ESTABLISHED);

  const challenges = stats.challengeAcks;
  // RST inside the window but not at its left edge (RFC 5961 §3.2).
  await forge(lab, "-R", port, conn.rcvNxt + 1000);
  assert.ok(
    await until(() => stats.challengeAcks === challenges + 1, 2000),
    "challenge ACK to the RST",
  );
  assert.is(conn.state, ESTABLISHED);
  // Challenge ACKs are rate-limited per connection (RFC 5961 §7), as Linux's
  // tcp_invalid_ratelimit does: one per 500 ms. The SYN comes after that.
  await new Promise((resolve) => setTimeout(resolve, 600));
  // SYN in the window (RFC 5961 §4.2).
  await forge(lab, "-S", port, conn.rcvNxt + 500);
  assert.ok(
    await until(() => stats.challengeAcks === challenges + 2, 2000),
    "challenge ACK to the SYN",
  );
  assert.is(conn.state, ESTABLISHED);
  // A RST outside the window is dropped without an answer.
  await forge(lab, "-R", port, conn.rcvNxt + 0x40000000);
  await sleep(200);
  assert.is(stats.challengeAcks, challenges + 2);
  assert.is(conn.state, ESTABLISHED);
  assert.ok(await say("second"), "data still flows both ways");
  assert.is(stats.establishedResets, 0);

  // The control: the same forgery at exactly RCV.NXT does reset it, so the segments above did
  // reach the connection with the right ports.
  await forge(lab, "-R", port, conn.rcvNxt);
  assert.ok(await until(() => stats.establishedResets === 1, 2000), "an exact RST resets");
  client.child.stdin!.end();
  await client.closed;
});

const OPEN_CLOSE = `
import socket, sys
n = int(sys.argv[1])
for i in range(n):
    s = socket.create_connection(("192.0.2.2", 7), timeout=10)
    s.sendall(b"x" * 100)
    got = b""
    while len(got) < 100: got += s.recv(100)
    s.close()
for i in range(n):
    s = socket.create_connection(("192.0.2.2", 80), timeout=10)
    s.sendall(b"GET /bytes/100 HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
    got = b""
    while True:
        b = s.recv(4096)
        if not b: break
        got += b
    assert got.endswith(bytes(i % 251 for i in range(100))), got
    s.close()
print("done", flush=True)
`;

test("200 connections opened by the kernel: the table and pool idle again once TIME-WAIT ends", async ({
  lab,
}) => {
  // TIME-WAIT of 2 s (2 MSL), and room for every entry so none is evicted early.
  const run = (stacks.current = await tapStack(lab, "tap0", null, "tap", {
    msl: 1000,
    tcpTimeWait: 256,
  }));
  const tcp = run.stack.tcp;
  const listeners = tcp.live;
  const started = performance.now();
  const r = await lab.run("python3", ["-c", OPEN_CLOSE, "100"], { timeoutMs: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const seconds = (performance.now() - started) / 1000;
  // The HTTP connections closed by the stack first wait in TIME-WAIT, without a slot.
  const waiting = tcp.timeWait.count;
  console.log(`  200 connections in ${seconds.toFixed(1)} s; ${waiting} in TIME-WAIT at the end`);
  assert.ok(waiting > 0, "TIME-WAIT entries held");
  assert.is(tcp.stats.passiveOpens, 200);
  assert.is(tcp.stats.timeWaitEvictions, 0);
  assert.ok(
    await until(
      () => tcp.timeWait.count === 0 && tcp.live === listeners && tcp.synQ.count === 0,
      5000,
    ),
    `idle again (time-wait ${tcp.timeWait.count}, live ${tcp.live}, syn queue ${tcp.synQ.count})`,
  );
  assert.is(run.services.active, 0);
  assert.is(run.http.active, 0);
  assert.is(run.services.accepted, 100);
  assert.is(run.http.accepted, 100);
  assert.is(run.stack.pool.available, run.stack.pool.count);
  assert.is(tcp.stats.establishedResets, 0);
  assert.is(tcp.stats.resetsOut, 0);
});

const ACCEPT_LOOP = `
import socket
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("192.0.2.1", 5001)); srv.listen(512)
print("ready", flush=True)
while True:
    c, _ = srv.accept(); c.close()
`;

test("ISNs and ephemeral ports of 1,000 connections the stack opens show no simple pattern", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const server = start(lab, "python3", ["-c", ACCEPT_LOOP]);
  assert.ok(await until(() => server.out().startsWith("ready"), 10_000), server.err());
  const dump = start(lab, "tcpdump", [
    "-i",
    "tap0",
    "-n",
    "-S",
    "-l",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and src host 192.0.2.2",
  ]);
  assert.ok(await until(() => dump.err().includes("listening on"), 10_000), dump.err());

  const count = 1000;
  const batch = 8;
  const ports: number[] = [];
  const local = new FullAddress();
  for (let i = 0; i < count; i += batch) {
    const open: TcpEndpoint[] = [];
    for (let j = 0; j < batch; j++) {
      const c = run.stack.openTcp() as TcpEndpoint;
      assert.is(c.connect(endpoint("192.0.2.1", 5001)), -EINPROGRESS);
      c.getLocal(local);
      ports.push(local.port);
      open.push(c);
    }
    assert.ok(await until(() => open.every((c) => c.state !== SYN_SENT), 10_000), "connected");
    for (const c of open) {
      // Established, or already past it (the server closes at once): never refused or timed out.
      assert.is(c.takeError(), 0);
      c.lingerZero = true;
      c.close();
    }
  }
  // Every SYN on the wire, in order: "IP 192.0.2.2.PORT > 192.0.2.1.5001: Flags [S], seq N, ...".
  assert.ok(await until(() => dump.out().split("\n").length > count, 5000), "tcpdump saw the SYNs");
  dump.child.kill("SIGINT");
  await dump.closed;
  const syns = new Map<number, number>();
  const isns: number[] = [];
  for (const line of dump.out().split("\n")) {
    const m = /192\.0\.2\.2\.(\d+) > 192\.0\.2\.1\.5001: Flags \[S\], seq (\d+),/.exec(line);
    if (m === null) continue;
    const port = Number(m[1]);
    if (syns.has(port) && syns.get(port) === Number(m[2])) continue; // a retransmitted SYN
    syns.set(port, Number(m[2]));
    isns.push(Number(m[2]));
  }
  assert.ok(isns.length >= count, `${isns.length} SYNs parsed`);
  for (const port of ports) assert.ok(syns.has(port), `port ${port} seen on the wire`);

  const isn = isnProblems(isns);
  const port = portProblems(ports);
  console.log(`  ISN: ${isn.summary}\n  ports: ${port.summary}`);
  assert.equal(isn.problems, [], "ISNs");
  assert.equal(port.problems, [], "ports");
});

test("the pattern checks reject counter and clock ISNs and sequential ports", () => {
  const n = 1000;
  const counter = Array.from({ length: n }, (_, i) => (0x12345678 + i * 64000) >>> 0);
  // A 4 µs clock read at random moments 0.5 to 5 ms apart.
  let t = 0;
  const clock = Array.from({ length: n }, () => (t += 125 + ((t * 7919) % 1125)) >>> 0);
  // Upward by a random step below 2^24, as a counter plus noise would be.
  let v = 99;
  const noisy = Array.from({ length: n }, (_, i) => (v = (v + ((i * 2654435761) >>> 8)) >>> 0));
  for (const [name, values] of [
    ["counter", counter],
    ["clock", clock],
    ["noisy counter", noisy],
  ] as const)
    assert.ok(isnProblems([...values]).problems.length > 0, `${name} ISNs rejected`);
  const sequential = Array.from({ length: n }, (_, i) => EPHEMERAL_FIRST + ((17_000 + i) % 28_232));
  const strided = Array.from({ length: n }, (_, i) => EPHEMERAL_FIRST + ((i * 2) % 28_232));
  assert.ok(portProblems(sequential).problems.length > 0, "sequential ports rejected");
  assert.ok(portProblems(strided).problems.length > 0, "ports in small strides rejected");
});

/**
 * What makes a run of ISNs predictable: a repeat (1,000 random 32-bit values repeat with odds of
 * 1 in 8,600), steps between consecutive ones that repeat, are small or mostly upwards (as a
 * counter or a clock makes them), or values that crowd part of the space.
 */
function isnProblems(isns: number[]): { summary: string; problems: string[] } {
  const problems: string[] = [];
  if (new Set(isns).size !== isns.length) problems.push("repeats");
  const steps = isns.slice(1).map((v, i) => (v - isns[i]) >>> 0);
  const distinctSteps = new Set(steps).size;
  const small = steps.filter((d) => d < 2 ** 24 || d > 2 ** 32 - 2 ** 24).length;
  const upward = steps.filter((d) => d < 2 ** 31).length;
  const bins = new Array<number>(16).fill(0);
  for (const v of isns) bins[v >>> 28]++;
  if (distinctSteps <= steps.length - 5) problems.push(`${distinctSteps} distinct steps`);
  if (small >= steps.length * 0.03) problems.push(`${small} small steps`);
  if (!(upward > steps.length * 0.4 && upward < steps.length * 0.6))
    problems.push(`${upward} upward steps`);
  if (bins.some((b) => b <= 25 || b >= 110)) problems.push(`uneven: ${bins.join(" ")}`);
  return {
    summary: `${distinctSteps} distinct steps of ${steps.length}, ${small} within ±2^24, ${upward} upward; top-nibble bins ${bins.join(" ")}`,
    problems,
  };
}

/**
 * What makes ephemeral ports predictable: repeats beyond chance (about 18 pairs among 1,000 draws
 * from 28,232), small steps as sequential allocation makes, or ports crowding part of the range.
 */
function portProblems(ports: number[]): { summary: string; problems: string[] } {
  const problems: string[] = [];
  const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
  const distinct = new Set(ports).size;
  const near = ports.slice(1).filter((p, i) => Math.abs(p - ports[i]) <= 64).length;
  const bins = new Array<number>(8).fill(0);
  for (const p of ports) {
    if (p < EPHEMERAL_FIRST || p > EPHEMERAL_LAST) problems.push(`port ${p} out of range`);
    else bins[Math.floor(((p - EPHEMERAL_FIRST) * 8) / span)]++;
  }
  if (distinct < ports.length * 0.95) problems.push(`${distinct} distinct`);
  if (near >= ports.length * 0.03) problems.push(`${near} steps within 64`);
  if (bins.some((b) => b <= ports.length * 0.07 || b >= ports.length * 0.185))
    problems.push(`uneven: ${bins.join(" ")}`);
  return {
    summary: `${distinct} distinct, ${near} steps within 64, bins ${bins.join(" ")}`,
    problems,
  };
}

test.run();
