// The DNS stub resolver against dnsmasq on the kernel's side of the lab's TAP: A records, a CNAME
// chain, AAAA, NXDOMAIN and NODATA, a truncated answer asked again over TCP, a silent server,
// 100 names in a row and 100 at once through the query table, and the ECMA-419 resolver. dnsmasq
// serves only local data for netstack.test (192.0.2.0/24 and 2001:db8::/32); it must be installed
// (CI installs it; without it CI=true fails).

import * as assert from "uvu/assert";
import {
  DNS_NODATA,
  DNS_NXDOMAIN,
  DNS_OK,
  DNS_TRUNCATED,
  DnsClient,
  type DnsCallback,
  type DnsQuery,
} from "../../src/apps/dns-client.js";
import { EAGAIN } from "../../src/errno.js";
import { SocketLayer } from "../../src/epsocket/layer.js";
import { createNetwork } from "../../src/ecma419/network.js";
import { formatIPv4 } from "../../src/wire/address.js";
import { type Dnsmasq, ZONE, dnsmasqOrSkip, startDnsmasq } from "../support/dnsmasq.js";
import { labOrSkip } from "../support/lab.js";
import { type TapStack, tapStack, until } from "../support/tap-stack.js";

const test = labOrSkip("interop/dns");

let current: TapStack | null = null;
let server: Dnsmasq | null = null;

test.after.each(() => {
  if (server !== null) server.stop();
  server = null;
  // Cleared before the check: uvu runs after.each again when it throws.
  const stopping = current;
  current = null;
  if (stopping !== null) {
    stopping.stop();
    assert.is(
      stopping.stack.pool.available,
      stopping.stack.pool.count,
      "every pool buffer returned",
    );
  }
});

const NAMES = 100;
const hosts: Record<string, string> = {
  [`web.${ZONE}`]: "192.0.2.1",
  [`v6.${ZONE}`]: "2001:db8::53",
};
for (let i = 0; i < NAMES; i++) hosts[`h${i}.${ZONE}`] = `192.0.2.${100 + i}`;
// More A records for one name than fit in 512 bytes: dnsmasq answers with TC set.
const big: string[] = [];
for (let i = 0; i < 40; i++) big.push(`--host-record=big.${ZONE},192.0.2.${150 + i}`);
const cnames = { [`alias.${ZONE}`]: `alias2.${ZONE}`, [`alias2.${ZONE}`]: `web.${ZONE}` };

interface Result {
  name: string;
  status: number;
  address: string;
  six: number[];
}

class Collect implements DnsCallback {
  readonly results: Result[] = [];
  then: ((q: DnsQuery) => void) | null = null;
  dnsDone(q: DnsQuery): void {
    this.results.push({
      name: q.name,
      status: q.status,
      address: formatIPv4(q.address),
      six: Array.from(q.address6),
    });
    if (this.then !== null) this.then(q);
  }
}

async function setup(lab: Parameters<typeof tapStack>[0]) {
  const run = (current = await tapStack(lab, "tap0", null, "tap", { udpSockets: 12 }));
  server = await startDnsmasq(lab, "192.0.2.1", hosts, cnames, big);
  const client = new DnsClient(run.stack, { servers: ["192.0.2.1"], queries: 4, cacheEntries: 0 });
  run.driver.add(client);
  return { run, client };
}

test("A, a CNAME chain, AAAA, NXDOMAIN and NODATA from dnsmasq", async ({ lab }) => {
  if (!dnsmasqOrSkip("interop/dns")) return;
  const { client } = await setup(lab);
  const c = new Collect();
  const ask: [string, number][] = [
    [`web.${ZONE}`, 1],
    [`alias.${ZONE}`, 1],
    [`v6.${ZONE}`, 28],
    [`nope.${ZONE}`, 1],
    [`web.${ZONE}`, 28],
  ];
  // Four at once fill the table; the fifth goes when they are done.
  for (const [name, type] of ask.slice(0, 4))
    assert.ok(typeof client.resolve(name, type, c) !== "number");
  assert.is(client.resolve(ask[4][0], ask[4][1], c), -EAGAIN);
  assert.ok(await until(() => c.results.length === 4, 10_000), server?.log());
  assert.ok(typeof client.resolve(ask[4][0], ask[4][1], c) !== "number");
  assert.ok(await until(() => c.results.length === ask.length, 10_000), server?.log());
  const got = c.results.map((r) => `${r.name} ${r.status} ${r.address}`).sort();
  assert.ok(got.includes(`web.${ZONE} ${DNS_OK} 192.0.2.1`), got.join("\n"));
  assert.ok(got.includes(`alias.${ZONE} ${DNS_OK} 192.0.2.1`), "the chain alias -> alias2 -> web");
  assert.ok(got.includes(`nope.${ZONE} ${DNS_NXDOMAIN} 0.0.0.0`), got.join("\n"));
  assert.ok(got.includes(`web.${ZONE} ${DNS_NODATA} 0.0.0.0`), got.join("\n"));
  assert.equal(
    c.results.find((r) => r.name === `v6.${ZONE}`)?.six,
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53],
  );
  assert.is(client.stats.malformed, 0);
  assert.is(client.stats.mismatched, 0);
});

test("an answer too big for UDP: asked again over TCP (or TRUNCATED without); a silent first server, the second asked", async ({
  lab,
}) => {
  if (!dnsmasqOrSkip("interop/dns")) return;
  const { run, client } = await setup(lab);
  const c = new Collect();
  client.resolve(`big.${ZONE}`, 1, c);
  assert.ok(await until(() => c.results.length === 1, 10_000), server?.log());
  assert.is(c.results[0].status, DNS_OK, server?.log());
  assert.ok(
    big.some((arg) => arg.endsWith(`,${c.results[0].address}`)),
    c.results[0].address,
  );
  assert.is(client.stats.truncated, 1);
  assert.is(client.stats.tcpQueries, 1);
  const udpOnly = new DnsClient(run.stack, { servers: ["192.0.2.1"], tcp: false });
  run.driver.add(udpOnly);
  const u = new Collect();
  udpOnly.resolve(`big.${ZONE}`, 1, u);
  assert.ok(await until(() => u.results.length === 1, 10_000));
  assert.is(u.results[0].status, DNS_TRUNCATED);
  udpOnly.close();
  // 192.0.2.9 does not exist: ARP fails, the question is lost, the next server answers.
  const two = new DnsClient(run.stack, { servers: ["192.0.2.9", "192.0.2.1"], timeout: 300 });
  run.driver.add(two);
  const d = new Collect();
  const started = Date.now();
  two.resolve(`web.${ZONE}`, 1, d);
  assert.ok(await until(() => d.results.length === 1, 10_000));
  assert.equal([d.results[0].status, d.results[0].address], [DNS_OK, "192.0.2.1"]);
  assert.is(two.stats.sent, 2, "one question to each server");
  assert.ok(Date.now() - started >= 300, "the second only after the first's timeout");
  two.close();
  // The question for 192.0.2.9 waited in the ARP queue: its buffer comes back when ARP gives up.
  const pool = run.stack.pool;
  assert.ok(await until(() => pool.available === pool.count, 10_000), "the held question freed");
});

test("100 names in a row, then 100 at once through the 4-query table", async ({ lab }) => {
  if (!dnsmasqOrSkip("interop/dns")) return;
  const { client } = await setup(lab);
  const c = new Collect();
  let next = 0;
  c.then = () => {
    if (next < NAMES) client.resolve(`h${next++}.${ZONE}`, 1, c);
  };
  client.resolve(`h${next++}.${ZONE}`, 1, c);
  assert.ok(
    await until(() => c.results.length === NAMES, 30_000),
    `${c.results.length} of ${NAMES}`,
  );
  c.then = null;
  for (let i = 0; i < NAMES; i++) {
    assert.is(c.results[i].name, `h${i}.${ZONE}`);
    assert.is(c.results[i].status, DNS_OK);
    assert.is(c.results[i].address, `192.0.2.${100 + i}`);
  }
  // At once: what the table refuses (-EAGAIN) waits for a completion.
  const waiting: string[] = [];
  for (let i = 0; i < NAMES; i++) waiting.push(`h${i}.${ZONE}`);
  const d = new Collect();
  const feed = () => {
    while (waiting.length > 0 && typeof client.resolve(waiting[0], 1, d) !== "number")
      waiting.shift();
  };
  d.then = feed;
  feed();
  assert.ok(
    await until(() => d.results.length === NAMES, 30_000),
    `${d.results.length} of ${NAMES}`,
  );
  assert.ok(d.results.every((r) => r.status === DNS_OK && r.address === hosts[r.name]));
  assert.is(new Set(d.results.map((r) => r.name)).size, NAMES);
  assert.is(client.stats.timeouts, 0);
});

test("the ECMA-419 resolver through createNetwork's DNS servers", async ({ lab }) => {
  if (!dnsmasqOrSkip("interop/dns")) return;
  const run = (current = await tapStack(lab, "tap0", null, "tap", { udpSockets: 12 }));
  server = await startDnsmasq(lab, "192.0.2.1", hosts, cnames);
  const layer = new SocketLayer(run.stack);
  const net = createNetwork(layer, { dns: { servers: ["192.0.2.1"] } });
  run.driver.add(layer);
  run.driver.add(net.host);
  const r = new net.Resolver({});
  const events: string[] = [];
  r.resolve({
    host: `alias.${ZONE}`,
    onResolved: (host: string, address: string) => events.push(`${host} ${address}`),
    onError: (host: string) => events.push(`error ${host}`),
  });
  r.resolve({ host: `nope.${ZONE}` }, (error, address, host) =>
    events.push(`${host} ${error?.message} ${address}`),
  );
  assert.ok(await until(() => events.length === 2, 10_000), server?.log());
  assert.equal(events.sort(), [`alias.${ZONE} 192.0.2.1`, `nope.${ZONE} not found undefined`]);
  r.close();
});

test.run();
