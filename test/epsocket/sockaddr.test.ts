// Sockaddrs in Linux's x86-64 layout: reading AF_INET and AF_INET6 (v4-mapped becomes IPv4, the
// scope id of a link-local address is kept), and writing them truncated to the caller's length.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { EAFNOSUPPORT, EINVAL } from "../../src/errno.js";
import { convertAddress, getAddress, isLinkLocal } from "../../src/epsocket/sockaddr.js";
import { AF_INET, AF_INET6, FullAddress } from "../../src/wire/address.js";

function sin6(addr: number[], port: number, scope: number): Uint8Array {
  return Uint8Array.from([
    AF_INET6,
    0,
    port >> 8,
    port & 255,
    0,
    0,
    0,
    0,
    ...addr,
    scope & 255,
    (scope >> 8) & 255,
    (scope >> 16) & 255,
    scope >>> 24,
  ]);
}

const LINK_LOCAL = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 0, 2, 7];

test("AF_INET: port and address in network order; short or foreign sockaddrs refused", () => {
  const out = new FullAddress();
  const sa = Uint8Array.from([AF_INET, 0, 0x1f, 0x90, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.is(getAddress(AF_INET, sa, 0, 16, out), 0);
  assert.is(out.port, 8080);
  assert.is(out.address.toString(), "192.0.2.1");
  assert.is(getAddress(AF_INET, sa, 0, 15, out), -EINVAL);
  sa[0] = AF_INET6;
  assert.is(getAddress(AF_INET, sa, 0, 16, out), -EAFNOSUPPORT);
});

test("AF_INET6: v4-mapped becomes IPv4, a link-local address keeps its scope id", () => {
  const out = new FullAddress();
  assert.is(getAddress(AF_INET6, sin6(MAPPED, 53, 0), 0, 28, out), 0);
  assert.is(out.address.family, AF_INET);
  assert.is(out.address.toString(), "192.0.2.7");
  assert.is(getAddress(AF_INET6, sin6(LINK_LOCAL, 5353, 0x01020304), 0, 28, out), 0);
  assert.is(out.address.family, AF_INET6);
  assert.ok(isLinkLocal(out.address));
  assert.is(out.nic, 0x01020304);
  assert.is(out.port, 5353);
  // RFC 2133's 24-byte form has no scope id; shorter is refused.
  assert.is(getAddress(AF_INET6, sin6(LINK_LOCAL, 1, 9), 0, 24, out), 0);
  assert.is(out.nic, 0);
  assert.is(getAddress(AF_INET6, sin6(LINK_LOCAL, 1, 9), 0, 23, out), -EINVAL);
});

test("convertAddress writes the family's layout, truncated, and returns the full length", () => {
  const scratch = new Uint8Array(28);
  const a = new FullAddress();
  a.address.setV4((192 << 24) | (2 << 8) | 2);
  const out = new Uint8Array(32).fill(0xee);
  assert.is(convertAddress(AF_INET, a.address, 7, 0, out, 0, 32, scratch), 16);
  assert.equal(
    Array.from(out.subarray(0, 17)),
    [2, 0, 0, 7, 192, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0xee],
  );
  out.fill(0xee);
  assert.is(convertAddress(AF_INET6, a.address, 7, 0, out, 0, 6, scratch), 28);
  assert.equal(Array.from(out.subarray(0, 7)), [AF_INET6, 0, 0, 7, 0, 0, 0xee]);
  assert.is(convertAddress(AF_INET6, a.address, 7, 0, out, 0, 28, scratch), 28);
  assert.equal(
    Array.from(out.subarray(8, 24)),
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 0, 2, 2],
  );
  // The IPv4 wildcard on an AF_INET6 socket reads as ::.
  a.address.setV4(0);
  convertAddress(AF_INET6, a.address, 0, 0, out, 0, 28, scratch);
  assert.equal(Array.from(out.subarray(8, 24)), new Array(16).fill(0));
  // A link-local address carries its scope id.
  const ll = new FullAddress();
  getAddress(AF_INET6, sin6(LINK_LOCAL, 1, 3), 0, 28, ll);
  convertAddress(AF_INET6, ll.address, 1, 3, out, 0, 28, scratch);
  assert.equal(Array.from(out.subarray(24, 28)), [3, 0, 0, 0]);
  assert.is(convertAddress(AF_INET, a.address, 0, 0, null, 0, 0, scratch), 16);
});

test.run();
