// The DNS client's messages (RFC 1035 §4): the question a query sends, over UDP or after TCP's
// length prefix, and the answer checked against that question and read, following a CNAME chain
// within the answer. Functions over the client's buffers; nothing a peer sends can throw.

import { readI32, readU16, writeU16 } from "../wire/address.js";
import {
  DNS_CLASS_IN,
  DNS_FLAG_QR,
  DNS_FLAG_RD,
  DNS_FLAG_TC,
  DNS_HEADER_LENGTH,
  DNS_OPCODE_MASK,
  DNS_RCODE_MASK,
  DNS_RCODE_NOERROR,
  DNS_RCODE_NXDOMAIN,
  DNS_RCODE_REFUSED,
  DNS_TYPE_A,
  DNS_TYPE_CNAME,
  DNS_TYPE_SOA,
  copyName,
  nameEquals,
  nameLength,
  readTtl,
  skipName,
} from "../wire/dns.js";
import type { DnsClient } from "./dns-client.js";
import {
  DNS_NODATA,
  DNS_NXDOMAIN,
  DNS_OK,
  DNS_TRUNCATED,
  NAME_ROOM,
  copy,
  type DnsQuery,
} from "./dns-query.js";

/** parseAnswer() results besides the DNS_* statuses. */
export const MISMATCH = -1;
export const MALFORMED = -2;
export const SERVER_FAILED = -3;
export const SERVER_REFUSED = -4;

/** Hops of a CNAME chain followed within one answer. */
const MAX_CHAIN = 8;

/** The question of `q` at `b[start]`: its length. */
export function writeQuestion(c: DnsClient, q: DnsQuery, b: Uint8Array, start: number): number {
  const names = c.names;
  const nameAt = q.index * NAME_ROOM;
  const length = nameLength(names, nameAt);
  writeU16(b, start, q.id);
  writeU16(b, start + 2, DNS_FLAG_RD);
  writeU16(b, start + 4, 1);
  writeU16(b, start + 6, 0);
  writeU16(b, start + 8, 0);
  writeU16(b, start + 10, 0);
  copy(names, nameAt, b, start + DNS_HEADER_LENGTH, length);
  const at = start + DNS_HEADER_LENGTH + length;
  writeU16(b, at, q.type);
  writeU16(b, at + 2, DNS_CLASS_IN);
  return at + 4 - start;
}

/**
 * Checks a message against the query and reads its answer: a DNS_* status, MISMATCH (not an
 * answer to this question), MALFORMED, or SERVER_FAILED / SERVER_REFUSED (try another server).
 * The address goes into `q`, its TTL into `c.foundTtl`, a negative answer's into `c.negativeTtl`.
 */
export function parseAnswer(c: DnsClient, q: DnsQuery, b: Uint8Array, end: number): number {
  if (readU16(b, 0) !== q.id) return MISMATCH;
  const flags = readU16(b, 2);
  if ((flags & DNS_FLAG_QR) === 0 || (flags & DNS_OPCODE_MASK) !== 0) return MISMATCH;
  if (readU16(b, 4) !== 1) return MISMATCH;
  const names = c.names;
  const nameAt = q.index * NAME_ROOM;
  let at = DNS_HEADER_LENGTH;
  if (!nameEquals(b, at, end, names, nameAt)) return MISMATCH;
  at = skipName(b, at, end);
  if (at < 0 || at + 4 > end) return MALFORMED;
  if (readU16(b, at) !== q.type || readU16(b, at + 2) !== DNS_CLASS_IN) return MISMATCH;
  at += 4;
  if ((flags & DNS_FLAG_TC) !== 0) return DNS_TRUNCATED;
  const rcode = flags & DNS_RCODE_MASK;
  if (rcode === DNS_RCODE_REFUSED) return SERVER_REFUSED;
  if (rcode !== DNS_RCODE_NOERROR && rcode !== DNS_RCODE_NXDOMAIN) return SERVER_FAILED;
  const answers = readU16(b, 6);
  const authority = readU16(b, 8);
  // Bounds of every answer record first: then the chain walk below reads only checked bytes.
  const answersAt = at;
  for (let i = 0; i < answers; i++) {
    at = skipName(b, at, end);
    if (at < 0 || at + 10 > end) return MALFORMED;
    at += 10 + readU16(b, at + 8);
    if (at > end) return MALFORMED;
  }
  c.negativeTtl = 0;
  for (let i = 0; i < authority; i++) {
    at = skipName(b, at, end);
    if (at < 0 || at + 10 > end) return MALFORMED;
    const rdata = at + 10;
    const rdEnd = rdata + readU16(b, at + 8);
    if (rdEnd > end) return MALFORMED;
    if (readU16(b, at) === DNS_TYPE_SOA) {
      // RFC 2308 §5: a negative answer lives for min(the SOA's TTL, its MINIMUM).
      let p = skipName(b, rdata, rdEnd);
      if (p >= 0) p = skipName(b, p, rdEnd);
      if (p >= 0 && p + 20 <= rdEnd) {
        const ttl = readTtl(b, at + 4);
        const minimum = readTtl(b, p + 16);
        c.negativeTtl = ttl < minimum ? ttl : minimum;
      }
    }
    at = rdEnd;
  }
  if (rcode === DNS_RCODE_NXDOMAIN) return DNS_NXDOMAIN;
  // Follow the chain from the question's name: each hop scans the answers for an address of
  // the name reached, else a CNAME of it.
  const chain = c.chain;
  copy(names, nameAt, chain, 0, nameLength(names, nameAt));
  let ttl = 0x7fffffff;
  for (let hop = 0; hop <= MAX_CHAIN; hop++) {
    let cname = -1;
    let cnameTtl = 0;
    at = answersAt;
    for (let i = 0; i < answers; i++) {
      const owner = at;
      at = skipName(b, at, end);
      const type = readU16(b, at);
      const klass = readU16(b, at + 2);
      const recordTtl = readTtl(b, at + 4);
      const rdLength = readU16(b, at + 8);
      const rdata = at + 10;
      at = rdata + rdLength;
      if (klass !== DNS_CLASS_IN || !nameEquals(b, owner, end, chain, 0)) continue;
      if (type === q.type) {
        if (type === DNS_TYPE_A) {
          if (rdLength !== 4) return MALFORMED;
          q.address = readI32(b, rdata);
        } else {
          if (rdLength !== 16) return MALFORMED;
          copy(b, rdata, q.address6, 0, 16);
        }
        c.foundTtl = recordTtl < ttl ? recordTtl : ttl;
        return DNS_OK;
      }
      if (type === DNS_TYPE_CNAME && cname < 0) {
        cname = rdata;
        cnameTtl = recordTtl;
      }
    }
    if (cname < 0) return DNS_NODATA;
    if (copyName(b, cname, end, chain, 0) < 0) return MALFORMED;
    if (cnameTtl < ttl) ttl = cnameTtl;
  }
  // A chain longer than we follow, or a loop: no address here.
  return DNS_NODATA;
}
