// Bulk TCP between two stacks over the in-memory pair, in one Node process: one connection moves
// `megabytes` one way as fast as the two stacks let it, and the figure is payload Gbit/s with the
// garbage collections seen during the transfer. Each stack and the pair have their own memory and
// the application writes from and reads into plain Uint8Arrays of its own, as a real one would.
// The clock is the real one (whole ms of performance.now), so RTOs and delayed ACKs are what they would be.
//
// The link runs at a jumbo MTU by default (64 KB frames, like Linux's loopback), where the stack's
// per-segment costs are paid once per 64 KB; `mtu: 1500` gives the Ethernet-sized figure.
// Beside it, in the same run, the pair's UDP echo of 1472-byte datagrams as the baseline (its
// figure is the payload each way). Rates are given per wall-clock second and per CPU second of
// the process, the second being what holds on a machine shared with other work.
//
// The pair writes frames straight into the receiving stack's buffers (LinkPairOptions.intoPool).
// Each is run without and with the pair's checksum offload (NetDevice.checksumOffload), as Linux's
// loopback and veth skip transport checksums between two stacks in one memory.
//
// Usage: node --expose-gc .build/bench/tcp-pair.js [megabytes] [mtu own|arena [offload]]

import { PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { LinkPair } from "../hal/pair.js";
import { Stack, type StackSetup } from "../src/stack.js";
import type { TcpEndpoint } from "../src/transport/tcp/endpoint.js";
import { endpoint } from "../test/support/stacks.js";
import * as echo from "./steps/udp-echo.js";

export interface TcpPairFigure {
  layout: Layout;
  /** The pair claimed checksum offload: no TCP checksums computed or verified. */
  offload: boolean;
  mtu: number;
  mss: number;
  bytes: number;
  seconds: number;
  gbps: number;
  /** Process CPU time (user + system) over the transfer, and the rate per CPU second: the
   * figure that holds on a machine shared with other work. */
  cpuSeconds: number;
  cpuGbps: number;
  garbageCollections: number;
  /** Segments each way and the retransmissions the sender made. */
  segmentsOut: number;
  acksBack: number;
  retransmits: number;
  /** Every byte arrived, in order (checked on a pattern the receiver recomputes). */
  intact: boolean;
}

/** GC entries reach observers asynchronously; give them time to arrive. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
}

/**
 * Where the application's buffers live: "own", plain Uint8Arrays of its own (every copy to and
 * from a socket crosses arrays); "arena", spans of its stack's arena (StackSetup.appMemory), where
 * those copies are a memmove. The stacks and the pair have their own memory either way.
 */
export type Layout = "own" | "arena";

/** The application's buffer each side: 64 KB of a repeating pattern, written around. */
const APP_BUFFER = 131072;
const WINDOW = 65536;

interface Setup {
  a: Stack;
  b: Stack;
  client: TcpEndpoint;
  server: TcpEndpoint;
  mss: number;
  source: Uint8Array;
  sourceAt: number;
  sink: Uint8Array;
  sinkAt: number;
}

function connect(mtu: number, ring: number, layout: Layout, offload: boolean): Setup {
  const frame = mtu + 14;
  const options: StackSetup = {
    profile: "simulator",
    // A poll takes what the link holds (64 frames): the budget that keeps a microcontroller's
    // timers running over a slow bus would only add polls here.
    receiveBudget: 64,
    receiveBudgetBytes: 64 * frame,
    bufferSize: frame < 1536 ? 1536 : frame,
    buffers: mtu > 9000 ? 96 : 512,
    sendQueue: mtu > 9000 ? 64 : 256,
    tcpSockets: 2,
    tcpSendBuffer: ring,
    tcpReceiveBuffer: ring,
    sendBufferMax: ring,
    receiveBufferMax: ring,
    appMemory: layout === "arena" ? APP_BUFFER + 64 : 0,
  };
  const pair = new LinkPair({
    mtu,
    slots: mtu > 9000 ? 64 : 512,
    checksumOffload: offload,
    intoPool: true,
  });
  const a = new Stack({ ...options, seed: 11 });
  const b = new Stack({ ...options, seed: 22 });
  a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const listener = b.openTcp();
  const client = a.openTcp();
  if (typeof listener === "number" || typeof client === "number")
    throw new Error("tcp-pair: no sockets");
  listener.bind(null, 9);
  listener.listen(1);
  client.connect(endpoint("192.0.2.2", 9));
  let server: TcpEndpoint | number = -1;
  for (let i = 0; i < 1000 && typeof server === "number"; i++) {
    const now = Math.floor(performance.now());
    a.poll(now);
    b.poll(now);
    server = listener.accept(null);
  }
  if (typeof server === "number") throw new Error(`tcp-pair: accept ${server}`);
  let source: Uint8Array;
  let sourceAt = 0;
  let sink: Uint8Array;
  let sinkAt = 0;
  if (layout === "arena") {
    source = a.memory.bytes;
    sourceAt = a.memory.take(APP_BUFFER);
    sink = b.memory.bytes;
    sinkAt = b.memory.take(APP_BUFFER);
  } else {
    source = new Uint8Array(APP_BUFFER);
    sink = new Uint8Array(APP_BUFFER);
  }
  return { a, b, client, server, mss: client.sendMss, source, sourceAt, sink, sinkAt };
}

/**
 * Moves `megabytes` from a to b. The writer sends from its buffer where the stream left off (a
 * byte pattern of period 256 over 64 KB), as an application streaming a file would; the reader
 * checks the first and last byte of each read against the stream position.
 */
export async function tcpPair(
  megabytes = 256,
  mtu = 65518,
  layout: Layout = "own",
  offload = false,
  ring = 1 << 20,
): Promise<TcpPairFigure> {
  const s = connect(mtu, ring, layout, offload);
  const { a, b, client, server, source, sourceAt, sink, sinkAt } = s;
  const total = megabytes * 1024 * 1024;
  for (let i = 0; i < APP_BUFFER; i++) source[sourceAt + i] = i & 255;
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ["gc"] });
  collect();
  await settle();
  collections = 0;
  const outBefore = a.tcp.stats.segmentsOut;
  const backBefore = b.tcp.stats.segmentsOut;
  const retransmitsBefore = a.tcp.stats.retransmits;
  let sent = 0;
  let received = 0;
  let intact = true;
  const cpu = process.cpuUsage();
  const started = performance.now();
  while (received < total) {
    while (sent < total) {
      let want = total - sent;
      if (want > WINDOW) want = WINDOW;
      const n = client.send(source, sourceAt + (sent & (WINDOW - 1)), want, 0);
      if (n <= 0) break;
      sent += n;
    }
    const now = Math.floor(performance.now());
    a.poll(now);
    b.poll(now);
    for (;;) {
      const n = server.recv(sink, sinkAt, WINDOW, 0);
      if (n <= 0) break;
      if (sink[sinkAt] !== (received & 255) || sink[sinkAt + n - 1] !== ((received + n - 1) & 255))
        intact = false;
      received += n;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  await settle();
  observer.disconnect();
  client.close();
  server.close();
  return {
    layout,
    offload,
    mtu: a.iface === null ? mtu : a.iface.mtu,
    mss: s.mss,
    bytes: received,
    seconds,
    gbps: (received * 8) / seconds / 1e9,
    cpuSeconds,
    cpuGbps: (received * 8) / cpuSeconds / 1e9,
    garbageCollections: collections,
    segmentsOut: a.tcp.stats.segmentsOut - outBefore,
    acksBack: b.tcp.stats.segmentsOut - backBefore,
    retransmits: a.tcp.stats.retransmits - retransmitsBefore,
    intact,
  };
}

export function describeTcpPair(f: TcpPairFigure): string {
  const buffers =
    (f.layout === "own" ? "own buffers" : "arena buffers") +
    (f.offload ? ", checksum offload" : "");
  return (
    `TCP bulk, MTU ${f.mtu} (MSS ${f.mss}), ${buffers}: ${f.gbps.toFixed(2)} Gbit/s, ` +
    `${f.cpuGbps.toFixed(2)} per CPU second (${(f.bytes / 1048576).toFixed(0)} MB in ` +
    `${f.seconds.toFixed(2)} s, ${f.garbageCollections} GCs, ${f.segmentsOut} segments, ` +
    `${f.acksBack} ACKs back, ${f.retransmits} retransmits${f.intact ? "" : ", DATA CORRUPT"})`
  );
}

/** The pair's UDP echo of `size`-byte datagrams, own buffers, by wall clock and CPU time. */
export function udpEchoBaseline(
  size = 1472,
  roundTrips = 200_000,
): { gbps: number; cpuGbps: number } {
  echo.setup(size, "own");
  for (let i = 0; i < 20_000; i++) echo.step(i);
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < roundTrips; i++) echo.step(i);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const bits = roundTrips * size * 8;
  return { gbps: bits / seconds / 1e9, cpuGbps: bits / ((used.user + used.system) / 1e6) / 1e9 };
}

/** The bench's lines: TCP at the jumbo MTU and at 1500, and the pair's UDP echo beside them. */
export async function tcpPairReport(megabytes = 256): Promise<string[]> {
  const lines: string[] = [];
  const udp = udpEchoBaseline();
  lines.push(
    `UDP echo 1472 B, own buffers (baseline): ${udp.gbps.toFixed(2)} Gbit/s each way, ` +
      `${udp.cpuGbps.toFixed(2)} per CPU second`,
  );
  const small = megabytes >= 64 ? 64 : megabytes;
  for (const offload of [false, true]) {
    lines.push(describeTcpPair(await tcpPair(megabytes, 65518, "own", offload)));
    lines.push(describeTcpPair(await tcpPair(megabytes, 65518, "arena", offload)));
    lines.push(describeTcpPair(await tcpPair(small, 1500, "own", offload)));
    lines.push(describeTcpPair(await tcpPair(small, 1500, "arena", offload)));
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const megabytes = Number(process.argv[2] ?? 256);
  const mtu = process.argv[3];
  const layout: Layout = process.argv[4] === "arena" ? "arena" : "own";
  const offload = process.argv[5] === "offload";
  if (mtu !== undefined)
    console.log(describeTcpPair(await tcpPair(megabytes, Number(mtu), layout, offload)));
  else for (const line of await tcpPairReport(megabytes)) console.log(line);
}
