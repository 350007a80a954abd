// The DNS client's answer cache: a fixed number of entries, made at construction, each a name in
// wire form, a type, a status (positive, NXDOMAIN or NODATA, RFC 2308) and an address, kept until
// its TTL, capped, runs out. A full cache overwrites the entry that expires first.

import { nameLength } from "../wire/dns.js";
import { DNS_OK, NAME_ROOM, copy, type DnsQuery } from "./dns-query.js";

/** The cache's entries, and lookup and store by a query's name and type. */
export class DnsCache {
  private readonly names: Uint8Array;
  private readonly type: Int32Array;
  private readonly status: Int32Array;
  private readonly address: Int32Array;
  private readonly address6: Uint8Array;
  private readonly expires: Float64Array;
  /** The longest time an answer is kept, in seconds, whatever its TTL. */
  private readonly maxTtl: number;

  constructor(entries: number, maxTtl: number) {
    this.names = new Uint8Array(entries * NAME_ROOM);
    this.type = new Int32Array(entries);
    this.status = new Int32Array(entries);
    this.address = new Int32Array(entries);
    this.address6 = new Uint8Array(entries * 16);
    this.expires = new Float64Array(entries);
    this.maxTtl = maxTtl;
  }

  /** Forgets every answer. */
  flush(): void {
    this.expires.fill(0);
  }

  /**
   * Fills `q`'s results from a live entry for its name (in wire form at
   * `names[q.index * NAME_ROOM]`) and type; false if there is none.
   */
  lookup(q: DnsQuery, names: Uint8Array, now: number): boolean {
    const e = this.find(q, names, now);
    if (e < 0) return false;
    q.status = this.status[e];
    q.address = this.address[e];
    copy(this.address6, e * 16, q.address6, 0, 16);
    q.ttl = q.status === DNS_OK ? Math.ceil((this.expires[e] - now) / 1000) : 0;
    return true;
  }

  /**
   * Keeps `q`'s answer for `ttl` seconds (at most maxTtl): in the entry its name already has, else
   * a free or expired one, else the oldest.
   */
  store(q: DnsQuery, names: Uint8Array, status: number, ttl: number, now: number): void {
    const expires = this.expires;
    if (expires.length === 0) return;
    if (ttl > this.maxTtl) ttl = this.maxTtl;
    if (ttl <= 0) return;
    let e = this.find(q, names, now);
    if (e < 0) {
      e = 0;
      for (let i = 1; i < expires.length; i++) if (expires[i] < expires[e]) e = i;
    }
    const at = q.index * NAME_ROOM;
    copy(names, at, this.names, e * NAME_ROOM, nameLength(names, at));
    this.type[e] = q.type;
    this.status[e] = status;
    this.address[e] = q.address;
    copy(q.address6, 0, this.address6, e * 16, 16);
    expires[e] = now + ttl * 1000;
  }

  private find(q: DnsQuery, names: Uint8Array, now: number): number {
    const at = q.index * NAME_ROOM;
    const length = nameLength(names, at);
    const cache = this.names;
    const expires = this.expires;
    for (let e = 0; e < expires.length; e++) {
      if (expires[e] <= now || this.type[e] !== q.type) continue;
      const c = e * NAME_ROOM;
      let same = true;
      for (let i = 0; i < length; i++)
        if (cache[c + i] !== names[at + i]) {
          same = false;
          break;
        }
      if (same) return e;
    }
    return -1;
  }
}
