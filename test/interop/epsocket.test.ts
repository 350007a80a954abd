// The socket layer against Linux: every scenario of epsocket-scenarios.ts runs twice, once on
// kernel sockets (a libc helper in a namespace of its own, "subj", joined to the lab by a veth)
// and once on the stack's socket layer (over a TAP in the lab), each against the same peer: the
// lab's kernel at 192.0.2.1, driven by the same helper. Both subjects are 192.0.2.2 on "eth0" with
// the same MAC. Return values, errno, bytes, addresses and readiness must be equal; deliberate
// differences are named in the scenario and listed in the README.

import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";
import { NodeDriver } from "../../hal/platform/node/driver.js";
import type { Lab } from "../../hal/platform/node/lab.js";
import type { TapDevice } from "../../hal/tap/tap.js";
import { SocketLayer } from "../../src/epsocket/layer.js";
import { type Completion, SocketOperations } from "../../src/epsocket/socket.js";
import { Stack } from "../../src/stack.js";
import {
  EVENT_ERR,
  EVENT_HUP,
  EVENT_IN,
  EVENT_OUT,
  EVENT_RDHUP,
  WaiterEntry,
} from "../../src/transport/waiter.js";
import { labOrSkip } from "../support/lab.js";
import { sleep } from "../support/tap-stack.js";
import { type Scenario, type Step, scenarios } from "./epsocket-scenarios.js";

const test = labOrSkip("interop/epsocket");
const HELPER = fileURLToPath(new URL("../../../test/interop/epsocket-helper.py", import.meta.url));
const MAC = Uint8Array.from([2, 0, 0, 0, 0, 2]);
const MAC_TEXT = "02:00:00:00:00:02";

const SUBJECT_NAMESPACE = [
  // A tmpfs of the lab's own mount namespace: the namespace file never reaches the host's /run.
  "mkdir -p /run/netns",
  "mount -t tmpfs lab-netns /run/netns",
  "ip netns add subj",
  "ip link add vpeer type veth peer name eth0 netns subj",
  "echo 1 > /proc/sys/net/ipv6/conf/vpeer/disable_ipv6",
  "ip netns exec subj sh -c 'echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6'",
  `ip -n subj link set eth0 address ${MAC_TEXT}`,
  "ip addr add 192.0.2.1/24 dev vpeer",
  "ip -n subj addr add 192.0.2.2/24 brd + dev eth0",
  "ip link set vpeer up",
  "ip -n subj link set eth0 up",
].join(" && ");

type Reply = Record<string, unknown>;

/** A helper process answering one JSON line per JSON line. */
class Helper {
  private buffered = "";
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly lines: string[] = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      this.buffered += chunk;
      let i: number;
      while ((i = this.buffered.indexOf("\n")) >= 0) {
        const line = this.buffered.slice(0, i);
        this.buffered = this.buffered.slice(i + 1);
        const w = this.waiting.shift();
        if (w !== undefined) w(line);
        else this.lines.push(line);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  }

  async call(command: Reply): Promise<Reply> {
    this.child.stdin?.write(JSON.stringify(command) + "\n");
    const line =
      this.lines.shift() ??
      (await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`helper: no answer to ${JSON.stringify(command)}`)),
          10_000,
        );
        this.waiting.push((l) => {
          clearTimeout(timer);
          resolve(l);
        });
      }));
    return JSON.parse(line) as Reply;
  }

  stop(): void {
    this.child.stdin?.end();
    this.child.kill("SIGKILL");
  }
}

interface Subject {
  call(command: Reply): Promise<Reply>;
}

function bytes(hexText: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hexText, "hex"));
}

function toHex(b: Uint8Array, n: number): string {
  return Buffer.from(b.subarray(0, n)).toString("hex");
}

/** A blocking call's completion, as a promise. */
class Waiter implements Completion {
  resolve: (r: number) => void = () => {};
  calls = 0;
  readonly done = new Promise<number>((resolve) => (this.resolve = resolve));
  complete(_socket: SocketOperations, result: number): void {
    this.calls++;
    this.resolve(result);
  }
}

/** The stack's socket layer behind the helper's command set. */
class StackSubject implements Subject {
  constructor(readonly layer: SocketLayer) {}

  private async blocking(start: (w: Waiter) => number): Promise<number> {
    const w = new Waiter();
    const r = start(w);
    if (r < 0) return r;
    // Never from inside the call.
    assert.is(w.calls, 0, "a blocking call completed inside the call");
    const result = await Promise.race([w.done, sleep(10_000).then(() => NaN)]);
    await sleep(5);
    assert.is(w.calls, 1, "a blocking call completes exactly once");
    return result;
  }

  async call(c: Reply): Promise<Reply> {
    const layer = this.layer;
    const op = c.op as string;
    if (op === "sleep") {
      await sleep(c.ms as number);
      return { r: 0 };
    }
    if (op === "socket") {
      const r = layer.socket(c.family as number, c.type as number, (c.protocol as number) ?? 0);
      return { r: typeof r === "number" ? r : r.fd };
    }
    const s = this.layer.get(c.fd as number);
    if (s === null) return { r: -9 };
    const flags = (c.flags as number) ?? 0;
    const blocks = !s.nonblocking && (flags & 0x40) === 0;
    switch (op) {
      case "bind": {
        const a = bytes(c.addr as string);
        return { r: s.bind(a, 0, (c.len as number) ?? a.length) };
      }
      case "connect": {
        const a = bytes(c.addr as string);
        const len = (c.len as number) ?? a.length;
        if (!blocks) return { r: s.connect(a, 0, len) };
        return { r: await this.blocking((w) => s.connectBlocking(a, 0, len, w, 0)) };
      }
      case "listen":
        return { r: s.listen((c.backlog as number) ?? 8) };
      case "accept": {
        const cap = (c.cap as number) ?? 128;
        const a = new Uint8Array(Math.max(cap, 1));
        let r: number;
        if (!s.nonblocking)
          r = await this.blocking((w) => s.acceptBlocking(flags, a, 0, cap, w, 0));
        else {
          const got = s.accept(flags, a, 0, cap);
          r = typeof got === "number" ? got : got.fd;
        }
        if (r < 0) return { r, addr: "", alen: 0 };
        return { r, addr: toHex(a, Math.min(cap, s.addressLength)), alen: s.addressLength };
      }
      case "recv": {
        const size = (c.len as number) ?? 64;
        const cap = (c.cap as number) ?? 128;
        const data = new Uint8Array(Math.max(size, 1));
        const a = new Uint8Array(Math.max(cap, 1));
        const r = blocks
          ? await this.blocking((w) => s.recvMsgBlocking(data, 0, size, flags, a, 0, cap, w, 0))
          : s.recvMsg(data, 0, size, flags, a, 0, cap);
        if (r < 0) return { r };
        return {
          r,
          data: toHex(data, Math.min(r, size)),
          mflags: s.messageFlags,
          addr: toHex(a, Math.min(cap, s.addressLength)),
          alen: s.addressLength,
          ts: s.receivedAt >= 0,
        };
      }
      case "send": {
        const d = bytes((c.data as string) ?? "");
        const a = c.addr === undefined ? null : bytes(c.addr as string);
        const len = a === null ? 0 : ((c.len as number) ?? a.length);
        const r = blocks
          ? await this.blocking((w) => s.sendMsgBlocking(d, 0, d.length, flags, a, 0, len, w, 0))
          : s.sendMsg(d, 0, d.length, flags, a, 0, len);
        return { r };
      }
      case "shutdown":
        return { r: s.shutdown(c.how as number) };
      case "getsockopt": {
        const cap = (c.cap as number) ?? 4;
        const out = new Uint8Array(Math.max(cap, 1));
        const r = s.getSockOpt(c.level as number, c.name as number, out, 0, cap);
        return r < 0 ? { r, val: "" } : { r: 0, val: toHex(out, r) };
      }
      case "setsockopt": {
        const v = bytes(c.val as string);
        return {
          r: s.setSockOpt(c.level as number, c.name as number, v, 0, (c.len as number) ?? v.length),
        };
      }
      case "getsockname":
      case "getpeername": {
        const cap = (c.cap as number) ?? 128;
        const a = new Uint8Array(Math.max(cap, 1));
        const r = op === "getsockname" ? s.getSockName(a, 0, cap) : s.getPeerName(a, 0, cap);
        return r < 0
          ? { r, addr: "", alen: 0 }
          : { r: 0, addr: toHex(a, Math.min(cap, r)), alen: r };
      }
      case "ioctl": {
        const arg = bytes(c.arg as string);
        const r = s.ioctl(c.req as number, arg, 0, arg.length, null);
        return { r, arg: toHex(arg, arg.length) };
      }
      case "ifconf": {
        const len = c.len as number;
        const arg = new Uint8Array(16);
        arg[0] = len & 255;
        arg[1] = len >> 8;
        const data = c.null === true ? null : new Uint8Array(Math.max(len, 1));
        const r = s.ioctl(0x8912, arg, 0, 16, data);
        const ifclen = arg[0] | (arg[1] << 8);
        return { r, ifclen, buf: data === null ? "" : toHex(data, ifclen) };
      }
      case "poll": {
        // poll(2) through the waiter queue: ready now, or woken by the endpoint's events.
        const mask = (c.events as number) | EVENT_ERR | EVENT_HUP;
        const end = Date.now() + ((c.timeout as number) ?? 0);
        let events = s.readiness(mask);
        while (events === 0 && Date.now() < end) {
          let wake = (): void => {};
          const woken = new Promise<void>((resolve) => (wake = resolve));
          const entry = new WaiterEntry({ callback: () => wake() });
          s.eventRegister(entry, mask | EVENT_IN | EVENT_OUT | EVENT_RDHUP);
          await Promise.race([woken, sleep(end - Date.now())]);
          s.eventUnregister(entry);
          events = s.readiness(mask);
        }
        return { r: events };
      }
      case "close":
        return { r: s.close() };
    }
    return { r: `unknown op ${op}` };
  }
}

const ERRNO: Record<number, string> = {
  1: "EPERM",
  9: "EBADF",
  11: "EAGAIN",
  13: "EACCES",
  14: "EFAULT",
  19: "ENODEV",
  22: "EINVAL",
  24: "EMFILE",
  25: "ENOTTY",
  32: "EPIPE",
  33: "EDOM",
  71: "EPROTO",
  88: "ENOTSOCK",
  89: "EDESTADDRREQ",
  90: "EMSGSIZE",
  92: "ENOPROTOOPT",
  93: "EPROTONOSUPPORT",
  94: "ESOCKTNOSUPPORT",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  101: "ENETUNREACH",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  106: "EISCONN",
  107: "ENOTCONN",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
  114: "EALREADY",
  115: "EINPROGRESS",
};

function result(r: unknown): string {
  if (typeof r !== "number") return String(r);
  return r < 0 ? `-${ERRNO[-r] ?? -r}` : String(r);
}

/** A sockaddr's hex as text, ephemeral ports as "*". */
function sockaddr(hexText: string): string {
  const b = Buffer.from(hexText, "hex");
  if (b.length < 2) return hexText === "" ? "" : `raw:${hexText}`;
  const family = b[0] | (b[1] << 8);
  const port = b.length >= 4 ? (b[2] << 8) | b[3] : -1;
  const shown = port >= 32768 ? "*" : String(port);
  if (family === 2 && b.length >= 8)
    return `in:${b[4]}.${b[5]}.${b[6]}.${b[7]}:${shown}${b.length > 8 ? "+" + b.subarray(8).toString("hex") : ""}`;
  if (family === 10 && b.length >= 24)
    return `in6:[${b.subarray(8, 24).toString("hex")}]:${shown}+${b.subarray(4, 8).toString("hex")}+${b.subarray(24).toString("hex")}`;
  return `raw:${hexText}`;
}

const POLL_NAMES: [number, string][] = [
  [1, "IN"],
  [2, "PRI"],
  [4, "OUT"],
  [8, "ERR"],
  [0x10, "HUP"],
  [0x2000, "RDHUP"],
];

/** struct tcp_info's fields (include/uapi/linux/tcp.h): offset and size in bytes. */
const TCP_INFO_FIELDS: Record<string, [number, number]> = {
  state: [0, 1],
  ca_state: [1, 1],
  retransmits: [2, 1],
  probes: [3, 1],
  backoff: [4, 1],
  options: [5, 1],
  snd_wscale: [6, 0],
  rcv_wscale: [6, -1],
  app_limited: [7, 1],
  rto: [8, 4],
  ato: [12, 4],
  snd_mss: [16, 4],
  rcv_mss: [20, 4],
  unacked: [24, 4],
  sacked: [28, 4],
  lost: [32, 4],
  retrans: [36, 4],
  fackets: [40, 4],
  last_data_sent: [44, 4],
  last_ack_sent: [48, 4],
  last_data_recv: [52, 4],
  last_ack_recv: [56, 4],
  pmtu: [60, 4],
  rcv_ssthresh: [64, 4],
  rtt: [68, 4],
  rttvar: [72, 4],
  snd_ssthresh: [76, 4],
  snd_cwnd: [80, 4],
  advmss: [84, 4],
  reordering: [88, 4],
  rcv_rtt: [92, 4],
  rcv_space: [96, 4],
  total_retrans: [100, 4],
  pacing_rate: [104, 8],
  max_pacing_rate: [112, 8],
  bytes_acked: [120, 8],
  bytes_received: [128, 8],
  segs_out: [136, 4],
  segs_in: [140, 4],
  notsent_bytes: [144, 4],
  min_rtt: [148, 4],
  data_segs_in: [152, 4],
  data_segs_out: [156, 4],
  delivery_rate: [160, 8],
  busy_time: [168, 8],
  rwnd_limited: [176, 8],
  sndbuf_limited: [184, 8],
  delivered: [192, 4],
  delivered_ce: [196, 4],
  bytes_sent: [200, 8],
  bytes_retrans: [208, 8],
  dsack_dups: [216, 4],
  reord_seen: [220, 4],
  rcv_ooopack: [224, 4],
  snd_wnd: [228, 4],
  rcv_wnd: [232, 4],
  rehash: [236, 4],
  total_rto: [240, 2],
  total_rto_recoveries: [242, 2],
  total_rto_time: [244, 4],
};

function tcpInfoField(b: Buffer, name: string): string {
  const field = TCP_INFO_FIELDS[name];
  if (field === undefined) return "unknown";
  const [at, size] = field;
  if (at + Math.max(size, 1) > b.length) return "-";
  if (size === 0) return String(b[at] & 15);
  if (size === -1) return String(b[at] >> 4);
  if (size === 1) return String(b[at]);
  if (size === 2) return String(b.readUInt16LE(at));
  if (size === 4) return String(b.readUInt32LE(at));
  return b.readBigUInt64LE(at).toString();
}

function normalize(step: Step, reply: Reply): string {
  const parts: string[] = [];
  const r = reply.r;
  if ((step.op === "socket" || step.op === "accept") && typeof r === "number" && r >= 0)
    parts.push("fd");
  else if (step.op === "poll" && typeof r === "number") {
    const names = POLL_NAMES.filter(([bit]) => (r & bit) !== 0).map(([, n]) => n);
    parts.push(names.join("|") || "0");
    const rest = r & ~POLL_NAMES.reduce((m, [bit]) => m | bit, 0);
    if (rest !== 0) parts.push(`+${rest}`);
  } else parts.push(result(r));
  if (step.op === "tcpinfo" && typeof reply.val === "string") {
    const b = Buffer.from(reply.val, "hex");
    const fields = step.fields as string[] | undefined;
    if (fields === undefined) parts.push(`len=${b.length} state=${b[0]} options=${b[5] & 7}`);
    else {
      parts.push(`len=${b.length}`);
      for (const name of fields) parts.push(`${name}=${tcpInfoField(b, name)}`);
    }
    return parts.join(" ");
  }
  for (const key of ["data", "mflags", "alen", "ts", "val", "arg", "ifclen", "buf"]) {
    if (reply[key] === undefined) continue;
    const v = reply[key];
    if (key === "data" && typeof v === "string") {
      const t = Buffer.from(v, "hex").toString("latin1");
      parts.push(/^[\x20-\x7e]*$/.test(t) ? `data="${t}"` : `data=${v}`);
    } else parts.push(`${key}=${String(v)}`);
  }
  if (typeof reply.addr === "string" && reply.addr !== "")
    parts.push(`addr=${sockaddr(reply.addr)}`);
  return parts.join(" ");
}

async function runScenario(scenario: Scenario, subject: Subject, peer: Subject): Promise<string[]> {
  const fds: Record<string, Record<string, number>> = { s: {}, p: {} };
  const out: string[] = [];
  for (const step of scenario.steps) {
    const side = step.on === "s" ? subject : peer;
    const command: Reply = { ...step };
    delete command.on;
    delete command.as;
    if (step.op === "tcpinfo") {
      delete command.fields;
      Object.assign(command, { op: "getsockopt", level: 6, name: 11, cap: step.cap ?? 104 });
    }
    if (step.fd !== undefined) {
      const fd = fds[step.on][step.fd];
      if (fd === undefined) {
        out.push(`no socket ${step.fd}`);
        continue;
      }
      command.fd = fd;
    }
    let reply: Reply;
    try {
      reply = await side.call(command);
    } catch (e) {
      reply = { r: `error ${(e as Error).message}` };
    }
    if (step.as !== undefined && typeof reply.r === "number" && reply.r >= 0)
      fds[step.on][step.as] = reply.r;
    out.push(`${step.on} ${step.op}${step.fd ? " " + step.fd : ""}: ${normalize(step, reply)}`);
  }
  for (const side of ["s", "p"] as const)
    for (const fd of Object.values(fds[side]))
      await (side === "s" ? subject : peer).call({ op: "close", fd });
  return out;
}

// EPSOCKET_ONLY=<regex> runs the scenarios whose names match, to look at one closely.
const only = process.env.EPSOCKET_ONLY;
const list = scenarios().filter((x) => only === undefined || new RegExp(only).test(x.name));
const linux: string[][] = [];
const ours: string[][] = [];

function helper(lab: Lab, namespace: string | null): Helper {
  const args =
    namespace === null
      ? ["python3", [HELPER]]
      : ["ip", ["netns", "exec", namespace, "python3", HELPER]];
  return new Helper(
    lab.spawn(args[0] as string, args[1] as string[], { stdio: ["pipe", "pipe", "pipe"] }),
  );
}

test("every scenario runs on Linux sockets and on the stack's socket layer", async ({ lab }) => {
  const setup = await lab.run("sh", ["-c", SUBJECT_NAMESPACE]);
  assert.is(setup.status, 0, setup.stderr);
  let peer = helper(lab, null);
  const kernel = helper(lab, "subj");
  for (const scenario of list) linux.push(await runScenario(scenario, kernel, peer));
  kernel.stop();
  peer.stop();
  const down = await lab.run("sh", ["-c", "ip link del vpeer && ip netns del subj"]);
  assert.is(down.status, 0, down.stderr);

  const tap: TapDevice = await lab.tap("tap0", { kernelIp: "192.0.2.1/24", mac: MAC });
  const stack = new Stack({
    profile: "simulator",
    seed: 9,
    udpSockets: 24,
    tcpSockets: 24,
    tcpSendBuffer: 8192,
    tcpReceiveBuffer: 65536,
    udpReceiveBuffer: 212992,
    socketBufferHeadroom: 1 << 20,
  });
  stack.attach(tap, { address: "192.0.2.2", prefix: 24 });
  const layer = new SocketLayer(stack, { interfaceName: "eth0" });
  const driver = new NodeDriver();
  driver.add(stack);
  driver.add(layer);
  driver.attach(tap);
  // EPSOCKET_TCPDUMP=1 shows the stack's frames, to look at a scenario closely.
  const dump =
    process.env.EPSOCKET_TCPDUMP !== undefined
      ? lab.spawn("tcpdump", ["-n", "-i", "tap0", "-tt", "-l"], {
          stdio: ["ignore", "inherit", "inherit"],
        })
      : null;
  await sleep(dump !== null ? 500 : 0);
  peer = helper(lab, null);
  const subject = new StackSubject(layer);
  try {
    for (const scenario of list) ours.push(await runScenario(scenario, subject, peer));
  } finally {
    peer.stop();
    driver.stop();
    lab.closeTap(tap);
  }
  if (process.env.EPSOCKET_DUMP !== undefined)
    writeFileSync(
      process.env.EPSOCKET_DUMP,
      JSON.stringify({
        linux,
        ours,
        names: list.map((x) => x.name),
        udp: stack.udp.stats,
        ip: stack.iface?.ipStats,
        link: stack.iface?.link,
      }),
    );
  assert.is(stack.pool.available, stack.pool.count, "every pool buffer returned");
  assert.is(ours.length, list.length);
});

list.forEach((scenario, i) => {
  test(`${i + 1}. ${scenario.name}`, () => {
    const expected = linux[i];
    const got = ours[i];
    assert.ok(expected !== undefined && got !== undefined, "both runs happened");
    const wanted = expected.slice();
    for (const [step, [linuxLine, stackLine]] of Object.entries(scenario.differ ?? {})) {
      // A listed difference holds only while Linux still answers as the list says.
      assert.is(expected[Number(step)], linuxLine, "Linux's side of a listed difference");
      wanted[Number(step)] = stackLine;
    }
    assert.equal(got, wanted);
  });
});

test.run();
