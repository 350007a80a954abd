// A scripted DNS server on the raw end of a Solo's cable: it answers ARP for any address it is
// asked (so several servers live on one wire), decodes every question the stack sends to port
// 53, and replies with whatever the test's script builds, from any source address and port.
// Messages are built by hand so a test can break exactly one field. Tests may allocate.

import {
  DnsClient,
  type DnsClientOptions,
  type DnsCallback,
  type DnsQuery,
} from "../../src/apps/dns-client.js";
import { ETH_ARP, arp, ether, u16 } from "./frames.js";
import { STACK_IP, STACK_MAC, Solo, udpFrame } from "./harness.js";

/** A question as the server saw it. */
export interface Question {
  time: number;
  /** The server address it was sent to. */
  server: number;
  /** The stack's source port. */
  port: number;
  id: number;
  flags: number;
  name: string;
  type: number;
  klass: number;
  /** The question section's bytes (name, type, class). */
  section: Uint8Array;
}

/** A name in wire form, or bytes given as they are (a pointer: [0xc0, 12]). */
export function wireName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split(".")) {
    if (label === "") continue;
    out.push(label.length);
    for (let i = 0; i < label.length; i++) out.push(label.charCodeAt(i));
  }
  out.push(0);
  return out;
}

export interface Rr {
  name: number[];
  type: number;
  klass?: number;
  ttl?: number;
  data: number[];
}

export interface ReplyFields {
  id?: number;
  /** The whole flags word; by default QR|RD|RA and `rcode`. */
  flags?: number;
  rcode?: number;
  tc?: boolean;
  qdcount?: number;
  /** The question section; by default the query's. */
  question?: number[] | Uint8Array;
  answers?: Rr[];
  authority?: Rr[];
}

function put16(out: number[], v: number): void {
  out.push((v >>> 8) & 255, v & 255);
}

function putRr(out: number[], rr: Rr): void {
  out.push(...rr.name);
  put16(out, rr.type);
  put16(out, rr.klass ?? 1);
  const ttl = rr.ttl ?? 300;
  out.push((ttl >>> 24) & 255, (ttl >>> 16) & 255, (ttl >>> 8) & 255, ttl & 255);
  put16(out, rr.data.length);
  out.push(...rr.data);
}

/** An answer to `q` with these fields. */
export function reply(q: Question, f: ReplyFields = {}): Uint8Array {
  const out: number[] = [];
  put16(out, f.id ?? q.id);
  const flags = f.flags ?? 0x8180 | (f.tc === true ? 0x0200 : 0) | (f.rcode ?? 0);
  put16(out, flags);
  put16(out, f.qdcount ?? 1);
  put16(out, f.answers?.length ?? 0);
  put16(out, f.authority?.length ?? 0);
  put16(out, 0);
  out.push(...(f.question ?? q.section));
  for (const rr of f.answers ?? []) putRr(out, rr);
  for (const rr of f.authority ?? []) putRr(out, rr);
  return Uint8Array.from(out);
}

/** An A record for the question's name (a pointer to it). */
export function aRecord(address: string, ttl = 300, name: number[] = [0xc0, 12]): Rr {
  return { name, type: 1, ttl, data: address.split(".").map(Number) };
}

/** What a script sends back: a payload from a source (default: the server asked, port 53). */
export interface Send {
  payload: Uint8Array;
  from?: number;
  sourcePort?: number;
  /** The destination port; by default the question's source port. */
  toPort?: number;
}

export type Script = (q: Question) => Send[];

/** The client on a Solo, the test holding the wire. */
export class DnsWire implements DnsCallback {
  readonly solo: Solo;
  readonly client: DnsClient;
  readonly questions: Question[] = [];
  /** Ended queries, copied out at their callback. */
  readonly done: {
    name: string;
    status: number;
    address: number;
    ttl: number;
    cached: boolean;
    time: number;
    six: number[];
  }[] = [];
  script: Script = () => [];
  /** Set while resolve() runs, to catch a callback from inside it. */
  inside = false;
  calledInside = 0;

  constructor(options: DnsClientOptions = {}, stackOptions = {}) {
    this.solo = new Solo({ stack: { udpSockets: 8, ...stackOptions } });
    this.solo.warm();
    this.client = new DnsClient(this.solo.stack, {
      servers: ["192.0.2.2"],
      seed: 99,
      ...options,
    });
    this.solo.net.add(this.client);
  }

  dnsDone(query: DnsQuery): void {
    if (this.inside) this.calledInside++;
    this.done.push({
      name: query.name,
      status: query.status,
      address: query.address,
      ttl: query.ttl,
      cached: query.fromCache,
      time: this.solo.now,
      six: Array.from(query.address6),
    });
  }

  resolve(name: string, type = 1): DnsQuery | number {
    this.inside = true;
    try {
      return this.client.resolve(name, type, this);
    } finally {
      this.inside = false;
    }
  }

  /** Sends a payload to the stack as if from a server. */
  inject(payload: Uint8Array, from: number, sourcePort: number, toPort: number): void {
    this.solo.send(
      udpFrame(payload, {
        source: from,
        destination: STACK_IP,
        sourcePort,
        port: toPort,
        dstMac: STACK_MAC,
      }),
    );
  }

  /** Answers ARP and questions until the wire is quiet (time does not move). */
  pump(): void {
    for (let rounds = 0; rounds < 10_000; rounds++) {
      const frames = this.solo.take();
      if (frames.length === 0) return;
      for (const f of frames) {
        if (f.arp !== undefined && f.arp.op === 1) {
          const mac = Uint8Array.of(2, 0, 0, 0, 0x10, f.arp.targetIp & 255);
          this.solo.send(
            ether(
              STACK_MAC,
              mac,
              ETH_ARP,
              arp({
                op: 2,
                senderMac: mac,
                senderIp: f.arp.targetIp,
                targetMac: STACK_MAC,
                targetIp: STACK_IP,
              }),
            ),
          );
          continue;
        }
        const ip = f.ip;
        if (ip === undefined || ip.protocol !== 17) continue;
        const udp = ip.payload;
        if (u16(udp, 2) !== 53) continue;
        const q = decodeQuestion(udp.subarray(8), this.solo.now, ip.destination, u16(udp, 0));
        this.questions.push(q);
        for (const s of this.script(q))
          this.inject(s.payload, s.from ?? q.server, s.sourcePort ?? 53, s.toPort ?? q.port);
      }
    }
    throw new Error("dns wire: the stack never went quiet");
  }

  /** Runs `ms` of virtual time, answering as it goes. */
  run(ms: number): void {
    const net = this.solo.net;
    const end = net.now + ms;
    for (let rounds = 0; rounds < 100_000; rounds++) {
      this.pump();
      const due = net.nextDeadline();
      if (due > end) {
        net.now = end;
        net.poll();
        this.pump();
        return;
      }
      if (due > net.now) net.now = due;
      net.poll();
    }
    throw new Error("dns wire: livelock");
  }
}

export function decodeQuestion(
  m: Uint8Array,
  time: number,
  server: number,
  port: number,
): Question {
  let at = 12;
  const labels: string[] = [];
  while (at < m.length && m[at] !== 0) {
    labels.push(String.fromCharCode(...m.subarray(at + 1, at + 1 + m[at])));
    at += m[at] + 1;
  }
  at++;
  return {
    time,
    server,
    port,
    id: u16(m, 0),
    flags: u16(m, 2),
    name: labels.join("."),
    type: u16(m, at),
    klass: u16(m, at + 2),
    section: m.slice(12, at + 4),
  };
}
