// The ECMA-419 classes on two stacks over an in-memory cable, checking what Moddable's own tests
// (tests/modules/io/socket/{tcp,udp,listener}) check: constructors and options, format, the
// first onWritable, write before connect, overflow, read(n) beyond what waits, read(view) within
// its range, methods after close and on foreign receivers, `from`, `target`, callbacks never from
// inside a call, UDP packets with address and port, Listener ports; and a 2 MB echo through the
// application's own views (allocation is measured in bench/epsocket.ts, mode ecma419).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { SocketLayer } from "../../src/epsocket/layer.js";
import { createNetwork, type Network } from "../../src/ecma419/network.js";
import type { TCP } from "../../src/ecma419/tcp.js";
import type { UDP } from "../../src/ecma419/udp.js";
import { duo, poolFull } from "../support/stacks.js";

function setup() {
  const d = duo({ tcpSockets: 6, udpSockets: 4, tcpSendBuffer: 4096, tcpReceiveBuffer: 4096 });
  const server = createNetwork(new SocketLayer(d.a));
  const client = createNetwork(new SocketLayer(d.b));
  d.net.add(server.host.layer).add(server.host).add(client.host.layer).add(client.host);
  return { ...d, server, client };
}

/** A listener on the server that accepts into TCPs which echo, and hands them to `accepted`. */
function echoServer(server: Network, port: number, accepted: TCP[] = []) {
  return new server.Listener({
    port,
    onReadable(count: number) {
      for (let i = 0; i < count; i++) {
        const t = new server.TCP({
          from: this.read(),
          onReadable(bytes: number) {
            const data = this.read(bytes) as ArrayBuffer;
            this.write(data);
          },
        });
        accepted.push(t);
      }
    },
  });
}

test("TCP: onWritable first once connected, with a positive count; write before connect throws", () => {
  const { net, server, client } = setup();
  echoServer(server, 80);
  const seen: number[] = [];
  let inside = true;
  const t = new client.TCP({
    address: "192.0.2.1",
    port: 80,
    onWritable(bytes: number) {
      assert.not.ok(inside, "never from inside the constructor");
      assert.is(this, t, "this is the instance");
      seen.push(bytes);
    },
  });
  inside = false;
  assert.throws(() => t.write(Uint8Array.of(1)), /not ready/);
  net.runUntilIdle();
  assert.is(seen.length, 1);
  assert.ok(seen[0] > 0);
  assert.is(t.remoteAddress, "192.0.2.1");
  assert.is(t.remotePort, 80);
  t.close();
});

test("TCP: format default buffer, number and buffer accepted, others RangeError", () => {
  const { server, client } = setup();
  echoServer(server, 80);
  let t = new client.TCP({ address: "192.0.2.1", port: 80 });
  assert.is(t.format, "buffer");
  t.close();
  t = new client.TCP({ address: "192.0.2.1", port: 80, format: "number" });
  assert.is(t.format, "number");
  assert.throws(
    () => (t.format = "bogus"),
    (e: unknown) => e instanceof RangeError,
  );
  t.close();
  assert.throws(
    () => new client.TCP({ address: "192.0.2.1", port: 80, format: "INVALID" }),
    (e: unknown) => e instanceof RangeError,
  );
  assert.throws(
    () => new client.TCP({ port: 80 }),
    (e: unknown) => e instanceof RangeError,
  );
  assert.throws(
    () => new client.TCP({ address: "192.0.2.1" }),
    (e: unknown) => e instanceof RangeError,
  );
});

test("TCP: write returns the writable count, overflow throws, format number writes bytes", () => {
  const { net, server, client } = setup();
  echoServer(server, 80);
  let done = false;
  const t: TCP = new client.TCP({
    address: "192.0.2.1",
    port: 80,
    ...({ unknownOption: 1, host: "example.com", secure: {} } as object),
    onWritable(bytes: number) {
      if (done) return;
      done = true;
      assert.throws(() => this.write(new ArrayBuffer(bytes + 1)), /would block/);
      this.format = "number";
      let left = bytes;
      for (let i = 0; i < bytes - 1; i++) left = this.write(32);
      assert.is(left, 1);
      this.format = "buffer";
      assert.is(this.write(Uint8Array.of(32)), 0);
      assert.throws(() => this.write(new Uint8Array(1)), /would block/);
    },
  });
  net.runUntilIdle();
  assert.ok(done);
  t.close();
});

test("TCP: echo; read(n) beyond available throws; read(view) fills within its range", () => {
  const { net, server, client } = setup();
  echoServer(server, 7);
  const got: number[] = [];
  const buffer = new ArrayBuffer(64);
  const t: TCP = new client.TCP({
    address: "192.0.2.1",
    port: 7,
    onWritable() {
      if (got.length === 0) this.write(new TextEncoder().encode("HTTP/1.1 200"));
    },
    onReadable(bytes: number) {
      got.push(bytes);
      assert.throws(() => this.read(bytes * 4), /beyond/);
      const view = new Uint8Array(buffer, 16, 8);
      assert.is(this.read(view), 8);
      assert.is(new TextDecoder().decode(view), "HTTP/1.1");
      const all = new Uint8Array(buffer);
      for (let i = 0; i < 16; i++) assert.is(all[i], 0, "before the view untouched");
      for (let i = 24; i < 64; i++) assert.is(all[i], 0, "after the view untouched");
      this.format = "number";
      assert.is(this.read(), 32);
      this.format = "buffer";
      const rest = this.read() as ArrayBuffer;
      assert.is(new TextDecoder().decode(rest), "200");
      assert.is(this.read(), undefined);
    },
  });
  net.runUntilIdle();
  assert.equal(got, [12]);
  t.close();
});

test("TCP: after close every method throws SyntaxError, close twice is fine, no callbacks", () => {
  const { net, server, client } = setup();
  echoServer(server, 80);
  let calls = 0;
  const t = new client.TCP({
    address: "192.0.2.1",
    port: 80,
    onWritable() {
      calls++;
    },
    onReadable() {
      calls++;
    },
    onError() {
      calls++;
    },
  });
  t.close();
  t.close();
  const syntax = (e: unknown) => e instanceof SyntaxError;
  assert.throws(() => t.write(Uint8Array.of(1)), syntax);
  assert.throws(() => t.read(), syntax);
  assert.throws(() => t.remoteAddress, syntax);
  assert.throws(() => t.remotePort, syntax);
  assert.throws(() => t.format, syntax);
  net.runUntilIdle();
  assert.is(calls, 0);
  assert.ok(poolFull(client.host.layer.stack));
});

test("TCP: methods on foreign receivers throw SyntaxError", () => {
  const { client } = setup();
  const t = new client.TCP({ address: "192.0.2.1", port: 80 });
  const syntax = (e: unknown) => e instanceof SyntaxError;
  for (const receiver of [{}, "a string", [], new Uint8Array(4)]) {
    assert.throws(() => t.write.call(receiver as TCP, Uint8Array.of(1)), syntax);
    assert.throws(() => t.read.call(receiver as TCP), syntax);
    assert.throws(() => t.close.call(receiver as TCP), syntax);
  }
  t.close();
});

test("TCP: onError on a refused connection and on the peer's clean close, after draining", () => {
  const { net, server, client } = setup();
  const order: string[] = [];
  new client.TCP({
    address: "192.0.2.1",
    port: 81,
    onWritable() {
      order.push("writable");
    },
    onError() {
      order.push("refused");
      this.close();
    },
  });
  net.runUntilIdle();
  assert.equal(order, ["refused"]);
  const accepted: TCP[] = [];
  new server.Listener({
    port: 90,
    onReadable() {
      const s = new server.TCP({
        from: this.read(),
        onReadable() {
          // "bye": the client has read what it was sent; end the connection cleanly.
          this.read();
          this.close();
        },
      });
      accepted.push(s);
      s.write(Uint8Array.of(1, 2, 3));
    },
  });
  const events: string[] = [];
  const c: TCP = new client.TCP({
    address: "192.0.2.1",
    port: 90,
    onReadable(bytes: number) {
      events.push(`readable ${bytes}`);
      this.write(Uint8Array.of(0x62, 0x79, 0x65));
    },
    onError() {
      events.push(`error, then read ${String(this.read())}`);
      this.close();
    },
  });
  net.runUntilIdle(100_000, 1000);
  // A second of virtual time, within the server's FIN-WAIT-2 timeout (later its orphan resets).
  // The server has closed, but 3 bytes wait unread: onError holds back until they are read.
  assert.equal(events, ["readable 3"]);
  assert.equal(Array.from(new Uint8Array(c.read() as ArrayBuffer)), [1, 2, 3]);
  net.runUntilIdle(100_000, 1000);
  assert.equal(events, ["readable 3", "error, then read undefined"]);
  assert.is(accepted.length, 1);
});

test("TCP: from takes over a socket; the old instance is closed and hears nothing", () => {
  const { net, server, client } = setup();
  echoServer(server, 80);
  let oldCalls = 0;
  const from = new client.TCP({
    address: "192.0.2.1",
    port: 80,
    format: "number",
    onWritable() {
      oldCalls++;
    },
    onError() {
      oldCalls++;
    },
  });
  let writable = 0;
  const t = new client.TCP({
    from,
    onWritable(bytes: number) {
      writable = bytes;
      assert.is(this.format, "buffer");
    },
  });
  const syntax = (e: unknown) => e instanceof SyntaxError;
  assert.throws(() => new client.TCP({ from }), syntax);
  from.close();
  from.close();
  assert.throws(() => from.read(), syntax);
  assert.throws(() => new client.TCP({ from: [] as unknown as TCP }), syntax);
  assert.throws(() => new client.TCP({ from: {} as unknown as TCP }), syntax);
  net.runUntilIdle();
  assert.ok(writable > 0);
  assert.is(oldCalls, 0);
  t.close();
});

test("TCP, UDP, Listener: target is kept; expando properties are allowed", () => {
  const { net, server, client } = setup();
  const target = { name: "target" };
  let seen: unknown = null;
  const l = new server.Listener({
    port: 80,
    target,
    onReadable() {
      seen = this.target;
      this.read()?.close();
    },
  });
  const t = new client.TCP({ address: "192.0.2.1", port: 80, target });
  t.readable = 5; // as Moddable's TLS session does
  assert.is(t.target, target);
  assert.is(t.readable, 5);
  net.runUntilIdle();
  assert.is(seen, target);
  const u = new client.UDP({ target });
  assert.is(u.target, target);
  u.close();
  t.close();
  l.close();
});

test("Listener: ephemeral and given ports, format socket/tcp, read outside callback, close", () => {
  const { net, server, client } = setup();
  const l = new server.Listener({});
  assert.ok(l.port >= 1024, "an ephemeral port");
  assert.is(l.format, "socket/tcp");
  assert.throws(
    () => (l.format = "buffer"),
    (e: unknown) => e instanceof RangeError,
  );
  const l2 = new server.Listener({ port: 8080 });
  assert.is(l2.port, 8080);
  assert.is(l.read(), undefined, "nothing waits");
  const c = new client.TCP({ address: "192.0.2.1", port: l.port });
  net.runUntilIdle();
  const t = l.read();
  assert.ok(t !== undefined);
  const wrote: number[] = [];
  const s = new server.TCP({
    from: t,
    onWritable() {
      if (wrote.length === 0) wrote.push(this.write(Uint8Array.of(1, 2, 3, 4)));
    },
  });
  let got = 0;
  const c2 = new client.TCP({
    from: c,
    onReadable(bytes: number) {
      got += bytes;
    },
  });
  net.runUntilIdle();
  assert.is(wrote.length, 1);
  assert.is(got, 4);
  l.close();
  l.close();
  assert.throws(
    () => l.read(),
    (e: unknown) => e instanceof SyntaxError,
  );
  assert.throws(
    () => l.port,
    (e: unknown) => e instanceof SyntaxError,
  );
  s.close();
  c2.close();
  l2.close();
});

test("UDP: write (buffer, address, port) and (address, port, buffer); read gives address and port", () => {
  const { net, server, client } = setup();
  const received: { text: string; address: string; port: number }[] = [];
  const counts: number[] = [];
  const u: UDP = new server.UDP({
    port: 51515,
    onReadable(count: number) {
      counts.push(count);
      assert.is(this.format, "buffer");
      for (;;) {
        const p = this.read() as (ArrayBuffer & { address: string; port: number }) | undefined;
        if (p === undefined) break;
        received.push({ text: new TextDecoder().decode(p), address: p.address, port: p.port });
      }
    },
  });
  const uu = new client.UDP({});
  const bytes = new TextEncoder().encode("__This is a test!__");
  uu.write(bytes.subarray(2, -2), "192.0.2.1", 51515);
  uu.write("192.0.2.1", 51515, bytes.subarray(2, -2));
  assert.throws(() => uu.write(bytes, "192.0.2.1", "x" as unknown as number), TypeError);
  assert.throws(() => uu.write(bytes, 5 as unknown as string, 1), TypeError);
  assert.throws(() => uu.write(5 as unknown as Uint8Array, "192.0.2.1", 1), TypeError);
  assert.throws(
    () => new client.UDP({ format: "number" }),
    (e: unknown) => e instanceof RangeError,
  );
  net.runUntilIdle();
  assert.equal(counts, [2]);
  assert.is(received.length, 2);
  for (const r of received) {
    assert.is(r.text, "This is a test!");
    assert.is(r.address, "192.0.2.2");
    assert.ok(r.port !== 51515 && r.port > 0);
  }
  uu.close();
  u.close();
  u.close();
  assert.throws(
    () => u.read(),
    (e: unknown) => e instanceof SyntaxError,
  );
});

test("UDP: read(view) copies into the application's view; a short view throws", () => {
  const { net, server, client } = setup();
  const view = new Uint8Array(32);
  const sizes: number[] = [];
  const u = new server.UDP({
    port: 5000,
    onReadable() {
      assert.throws(() => this.read(new Uint8Array(2)), RangeError);
      sizes.push(this.read(view) as number);
      assert.is(this.remotePort, 6000);
    },
  });
  const c = new client.UDP({ port: 6000 });
  c.write(Uint8Array.of(9, 8, 7, 6), "192.0.2.1", 5000);
  net.runUntilIdle();
  assert.equal(sizes, [4]);
  assert.equal(Array.from(view.subarray(0, 4)), [9, 8, 7, 6]);
  u.close();
  c.close();
});

test("resolver without servers: dotted quads resolve later, names fail; interface reports address and MAC", () => {
  const { net, client } = setup();
  const r = new client.Resolver({});
  const events: string[] = [];
  let inside = true;
  r.resolve({
    host: "192.0.2.1",
    onResolved(host: string, address: string) {
      assert.not.ok(inside);
      events.push(`${host}=${address}`);
    },
  });
  r.resolve({ host: "example.com", onError: (host: string) => events.push(`fail ${host}`) });
  r.resolve({ host: "192.0.2.9" }, (error, address, host) =>
    events.push(`callback ${String(error)} ${address} ${host}`),
  );
  r.resolve({ host: "nowhere" }, (error, address, host) =>
    events.push(`callback ${error?.message} ${address} ${host}`),
  );
  inside = false;
  net.runUntilIdle();
  assert.equal(events, [
    "192.0.2.1=192.0.2.1",
    "fail example.com",
    "callback null 192.0.2.9 192.0.2.9",
    "callback no server undefined nowhere",
  ]);
  assert.is(client.interface.address, "192.0.2.2");
  assert.is(client.interface.connection, 500);
  assert.match(client.interface.MAC ?? "", /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.is(client.network.tcp.io, client.TCP);
});

test("2 MB echoed through write(view) and read(view) with the application's own views", () => {
  const { net, server, client } = setup();
  const echoBuffer = new Uint8Array(4096);
  new server.Listener({
    port: 7,
    onReadable() {
      new server.TCP({
        from: this.read(),
        onReadable() {
          const n = this.read(echoBuffer) as number;
          if (n > 0) this.write(echoBuffer.subarray(0, n));
        },
      });
    },
  });
  const out = new Uint8Array(1024);
  const into = new Uint8Array(1024);
  let received = 0;
  let sent = 0;
  const total = 2 * 1024 * 1024;
  const t: TCP = new client.TCP({
    address: "192.0.2.1",
    port: 7,
    onWritable(bytes: number) {
      while (sent < total && bytes >= out.length) {
        bytes = this.write(out);
        sent += out.length;
      }
    },
    onReadable() {
      for (;;) {
        const n = this.read(into) as number;
        if (n === 0) break;
        received += n;
      }
    },
  });
  for (let round = 0; received < total && round < 10_000; round++) net.runUntilIdle(1000);
  assert.is(received, total);
  t.close();
});

test.run();
