// The ECMA-419 resolver over the stack's DNS client, against a DNS server written with the
// ECMA-419 UDP class on the other stack: Moddable's resolve({host, onResolved, onError}) and the
// specification's completion, dotted quads without a question, per-resolver servers, requests
// queued while the client's table is full, close(); and the interface's onChanged on link and
// address changes, as Moddable's Ethernet interface reports them.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { SocketLayer } from "../../src/epsocket/layer.js";
import { createNetwork, type Network, type NetworkOptions } from "../../src/ecma419/network.js";
import type { Packet } from "../../src/ecma419/udp.js";
import { decodeQuestion, reply, aRecord, type Question } from "../support/dns-wire.js";
import { duo, poolFull } from "../support/stacks.js";

function setup(clientOptions: NetworkOptions = { dns: { servers: ["192.0.2.1"] } }) {
  const d = duo({ tcpSockets: 4, udpSockets: 6 });
  const server = createNetwork(new SocketLayer(d.a));
  const client = createNetwork(new SocketLayer(d.b), clientOptions);
  d.net.add(server.host.layer).add(server.host).add(client.host.layer).add(client.host);
  return { ...d, server, client };
}

/** A DNS server on port 53 written against ECMA-419's UDP: names in `zone`, else NXDOMAIN. */
function dnsServer(server: Network, zone: Record<string, string>, seen: Question[] = []) {
  return new server.UDP({
    port: 53,
    onReadable(count: number) {
      for (let i = 0; i < count; i++) {
        const packet = this.read() as Packet;
        const q = decodeQuestion(new Uint8Array(packet), 0, 0, packet.port);
        seen.push(q);
        const address = zone[q.name.toLowerCase()];
        const answer =
          address === undefined
            ? reply(q, { rcode: 3 })
            : reply(q, { answers: [aRecord(address)] });
        this.write(answer, packet.address, packet.port);
      }
    },
  });
}

test("resolve({host, onResolved, onError}) by name, from a later poll, with this the resolver", () => {
  const { net, server, client } = setup();
  const seen: Question[] = [];
  dnsServer(server, { "printer.lab.test": "192.0.2.40" }, seen);
  const r = new client.Resolver({});
  const events: string[] = [];
  let inside = true;
  r.resolve({
    host: "printer.lab.test",
    onResolved(this: unknown, host: string, address: string) {
      assert.not.ok(inside, "never from inside resolve()");
      assert.is(this, r);
      events.push(`${host}=${address}`);
    },
    onError: (host: string) => events.push(`error ${host}`),
  });
  r.resolve({ host: "missing.lab.test", onError: (host: string) => events.push(`error ${host}`) });
  r.resolve({ host: "printer.lab.test" }, (error, address, host) =>
    events.push(`callback ${String(error)} ${address} ${host}`),
  );
  r.resolve({ host: "missing.lab.test" }, (error, address, host) =>
    events.push(`callback ${error?.message} ${address} ${host}`),
  );
  r.resolve({
    host: "192.0.2.77",
    onResolved: (h: string, a: string) => events.push(`quad ${h}=${a}`),
  });
  inside = false;
  net.runUntilIdle();
  assert.equal(events.sort(), [
    "callback not found undefined missing.lab.test",
    "callback null 192.0.2.40 printer.lab.test",
    "error missing.lab.test",
    "printer.lab.test=192.0.2.40",
    "quad 192.0.2.77=192.0.2.77",
  ]);
  assert.ok(
    seen.every((q) => q.name !== "192.0.2.77"),
    "a dotted quad sends no question",
  );
  assert.is(client.network.dns.io, client.Resolver);
  assert.equal(client.network.dns.servers, ["192.0.2.1"]);
  r.close();
  assert.ok(poolFull(client.host.layer.stack));
});

test("servers given to the resolver replace the network's; none at all is an error", () => {
  const { net, server, client } = setup({});
  dnsServer(server, { "a.lab.test": "192.0.2.41" });
  const events: string[] = [];
  new client.Resolver({}).resolve({ host: "a.lab.test" }, (e) =>
    events.push(`no servers: ${e?.message}`),
  );
  new client.Resolver({ servers: ["192.0.2.1"] }).resolve({ host: "a.lab.test" }, (e, a) =>
    events.push(`own servers: ${String(e)} ${a}`),
  );
  net.runUntilIdle();
  assert.equal(events.sort(), ["no servers: no server", "own servers: null 192.0.2.41"]);
});

test("more requests than the client's table: they wait for a slot and all resolve", () => {
  const { net, server, client } = setup({ dns: { servers: ["192.0.2.1"], queries: 1 } });
  const seen: Question[] = [];
  const zone: Record<string, string> = {};
  for (let i = 0; i < 6; i++) zone[`h${i}.lab.test`] = `192.0.2.${100 + i}`;
  dnsServer(server, zone, seen);
  const r = new client.Resolver({});
  const got: string[] = [];
  for (let i = 0; i < 6; i++)
    r.resolve({
      host: `h${i}.lab.test`,
      onResolved: (h: string, a: string) => got.push(`${h}=${a}`),
    });
  net.runUntilIdle();
  assert.equal(
    got,
    Object.entries(zone).map(([h, a]) => `${h}=${a}`),
  );
  assert.is(seen.length, 6);
  assert.is(client.dns.active, 0);
});

test("close() cancels what is under way: no callback after it", () => {
  const { net, server, client } = setup({ dns: { servers: ["192.0.2.1"], queries: 1 } });
  dnsServer(server, { "x.lab.test": "192.0.2.42", "y.lab.test": "192.0.2.43" });
  const r = new client.Resolver({});
  const got: string[] = [];
  r.resolve({
    host: "x.lab.test",
    onResolved: (h: string) => got.push(h),
    onError: (h: string) => got.push(h),
  });
  r.resolve({
    host: "y.lab.test",
    onResolved: (h: string) => got.push(h),
    onError: (h: string) => got.push(h),
  });
  r.close();
  net.runUntilIdle();
  assert.equal(got, []);
  assert.is(client.dns.active, 0);
  assert.throws(
    () => r.resolve({ host: "x.lab.test" }),
    (e: unknown) => e instanceof SyntaxError,
  );
});

test("interface onChanged: connection on link down and up, address when it changes", () => {
  const { net, pair, client } = setup();
  const seen: string[] = [];
  const iface = new client.Interface({
    onChanged(this: unknown, what: string) {
      assert.is(this, iface);
      seen.push(`${what} ${iface.connection} ${iface.address}`);
    },
  });
  net.runUntilIdle();
  assert.equal(seen, [], "nothing at start");
  assert.is(iface.connection, 500);
  pair.setLink(false);
  net.runUntilIdle();
  assert.equal(seen, ["connection 200 192.0.2.2"]);
  pair.setLink(true);
  net.runUntilIdle();
  // An address set outside a poll is seen at the driver's next round.
  client.host.layer.stack.configure({ address: "192.0.2.12", prefix: 24 });
  net.poll();
  net.runUntilIdle();
  client.host.layer.stack.configure({ address: "0.0.0.0", prefix: 24 });
  net.poll();
  net.runUntilIdle();
  assert.equal(seen, [
    "connection 200 192.0.2.2",
    "connection 500 192.0.2.2",
    "address 500 192.0.2.12",
    "connection 400 undefined",
    "address 400 undefined",
  ]);
  iface.close();
  pair.setLink(false);
  net.runUntilIdle();
  assert.is(seen.length, 5, "nothing after close()");
});

test.run();
