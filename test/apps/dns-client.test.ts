// The DNS stub resolver against a scripted server on the raw end of the cable, on a virtual clock:
// every branch of the answer check, CNAME chains and compression, the error statuses, the
// retransmission schedule over several servers, the cache, a full query table, malformed and
// mutated answers, and forged answers flooding beside a legitimate query.

import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  DNS_NODATA,
  DNS_NXDOMAIN,
  DNS_OK,
  DNS_REFUSED,
  DNS_SERVFAIL,
  DNS_TIMEOUT,
  DNS_TRUNCATED,
  DnsClient,
  type DnsQuery,
} from "../../src/apps/dns-client.js";
import { EAGAIN, EBADF, EDESTADDRREQ, EINVAL } from "../../src/errno.js";
import { Random } from "../../src/random.js";
import { ip } from "../support/frames.js";
import { DnsWire, type Question, type Rr, aRecord, reply, wireName } from "../support/dns-wire.js";

const SERVER = ip("192.0.2.2");
const SERVER2 = ip("192.0.2.3");

function answerA(address: string, ttl = 300) {
  return (q: Question) => [{ payload: reply(q, { answers: [aRecord(address, ttl)] }) }];
}

test("A: answered from a poll, never inside resolve(); RD set, a random ID and port per query", () => {
  const w = new DnsWire();
  w.script = answerA("192.0.2.10");
  const names = ["a.example.test", "b.example.test", "c.example.test", "d.example.test"];
  for (let i = 0; i < names.length; i++) {
    const q = w.resolve(names[i]);
    assert.ok(typeof q !== "number");
    assert.is(w.client.stats.sent, i, "nothing sent inside resolve()");
    w.run(10);
  }
  assert.is(w.calledInside, 0);
  assert.equal(
    w.done.map((d) => [d.name, d.status, d.address, d.ttl]),
    ["a", "b", "c", "d"].map((l) => [`${l}.example.test`, DNS_OK, ip("192.0.2.10"), 300]),
  );
  const ports = new Set(w.questions.map((q) => q.port));
  const ids = new Set(w.questions.map((q) => q.id));
  assert.is(ports.size, 4, "a new source port each query");
  assert.is(ids.size, 4, "a new ID each query");
  for (const q of w.questions) {
    assert.ok(q.port >= 32768 && q.port <= 60999, `ephemeral port ${q.port}`);
    assert.is(q.flags, 0x0100, "a standard query with RD");
    assert.is(q.type, 1);
    assert.is(q.klass, 1);
    assert.is(q.server, SERVER);
  }
  assert.is(w.client.stats.sent, 4);
  assert.is(w.client.stats.answers, 4);
  assert.is(w.client.active, 0);
  assert.ok(w.solo.poolFull());
});

test("AAAA: the 16 bytes of the answer", () => {
  const w = new DnsWire();
  const six = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53];
  w.script = (q) => [
    { payload: reply(q, { answers: [{ name: [0xc0, 12], type: 28, data: six }] }) },
  ];
  w.resolve("v6.example.test", 28);
  w.run(10);
  assert.is(w.questions[0].type, 28);
  assert.is(w.done[0].status, DNS_OK);
  assert.equal(w.done[0].six, six);
});

test("CNAME chain followed within the answer, out of order, compressed; TTL the chain's minimum", () => {
  const w = new DnsWire();
  w.script = (q) => {
    // www -> (pointer into the question) "edge" + "example.test" -> host.cdn.test
    const question = 12;
    const exampleAt = question + 4; // "example.test" after the 3-byte label "www"
    const cname1: Rr = {
      name: [0xc0, question],
      type: 5,
      ttl: 600,
      data: [4, ...Array.from("edge", (c) => c.charCodeAt(0)), 0xc0, exampleAt],
    };
    const cname2: Rr = {
      name: wireName("EDGE.example.test"),
      type: 5,
      ttl: 120,
      data: wireName("host.cdn.test"),
    };
    const a: Rr = { name: wireName("host.cdn.test"), type: 1, ttl: 900, data: [192, 0, 2, 44] };
    const unrelated: Rr = { name: wireName("other.test"), type: 1, ttl: 5, data: [192, 0, 2, 99] };
    return [{ payload: reply(q, { answers: [a, unrelated, cname2, cname1] }) }];
  };
  w.resolve("www.example.test");
  w.run(10);
  assert.equal(
    w.done.map((d) => [d.status, d.address, d.ttl]),
    [[DNS_OK, ip("192.0.2.44"), 120]],
  );
});

test("a CNAME loop or a chain past the limit ends in NODATA, not a hang", () => {
  const w = new DnsWire();
  w.script = (q) => [
    {
      payload: reply(q, {
        answers: [
          { name: [0xc0, 12], type: 5, data: wireName("loop.test") },
          { name: wireName("loop.test"), type: 5, data: wireName("x.example.test") },
        ],
      }),
    },
  ];
  w.resolve("x.example.test");
  w.run(10);
  assert.is(w.done[0].status, DNS_NODATA);
});

test("the answer must match: ID, QR, question count, name (any case), type and class", () => {
  const w = new DnsWire({ cacheEntries: 0 });
  const good = (q: Question) => reply(q, { answers: [aRecord("192.0.2.7")] });
  w.script = (q) => [
    { payload: reply(q, { id: (q.id + 1) & 0xffff, answers: [aRecord("192.0.2.66")] }) },
    { payload: reply(q, { flags: 0x0100, answers: [aRecord("192.0.2.66")] }) },
    {
      payload: reply(q, {
        qdcount: 0,
        question: [],
        answers: [aRecord("192.0.2.66", 300, wireName("name.example.test"))],
      }),
    },
    {
      payload: reply(q, {
        question: [...wireName("other.example.test"), 0, 1, 0, 1],
        answers: [aRecord("192.0.2.66")],
      }),
    },
    {
      payload: reply(q, {
        question: [...wireName("name.example.test"), 0, 28, 0, 1],
        answers: [aRecord("192.0.2.66")],
      }),
    },
    {
      payload: reply(q, {
        question: [...wireName("name.example.test"), 0, 1, 0, 3],
        answers: [aRecord("192.0.2.66")],
      }),
    },
    {
      payload: reply(q, {
        question: [...wireName("NaMe.ExAmPle.TEST"), 0, 1, 0, 1],
        answers: [aRecord("192.0.2.7")],
      }),
    },
    { payload: good(q) },
  ];
  w.resolve("name.example.test");
  w.run(10);
  assert.is(w.client.stats.mismatched, 6);
  assert.equal(
    w.done.map((d) => [d.status, d.address]),
    [[DNS_OK, ip("192.0.2.7")]],
    "the answer in another case counts",
  );
});

test("NXDOMAIN, SERVFAIL, REFUSED, NODATA and TC are distinct statuses", () => {
  // TC without the TCP fallback (dns-tcp.test.ts covers that path).
  const w = new DnsWire({ cacheEntries: 0, tcp: false });
  const cases: [string, number, (q: Question) => Uint8Array][] = [
    ["nx.example.test", DNS_NXDOMAIN, (q) => reply(q, { rcode: 3 })],
    ["fail.example.test", DNS_SERVFAIL, (q) => reply(q, { rcode: 2 })],
    ["formerr.example.test", DNS_SERVFAIL, (q) => reply(q, { rcode: 1 })],
    ["refused.example.test", DNS_REFUSED, (q) => reply(q, { rcode: 5 })],
    ["nodata.example.test", DNS_NODATA, (q) => reply(q, {})],
    ["tc.example.test", DNS_TRUNCATED, (q) => reply(q, { tc: true })],
  ];
  for (const [name, , build] of cases) {
    w.script = (q) => [{ payload: build(q) }];
    w.resolve(name);
    w.run(10);
  }
  assert.equal(
    w.done.map((d) => [d.name, d.status]),
    cases.map(([name, status]) => [name, status]),
  );
  assert.is(w.client.stats.truncated, 1);
});

test("SERVFAIL from the first server: the second is asked at once and answers", () => {
  const w = new DnsWire({ servers: ["192.0.2.2", "192.0.2.3"] });
  w.script = (q) =>
    q.server === SERVER
      ? [{ payload: reply(q, { rcode: 2 }) }]
      : [{ payload: reply(q, { answers: [aRecord("192.0.2.8")] }) }];
  w.resolve("x.example.test");
  w.run(10);
  assert.equal(
    w.questions.map((q) => [q.server, q.time]),
    [
      [SERVER, 0 + w.questions[0].time],
      [SERVER2, w.questions[0].time],
    ],
  );
  assert.equal(w.questions[0].id, w.questions[1].id, "one query: its ID and port throughout");
  assert.equal(w.questions[0].port, w.questions[1].port);
  assert.equal(
    w.done.map((d) => [d.status, d.address]),
    [[DNS_OK, ip("192.0.2.8")]],
  );
});

test("no answer: retransmitted with backoff over the servers in turn, then TIMEOUT at the total", () => {
  const w = new DnsWire({
    servers: ["192.0.2.2", "192.0.2.3"],
    timeout: 1000,
    maxTimeout: 4000,
    totalTimeout: 10000,
  });
  w.resolve("silent.example.test");
  w.run(1);
  const t0 = w.questions[0].time;
  w.run(20_000);
  assert.equal(
    w.questions.map((q) => [q.time - t0, q.server]),
    [
      [0, SERVER],
      [1000, SERVER2],
      [2000, SERVER],
      [4000, SERVER2],
      [6000, SERVER],
    ],
  );
  assert.equal(
    w.done.map((d) => [d.status, d.time - t0]),
    [[DNS_TIMEOUT, 10000]],
  );
  assert.is(w.client.stats.timeouts, 1);
  // The port is given back: a late answer finds no socket.
  const noPort = w.solo.stack.udpStats.noPort;
  w.inject(
    reply(w.questions[0], { answers: [aRecord("192.0.2.9")] }),
    SERVER,
    53,
    w.questions[0].port,
  );
  assert.is(w.solo.stack.udpStats.noPort, noPort + 1);
  assert.is(w.done.length, 1);
});

test("an answer to an earlier transmission still counts (same ID and port)", () => {
  const w = new DnsWire({ timeout: 500 });
  w.resolve("slow.example.test");
  w.run(1200);
  assert.is(w.questions.length, 2);
  w.inject(
    reply(w.questions[0], { answers: [aRecord("192.0.2.5")] }),
    SERVER,
    53,
    w.questions[0].port,
  );
  w.run(1);
  assert.equal(
    w.done.map((d) => [d.status, d.address]),
    [[DNS_OK, ip("192.0.2.5")]],
  );
});

test("answers from an address or port not asked are dropped and counted", () => {
  const w = new DnsWire({ servers: ["192.0.2.2", "192.0.2.3"] });
  w.script = (q) => [
    { payload: reply(q, { answers: [aRecord("192.0.2.66")] }), from: SERVER2 },
    { payload: reply(q, { answers: [aRecord("192.0.2.66")] }), sourcePort: 5353 },
    { payload: reply(q, { answers: [aRecord("192.0.2.66")] }), from: ip("192.0.2.77") },
    { payload: reply(q, { answers: [aRecord("192.0.2.6")] }) },
  ];
  w.resolve("x.example.test");
  w.run(10);
  assert.is(w.client.stats.wrongSource, 3);
  assert.equal(
    w.done.map((d) => [d.status, d.address]),
    [[DNS_OK, ip("192.0.2.6")]],
  );
});

test("attack: 3,000 forged answers (wrong IDs, wrong ports, spoofed sources) beside a query that succeeds", () => {
  const w = new DnsWire({ cacheEntries: 0 });
  const rng = new Random(5);
  let legit: Question | null = null;
  w.script = (q) => {
    legit = q;
    return [];
  };
  w.resolve("bank.example.test");
  w.run(1);
  const q = legit as Question | null;
  assert.ok(q !== null);
  if (q === null) return;
  const forged = (i: number) => {
    const kind = i % 3;
    const fake = aRecord(`192.0.2.${200 + (i % 50)}`);
    if (kind === 0) {
      // The right port and server, every ID but the real one.
      return {
        payload: reply(q, { id: (q.id + 1 + i) & 0xffff, answers: [fake] }),
        from: SERVER,
        port: q.port,
      };
    }
    if (kind === 1) {
      // The right ID, a guessed port.
      let port = 32768 + rng.below(28232);
      if (port === q.port) port++;
      return { payload: reply(q, { answers: [fake] }), from: SERVER, port };
    }
    // The right ID and port from a spoofed neighbour.
    return {
      payload: reply(q, { answers: [fake] }),
      from: ip(`192.0.2.${3 + (i % 200)}`),
      port: q.port,
    };
  };
  for (let i = 0; i < 1500; i++) {
    const f = forged(i);
    w.inject(f.payload, f.from, 53, f.port);
    if (i % 16 === 0) w.pump();
  }
  w.inject(reply(q, { answers: [aRecord("192.0.2.20")] }), SERVER, 53, q.port);
  for (let i = 1500; i < 3000; i++) {
    const f = forged(i);
    w.inject(f.payload, f.from, 53, f.port);
    if (i % 16 === 0) w.pump();
  }
  w.run(10);
  assert.equal(
    w.done.map((d) => [d.status, d.address]),
    [[DNS_OK, ip("192.0.2.20")]],
  );
  const s = w.client.stats;
  assert.is(s.mismatched, 500, "every wrong ID before the answer counted");
  assert.is(s.wrongSource, 500, "every spoofed source before the answer counted");
  assert.is(s.answers, 1);
  assert.ok(w.solo.poolFull());
});

test("a full table: resolve() answers -EAGAIN until a callback frees a slot", () => {
  const w = new DnsWire({ queries: 2 });
  w.script = answerA("192.0.2.3");
  assert.ok(typeof w.resolve("one.test") !== "number");
  assert.ok(typeof w.resolve("two.test") !== "number");
  assert.is(w.resolve("three.test"), -EAGAIN);
  w.run(10);
  assert.is(w.done.length, 2);
  assert.ok(typeof w.resolve("three.test") !== "number");
  w.run(10);
  assert.equal(
    w.done.map((d) => d.name),
    ["one.test", "two.test", "three.test"],
  );
});

test("misuse: bad names and types -EINVAL, no server -EDESTADDRREQ; cancel stops the callback", () => {
  const w = new DnsWire();
  for (const bad of [
    "",
    ".",
    "a..b",
    "x".repeat(64) + ".test",
    "sp ace.test",
    "é.test",
    `${"a.".repeat(127)}b`,
  ])
    assert.is(w.resolve(bad), -EINVAL, JSON.stringify(bad));
  assert.is(w.client.resolve("ok.test", 15, w), -EINVAL);
  const none = new DnsClient(w.solo.stack, { servers: [] });
  assert.is(none.resolve("ok.test", 1, w), -EDESTADDRREQ);
  assert.ok(typeof w.resolve("trailing.dot.test.") !== "number");
  w.script = answerA("192.0.2.4");
  const q = w.resolve("cancelled.test") as DnsQuery;
  assert.is(w.client.cancel(q), 0);
  assert.is(w.client.cancel(q), -EBADF);
  w.run(5000);
  assert.equal(
    w.done.map((d) => d.name),
    ["trailing.dot.test."],
  );
});

test("cache: hits within the TTL from the next poll, the TTL left; expiry asks again; bounded", () => {
  const w = new DnsWire({ cacheEntries: 2, maxTtl: 60 });
  w.script = answerA("192.0.2.30", 10);
  w.resolve("c1.test");
  w.run(10);
  const sent = w.client.stats.sent;
  w.run(4000);
  w.resolve("C1.TEST");
  assert.is(w.done.length, 1, "a hit is delivered later, not inside resolve()");
  w.run(1);
  assert.equal(w.done[1], {
    ...w.done[1],
    status: DNS_OK,
    address: ip("192.0.2.30"),
    cached: true,
    ttl: 6,
  });
  assert.is(w.client.stats.sent, sent);
  w.run(7000);
  w.resolve("c1.test");
  w.run(10);
  assert.is(w.done[2].cached, false, "expired: asked again");
  // A TTL beyond maxTtl is cut to it.
  w.script = answerA("192.0.2.31", 86400);
  w.resolve("long.test");
  w.run(10);
  w.run(61_000);
  w.resolve("long.test");
  w.run(10);
  assert.is(w.done[4].cached, false);
  // Bounded: with 2 entries, a third name pushes the oldest out.
  w.script = answerA("192.0.2.32", 300);
  for (const n of ["p.test", "q.test", "r.test"]) {
    w.resolve(n);
    w.run(10);
  }
  const before = w.client.stats.sent;
  w.resolve("r.test");
  w.run(10);
  w.resolve("q.test");
  w.run(10);
  w.resolve("p.test");
  w.run(10);
  assert.is(w.client.stats.sent, before + 1, "only the evicted name asked again");
  // A negative answer is cached for min(SOA TTL, SOA MINIMUM) (RFC 2308).
  const soa: Rr = {
    name: wireName("test"),
    type: 6,
    ttl: 100,
    data: [
      ...wireName("ns.test"),
      ...wireName("admin.test"),
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      2,
      0,
      0,
      0,
      3,
      0,
      0,
      0,
      4,
      0,
      0,
      0,
      5,
    ],
  };
  w.script = (q) => [{ payload: reply(q, { rcode: 3, authority: [soa] }) }];
  w.resolve("missing.test");
  w.run(10);
  const asked = w.client.stats.sent;
  w.resolve("missing.test");
  w.run(10);
  assert.is(w.done.at(-1)?.status, DNS_NXDOMAIN);
  assert.is(w.done.at(-1)?.cached, true);
  w.run(5000);
  w.resolve("missing.test");
  w.run(10);
  assert.is(w.client.stats.sent, asked + 1, "after 5 s (MINIMUM) asked again");
});

test("malformed answers are counted and dropped, never thrown; the query then succeeds", () => {
  const w = new DnsWire({ cacheEntries: 0 });
  const broken: ((q: Question) => Uint8Array)[] = [
    (q) => reply(q).subarray(0, 11),
    (q) => reply(q, { question: [...Array.from(q.section.subarray(0, 5))] }),
    (q) => reply(q, { answers: [{ name: [0xc0, 12], type: 1, data: [192, 0, 2] }] }),
    (q) => reply(q, { answers: [{ name: [0xc0, 12], type: 1, data: [192, 0, 2, 1, 1] }] }),
    (q) => {
      const m = reply(q, { answers: [aRecord("192.0.2.66")] });
      return m.subarray(0, m.length - 2);
    },
    (q) => reply(q, { answers: [{ name: [0xc0, 12], type: 5, data: [0xc0, 200] }] }),
    (q) => reply(q, { answers: [{ name: [0xc0, 12], type: 5, data: [0x80, 1, 0] }] }),
    (q) => {
      // A CNAME whose target points at itself.
      const m = reply(q, { answers: [{ name: [0xc0, 12], type: 5, data: [0xc0, 0] }] });
      const at = m.length - 2;
      m[at + 1] = at;
      return m;
    },
    (q) => {
      const m = new Uint8Array(600);
      m.set(reply(q, { answers: [aRecord("192.0.2.66")] }));
      return m;
    },
  ];
  w.script = (q) => [
    ...broken.map((b) => ({ payload: b(q) })),
    { payload: reply(q, { answers: [aRecord("192.0.2.50")] }) },
  ];
  w.resolve("m.example.test");
  w.run(10);
  // The second is cut inside the question's name: it cannot be this query's answer.
  assert.is(w.client.stats.mismatched, 1);
  assert.is(w.client.stats.malformed, broken.length - 1, "every other broken message counted");
  assert.equal(
    w.done.map((d) => [d.status, d.address]),
    [[DNS_OK, ip("192.0.2.50")]],
  );
});

test("1,000 mutated answers: never a throw, each query ends", () => {
  const w = new DnsWire({ cacheEntries: 0 });
  const rng = new Random(77);
  let mutations = 0;
  w.script = (q) => {
    const good = reply(q, {
      answers: [
        { name: [0xc0, 12], type: 5, data: wireName("target.example.test") },
        { name: wireName("target.example.test"), type: 1, data: [192, 0, 2, 61] },
      ],
    });
    const bad = good.slice();
    const flips = 1 + rng.below(4);
    for (let i = 0; i < flips; i++) bad[rng.below(bad.length)] = rng.below(256);
    mutations++;
    return [
      { payload: rng.below(4) === 0 ? bad.subarray(0, rng.below(bad.length)) : bad },
      { payload: good },
    ];
  };
  for (let i = 0; i < 1000; i++) {
    w.resolve(`n${i}.example.test`);
    w.run(10);
  }
  assert.is(mutations, 1000);
  assert.is(w.done.length, 1000, "each query ended");
  assert.ok(
    w.done.filter((d) => d.status === DNS_OK && d.address === ip("192.0.2.61")).length > 500,
  );
  assert.ok(w.solo.poolFull());
});

test.run();
