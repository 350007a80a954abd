// One kilobyte through the socket layer between two stacks over the in-memory pair, all in one
// arena with the application's buffers: UDP (one 1024-byte datagram) or TCP (1024 bytes of a
// stream), sent with sendMsg and read with recvMsg, sockaddrs in the caller's bytes. With
// mode "endpoint" the same transfer goes through the transport endpoints directly: the baseline
// that shows what the socket layer adds; with mode "blocking" the receiver (and the TCP sender)
// use the callback-driven blocking calls with one Completion made at setup; with mode "ecma419"
// it goes through the ECMA-419 TCP and UDP classes (write(view), read(view) from onReadable,
// callbacks delivered by the host's poll), views over the arena made once at setup. The step of
// bench/epsocket.ts (V8) and of xs-alloc (XS).

import { createNetwork, type Network } from "../../src/ecma419/network.js";
import type { TCP } from "../../src/ecma419/tcp.js";
import type { UDP } from "../../src/ecma419/udp.js";
import { SocketLayer } from "../../src/epsocket/layer.js";
import { AF_INET, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM } from "../../src/epsocket/linux.js";
import type { Completion, SocketOperations } from "../../src/epsocket/socket.js";
import type { Stack } from "../../src/stack.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";
import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { FullAddress } from "../../src/wire/address.js";
import { duo, endpoint } from "../../test/support/stacks.js";

export type Protocol = "udp" | "tcp";
export type Mode = "socket" | "blocking" | "endpoint" | "ecma419";

const CHUNK = 1024;

interface State {
  a: Stack;
  b: Stack;
  la: SocketLayer;
  lb: SocketLayer;
  protocol: Protocol;
  mode: Mode;
  now: number;
  bytes: Uint8Array;
  sendAt: number;
  recvAt: number;
  addrAt: number;
  /** The server's sockaddr_in, in the arena. */
  toAt: number;
  client: SocketOperations | null;
  server: SocketOperations | null;
  udpClient: UdpEndpoint | null;
  udpServer: UdpEndpoint | null;
  tcpClient: TcpEndpoint | null;
  tcpServer: TcpEndpoint | null;
  to: FullAddress;
  from: FullAddress;
  results: Results;
  na: Network | null;
  nb: Network | null;
  ecmaClient: TCP | UDP | null;
  ecmaServer: TCP | UDP | null;
  sendView: Uint8Array;
  recvView: Uint8Array;
}

let state: State | null = null;

/** The blocking calls' completions: counts and the last result, no closure. */
class Results implements Completion {
  received = -1;
  sent = -1;
  calls = 0;
  complete(socket: SocketOperations, result: number): void {
    const s = state as State;
    this.calls++;
    if (socket === s.server) this.received = result;
    else this.sent = result;
  }
}

function pump(s: State): void {
  for (let k = 0; k < 3; k++) {
    s.now++;
    s.a.poll(s.now);
    s.la.poll(s.now);
    s.b.poll(s.now);
    s.lb.poll(s.now);
    if (s.na !== null) (s.na as Network).host.poll(s.now);
    if (s.nb !== null) (s.nb as Network).host.poll(s.now);
  }
}

function sock(layer: SocketLayer, type: number): SocketOperations {
  const r = layer.socket(AF_INET, type | SOCK_NONBLOCK, 0);
  if (typeof r === "number") throw new Error(`epsocket step: socket ${r}`);
  return r;
}

export function setup(protocol: Protocol = "udp", mode: Mode = "socket"): void {
  const d = duo(
    { tcpSockets: 2, udpSockets: 2, tcpSendBuffer: 16384, tcpReceiveBuffer: 16384 },
    64,
    4 * 2048,
  );
  const bytes = d.memory.bytes;
  const s: State = {
    a: d.a,
    b: d.b,
    la: new SocketLayer(d.a),
    lb: new SocketLayer(d.b),
    protocol,
    mode,
    now: 0,
    bytes,
    sendAt: d.memory.take(2048),
    recvAt: d.memory.take(2048),
    addrAt: d.memory.take(2048),
    toAt: d.memory.take(2048),
    client: null,
    server: null,
    udpClient: null,
    udpServer: null,
    tcpClient: null,
    tcpServer: null,
    to: endpoint("192.0.2.2", 7),
    from: new FullAddress(),
    results: new Results(),
    na: null,
    nb: null,
    ecmaClient: null,
    ecmaServer: null,
    sendView: bytes,
    recvView: bytes,
  };
  state = s;
  if (mode === "ecma419") {
    setupEcma(s, protocol);
    for (let i = 0; i < 50; i++) step(i);
    return;
  }
  const to = Uint8Array.from([AF_INET, 0, 0, 7, 192, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
  bytes.set(to, s.toAt);
  for (let i = 0; i < CHUNK; i++) bytes[s.sendAt + i] = i & 255;
  if (protocol === "udp") {
    if (mode !== "endpoint") {
      s.client = sock(s.la, SOCK_DGRAM);
      s.server = sock(s.lb, SOCK_DGRAM);
      if (s.server.bind(bytes, s.toAt, 16) !== 0) throw new Error("bind");
    } else {
      const client = d.a.openUdp();
      const server = d.b.openUdp();
      if (typeof client === "number" || typeof server === "number") throw new Error("open");
      s.udpClient = client;
      s.udpServer = server;
      if (s.udpServer.bind(null, 7) !== 0) throw new Error("bind");
    }
  } else {
    const listener = sock(s.lb, SOCK_STREAM);
    if (listener.bind(bytes, s.toAt, 16) !== 0 || listener.listen(1) !== 0)
      throw new Error("listen");
    const client = sock(s.la, SOCK_STREAM);
    client.connect(bytes, s.toAt, 16);
    pump(s);
    const server = listener.accept(0, null, 0, 0);
    if (typeof server === "number") throw new Error(`accept ${server}`);
    s.client = client;
    s.server = server;
    if (mode === "endpoint") {
      s.tcpClient = client.tcp;
      s.tcpServer = server.tcp;
    }
  }
  // ARP and the first exchanges, then a warm path.
  for (let i = 0; i < 50; i++) step(i);
}

/** The ECMA-419 pair: the server reads every delivery into its view; results count bytes. */
function setupEcma(s: State, protocol: Protocol): void {
  const na = createNetwork(s.la);
  const nb = createNetwork(s.lb);
  s.na = na;
  s.nb = nb;
  s.sendView = s.bytes.subarray(s.sendAt, s.sendAt + CHUNK);
  s.recvView = s.bytes.subarray(s.recvAt, s.recvAt + CHUNK);
  for (let i = 0; i < CHUNK; i++) s.sendView[i] = i & 255;
  const results = s.results;
  const view = s.recvView;
  const onReadable = function (this: TCP | UDP): void {
    const n = this.read(view) as number;
    if (n > 0) {
      if (results.received < 0) results.received = 0;
      results.received += n;
    }
  };
  if (protocol === "udp") {
    s.ecmaServer = new nb.UDP({ port: 7, onReadable });
    s.ecmaClient = new na.UDP({});
    return;
  }
  const listener = new nb.Listener({ port: 7 });
  s.ecmaClient = new na.TCP({ address: "192.0.2.2", port: 7 });
  pump(s);
  const accepted = listener.read();
  if (accepted === undefined) throw new Error("ecma419 step: accept");
  s.ecmaServer = new nb.TCP({ from: accepted, onReadable });
  listener.close();
}

function ecmaStep(s: State, i: number): void {
  const results = s.results;
  s.sendView[0] = i & 0xff;
  results.received = -1;
  if (s.protocol === "udp") (s.ecmaClient as UDP).write(s.sendView, "192.0.2.2", 7);
  else (s.ecmaClient as TCP).write(s.sendView);
  for (let round = 0; results.received < CHUNK; round++) {
    if (round > 100) {
      // ARP may hold the very first datagram back.
      if (s.protocol === "udp" && i < 50) return;
      throw new Error(`ecma419 step: stalled at ${results.received}`);
    }
    pump(s);
  }
  if (results.received !== CHUNK) throw new Error(`ecma419 step: read ${results.received}`);
}

export function step(i: number): void {
  const s = state as State;
  if (s.mode === "ecma419") {
    ecmaStep(s, i);
    return;
  }
  if (s.mode === "blocking") {
    blockingStep(s, i);
    return;
  }
  const bytes = s.bytes;
  bytes[s.sendAt] = i & 0xff;
  if (s.protocol === "udp") {
    const n = datagramSend(s);
    if (n !== CHUNK) throw new Error(`epsocket step: send ${n}`);
    pump(s);
    const got = datagramRecv(s);
    // ARP may hold the very first datagram back.
    if (got === -11 && i < 50) return;
    if (got !== CHUNK || bytes[s.recvAt] !== (i & 0xff))
      throw new Error(`epsocket step: recv ${got}`);
    return;
  }
  let sent = 0;
  let read = 0;
  for (let round = 0; read < CHUNK; round++) {
    if (round > 100) throw new Error("epsocket step: stalled");
    if (sent < CHUNK) {
      const n = streamSend(s, s.sendAt + sent, CHUNK - sent);
      if (n > 0) sent += n;
    }
    pump(s);
    const r = streamRecv(s, s.recvAt + read, CHUNK - read);
    if (r > 0) read += r;
  }
  if (bytes[s.recvAt] !== (i & 0xff)) throw new Error("epsocket step: other bytes");
}

// One call of the step's client or server, through the socket layer or straight to the endpoint,
// as the mode asks.

function datagramSend(s: State): number {
  const bytes = s.bytes;
  return s.mode === "socket"
    ? (s.client as SocketOperations).sendMsg(bytes, s.sendAt, CHUNK, 0, bytes, s.toAt, 16)
    : (s.udpClient as UdpEndpoint).sendTo(bytes, s.sendAt, CHUNK, s.to);
}

function datagramRecv(s: State): number {
  const bytes = s.bytes;
  return s.mode === "socket"
    ? (s.server as SocketOperations).recvMsg(bytes, s.recvAt, 2048, 0, bytes, s.addrAt, 16)
    : (s.udpServer as UdpEndpoint).recvFrom(bytes, s.recvAt, 2048, s.from, 0);
}

function streamSend(s: State, at: number, length: number): number {
  return s.mode === "socket"
    ? (s.client as SocketOperations).sendMsg(s.bytes, at, length, 0, null, 0, 0)
    : (s.tcpClient as TcpEndpoint).send(s.bytes, at, length, 0);
}

function streamRecv(s: State, at: number, length: number): number {
  return s.mode === "socket"
    ? (s.server as SocketOperations).recvMsg(s.bytes, at, length, 0, null, 0, 0)
    : (s.tcpServer as TcpEndpoint).recv(s.bytes, at, length, 0);
}

function blockingStep(s: State, i: number): void {
  const bytes = s.bytes;
  const results = s.results;
  const server = s.server as SocketOperations;
  const client = s.client as SocketOperations;
  bytes[s.sendAt] = i & 0xff;
  results.received = -1;
  results.sent = -1;
  if (s.protocol === "udp") {
    server.recvMsgBlocking(bytes, s.recvAt, 2048, 0, bytes, s.addrAt, 16, results, 0);
    const n = client.sendMsg(bytes, s.sendAt, CHUNK, 0, bytes, s.toAt, 16);
    if (n !== CHUNK) throw new Error(`epsocket step: send ${n}`);
    pump(s);
    if (results.received === -1 && i < 50) {
      // ARP held the first datagram back: the wait goes on to a later step.
      server.close();
      s.server = sock(s.lb, SOCK_DGRAM);
      (s.server as SocketOperations).bind(bytes, s.toAt, 16);
      pump(s);
      return;
    }
    if (results.received !== CHUNK || bytes[s.recvAt] !== (i & 0xff))
      throw new Error(`epsocket step: blocking recv ${results.received}`);
    return;
  }
  client.sendMsgBlocking(bytes, s.sendAt, CHUNK, 0, null, 0, 0, results, 0);
  let read = 0;
  for (let round = 0; read < CHUNK || results.sent === -1; round++) {
    if (round > 100) throw new Error("epsocket step: stalled");
    if (results.received === -1 && !server.blocked && read < CHUNK)
      server.recvMsgBlocking(bytes, s.recvAt + read, CHUNK - read, 0, null, 0, 0, results, 0);
    pump(s);
    if (results.received > 0) {
      read += results.received;
      results.received = -1;
    }
  }
  if (results.sent !== CHUNK || bytes[s.recvAt] !== (i & 0xff))
    throw new Error(`epsocket step: blocking send ${results.sent}`);
}

/** Pool buffers not returned: 0 when nothing leaked. */
export function leaked(): number {
  const s = state as State;
  return s.a.pool.count - s.a.pool.available + (s.b.pool.count - s.b.pool.available);
}
