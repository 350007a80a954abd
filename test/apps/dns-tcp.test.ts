// The TCP fallback (RFC 7766): a server on the other stack answers over UDP with TC set and over
// TCP with the whole answer (40 A records, past 512 bytes) behind its 2-byte length. The client
// asks again over TCP from the same server; without `tcp` it reports TRUNCATED, and a TCP answer
// that never comes, or is too long for its buffer, ends TRUNCATED too.

import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  DNS_OK,
  DNS_TRUNCATED,
  DnsClient,
  type DnsClientOptions,
  type DnsCallback,
  type DnsQuery,
} from "../../src/apps/dns-client.js";
import type { Pollable } from "../../src/device.js";
import type { Stack } from "../../src/stack.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";
import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { FullAddress } from "../../src/wire/address.js";
import { aRecord, decodeQuestion, reply } from "../support/dns-wire.js";
import { duo, poolFull } from "../support/stacks.js";

type TcpMode = "answer" | "close" | "huge";

/** UDP answers TC; TCP answers whole (or closes, or sends a length past the client's buffer). */
class TruncatingServer implements Pollable {
  readonly udp: UdpEndpoint;
  readonly listener: TcpEndpoint;
  readonly conns: { tcp: TcpEndpoint; data: number[]; done: boolean }[] = [];
  tcpQuestions = 0;
  mode: TcpMode = "answer";
  private readonly from = new FullAddress();
  private readonly buffer = new Uint8Array(4096);

  constructor(stack: Stack) {
    const udp = stack.openUdp();
    const listener = stack.openTcp();
    if (typeof udp === "number" || typeof listener === "number") throw new Error("server sockets");
    assert.is(udp.bind(null, 53), 0);
    assert.is(listener.bind(null, 53), 0);
    assert.is(listener.listen(4), 0);
    this.udp = udp;
    this.listener = listener;
  }

  poll(): void {
    for (;;) {
      const n = this.udp.recvFrom(this.buffer, 0, this.buffer.length, this.from, 0);
      if (n < 0) break;
      const q = decodeQuestion(this.buffer.slice(0, n), 0, 0, this.from.port);
      const answer = reply(q, { tc: true });
      this.udp.sendTo(answer, 0, answer.length, this.from);
    }
    for (;;) {
      const tcp = this.listener.accept();
      if (typeof tcp === "number") break;
      this.conns.push({ tcp, data: [], done: false });
    }
    for (const c of this.conns) {
      if (c.done) continue;
      const n = c.tcp.recv(this.buffer, 0, this.buffer.length);
      if (n > 0) c.data.push(...this.buffer.subarray(0, n));
      if (c.data.length < 2 || c.data.length < 2 + ((c.data[0] << 8) | c.data[1])) continue;
      this.tcpQuestions++;
      c.done = true;
      if (this.mode === "close") {
        c.tcp.close();
        continue;
      }
      const q = decodeQuestion(Uint8Array.from(c.data.slice(2)), 0, 0, 0);
      const answers = [];
      for (let i = 0; i < 40; i++) answers.push(aRecord(`192.0.2.${150 + i}`));
      const m = reply(q, { answers });
      const length = this.mode === "huge" ? 60000 : m.length;
      const framed = Uint8Array.from([length >> 8, length & 255, ...m]);
      assert.is(c.tcp.send(framed, 0, framed.length), framed.length);
    }
  }

  nextDeadline(): number {
    return Infinity;
  }
}

class Results implements DnsCallback {
  readonly got: { status: number; address: number }[] = [];
  dnsDone(q: DnsQuery): void {
    this.got.push({ status: q.status, address: q.address });
  }
}

function setup(options: DnsClientOptions = {}) {
  const d = duo({ tcpSockets: 4, udpSockets: 4, tcpSendBuffer: 4096, tcpReceiveBuffer: 4096 });
  const server = new TruncatingServer(d.a);
  const client = new DnsClient(d.b, { servers: ["192.0.2.1"], seed: 4, ...options });
  d.net.add(server).add(client);
  return { ...d, server, client, results: new Results() };
}

test("a truncated UDP answer is asked again over TCP and the whole answer read", () => {
  const { net, a, b, server, client, results } = setup();
  client.resolve("big.example.test", 1, results);
  net.runUntilIdle(100_000, 5000);
  assert.equal(results.got, [{ status: DNS_OK, address: (192 << 24) | (2 << 8) | 150 }]);
  assert.is(server.tcpQuestions, 1);
  assert.is(client.stats.truncated, 1);
  assert.is(client.stats.tcpQueries, 1);
  assert.is(client.stats.sent, 2, "one question over UDP, one over TCP");
  net.runUntilIdle(100_000, 200_000);
  assert.ok(poolFull(a) && poolFull(b));
});

test("with tcp off, a closed or refused connection, or an answer past the buffer: TRUNCATED", () => {
  const off = setup({ tcp: false });
  off.client.resolve("big.example.test", 1, off.results);
  off.net.runUntilIdle(100_000, 5000);
  assert.equal(
    off.results.got.map((r) => r.status),
    [DNS_TRUNCATED],
  );
  assert.is(off.server.tcpQuestions, 0);

  const closed = setup();
  closed.server.mode = "close";
  closed.client.resolve("big.example.test", 1, closed.results);
  closed.net.runUntilIdle(100_000, 5000);
  assert.equal(
    closed.results.got.map((r) => r.status),
    [DNS_TRUNCATED],
  );
  assert.is(closed.server.tcpQuestions, 1);

  const refused = setup();
  refused.server.listener.close();
  refused.client.resolve("big.example.test", 1, refused.results);
  refused.net.runUntilIdle(100_000, 5000);
  assert.equal(
    refused.results.got.map((r) => r.status),
    [DNS_TRUNCATED],
    "TCP refused (RST)",
  );
  assert.is(refused.client.stats.tcpQueries, 1);

  const huge = setup({ tcpAnswer: 1024 });
  huge.server.mode = "huge";
  huge.client.resolve("big.example.test", 1, huge.results);
  huge.net.runUntilIdle(100_000, 5000);
  assert.equal(
    huge.results.got.map((r) => r.status),
    [DNS_TRUNCATED],
  );
  assert.is(huge.client.stats.malformed, 1);
  assert.is(huge.client.active, 0);
});

test.run();
