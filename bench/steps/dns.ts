// One DNS query per step between two stacks over the in-memory pair: the client stack resolves
// one of 64 names with the DnsClient (no cache, so every step crosses the wire: a fresh ID, a
// fresh port, the question, the answer checked and parsed, the callback), and the server stack
// answers from a responder that rewrites each question into its answer in place. Mode "udp" is
// the baseline: the same question and answer bytes through a bare UDP endpoint, no resolver.
// The step of bench/dns.ts (V8) and of xs-alloc (XS).

import { DnsClient, type DnsCallback, type DnsQuery } from "../../src/apps/dns-client.js";
import type { Stack } from "../../src/stack.js";
import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { FullAddress } from "../../src/wire/address.js";
import { duo, endpoint } from "../../test/support/stacks.js";

export type DnsMode = "resolver" | "udp";

const NAMES = 64;

class Done implements DnsCallback {
  status = -1;
  address = 0;
  dnsDone(query: DnsQuery): void {
    this.status = query.status;
    this.address = query.address;
  }
}

interface State {
  a: Stack;
  b: Stack;
  mode: DnsMode;
  now: number;
  server: UdpEndpoint;
  client: DnsClient;
  raw: UdpEndpoint | null;
  bytes: Uint8Array;
  at: number;
  rawAt: number;
  from: FullAddress;
  rawFrom: FullAddress;
  to: FullAddress;
  names: string[];
  done: Done;
}

let state: State | null = null;

/** The responder: each question becomes its answer, the address 192.0.2.(100 + the host's number). */
function respond(s: State): void {
  const b = s.bytes;
  const at = s.at;
  for (;;) {
    const n = s.server.recvFrom(b, at, 512, s.from, 0);
    if (n < 0) return;
    // Header: QR, RD, RA; one answer.
    b[at + 2] = 0x81;
    b[at + 3] = 0x80;
    b[at + 7] = 1;
    // The number in the first label "hN".
    let host = 0;
    const first = b[at + 12];
    for (let i = 2; i <= first; i++) host = host * 10 + (b[at + 12 + i] - 48);
    let w = at + n;
    b[w++] = 0xc0;
    b[w++] = 12;
    b[w++] = 0;
    b[w++] = 1;
    b[w++] = 0;
    b[w++] = 1;
    b[w++] = 0;
    b[w++] = 0;
    b[w++] = 1;
    b[w++] = 0;
    b[w++] = 0;
    b[w++] = 4;
    b[w++] = 192;
    b[w++] = 0;
    b[w++] = 2;
    b[w++] = 100 + host;
    s.server.sendTo(b, at, w - at, s.from);
  }
}

function round(s: State): void {
  s.now++;
  s.b.poll(s.now);
  s.client.poll(s.now);
  s.a.poll(s.now);
  respond(s);
  s.a.poll(s.now);
  s.b.poll(s.now);
  s.client.poll(s.now);
}

export function setup(mode: DnsMode = "resolver"): void {
  const d = duo({ udpSockets: 3 }, 64, 4 * 1024);
  const server = d.a.openUdp();
  if (typeof server === "number" || server.bind(null, 53) < 0) throw new Error("dns step: bind");
  const names: string[] = [];
  for (let i = 0; i < NAMES; i++) names.push(`h${i}.bench.test`);
  const s: State = {
    a: d.a,
    b: d.b,
    mode,
    now: 0,
    server,
    client: new DnsClient(d.b, { servers: ["192.0.2.1"], cacheEntries: 0, queries: 2, seed: 3 }),
    raw: null,
    bytes: d.memory.bytes,
    at: d.memory.take(1024),
    rawAt: d.memory.take(1024),
    from: new FullAddress(),
    rawFrom: new FullAddress(),
    to: endpoint("192.0.2.1", 53),
    names,
    done: new Done(),
  };
  if (mode === "udp") {
    const raw = d.b.openUdp();
    if (typeof raw === "number") throw new Error("dns step: raw socket");
    s.raw = raw;
    // The question for "h0.bench.test", as the resolver would send it.
    const q = s.bytes;
    let w = s.rawAt;
    for (const v of [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]) q[w++] = v;
    for (const label of ["h0", "bench", "test"]) {
      q[w++] = label.length;
      for (let i = 0; i < label.length; i++) q[w++] = label.charCodeAt(i);
    }
    for (const v of [0, 0, 1, 0, 1]) q[w++] = v;
  }
  state = s;
  for (let i = 0; i < 200; i++) step(i);
}

export function step(i: number): void {
  const s = state as State;
  if (s.mode === "udp") {
    const raw = s.raw as UdpEndpoint;
    raw.sendTo(s.bytes, s.rawAt, 31, s.to);
    for (let k = 0; k < 20; k++) {
      round(s);
      const n = raw.recvFrom(s.bytes, s.rawAt + 64, 512, s.rawFrom, 0);
      if (n > 0) {
        if (s.bytes[s.rawAt + 64 + n - 1] !== 100) throw new Error("dns step: raw answer");
        return;
      }
    }
    throw new Error("dns step: no raw answer");
  }
  const done = s.done;
  done.status = -1;
  const host = i & (NAMES - 1);
  const q = s.client.resolve(s.names[host], 1, done);
  if (typeof q === "number") throw new Error(`dns step: resolve ${q}`);
  for (let k = 0; k < 20; k++) {
    round(s);
    if (done.status >= 0) break;
  }
  if (done.status !== 0 || done.address !== ((192 << 24) | (2 << 8) | (100 + host) | 0))
    throw new Error(`dns step: status ${done.status}`);
}

export function leaked(): number {
  const s = state as State;
  return s.a.pool.count - s.a.pool.available + (s.b.pool.count - s.b.pool.available);
}
