// ICMP as a host answers it: echo (plain, with options, fragmented), silence towards broadcasts and
// about ICMP errors, port and protocol unreachable with the right quote, and the rate limit.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { sumBytes } from "../../src/wire/checksum.js";
import {
  BROADCAST_MAC,
  Sent,
  checksumOk,
  concat,
  icmp,
  ip,
  ipv4,
  mac,
  pattern,
  udp,
} from "../support/frames.js";
import {
  OTHER_IP,
  PEER_IP,
  PEER_MAC,
  STACK_IP,
  STACK_MAC,
  SUBNET_BROADCAST,
  Solo,
  ipFrame,
  measure,
  udpFrame,
} from "../support/harness.js";

function echoRequest(data: Uint8Array, id = 0x1234, seq = 1): Uint8Array {
  return icmp({ type: 8, rest: ((id << 16) | seq) >>> 0, payload: data });
}

/** Checks an echo reply from the stack answers `request` and returns it. */
function checkReply(sent: Sent, request: Uint8Array): Uint8Array {
  const ipv = sent.ip!;
  assert.equal(sent.dst, PEER_MAC);
  assert.equal(sent.src, STACK_MAC);
  assert.is(ipv.source, STACK_IP);
  assert.is(ipv.destination, PEER_IP);
  assert.is(ipv.protocol, 1);
  assert.is(ipv.ttl, 64);
  assert.ok(checksumOk(ipv.header));
  const reply = ipv.payload;
  assert.is(reply[0], 0, "echo reply");
  assert.is(reply[1], 0);
  assert.ok(checksumOk(reply), "ICMP checksum");
  assert.equal(reply.slice(4), request.slice(4), "identifier, sequence and data echoed");
  return reply;
}

test("an echo request is answered with a byte-exact echo reply", () => {
  const solo = new Solo().warm();
  const request = echoRequest(pattern(56));
  solo.send(ipFrame({ protocol: 1, payload: request }));
  const sent = solo.take();
  assert.is(sent.length, 1);
  checkReply(sent[0], request);
  assert.is(solo.iface.icmpStats.echoRequestsIn, 1);
  assert.is(solo.iface.icmpStats.echoRepliesOut, 1);
  assert.ok(solo.poolFull());
});

test("property: echo replies verify for any size, identifier and sequence", () => {
  const solo = new Solo().warm();
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 1472 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      (data, id, seq) => {
        const request = echoRequest(data, id, seq);
        solo.send(ipFrame({ protocol: 1, payload: request }));
        const sent = solo.take();
        assert.is(sent.length, 1);
        checkReply(sent[0], request);
        return solo.poolFull();
      },
    ),
    { numRuns: 300, seed: 3 },
  );
});

test("echo requests whose checksum is 0x0000 or 0xffff are both answered correctly", () => {
  const solo = new Solo().warm();
  // Zero has two forms in ones' complement; a sender may put either in the field. The targets
  // 0xf7ff and 0x0800 make the reply's own checksum land on those edges.
  let answered = 0;
  for (const [target, field] of [
    [0x0000, 0x0000],
    [0x0000, 0xffff],
    [0xf7ff, 0xf7ff],
    [0x0800, 0x0800],
  ]) {
    for (let w = 0; w < 0x10000; w++) {
      const data = concat(pattern(10), Uint8Array.of(w >>> 8, w & 0xff));
      const request = echoRequest(data);
      if (((request[2] << 8) | request[3]) !== target) continue;
      request[2] = field >>> 8;
      request[3] = field & 0xff;
      assert.ok(checksumOk(request));
      solo.send(ipFrame({ protocol: 1, payload: request }));
      checkReply(solo.take()[0], request);
      answered++;
      break;
    }
  }
  assert.is(answered, 4);
  assert.is(solo.iface.icmpStats.echoRepliesOut, 4);
});

test("an echo request with all-zero identifier, sequence and data gets checksum 0xffff", () => {
  const solo = new Solo().warm();
  // The incremental update alone would give 0x0000 here (-0), which receivers reject.
  const hex =
    "02000000000a02000000000b08004500001c222200004001d4bbc0000202c00002010800f7ff00000000";
  solo.send(Uint8Array.from(hex.match(/../g)!.map((pair) => parseInt(pair, 16))));
  const sent = solo.take();
  assert.is(sent.length, 1);
  const reply = checkReply(sent[0], Uint8Array.of(8, 0, 0xf7, 0xff, 0, 0, 0, 0));
  assert.is((reply[2] << 8) | reply[3], 0xffff);
  const recomputed = Uint8Array.from(reply);
  recomputed[2] = 0;
  recomputed[3] = 0;
  assert.is(~sumBytes(recomputed, 0, recomputed.length, 0) & 0xffff, 0xffff, "full recomputation");
});

test("an echo request carrying IP options is answered (without them)", () => {
  const solo = new Solo().warm();
  const request = echoRequest(pattern(100));
  solo.send(ipFrame({ protocol: 1, payload: request, options: Uint8Array.of(1, 1, 1, 1) }));
  const sent = solo.take();
  assert.is(sent.length, 1);
  checkReply(sent[0], request);
  assert.is(sent[0].ip!.headerLength, 20);
  assert.ok(solo.poolFull());
});

test("a fragmented ping is reassembled and answered in fragments", () => {
  const solo = new Solo().warm();
  const request = echoRequest(pattern(4000, 5));
  for (let offset = 0; offset < request.length; offset += 1480) {
    const more = offset + 1480 < request.length;
    solo.send(
      ipFrame({
        protocol: 1,
        id: 99,
        payload: request.slice(offset, offset + 1480),
        fragment: (more ? 0x2000 : 0) | (offset >>> 3),
      }),
    );
  }
  const sent = solo.take();
  assert.is(sent.length, 3);
  const parts = sent.map((s) => s.ip!.payload);
  sent.forEach((s, i) => {
    assert.is(s.ip!.offset, i * 1480);
    assert.is(s.ip!.moreFragments, i < 2);
    assert.ok(checksumOk(s.ip!.header));
  });
  const reply = concat(...parts);
  assert.is(reply[0], 0);
  assert.ok(checksumOk(reply));
  assert.equal(reply.slice(4), request.slice(4));
  assert.ok(solo.poolFull());
});

test("the reply to a peer not in the ARP cache waits for resolution", () => {
  const solo = new Solo().warm(false);
  const request = echoRequest(pattern(8));
  solo.send(ipFrame({ protocol: 1, payload: request }));
  const asked = solo.take();
  assert.is(asked.length, 1);
  assert.is(asked[0].arp!.op, 1);
  assert.is(asked[0].arp!.targetIp, PEER_IP);
  solo.peerAnswers();
  const sent = solo.take();
  assert.is(sent.length, 1);
  checkReply(sent[0], request);
  assert.ok(solo.poolFull());
});

test("no way back to an off-subnet sender: no port unreachable, counted as no route", () => {
  const solo = new Solo().warm();
  const moved = measure(solo.stack, () =>
    solo.send(udpFrame(pattern(8), { source: ip("198.51.100.7"), port: 9999 })),
  );
  assert.is(moved["udp.noPort"], 1);
  assert.is(moved["ip.noRoute"], 1);
  assert.equal(solo.take(), []);
});

test("an echo request from off the subnet goes back through the gateway, or not at all", () => {
  const far = ip("198.51.100.7");
  const without = new Solo().warm();
  without.send(ipFrame({ protocol: 1, source: far, payload: echoRequest(pattern(8)) }));
  assert.equal(without.take(), []);
  assert.is(without.iface.ipStats.noRoute, 1);
  assert.ok(without.poolFull());

  const solo = new Solo().warm();
  solo.stack.configure({ address: STACK_IP, prefix: 24, gateway: PEER_IP });
  solo.advance(3000);
  solo.take();
  const request = echoRequest(pattern(8));
  solo.send(ipFrame({ protocol: 1, source: far, payload: request }));
  const sent = solo.take();
  assert.is(sent.length, 1);
  assert.equal(sent[0].dst, PEER_MAC, "to the gateway's MAC");
  assert.is(sent[0].ip!.destination, far);
});

for (const [what, destination, dstMac] of [
  ["the limited broadcast", 0xffffffff, BROADCAST_MAC],
  ["the subnet broadcast", SUBNET_BROADCAST, BROADCAST_MAC],
  ["all-hosts multicast", ip("224.0.0.1"), mac("01:00:5e:00:00:01")],
] as const) {
  // Linux's icmp_echo_ignore_broadcasts defaults to 1 (smurf amplification).
  test(`no reply to a ping sent to ${what}`, () => {
    const solo = new Solo().warm();
    solo.send(ipFrame({ protocol: 1, destination, payload: echoRequest(pattern(8)) }, dstMac));
    assert.equal(solo.take(), []);
    assert.is(solo.iface.icmpStats.broadcastIgnored, 1);
    assert.ok(solo.poolFull());
  });
}

test("UDP to a closed port: port unreachable quoting the original header and data", () => {
  const solo = new Solo().warm();
  const frame = udpFrame(pattern(30), { port: 9999 });
  const original = frame.subarray(14);
  const moved = measure(solo.stack, () => solo.send(frame));
  assert.is(moved["udp.noPort"], 1);
  const sent = solo.take();
  assert.is(sent.length, 1);
  const ipv = sent[0].ip!;
  assert.is(ipv.destination, PEER_IP);
  assert.is(ipv.protocol, 1);
  const message = ipv.payload;
  assert.ok(checksumOk(message));
  assert.is(message[0], 3, "destination unreachable");
  assert.is(message[1], 3, "port unreachable");
  assert.is((message[4] << 24) | (message[5] << 16) | (message[6] << 8) | message[7], 0);
  assert.equal(message.slice(8), original, "the whole small datagram, header first");
  assert.is(solo.iface.icmpStats.destUnreachableOut, 1);
  assert.ok(solo.poolFull());
});

test("the quote of a long datagram stops at 576 bytes in all, options included", () => {
  const solo = new Solo().warm();
  const options = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1);
  const datagram = udp({
    source: PEER_IP,
    destination: STACK_IP,
    sourcePort: 4000,
    destinationPort: 9999,
    payload: pattern(1000),
  });
  const frame = ipFrame({ payload: datagram, options });
  solo.send(frame);
  const sent = solo.take();
  const message = sent[0].ip!.payload;
  assert.is(20 + message.length, 576);
  assert.equal(message.slice(8), frame.slice(14, 14 + 576 - 28), "header with options, then data");
  assert.is(message[8] & 15, 7, "the quoted header keeps its options");
});

for (const [what, destination, dstMac] of [
  ["the limited broadcast", 0xffffffff, BROADCAST_MAC],
  ["the subnet broadcast", SUBNET_BROADCAST, BROADCAST_MAC],
  ["a joined multicast group", ip("224.0.0.1"), mac("01:00:5e:00:00:01")],
] as const) {
  test(`no port unreachable for UDP to ${what}`, () => {
    const solo = new Solo().warm();
    const moved = measure(solo.stack, () =>
      solo.send(udpFrame(pattern(8), { destination, port: 9999, dstMac })),
    );
    assert.is(moved["udp.noPort"], 1);
    assert.equal(solo.take(), []);
    assert.is(solo.iface.icmpStats.out, 0);
  });
}

test("unknown protocols get protocol unreachable, quoting the datagram", () => {
  const solo = new Solo().warm();
  const frame = ipFrame({ protocol: 99, payload: pattern(40) });
  const moved = measure(solo.stack, () => solo.send(frame));
  assert.is(moved["ip.unknownProtocol"], 1);
  const sent = solo.take();
  assert.is(sent.length, 1);
  const message = sent[0].ip!.payload;
  assert.is(message[0], 3);
  assert.is(message[1], 2, "protocol unreachable");
  assert.ok(checksumOk(message));
  assert.equal(message.slice(8), frame.slice(14));
});

test("no protocol unreachable for an unknown protocol sent to a broadcast", () => {
  const solo = new Solo().warm();
  solo.send(
    ipFrame({ protocol: 99, destination: SUBNET_BROADCAST, payload: pattern(8) }, BROADCAST_MAC),
  );
  assert.is(solo.iface.ipStats.unknownProtocol, 1);
  assert.equal(solo.take(), []);
});

test("no ICMP error about an ICMP error: a fragmented error times out silently", () => {
  const solo = new Solo().warm();
  const quoted = ipv4({
    source: STACK_IP,
    destination: PEER_IP,
    protocol: 17,
    payload: pattern(8),
  });
  const error = icmp({ type: 3, code: 1, payload: concat(quoted, pattern(1600)) });
  // Only the first fragment arrives: time exceeded would be due, but it is about an ICMP error.
  solo.send(ipFrame({ protocol: 1, id: 7, payload: error.slice(0, 1480), fragment: 0x2000 }));
  solo.advance(31_000);
  assert.equal(solo.take(), []);
  assert.is(solo.iface.ipStats.reassemblyTimeouts, 1);
  assert.is(solo.iface.icmpStats.out, 0);
  // The same for an echo request is answered with time exceeded.
  const echo = echoRequest(pattern(3000));
  solo.send(ipFrame({ protocol: 1, id: 8, payload: echo.slice(0, 1480), fragment: 0x2000 }));
  solo.advance(31_000);
  // (The peer's ARP entry went stale meanwhile, so unicast probes go out too.)
  const sent = solo.take().filter((s) => s.ip);
  assert.is(sent.length, 1);
  assert.is(sent[0].ip!.payload[0], 11);
});

test("ICMP errors and unknown ICMP types draw no answer", () => {
  const solo = new Solo().warm();
  const quoted = ipv4({
    source: STACK_IP,
    destination: PEER_IP,
    protocol: 17,
    payload: udp({
      source: STACK_IP,
      destination: PEER_IP,
      sourcePort: 1,
      destinationPort: 2,
      payload: pattern(4),
    }),
  });
  for (const [type, code] of [
    [3, 3],
    [3, 1],
    [11, 0],
    [12, 0],
    [42, 0],
    [13, 0],
  ])
    solo.send(ipFrame({ protocol: 1, payload: icmp({ type, code, payload: quoted }) }));
  assert.equal(solo.take(), []);
  assert.is(solo.iface.icmpStats.errorsIn, 4);
  assert.is(solo.iface.icmpStats.out, 0);
});

test("an ICMP error whose quoted header is malformed is dropped as truncated", () => {
  const solo = new Solo().warm();
  const udpSocket = solo.stack.openUdp() as UdpEndpoint;
  for (const mangle of [
    (q: Uint8Array) => (q[0] = 0x44), // IHL 4
    (q: Uint8Array) => (q[0] = 0x40), // IHL 0
    (q: Uint8Array) => (q[0] = 0x65), // version 6
    (q: Uint8Array) => (q[0] = 0x4f), // IHL 15, past the quote
  ]) {
    const quoted = ipv4({
      source: STACK_IP,
      destination: PEER_IP,
      protocol: 17,
      payload: pattern(8),
    });
    mangle(quoted);
    const moved = measure(solo.stack, () =>
      solo.send(ipFrame({ protocol: 1, payload: icmp({ type: 3, code: 3, payload: quoted }) })),
    );
    assert.is(moved["icmp.truncated"], 1, `quoted first byte 0x${quoted[0].toString(16)}`);
  }
  udpSocket.close();
});

test("the ICMP rate limit: a burst of 50, then 1 per millisecond (Linux defaults)", () => {
  const solo = new Solo().warm();
  let sent = 0;
  for (let i = 0; i < 60; i++) {
    solo.send(udpFrame(pattern(8), { port: 9000 + i }));
    sent += solo.take().length;
  }
  assert.is(sent, 50);
  assert.is(solo.iface.icmpStats.rateLimited, 10);
  solo.advance(5);
  sent = 0;
  for (let i = 0; i < 10; i++) {
    solo.send(udpFrame(pattern(8), { port: 9000 + i }));
    sent += solo.take().length;
  }
  assert.is(sent, 5, "five tokens came back in 5 ms");
  solo.advance(10_000);
  sent = 0;
  for (let i = 0; i < 60; i++) {
    solo.send(udpFrame(pattern(8), { port: 9000 + i }));
    sent += solo.take().length;
  }
  assert.is(sent, 50, "the bucket refills to the burst, no further");
  assert.ok(solo.poolFull());
});

test("the ICMP rate limit with a small configured rate refills over virtual time", () => {
  const solo = new Solo({ stack: { icmpRate: 2, icmpBurst: 3 } }).warm();
  const errors = () => {
    solo.send(ipFrame({ protocol: 99, payload: pattern(8) }));
    return solo.take().length;
  };
  assert.equal([errors(), errors(), errors(), errors()], [1, 1, 1, 0]);
  solo.advance(499);
  assert.is(errors(), 0, "not a whole token after 499 ms at 2/s");
  solo.advance(1);
  assert.is(errors(), 1);
  assert.is(errors(), 0);
  // Echo replies are not rate limited (Linux's icmp_ratemask leaves them out).
  for (let i = 0; i < 10; i++) {
    solo.send(ipFrame({ protocol: 1, payload: echoRequest(pattern(8), 1, i) }));
    assert.is(solo.take().length, 1);
  }
});

test("an ICMP message to another host's IP is not ours", () => {
  const solo = new Solo().warm();
  solo.send(ipFrame({ protocol: 1, destination: OTHER_IP, payload: echoRequest(pattern(8)) }));
  assert.equal(solo.take(), []);
  assert.is(solo.iface.ipStats.notForUs, 1);
});

test.run();
