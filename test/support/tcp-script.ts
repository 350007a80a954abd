// A scripted TCP peer in the spirit of packetdrill: the test plays the remote end over a Solo
// harness, injecting segments at virtual times and expecting the segments the stack sends, written
// tcpdump-style ("S", "S.", ".", "P.", "F.", "R", "R."). Sequence numbers are absolute; the
// script remembers the stack's ISN so tests can speak relative to it.

import * as assert from "uvu/assert";
import { EINPROGRESS } from "../../src/errno.js";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TcpOptions } from "../../src/wire/tcp.js";
import { FullAddress } from "../../src/wire/address.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";
import { ETH_IPV4, ether, ipv4, tcp, u16 } from "./frames.js";
import { PEER_IP, PEER_MAC, STACK_IP, STACK_MAC, Solo, SoloOptions } from "./harness.js";

/** A segment the stack sent, decoded. */
export interface Seg {
  sourcePort: number;
  destinationPort: number;
  /** Unsigned. */
  seq: number;
  ack: number;
  flags: number;
  window: number;
  headerLength: number;
  mss: number;
  wscale: number;
  sackPermitted: boolean;
  ts: [number, number] | null;
  sack: [number, number][];
  payload: Uint8Array;
  /** When the test took it (virtual ms). */
  at: number;
}

const u32 = (b: Uint8Array, at: number) =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

export function decodeTcp(b: Uint8Array, at = 0): Seg {
  const headerLength = (b[12] >>> 4) * 4;
  const o = new TcpOptions();
  o.parse(b, 20, headerLength - 20);
  const sack: [number, number][] = [];
  for (let i = 0; i < o.sackCount; i++) sack.push([o.sackStart[i] >>> 0, o.sackEnd[i] >>> 0]);
  return {
    sourcePort: u16(b, 0),
    destinationPort: u16(b, 2),
    seq: u32(b, 4),
    ack: u32(b, 8),
    flags: b[13],
    window: u16(b, 14),
    headerLength,
    mss: o.mss,
    wscale: o.wscale,
    sackPermitted: o.sackPermitted,
    ts: o.hasTimestamp ? [o.tsVal >>> 0, o.tsEcr >>> 0] : null,
    sack,
    payload: b.slice(headerLength),
    at,
  };
}

/** "S." → SYN|ACK; letters S F R P, a dot for ACK. */
export function flagsOf(text: string): number {
  let f = 0;
  for (const ch of text) {
    if (ch === "S") f |= TCP_SYN;
    else if (ch === "F") f |= TCP_FIN;
    else if (ch === "R") f |= TCP_RST;
    else if (ch === "P") f |= TCP_PSH;
    else if (ch === ".") f |= TCP_ACK;
    else throw new Error(`bad flag ${ch}`);
  }
  return f;
}

export function flagText(f: number): string {
  let s = "";
  if (f & TCP_SYN) s += "S";
  if (f & TCP_FIN) s += "F";
  if (f & TCP_RST) s += "R";
  if (f & TCP_PSH) s += "P";
  if (f & TCP_ACK) s += ".";
  return s === "" ? "none" : s;
}

export function describe(s: Seg): string {
  return `${flagText(s.flags)} seq ${s.seq} ack ${s.ack} win ${s.window} len ${s.payload.length}${s.ts ? ` ts ${s.ts[0]}/${s.ts[1]}` : ""}${s.sack.length ? ` sack ${JSON.stringify(s.sack)}` : ""} @${s.at}`;
}

export interface InjectOptions {
  seq?: number;
  ack?: number;
  window?: number;
  payload?: Uint8Array;
  options?: Uint8Array;
  /** Peer port (default the script's). */
  port?: number;
  /** Stack port (default the script's). */
  to?: number;
  checksum?: number;
}

/** Options bytes: MSS, then optional SACK-permitted, timestamps, window scale. */
export function synOptions(o: {
  mss?: number;
  wscale?: number;
  sackOk?: boolean;
  ts?: [number, number];
}): Uint8Array {
  const out: number[] = [];
  if (o.mss !== undefined) out.push(2, 4, o.mss >> 8, o.mss & 255);
  if (o.sackOk) out.push(4, 2);
  if (o.ts) {
    if (!o.sackOk) out.push(1, 1);
    const [v, e] = o.ts;
    out.push(8, 10, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
    out.push(e >>> 24, (e >>> 16) & 255, (e >>> 8) & 255, e & 255);
  } else if (o.sackOk) out.push(1, 1);
  if (o.wscale !== undefined) out.push(1, 3, 3, o.wscale);
  return Uint8Array.from(out);
}

export class TcpScript {
  readonly solo: Solo;
  /** The peer's port and the stack's. */
  peerPort = 40000;
  stackPort = 80;
  /** The peer's next sequence number and the stack's (learnt from its SYN or SYN-ACK). */
  peerSeq = 1000;
  stackSeq = 0;
  private readonly start: number;

  /** The scripts assume four connections with 4 KB rings unless they say otherwise. */
  constructor(options: SoloOptions = {}) {
    const stack = { tcpSockets: 4, tcpSendBuffer: 4096, tcpReceiveBuffer: 4096, ...options.stack };
    this.solo = new Solo({ ...options, stack }).warm();
    this.start = this.solo.now;
  }

  get stack() {
    return this.solo.stack;
  }

  /** Virtual ms since the script began. */
  get now(): number {
    return this.solo.now - this.start;
  }

  /** Moves time on to `ms` after the script began. */
  at(ms: number): this {
    const d = this.start + ms - this.solo.now;
    if (d < 0) throw new Error(`script: time ${ms} is in the past (${this.now})`);
    this.solo.advance(d);
    return this;
  }

  /** Moves time on by `ms`. */
  wait(ms: number): this {
    this.solo.advance(ms);
    return this;
  }

  /** Sends a segment from the peer; seq defaults to peerSeq, ack to stackSeq. */
  inject(flags: string, o: InjectOptions = {}): this {
    const f = flagsOf(flags);
    const segment = tcp({
      source: PEER_IP,
      destination: STACK_IP,
      sourcePort: o.port ?? this.peerPort,
      destinationPort: o.to ?? this.stackPort,
      seq: o.seq ?? this.peerSeq,
      ack: (f & TCP_ACK) !== 0 ? (o.ack ?? this.stackSeq) : (o.ack ?? 0),
      flags: f,
      window: o.window,
      options: o.options,
      payload: o.payload,
      checksum: o.checksum,
    });
    this.solo.send(
      ether(
        STACK_MAC,
        PEER_MAC,
        ETH_IPV4,
        ipv4({ source: PEER_IP, destination: STACK_IP, protocol: 6, payload: segment }),
      ),
    );
    return this;
  }

  /** Every TCP segment the stack sent since the last call. */
  segments(): Seg[] {
    const out: Seg[] = [];
    for (const s of this.solo.take()) {
      if (s.ip?.protocol !== 6) continue;
      out.push(decodeTcp(s.ip.payload, this.now));
    }
    return out;
  }

  /** Exactly one segment with these flags (and fields), which is returned. */
  expect(
    flags: string,
    o: { seq?: number; ack?: number; len?: number; window?: number } = {},
  ): Seg {
    const got = this.segments();
    if (got.length !== 1)
      assert.unreachable(
        `expected one ${flags}, got ${got.length}: ${got.map(describe).join("; ")}`,
      );
    const s = got[0];
    this.check(s, flags, o);
    return s;
  }

  check(
    s: Seg,
    flags: string,
    o: { seq?: number; ack?: number; len?: number; window?: number } = {},
  ): void {
    assert.is(flagText(s.flags), flagText(flagsOf(flags)), `flags of ${describe(s)}`);
    if (o.seq !== undefined) assert.is(s.seq, o.seq >>> 0, `seq of ${describe(s)}`);
    if (o.ack !== undefined) assert.is(s.ack, o.ack >>> 0, `ack of ${describe(s)}`);
    if (o.len !== undefined) assert.is(s.payload.length, o.len, `length of ${describe(s)}`);
    if (o.window !== undefined) assert.is(s.window, o.window, `window of ${describe(s)}`);
  }

  /** Nothing was sent. */
  expectNone(): void {
    const got = this.segments();
    if (got.length !== 0)
      assert.unreachable(`expected nothing, got ${got.map(describe).join("; ")}`);
  }

  /**
   * A listener on stackPort, and the three-way handshake from the peer; returns the accepted
   * handle and the listener. `options` go on the peer's SYN (none by default: MSS 536 applies).
   */
  passiveOpen(options?: Uint8Array, backlog = 4): { conn: TcpEndpoint; listener: TcpEndpoint } {
    const listener = this.stack.openTcp() as TcpEndpoint;
    assert.is(listener.bind(null, this.stackPort), 0);
    assert.is(listener.listen(backlog), 0);
    this.inject("S", { options });
    const synAck = this.expect("S.", { ack: this.peerSeq + 1 });
    this.peerSeq += 1;
    this.stackSeq = synAck.seq + 1;
    this.inject(".");
    const conn = listener.accept(null);
    if (typeof conn === "number") throw new Error(`accept: ${conn}`);
    return { conn, listener };
  }

  /** The stack connects to the peer, which answers SYN-ACK with `options`; returns the handle. */
  activeOpen(options?: Uint8Array): TcpEndpoint {
    const conn = this.stack.openTcp() as TcpEndpoint;
    const to = new FullAddress();
    to.address.setV4(PEER_IP);
    to.port = this.peerPort;
    assert.is(conn.connect(to), -EINPROGRESS);
    const syn = this.expect("S");
    this.stackPort = syn.sourcePort;
    this.stackSeq = syn.seq + 1;
    this.inject("S.", { ack: this.stackSeq, options });
    this.peerSeq += 1;
    this.expect(".", { seq: this.stackSeq, ack: this.peerSeq });
    return conn;
  }
}
