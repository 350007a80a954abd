// The differential scenarios: short sequences of socket calls, each run on Linux kernel sockets
// and on the stack's socket layer against the same peer (the kernel at 192.0.2.1). "s" steps act
// on the subject (192.0.2.2), "p" steps on the peer; sockets are named, results compared whole.

export interface Step {
  on: "s" | "p";
  op: string;
  /** Names the socket socket/accept make. */
  as?: string;
  /** The socket a step acts on. */
  fd?: string;
  [key: string]: unknown;
}

export interface Scenario {
  name: string;
  steps: Step[];
  /**
   * Deliberate differences (each in the README's list): step index to Linux's line and the
   * stack's line, both checked exactly.
   */
  differ?: Record<number, [string, string]>;
}

export const AF_INET = 2;
export const AF_INET6 = 10;
const STREAM = 1;
const DGRAM = 2;
const NB = 0x800;
const SOL_SOCKET = 1;
const SOL_TCP = 6;
const SOL_IP = 0;
const SOL_IPV6 = 41;
const POLLIN = 1;
const POLLOUT = 4;
const POLLRDHUP = 0x2000;
const ALL = POLLIN | POLLOUT | POLLRDHUP;
const MSG_PEEK = 2;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const MSG_EOR = 0x80;
const MSG_MORE = 0x8000;

/** The fields of struct tcp_info a quiet exchange must show alike on Linux and the stack. */
export const TCP_INFO_AGREED = [
  "state",
  "ca_state",
  "retransmits",
  "probes",
  "backoff",
  "options",
  "snd_wscale",
  "snd_mss",
  "unacked",
  "sacked",
  "lost",
  "retrans",
  "pmtu",
  "snd_ssthresh",
  "advmss",
  "reordering",
  "total_retrans",
  "bytes_acked",
  "bytes_received",
  "notsent_bytes",
  "data_segs_in",
  "data_segs_out",
  "bytes_sent",
  "bytes_retrans",
  "rcv_ooopack",
  "rcv_mss",
  "delivered",
  "snd_wnd",
  "app_limited",
];

const SELF = "192.0.2.2";
const PEER = "192.0.2.1";

function hex(bytes: number[]): string {
  return bytes.map((b) => (b & 255).toString(16).padStart(2, "0")).join("");
}

function v4bytes(ip: string): number[] {
  return ip.split(".").map(Number);
}

/** sockaddr_in. */
export function sin(ip: string, port: number, family = AF_INET): string {
  return hex([family, 0, port >> 8, port, ...v4bytes(ip), 0, 0, 0, 0, 0, 0, 0, 0]);
}

/** sockaddr_in6 of a v4-mapped address, or of a v6 address given as 16 bytes. */
export function sin6(ip: string | number[], port: number, scope = 0): string {
  const addr =
    typeof ip === "string" ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...v4bytes(ip)] : ip;
  return hex([AF_INET6, 0, port >> 8, port, 0, 0, 0, 0, ...addr, scope, scope >> 8, 0, 0]);
}

const ANY6 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const DOC6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

function int(v: number, len = 4): string {
  const b = [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];
  return hex(b.slice(0, len));
}

function timeval(sec: number, usec: number): string {
  return int(sec) + "00000000" + int(usec) + "00000000";
}

function ifreq(name: string, value = ""): string {
  const b = new Array<number>(40).fill(0);
  for (let i = 0; i < name.length; i++) b[i] = name.charCodeAt(i);
  const v = value.match(/../g) ?? [];
  v.forEach((h, i) => (b[16 + i] = parseInt(h, 16)));
  return hex(b);
}

function text(s: string): string {
  return Buffer.from(s).toString("hex");
}

// Step builders.
const s = (op: string, args: Omit<Step, "on" | "op"> = {}): Step => ({ on: "s", op, ...args });
const p = (op: string, args: Omit<Step, "on" | "op"> = {}): Step => ({ on: "p", op, ...args });

/** The peer listens on `port`. */
function peerListen(port: number): Step[] {
  return [
    p("socket", { as: "pl", family: AF_INET, type: STREAM | NB }),
    p("setsockopt", { fd: "pl", level: SOL_SOCKET, name: 2, val: int(1) }),
    p("bind", { fd: "pl", addr: sin(PEER, port) }),
    p("listen", { fd: "pl" }),
  ];
}

/** A subject socket "c" connected to the peer, whose end is "pc". */
function connected(port: number, family = AF_INET): Step[] {
  return [
    ...peerListen(port),
    s("socket", { as: "c", family, type: STREAM | NB }),
    s("connect", { fd: "c", addr: family === AF_INET ? sin(PEER, port) : sin6(PEER, port) }),
    s("poll", { fd: "c", events: ALL, timeout: 2000 }),
    p("poll", { fd: "pl", events: POLLIN, timeout: 2000 }),
    p("accept", { fd: "pl", as: "pc", flags: NB }),
  ];
}

/** A subject listener "l" on `port` and the peer's connection "pc" to it, accepted as "a". */
function accepted(port: number): Step[] {
  return [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    s("poll", { fd: "l", events: POLLIN, timeout: 2000 }),
    s("accept", { fd: "l", as: "a", flags: NB }),
    p("poll", { fd: "pc", events: POLLOUT, timeout: 2000 }),
  ];
}

/** A bound subject UDP socket "u" on `port` and a peer UDP socket "pu" on port + 1. */
function udpPair(port: number, family = AF_INET): Step[] {
  return [
    s("socket", { as: "u", family, type: DGRAM | NB }),
    s("bind", { fd: "u", addr: family === AF_INET ? sin(SELF, port) : sin6(SELF, port) }),
    p("socket", { as: "pu", family: AF_INET, type: DGRAM | NB }),
    p("bind", { fd: "pu", addr: sin(PEER, port + 1) }),
  ];
}

const getopt = (fd: string, level: number, name: number, cap = 4): Step =>
  s("getsockopt", { fd, level, name, cap });
const setopt = (fd: string, level: number, name: number, val: string, len?: number): Step =>
  s("setsockopt", { fd, level, name, val, ...(len === undefined ? {} : { len }) });

const KINDS: [string, number, number][] = [
  ["tcp4", AF_INET, STREAM],
  ["udp4", AF_INET, DGRAM],
  ["tcp6", AF_INET6, STREAM],
  ["udp6", AF_INET6, DGRAM],
];

export function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  let port = 20000;
  const add = (
    name: string,
    make: (port: number) => Step[],
    differ?: Record<number, [string, string]>,
  ) => {
    port += 10;
    list.push({ name, steps: make(port), differ });
  };

  // ---- socket creation
  for (const [kind, family, type] of KINDS)
    add(`socket ${kind}, nonblocking and blocking`, () => [
      s("socket", { as: "a", family, type: type | NB }),
      s("socket", { as: "b", family, type }),
      s("socket", { as: "c", family, type, protocol: type === STREAM ? 6 : 17 }),
    ]);
  add("socket: unknown family", () => [s("socket", { as: "a", family: 99, type: STREAM })]);
  add("socket: protocol of the other type", () => [
    s("socket", { as: "a", family: AF_INET, type: STREAM, protocol: 17 }),
  ]);
  add("socket: SOCK_SEQPACKET over IPv4", () => [
    s("socket", { as: "a", family: AF_INET, type: 5 }),
  ]);

  // ---- option defaults on fresh sockets, one option across the four kinds
  const defaults: [string, number, number, number][] = [
    ["SO_TYPE", SOL_SOCKET, 3, 4],
    ["SO_DOMAIN", SOL_SOCKET, 39, 4],
    ["SO_PROTOCOL", SOL_SOCKET, 38, 4],
    ["SO_ERROR", SOL_SOCKET, 4, 4],
    ["SO_REUSEADDR", SOL_SOCKET, 2, 4],
    ["SO_KEEPALIVE", SOL_SOCKET, 9, 4],
    ["SO_ACCEPTCONN", SOL_SOCKET, 30, 4],
    ["SO_LINGER", SOL_SOCKET, 13, 8],
    ["SO_RCVTIMEO", SOL_SOCKET, 20, 16],
    ["SO_SNDTIMEO", SOL_SOCKET, 21, 16],
    ["SO_TIMESTAMP", SOL_SOCKET, 29, 4],
    ["SO_BROADCAST", SOL_SOCKET, 6, 4],
    ["TCP_NODELAY", SOL_TCP, 1, 4],
    ["TCP_KEEPIDLE", SOL_TCP, 4, 4],
    ["TCP_KEEPINTVL", SOL_TCP, 5, 4],
    ["TCP_KEEPCNT", SOL_TCP, 6, 4],
    ["IP_TTL", SOL_IP, 2, 4],
    ["IP_MULTICAST_TTL", SOL_IP, 33, 4],
    ["IPV6_V6ONLY", SOL_IPV6, 26, 4],
    ["SO_SNDBUF", SOL_SOCKET, 7, 4],
    ["SO_RCVBUF", SOL_SOCKET, 8, 4],
    ["IP_TOS", SOL_IP, 1, 4],
    ["IP_MULTICAST_LOOP", SOL_IP, 34, 4],
    ["TCP_MAXSEG", SOL_TCP, 2, 4],
  ];
  for (const [name, level, opt, cap] of defaults)
    add(`getsockopt ${name} on fresh sockets`, () =>
      KINDS.flatMap(([kind, family, type]) => [
        s("socket", { as: kind, family, type: type | NB }),
        getopt(kind, level, opt, cap),
      ]),
    );

  // ---- set then get
  const roundTrips: [string, number, number, string, number, number][] = [
    ["SO_REUSEADDR", SOL_SOCKET, 2, int(1), 4, STREAM],
    ["SO_KEEPALIVE", SOL_SOCKET, 9, int(1), 4, STREAM],
    ["SO_LINGER on, 0 s", SOL_SOCKET, 13, int(1) + int(0), 8, STREAM],
    ["SO_LINGER on, 5 s", SOL_SOCKET, 13, int(1) + int(5), 8, STREAM],
    ["SO_RCVTIMEO 1.5 s", SOL_SOCKET, 20, timeval(1, 500000), 16, DGRAM],
    ["SO_SNDTIMEO 2 s", SOL_SOCKET, 21, timeval(2, 0), 16, STREAM],
    ["SO_TIMESTAMP", SOL_SOCKET, 29, int(1), 4, DGRAM],
    ["SO_BROADCAST", SOL_SOCKET, 6, int(1), 4, DGRAM],
    ["TCP_NODELAY", SOL_TCP, 1, int(1), 4, STREAM],
    ["TCP_KEEPIDLE 30", SOL_TCP, 4, int(30), 4, STREAM],
    ["TCP_KEEPINTVL 5", SOL_TCP, 5, int(5), 4, STREAM],
    ["TCP_KEEPCNT 3", SOL_TCP, 6, int(3), 4, STREAM],
    ["IP_TTL 10", SOL_IP, 2, int(10), 4, DGRAM],
    ["IP_TTL as one byte", SOL_IP, 2, "21", 4, DGRAM],
    ["IP_MULTICAST_TTL 4", SOL_IP, 33, int(4), 4, DGRAM],
    ["SO_RCVBUF 8192 (doubled)", SOL_SOCKET, 8, int(8192), 4, DGRAM],
    ["SO_SNDBUF 8192 (doubled)", SOL_SOCKET, 7, int(8192), 4, DGRAM],
    ["SO_RCVBUF 16384 on a stream", SOL_SOCKET, 8, int(16384), 4, STREAM],
    ["SO_SNDBUF 16384 on a stream", SOL_SOCKET, 7, int(16384), 4, STREAM],
  ];
  for (const [name, level, opt, val, cap, type] of roundTrips)
    add(`setsockopt then getsockopt ${name}`, () => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      setopt("a", level, opt, val),
      getopt("a", level, opt, cap),
    ]);
  add(
    "SO_SNDTIMEO 0.25 s reads back exactly",
    () => [
      s("socket", { as: "a", family: AF_INET, type: STREAM | NB }),
      setopt("a", SOL_SOCKET, 21, timeval(0, 250000)),
      getopt("a", SOL_SOCKET, 21, 16),
    ],
    {
      // Linux keeps timeouts in jiffies (HZ=250 here: 250,000 us becomes 252,000); the stack in
      // microseconds.
      2: [
        "s getsockopt a: 0 val=000000000000000060d8030000000000",
        "s getsockopt a: 0 val=000000000000000090d0030000000000",
      ],
    },
  );

  // ---- invalid values and short lengths
  const invalid: [string, number, number, string, number][] = [
    ["TCP_KEEPIDLE 0", SOL_TCP, 4, int(0), STREAM],
    ["TCP_KEEPCNT 128", SOL_TCP, 6, int(128), STREAM],
    ["TCP_KEEPINTVL 40000", SOL_TCP, 5, int(40000), STREAM],
    ["IP_TTL 0", SOL_IP, 2, int(0), DGRAM],
    ["IP_TTL 256", SOL_IP, 2, int(256), DGRAM],
    ["SO_RCVTIMEO with 1,000,000 us", SOL_SOCKET, 20, timeval(0, 1000000), DGRAM],
    ["SO_REUSEADDR in 2 bytes", SOL_SOCKET, 2, int(1, 2), STREAM],
    ["TCP_NODELAY in 2 bytes", SOL_TCP, 1, int(1, 2), STREAM],
    ["SO_LINGER in 4 bytes", SOL_SOCKET, 13, int(1), STREAM],
    ["SO_RCVTIMEO in 8 bytes", SOL_SOCKET, 20, int(1) + int(0), DGRAM],
    ["IP_ADD_MEMBERSHIP in 4 bytes", SOL_IP, 35, hex([239, 1, 2, 3]), DGRAM],
    ["TCP_NODELAY on a datagram socket", SOL_TCP, 1, int(1), DGRAM],
    ["unknown SOL_SOCKET option", SOL_SOCKET, 999, int(1), DGRAM],
    ["SO_TYPE is read-only", SOL_SOCKET, 3, int(1), STREAM],
    ["IPV6_V6ONLY on an IPv4 datagram socket", SOL_IPV6, 26, int(1), DGRAM],
  ];
  for (const [name, level, opt, val, type] of invalid)
    add(`setsockopt ${name}`, () => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      setopt("a", level, opt, val),
    ]);
  const shortGets: [string, number, number, number, number][] = [
    ["SO_TYPE into 2 bytes", SOL_SOCKET, 3, 2, STREAM],
    ["SO_LINGER into 4 bytes", SOL_SOCKET, 13, 4, STREAM],
    ["SO_RCVTIMEO into 8 bytes", SOL_SOCKET, 20, 8, DGRAM],
    ["IP_TTL into 1 byte", SOL_IP, 2, 1, DGRAM],
    ["TCP_NODELAY into 1 byte", SOL_TCP, 1, 1, STREAM],
    ["SO_ERROR into 0 bytes", SOL_SOCKET, 4, 0, DGRAM],
    ["TCP_INFO into 8 bytes on a fresh socket", SOL_TCP, 11, 8, STREAM],
  ];
  for (const [name, level, opt, cap, type] of shortGets)
    add(`getsockopt ${name}`, () => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      getopt("a", level, opt, cap),
    ]);
  add("IPV6_V6ONLY: set, read back, fixed once bound", (port) => [
    s("socket", { as: "a", family: AF_INET6, type: DGRAM | NB }),
    setopt("a", SOL_IPV6, 26, int(1)),
    getopt("a", SOL_IPV6, 26),
    setopt("a", SOL_IPV6, 26, int(0)),
    s("bind", { fd: "a", addr: sin6(ANY6, port) }),
    setopt("a", SOL_IPV6, 26, int(1)),
    getopt("a", SOL_IPV6, 26),
  ]);
  add("IPV6_V6ONLY in 2 bytes", () => [
    s("socket", { as: "a", family: AF_INET6, type: STREAM | NB }),
    setopt("a", SOL_IPV6, 26, int(1, 2)),
    getopt("a", SOL_IPV6, 26, 2),
  ]);

  // ---- bind
  add("bind, getsockname, bind again", (port) => [
    s("socket", { as: "a", family: AF_INET, type: DGRAM | NB }),
    s("getsockname", { fd: "a" }),
    s("bind", { fd: "a", addr: sin(SELF, port) }),
    s("getsockname", { fd: "a" }),
    s("bind", { fd: "a", addr: sin(SELF, port + 1) }),
  ]);
  for (const type of [STREAM, DGRAM]) {
    const kind = type === STREAM ? "stream" : "datagram";
    add(`bind ${kind}: an address not ours`, (port) => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      s("bind", { fd: "a", addr: sin("192.0.2.99", port) }),
    ]);
    add(`bind ${kind}: sockaddr 8 bytes long`, (port) => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      s("bind", { fd: "a", addr: sin(SELF, port), len: 8 }),
    ]);
    add(`bind ${kind}: AF_INET6 sockaddr on an AF_INET socket`, (port) => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      s("bind", { fd: "a", addr: sin6(SELF, port) }),
    ]);
    add(`bind ${kind}: AF_UNSPEC with INADDR_ANY`, (port) => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      s("bind", { fd: "a", addr: sin("0.0.0.0", port, 0) }),
      s("getsockname", { fd: "a" }),
    ]);
    add(`bind ${kind}: AF_UNSPEC with an address`, (port) => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      s("bind", { fd: "a", addr: sin(SELF, port, 0) }),
    ]);
    add(`bind ${kind}: port in use`, (port) => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      s("socket", { as: "b", family: AF_INET, type: type | NB }),
      s("bind", { fd: "a", addr: sin(SELF, port) }),
      s("bind", { fd: "b", addr: sin(SELF, port) }),
      s("bind", { fd: "b", addr: sin("0.0.0.0", port) }),
    ]);
    add(`bind ${kind}: port in use, both with SO_REUSEADDR`, (port) => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      s("socket", { as: "b", family: AF_INET, type: type | NB }),
      setopt("a", SOL_SOCKET, 2, int(1)),
      setopt("b", SOL_SOCKET, 2, int(1)),
      s("bind", { fd: "a", addr: sin(SELF, port) }),
      s("bind", { fd: "b", addr: sin(SELF, port) }),
    ]);
    add(`bind ${kind}: port in use, only the second with SO_REUSEADDR`, (port) => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      s("socket", { as: "b", family: AF_INET, type: type | NB }),
      setopt("b", SOL_SOCKET, 2, int(1)),
      s("bind", { fd: "a", addr: sin(SELF, port) }),
      s("bind", { fd: "b", addr: sin(SELF, port) }),
    ]);
    add(`bind ${kind}: port 0 takes an ephemeral port`, () => [
      s("socket", { as: "a", family: AF_INET, type: type | NB }),
      s("bind", { fd: "a", addr: sin("0.0.0.0", 0) }),
      s("getsockname", { fd: "a" }),
    ]);
    add(`bind ${kind} AF_INET6: ::, then getsockname`, (port) => [
      s("socket", { as: "a", family: AF_INET6, type: type | NB }),
      s("getsockname", { fd: "a" }),
      s("bind", { fd: "a", addr: sin6(ANY6, port) }),
      s("getsockname", { fd: "a" }),
    ]);
    add(`bind ${kind} AF_INET6: a v4-mapped address of ours`, (port) => [
      s("socket", { as: "a", family: AF_INET6, type: type | NB }),
      s("bind", { fd: "a", addr: sin6(SELF, port) }),
      s("getsockname", { fd: "a" }),
      s("getsockname", { fd: "a", cap: 16 }),
    ]);
    add(`bind ${kind} AF_INET6: v4-mapped with IPV6_V6ONLY`, (port) => [
      s("socket", { as: "a", family: AF_INET6, type: type | NB }),
      setopt("a", SOL_IPV6, 26, int(1)),
      s("bind", { fd: "a", addr: sin6(SELF, port) }),
    ]);
    add(`bind ${kind} AF_INET6: an IPv6 address not ours`, (port) => [
      s("socket", { as: "a", family: AF_INET6, type: type | NB }),
      s("bind", { fd: "a", addr: sin6(DOC6, port) }),
    ]);
    add(`bind ${kind} AF_INET6: sockaddr 20 bytes long`, (port) => [
      s("socket", { as: "a", family: AF_INET6, type: type | NB }),
      s("bind", { fd: "a", addr: sin6(ANY6, port), len: 20 }),
    ]);
    add(`bind ${kind} AF_INET6: an AF_INET sockaddr`, (port) => [
      s("socket", { as: "a", family: AF_INET6, type: type | NB }),
      s("bind", { fd: "a", addr: sin(SELF, port) + "0".repeat(24) }),
    ]);
  }

  // ---- the datagram path
  add("UDP: a datagram from the peer, sender's address", (port) => [
    ...udpPair(port),
    s("recv", { fd: "u" }),
    p("send", { fd: "pu", data: text("hello"), addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("poll", { fd: "u", events: ALL }),
    s("recv", { fd: "u" }),
    s("recv", { fd: "u" }),
  ]);
  add("UDP: MSG_PEEK leaves the datagram", (port) => [
    ...udpPair(port),
    p("send", { fd: "pu", data: text("peekaboo"), addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "u", flags: MSG_PEEK, len: 4 }),
    s("recv", { fd: "u", flags: MSG_PEEK }),
    s("recv", { fd: "u" }),
  ]);
  add("UDP: a short buffer truncates, msg_flags says MSG_TRUNC", (port) => [
    ...udpPair(port),
    p("send", { fd: "pu", data: text("0123456789"), addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "u", len: 4 }),
    s("recv", { fd: "u" }),
  ]);
  add("UDP: MSG_TRUNC returns the datagram's real length", (port) => [
    ...udpPair(port),
    p("send", { fd: "pu", data: text("0123456789"), addr: sin(SELF, port) }),
    p("send", { fd: "pu", data: text("abcdef"), addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("sleep", { ms: 50 }),
    s("recv", { fd: "u", len: 4, flags: MSG_TRUNC | MSG_PEEK }),
    s("recv", { fd: "u", len: 4, flags: MSG_TRUNC }),
    s("recv", { fd: "u", len: 0, flags: MSG_TRUNC }),
  ]);
  add("UDP: TIOCINQ is the first datagram's length, TIOCOUTQ", (port) => [
    ...udpPair(port),
    s("ioctl", { fd: "u", req: 0x541b, arg: int(-1) }),
    p("send", { fd: "pu", data: text("seven77"), addr: sin(SELF, port) }),
    p("send", { fd: "pu", data: text("three"), addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("sleep", { ms: 50 }),
    s("ioctl", { fd: "u", req: 0x541b, arg: int(-1) }),
    s("ioctl", { fd: "u", req: 0x5411, arg: int(-1) }),
  ]);
  add("UDP: zero-length datagram", (port) => [
    ...udpPair(port),
    p("send", { fd: "pu", data: "", addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "u" }),
    s("poll", { fd: "u", events: ALL }),
  ]);
  add("UDP: MSG_DONTWAIT on a blocking socket", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM }),
    s("bind", { fd: "u", addr: sin(SELF, port) }),
    s("recv", { fd: "u", flags: MSG_DONTWAIT }),
  ]);
  add("UDP: the subject sends, the peer sees its address", (port) => [
    ...udpPair(port),
    s("send", { fd: "u", data: text("to peer"), addr: sin(PEER, port + 1) }),
    p("poll", { fd: "pu", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pu" }),
  ]);
  add("UDP: unbound send takes an ephemeral port", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    p("socket", { as: "pu", family: AF_INET, type: DGRAM | NB }),
    p("bind", { fd: "pu", addr: sin(PEER, port) }),
    s("send", { fd: "u", data: text("x"), addr: sin(PEER, port) }),
    s("getsockname", { fd: "u" }),
    p("poll", { fd: "pu", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pu" }),
  ]);
  add("UDP: MSG_MORE holds the bytes, the next send ends the datagram", (port) => [
    ...udpPair(port),
    s("send", { fd: "u", data: text("ab"), addr: sin(PEER, port + 1), flags: MSG_MORE }),
    s("send", { fd: "u", data: text("cd"), flags: MSG_MORE }),
    p("poll", { fd: "pu", events: POLLIN, timeout: 200 }),
    s("send", { fd: "u", data: text("ef") }),
    p("poll", { fd: "pu", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pu" }),
    p("poll", { fd: "pu", events: POLLIN, timeout: 100 }),
  ]);
  add("UDP: MSG_MORE on a connected socket", (port) => [
    ...udpPair(port),
    s("connect", { fd: "u", addr: sin(PEER, port + 1) }),
    s("send", { fd: "u", data: text("one"), flags: MSG_MORE }),
    s("send", { fd: "u", data: text("two") }),
    p("poll", { fd: "pu", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pu" }),
  ]);
  add("UDP: two sockets on a port with SO_REUSEADDR, the one bound last gets it", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("socket", { as: "v", family: AF_INET, type: DGRAM | NB }),
    setopt("u", SOL_SOCKET, 2, int(1)),
    setopt("v", SOL_SOCKET, 2, int(1)),
    s("bind", { fd: "u", addr: sin("0.0.0.0", port) }),
    s("bind", { fd: "v", addr: sin("0.0.0.0", port) }),
    p("socket", { as: "pu", family: AF_INET, type: DGRAM | NB }),
    p("send", { fd: "pu", data: text("which"), addr: sin(SELF, port) }),
    s("poll", { fd: "v", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "v" }),
    s("recv", { fd: "u" }),
  ]);
  add("UDP: a socket bound to our address and one to the wildcard", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("socket", { as: "v", family: AF_INET, type: DGRAM | NB }),
    setopt("u", SOL_SOCKET, 2, int(1)),
    setopt("v", SOL_SOCKET, 2, int(1)),
    s("bind", { fd: "u", addr: sin(SELF, port) }),
    s("bind", { fd: "v", addr: sin("0.0.0.0", port) }),
    p("socket", { as: "pu", family: AF_INET, type: DGRAM | NB }),
    p("send", { fd: "pu", data: text("exact"), addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "u" }),
    s("recv", { fd: "v" }),
  ]);
  add("UDP: MSG_PEEK with MSG_TRUNC and a zero-length buffer", (port) => [
    ...udpPair(port),
    p("send", { fd: "pu", data: text("0123456789abcdef"), addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "u", len: 0, flags: MSG_PEEK | MSG_TRUNC }),
    s("recv", { fd: "u", len: 0, flags: MSG_PEEK }),
    s("recv", { fd: "u", len: 0 }),
    s("recv", { fd: "u" }),
  ]);
  add("UDP: getsockname after connect picks our address and a port", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("connect", { fd: "u", addr: sin(PEER, port) }),
    s("getsockname", { fd: "u" }),
    s("connect", { fd: "u", addr: sin("0.0.0.0", 0, 0) }),
    s("getsockname", { fd: "u" }),
  ]);
  add("UDP: send without a destination, unconnected", () => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("send", { fd: "u", data: text("x") }),
  ]);
  add("UDP: sendto port 0", () => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("send", { fd: "u", data: text("x"), addr: sin(PEER, 0) }),
  ]);
  add("UDP: sendto with an 8-byte sockaddr", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("send", { fd: "u", data: text("x"), addr: sin(PEER, port), len: 8 }),
  ]);
  add("UDP: sendto an AF_INET6 sockaddr from an AF_INET socket", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("send", { fd: "u", data: text("x"), addr: sin6(PEER, port) }),
  ]);
  add("UDP: broadcast needs SO_BROADCAST", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("send", { fd: "u", data: text("x"), addr: sin("192.0.2.255", port) }),
    setopt("u", SOL_SOCKET, 6, int(1)),
    s("send", { fd: "u", data: text("x"), addr: sin("192.0.2.255", port) }),
  ]);
  add("UDP: connect, getpeername, send without address, disconnect", (port) => [
    ...udpPair(port),
    s("getpeername", { fd: "u" }),
    s("connect", { fd: "u", addr: sin(PEER, port + 1) }),
    s("getpeername", { fd: "u" }),
    s("getsockname", { fd: "u" }),
    s("send", { fd: "u", data: text("connected") }),
    p("poll", { fd: "pu", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pu" }),
    s("connect", { fd: "u", addr: sin("0.0.0.0", 0, 0) }),
    s("getpeername", { fd: "u" }),
    s("send", { fd: "u", data: text("x") }),
  ]);
  add("UDP: connect with a 1-byte sockaddr", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("connect", { fd: "u", addr: sin(PEER, port), len: 1 }),
  ]);
  add("UDP: a connected socket hears port unreachable", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("connect", { fd: "u", addr: sin(PEER, port) }),
    s("send", { fd: "u", data: text("anyone?") }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "u" }),
    s("send", { fd: "u", data: text("again") }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    getopt("u", SOL_SOCKET, 4),
    getopt("u", SOL_SOCKET, 4),
  ]);
  add("UDP: shutdown unconnected, then readiness", () => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("shutdown", { fd: "u", how: 1 }),
    s("poll", { fd: "u", events: ALL }),
    s("shutdown", { fd: "u", how: 0 }),
    s("poll", { fd: "u", events: ALL }),
    s("recv", { fd: "u" }),
  ]);
  add("UDP: SHUT_WR on a connected socket, then send", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("connect", { fd: "u", addr: sin(PEER, port) }),
    s("shutdown", { fd: "u", how: 1 }),
    s("send", { fd: "u", data: text("x") }),
    s("shutdown", { fd: "u", how: 7 }),
  ]);
  add("UDP: SO_TIMESTAMP marks the datagram", (port) => [
    ...udpPair(port),
    setopt("u", SOL_SOCKET, 29, int(1)),
    // Linux turns receive timestamps on a moment after the option (a deferred static key).
    s("sleep", { ms: 50 }),
    p("send", { fd: "pu", data: text("when"), addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "u" }),
  ]);
  add("UDP AF_INET6: v4-mapped peer both ways", (port) => [
    ...udpPair(port, AF_INET6),
    s("send", { fd: "u", data: text("six"), addr: sin6(PEER, port + 1) }),
    p("poll", { fd: "pu", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pu" }),
    p("send", { fd: "pu", data: text("four"), addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "u" }),
  ]);
  add("UDP AF_INET6: an IPv6 destination has no route", (port) => [
    s("socket", { as: "u", family: AF_INET6, type: DGRAM | NB }),
    s("send", { fd: "u", data: text("x"), addr: sin6(DOC6, port) }),
    s("connect", { fd: "u", addr: sin6(DOC6, port) }),
  ]);
  add("UDP AF_INET6: IPV6_V6ONLY refuses v4-mapped", (port) => [
    s("socket", { as: "u", family: AF_INET6, type: DGRAM | NB }),
    setopt("u", SOL_IPV6, 26, int(1)),
    s("connect", { fd: "u", addr: sin6(PEER, port) }),
    s("send", { fd: "u", data: text("x"), addr: sin6(PEER, port) }),
  ]);
  add("UDP AF_INET6: sendto an AF_INET sockaddr", (port) => [
    ...udpPair(port, AF_INET6),
    s("send", { fd: "u", data: text("plain"), addr: sin(PEER, port + 1) }),
    p("poll", { fd: "pu", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pu" }),
  ]);
  add(
    "multicast with INADDR_ANY and no route for the group",
    () => [
      s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
      setopt("u", SOL_IP, 35, hex([239, 1, 2, 3, 0, 0, 0, 0])),
      setopt("u", SOL_IP, 35, hex([239, 1, 2, 3, 0, 0, 0, 0])),
      setopt("u", SOL_IP, 36, hex([239, 1, 2, 3, 0, 0, 0, 0])),
      setopt("u", SOL_IP, 36, hex([239, 1, 2, 3, 0, 0, 0, 0])),
    ],
    {
      // One interface: INADDR_ANY names it, where Linux wants a route to the group first.
      1: ["s setsockopt u: -ENODEV", "s setsockopt u: 0"],
      2: ["s setsockopt u: -ENODEV", "s setsockopt u: -EADDRINUSE"],
      3: ["s setsockopt u: -ENODEV", "s setsockopt u: 0"],
      4: ["s setsockopt u: -ENODEV", "s setsockopt u: -EADDRNOTAVAIL"],
    },
  );
  add("multicast by our address: join, join again, drop, drop again", () => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    setopt("u", SOL_IP, 35, hex([239, 1, 2, 3, 192, 0, 2, 2])),
    setopt("u", SOL_IP, 35, hex([239, 1, 2, 3, 192, 0, 2, 2])),
    setopt("u", SOL_IP, 36, hex([239, 1, 2, 3, 192, 0, 2, 2])),
    setopt("u", SOL_IP, 36, hex([239, 1, 2, 3, 192, 0, 2, 2])),
  ]);
  add("multicast: an address not ours names no interface", () => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    setopt("u", SOL_IP, 35, hex([239, 1, 2, 3, 192, 0, 2, 99])),
  ]);
  add("multicast: joining a unicast address", () => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    setopt("u", SOL_IP, 35, hex([192, 0, 2, 1, 0, 0, 0, 0])),
  ]);
  add("multicast: membership on a stream socket", () => [
    s("socket", { as: "a", family: AF_INET, type: STREAM | NB }),
    setopt("a", SOL_IP, 35, hex([239, 1, 2, 3, 0, 0, 0, 0])),
  ]);
  add("multicast: a joined group's datagram arrives", (port) => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("bind", { fd: "u", addr: sin("0.0.0.0", port) }),
    setopt("u", SOL_IP, 35, hex([239, 1, 2, 3, 192, 0, 2, 2])),
    p("socket", { as: "pu", family: AF_INET, type: DGRAM | NB }),
    p("setsockopt", { fd: "pu", level: SOL_IP, name: 32, val: hex([192, 0, 2, 1]) }),
    p("send", { fd: "pu", data: text("group"), addr: sin("239.1.2.3", port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "u" }),
  ]);

  // ---- stream: connect
  add("TCP: non-blocking connect, connect again, and again", (port) => [
    ...connected(port),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    s("getpeername", { fd: "c" }),
    s("getsockname", { fd: "c" }),
    p("getpeername", { fd: "pc" }),
  ]);
  add("TCP: connect refused, SO_ERROR, then connect again", (port) => [
    s("socket", { as: "c", family: AF_INET, type: STREAM | NB }),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    s("poll", { fd: "c", events: ALL, timeout: 2000 }),
    getopt("c", SOL_SOCKET, 4),
    getopt("c", SOL_SOCKET, 4),
    s("recv", { fd: "c" }),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    s("poll", { fd: "c", events: ALL }),
  ]);
  add("TCP: connect refused, connect again before SO_ERROR", (port) => [
    s("socket", { as: "c", family: AF_INET, type: STREAM | NB }),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    s("poll", { fd: "c", events: ALL, timeout: 2000 }),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    getopt("c", SOL_SOCKET, 4),
    s("getpeername", { fd: "c" }),
  ]);
  add("TCP: readiness of a fresh socket", () => [
    s("socket", { as: "c", family: AF_INET, type: STREAM | NB }),
    s("poll", { fd: "c", events: ALL }),
  ]);
  add("TCP: recv and send on a socket never connected", () => [
    s("socket", { as: "c", family: AF_INET, type: STREAM | NB }),
    s("recv", { fd: "c" }),
    s("send", { fd: "c", data: text("x") }),
    s("getpeername", { fd: "c" }),
    s("shutdown", { fd: "c", how: 2 }),
    s("poll", { fd: "c", events: ALL }),
  ]);
  add("TCP: connect with a short sockaddr, an AF_INET6 one, port 0", (port) => [
    s("socket", { as: "c", family: AF_INET, type: STREAM | NB }),
    s("connect", { fd: "c", addr: sin(PEER, port), len: 8 }),
    s("connect", { fd: "c", addr: sin6(PEER, port) }),
    s("connect", { fd: "c", addr: sin(PEER, port), len: 1 }),
  ]);
  add("TCP: connect AF_UNSPEC on a fresh socket", () => [
    s("socket", { as: "c", family: AF_INET, type: STREAM | NB }),
    s("connect", { fd: "c", addr: sin("0.0.0.0", 0, 0) }),
  ]);
  add("TCP: connect AF_UNSPEC resets a connection; the socket connects again", (port) => [
    ...connected(port),
    s("connect", { fd: "c", addr: sin("0.0.0.0", 0, 0) }),
    // Let the reset land first: a poll woken while the kernel is still processing it (on the
    // other CPU) can see ERR before HUP and IN, on either subject.
    p("sleep", { ms: 50 }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pc" }),
    s("getpeername", { fd: "c" }),
    s("poll", { fd: "c", events: ALL }),
    getopt("c", SOL_SOCKET, 4),
    s("poll", { fd: "c", events: ALL }),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    s("poll", { fd: "c", events: ALL, timeout: 2000 }),
    p("poll", { fd: "pl", events: POLLIN, timeout: 2000 }),
    p("accept", { fd: "pl", as: "pd", flags: NB }),
    s("getpeername", { fd: "c" }),
  ]);
  add("TCP: connect AF_UNSPEC stops a listener", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    s("connect", { fd: "l", addr: sin("0.0.0.0", 0, 0) }),
    getopt("l", SOL_SOCKET, 30),
    s("accept", { fd: "l", as: "a" }),
    getopt("l", SOL_SOCKET, 4),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    p("poll", { fd: "pc", events: ALL, timeout: 2000 }),
  ]);
  add("TCP AF_INET6: connect v4-mapped, names v4-mapped", (port) => [
    ...connected(port, AF_INET6),
    s("getpeername", { fd: "c" }),
    s("getsockname", { fd: "c" }),
  ]);
  add("TCP AF_INET6: an IPv6 destination has no route", (port) => [
    s("socket", { as: "c", family: AF_INET6, type: STREAM | NB }),
    s("connect", { fd: "c", addr: sin6(DOC6, port) }),
  ]);
  add("TCP AF_INET6: IPV6_V6ONLY refuses v4-mapped", (port) => [
    s("socket", { as: "c", family: AF_INET6, type: STREAM | NB }),
    setopt("c", SOL_IPV6, 26, int(1)),
    s("connect", { fd: "c", addr: sin6(PEER, port) }),
  ]);
  add("TCP: blocking connect completes", (port) => [
    ...peerListen(port),
    s("socket", { as: "c", family: AF_INET, type: STREAM }),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    s("getpeername", { fd: "c" }),
  ]);
  add("TCP: blocking connect refused", (port) => [
    s("socket", { as: "c", family: AF_INET, type: STREAM }),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    getopt("c", SOL_SOCKET, 4),
  ]);

  // ---- stream: listen and accept
  add("TCP: accept with nothing waiting, then the peer's connection", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    getopt("l", SOL_SOCKET, 30),
    s("accept", { fd: "l", as: "a" }),
    s("poll", { fd: "l", events: ALL }),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("bind", { fd: "pc", addr: sin(PEER, port + 1) }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    s("poll", { fd: "l", events: ALL, timeout: 2000 }),
    s("accept", { fd: "l", as: "a", flags: NB }),
    s("getpeername", { fd: "a" }),
    s("getsockname", { fd: "a" }),
    s("recv", { fd: "a" }),
    s("accept", { fd: "l", as: "b" }),
  ]);
  add("TCP: accept's address truncated to 4 bytes", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("bind", { fd: "pc", addr: sin(PEER, port + 1) }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    s("poll", { fd: "l", events: POLLIN, timeout: 2000 }),
    s("accept", { fd: "l", as: "a", cap: 4 }),
  ]);
  add("TCP: accept on a socket not listening", () => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("accept", { fd: "l", as: "a" }),
  ]);
  add("TCP: accept with unknown flags", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    s("accept", { fd: "l", as: "a", flags: 1 }),
  ]);
  add("UDP: listen and accept", () => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("listen", { fd: "u" }),
    s("accept", { fd: "u", as: "a" }),
  ]);
  add("TCP: listen after connect, connect after listen", (port) => [
    ...connected(port),
    s("listen", { fd: "c" }),
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("listen", { fd: "l" }),
    s("connect", { fd: "l", addr: sin(PEER, port) }),
    s("getsockname", { fd: "l" }),
  ]);
  add("TCP: listen twice", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    s("listen", { fd: "l", backlog: 2 }),
  ]);
  add("TCP: a listener's port in use for another bind", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    setopt("l", SOL_SOCKET, 2, int(1)),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    s("socket", { as: "b", family: AF_INET, type: STREAM | NB }),
    setopt("b", SOL_SOCKET, 2, int(1)),
    s("bind", { fd: "b", addr: sin(SELF, port) }),
  ]);
  add("TCP: blocking accept gets the waiting connection", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM }),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("bind", { fd: "pc", addr: sin(PEER, port + 1) }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    s("accept", { fd: "l", as: "a" }),
    s("getpeername", { fd: "a" }),
  ]);
  add("TCP: blocking accept with SO_RCVTIMEO times out", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM }),
    setopt("l", SOL_SOCKET, 20, timeval(0, 100000)),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    s("accept", { fd: "l", as: "a" }),
  ]);
  add("TCP: an accepted socket inherits SO_RCVTIMEO and TCP_NODELAY", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    setopt("l", SOL_SOCKET, 20, timeval(2, 0)),
    setopt("l", SOL_TCP, 1, int(1)),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    s("poll", { fd: "l", events: POLLIN, timeout: 2000 }),
    s("accept", { fd: "l", as: "a" }),
    getopt("a", SOL_SOCKET, 20, 16),
    getopt("a", SOL_TCP, 1),
  ]);

  // ---- stream: data
  add("TCP: MSG_PEEK across segment boundaries", (port) => [
    ...connected(port),
    p("send", { fd: "pc", data: text("hello") }),
    p("sleep", { ms: 30 }),
    p("send", { fd: "pc", data: text("world") }),
    s("poll", { fd: "c", events: POLLIN, timeout: 2000 }),
    s("sleep", { ms: 100 }),
    s("recv", { fd: "c", flags: MSG_PEEK, len: 8 }),
    s("recv", { fd: "c", flags: MSG_PEEK }),
    s("recv", { fd: "c", len: 3 }),
    s("recv", { fd: "c" }),
    s("recv", { fd: "c" }),
  ]);
  add("TCP: MSG_TRUNC with MSG_PEEK counts, MSG_TRUNC discards", (port) => [
    ...connected(port),
    p("send", { fd: "pc", data: text("abcdefghij") }),
    s("poll", { fd: "c", events: POLLIN, timeout: 2000 }),
    s("sleep", { ms: 50 }),
    s("recv", { fd: "c", flags: MSG_PEEK | MSG_TRUNC, len: 4 }),
    s("recv", { fd: "c", flags: MSG_TRUNC, len: 4 }),
    s("recv", { fd: "c" }),
  ]);
  add("TCP: TIOCINQ with data queued, TIOCOUTQ", (port) => [
    ...connected(port),
    s("ioctl", { fd: "c", req: 0x541b, arg: int(-1) }),
    p("send", { fd: "pc", data: text("twelve bytes") }),
    s("poll", { fd: "c", events: POLLIN, timeout: 2000 }),
    s("sleep", { ms: 50 }),
    s("ioctl", { fd: "c", req: 0x541b, arg: int(-1) }),
    s("ioctl", { fd: "c", req: 0x5411, arg: int(-1) }),
  ]);
  add("TCP: TIOCINQ and TIOCOUTQ on a listener", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    s("ioctl", { fd: "l", req: 0x541b, arg: int(-1) }),
    s("ioctl", { fd: "l", req: 0x5411, arg: int(-1) }),
  ]);
  add("TCP: the subject sends, the peer reads; recv with nothing queued", (port) => [
    ...connected(port),
    s("recv", { fd: "c" }),
    s("send", { fd: "c", data: text("from subject") }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pc" }),
    s("send", { fd: "c", data: "" }),
  ]);
  add("TCP: MSG_MORE holds, the next send goes with it", (port) => [
    ...connected(port),
    s("send", { fd: "c", data: text("ab"), flags: MSG_MORE }),
    s("send", { fd: "c", data: text("cd") }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("sleep", { ms: 50 }),
    p("recv", { fd: "pc" }),
  ]);
  add("TCP and UDP: MSG_EOR is accepted", (port) => [
    ...connected(port),
    s("send", { fd: "c", data: text("record"), flags: MSG_EOR }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pc" }),
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("send", { fd: "u", data: text("x"), addr: sin(PEER, port + 5), flags: MSG_EOR }),
  ]);
  add("TCP: SO_TIMESTAMP on a stream", (port) => [
    ...connected(port),
    setopt("c", SOL_SOCKET, 29, int(1)),
    // Linux turns receive timestamps on a moment after the option (a deferred static key).
    s("sleep", { ms: 50 }),
    p("send", { fd: "pc", data: text("t") }),
    s("poll", { fd: "c", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "c" }),
  ]);
  add("TCP: blocking recv with data waiting", (port) => [
    ...peerListen(port),
    s("socket", { as: "c", family: AF_INET, type: STREAM }),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    p("poll", { fd: "pl", events: POLLIN, timeout: 2000 }),
    p("accept", { fd: "pl", as: "pc", flags: NB }),
    p("send", { fd: "pc", data: text("blocking") }),
    s("recv", { fd: "c" }),
    s("send", { fd: "c", data: text("reply") }),
  ]);
  add("TCP: blocking recv with SO_RCVTIMEO and nothing sent", (port) => [
    ...peerListen(port),
    s("socket", { as: "c", family: AF_INET, type: STREAM }),
    setopt("c", SOL_SOCKET, 20, timeval(0, 100000)),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    s("recv", { fd: "c" }),
  ]);
  add("TCP: blocking recv sees the peer's FIN", (port) => [
    ...peerListen(port),
    s("socket", { as: "c", family: AF_INET, type: STREAM }),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    p("poll", { fd: "pl", events: POLLIN, timeout: 2000 }),
    p("accept", { fd: "pl", as: "pc", flags: NB }),
    p("shutdown", { fd: "pc", how: 1 }),
    s("recv", { fd: "c" }),
  ]);

  // ---- stream: shutdown and close
  add("TCP: SHUT_WR, the peer reads end of stream, send gives EPIPE", (port) => [
    ...connected(port),
    s("shutdown", { fd: "c", how: 1 }),
    s("send", { fd: "c", data: text("x") }),
    s("poll", { fd: "c", events: ALL }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pc" }),
    p("send", { fd: "pc", data: text("still open") }),
    s("poll", { fd: "c", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "c" }),
  ]);
  add("TCP: SHUT_RD, recv returns 0", (port) => [
    ...connected(port),
    s("shutdown", { fd: "c", how: 0 }),
    s("recv", { fd: "c" }),
    s("poll", { fd: "c", events: ALL }),
    s("send", { fd: "c", data: text("x") }),
  ]);
  add("TCP: SHUT_RDWR, readiness", (port) => [
    ...connected(port),
    s("shutdown", { fd: "c", how: 2 }),
    s("poll", { fd: "c", events: ALL }),
    s("recv", { fd: "c" }),
    s("send", { fd: "c", data: text("x") }),
  ]);
  add("TCP: shutdown with a bad how", (port) => [
    ...connected(port),
    s("shutdown", { fd: "c", how: 3 }),
    s("shutdown", { fd: "c", how: -1 }),
  ]);
  add("TCP: shutdown SHUT_WR on a listener", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    s("shutdown", { fd: "l", how: 1 }),
    getopt("l", SOL_SOCKET, 30),
  ]);
  add("TCP: the peer closes, readiness and end of stream", (port) => [
    ...connected(port),
    p("send", { fd: "pc", data: text("last") }),
    p("close", { fd: "pc" }),
    s("poll", { fd: "c", events: POLLRDHUP, timeout: 2000 }),
    s("poll", { fd: "c", events: ALL }),
    s("recv", { fd: "c" }),
    s("recv", { fd: "c" }),
  ]);
  add("TCP: the peer resets (SO_LINGER 0), readiness, ECONNRESET once", (port) => [
    ...connected(port),
    p("setsockopt", { fd: "pc", level: SOL_SOCKET, name: 13, val: int(1) + int(0) }),
    p("close", { fd: "pc" }),
    s("poll", { fd: "c", events: POLLIN, timeout: 2000 }),
    s("poll", { fd: "c", events: ALL }),
    s("recv", { fd: "c" }),
    s("recv", { fd: "c" }),
    s("send", { fd: "c", data: text("x") }),
  ]);
  add("TCP: SO_LINGER 0 on the subject resets the peer", (port) => [
    ...connected(port),
    setopt("c", SOL_SOCKET, 13, int(1) + int(0)),
    s("close", { fd: "c" }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pc" }),
  ]);
  add("TCP: close with unread data resets the peer", (port) => [
    ...connected(port),
    p("send", { fd: "pc", data: text("unread") }),
    s("poll", { fd: "c", events: POLLIN, timeout: 2000 }),
    s("close", { fd: "c" }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pc" }),
  ]);
  add("TCP: a graceful close reaches the peer as end of stream", (port) => [
    ...connected(port),
    s("send", { fd: "c", data: text("bye") }),
    s("close", { fd: "c" }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("sleep", { ms: 50 }),
    p("recv", { fd: "pc" }),
    p("recv", { fd: "pc" }),
  ]);
  add("TCP: the subject accepts, the peer sends and closes", (port) => [
    ...accepted(port),
    p("send", { fd: "pc", data: text("to listener") }),
    p("shutdown", { fd: "pc", how: 1 }),
    s("poll", { fd: "a", events: POLLRDHUP, timeout: 2000 }),
    s("recv", { fd: "a" }),
    s("recv", { fd: "a" }),
    s("send", { fd: "a", data: text("answer") }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pc" }),
  ]);
  add("TCP_INFO: state and negotiated options", (port) => [
    ...connected(port),
    s("tcpinfo", { fd: "c" }),
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("listen", { fd: "l" }),
    s("tcpinfo", { fd: "l" }),
    s("socket", { as: "f", family: AF_INET, type: STREAM | NB }),
    s("tcpinfo", { fd: "f" }),
  ]);
  add("SO_KEEPALIVE with its figures on a connection", (port) => [
    ...connected(port),
    setopt("c", SOL_TCP, 4, int(10)),
    setopt("c", SOL_TCP, 5, int(2)),
    setopt("c", SOL_TCP, 6, int(4)),
    setopt("c", SOL_SOCKET, 9, int(1)),
    getopt("c", SOL_SOCKET, 9),
    getopt("c", SOL_TCP, 4),
    getopt("c", SOL_TCP, 5),
    getopt("c", SOL_TCP, 6),
  ]);

  // ---- interface ioctls
  const ifreqs: [string, number][] = [
    ["SIOCGIFFLAGS", 0x8913],
    ["SIOCGIFADDR", 0x8915],
    ["SIOCGIFNETMASK", 0x891b],
    ["SIOCGIFBRDADDR", 0x8919],
    ["SIOCGIFMTU", 0x8921],
    ["SIOCGIFHWADDR", 0x8927],
  ];
  for (const [name, req] of ifreqs) {
    add(`ioctl ${name} on eth0`, () => [
      s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
      s("ioctl", { fd: "u", req, arg: ifreq("eth0") }),
    ]);
    add(`ioctl ${name} on an unknown interface`, () => [
      s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
      s("ioctl", { fd: "u", req, arg: ifreq("nosuch0") }),
    ]);
  }
  add(
    "ioctl SIOCGIFINDEX, then SIOCGIFNAME of that index",
    () => [
      s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
      s("ioctl", { fd: "u", req: 0x8933, arg: ifreq("eth0") }),
      s("ioctl", { fd: "u", req: 0x8910, arg: ifreq("", int(2)) }),
      s("ioctl", { fd: "u", req: 0x8910, arg: ifreq("", int(77)) }),
    ],
    {
      // The stack's one interface is number 1; on Linux the loopback device is 1.
      1: [
        "s ioctl u: 0 arg=65746830000000000000000000000000020000000000000000000000000000000000000000000000",
        "s ioctl u: 0 arg=65746830000000000000000000000000010000000000000000000000000000000000000000000000",
      ],
      2: [
        "s ioctl u: 0 arg=65746830000000000000000000000000020000000000000000000000000000000000000000000000",
        "s ioctl u: -ENODEV arg=00000000000000000000000000000000020000000000000000000000000000000000000000000000",
      ],
    },
  );
  add(
    "ioctl SIOCGIFNAME of the stack's own index",
    () => [
      s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
      s("ioctl", { fd: "u", req: 0x8910, arg: ifreq("", int(1)) }),
    ],
    {
      // Index 1 is Linux's loopback, the stack's eth0.
      1: [
        "s ioctl u: 0 arg=6c6f0000000000000000000000000000010000000000000000000000000000000000000000000000",
        "s ioctl u: 0 arg=65746830000000000000000000000000010000000000000000000000000000000000000000000000",
      ],
    },
  );
  add("ioctl SIOCGIFCONF with a null buffer, a short one, room for one, more", () => [
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("ifconf", { fd: "u", len: 0, null: true }),
    s("ifconf", { fd: "u", len: 20 }),
    s("ifconf", { fd: "u", len: 40 }),
    s("ifconf", { fd: "u", len: 100 }),
  ]);
  add("ioctl SIOCGIFMTU through a stream socket", () => [
    s("socket", { as: "a", family: AF_INET, type: STREAM | NB }),
    s("ioctl", { fd: "a", req: 0x8921, arg: ifreq("eth0") }),
  ]);

  // ---- IPV6_V6ONLY on `::`: no IPv4 reaches it, and 0.0.0.0 of the same port is free
  add("UDP AF_INET6: IPV6_V6ONLY on [::] receives no IPv4 datagram", (port) => [
    s("socket", { as: "u", family: AF_INET6, type: DGRAM | NB }),
    setopt("u", SOL_IPV6, 26, int(1)),
    s("bind", { fd: "u", addr: sin6(ANY6, port) }),
    p("socket", { as: "pu", family: AF_INET, type: DGRAM | NB }),
    p("bind", { fd: "pu", addr: sin(PEER, port + 1) }),
    p("send", { fd: "pu", data: text("v4"), addr: sin(SELF, port) }),
    s("poll", { fd: "u", events: POLLIN, timeout: 300 }),
    s("recv", { fd: "u" }),
  ]);
  add("UDP: 0.0.0.0 beside an IPV6_V6ONLY [::] binds and takes the IPv4 datagram", (port) => [
    s("socket", { as: "u6", family: AF_INET6, type: DGRAM | NB }),
    setopt("u6", SOL_IPV6, 26, int(1)),
    s("bind", { fd: "u6", addr: sin6(ANY6, port) }),
    s("socket", { as: "u4", family: AF_INET, type: DGRAM | NB }),
    s("bind", { fd: "u4", addr: sin("0.0.0.0", port) }),
    p("socket", { as: "pu", family: AF_INET, type: DGRAM | NB }),
    p("bind", { fd: "pu", addr: sin(PEER, port + 1) }),
    p("send", { fd: "pu", data: text("hi"), addr: sin(SELF, port) }),
    s("poll", { fd: "u4", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "u4" }),
    s("recv", { fd: "u6" }),
  ]);
  add("UDP bind: [::] with and without IPV6_V6ONLY beside 0.0.0.0 and each other", (port) => [
    s("socket", { as: "a", family: AF_INET, type: DGRAM | NB }),
    s("bind", { fd: "a", addr: sin("0.0.0.0", port) }),
    s("socket", { as: "b", family: AF_INET6, type: DGRAM | NB }),
    s("bind", { fd: "b", addr: sin6(ANY6, port) }),
    s("socket", { as: "c", family: AF_INET6, type: DGRAM | NB }),
    setopt("c", SOL_IPV6, 26, int(1)),
    s("bind", { fd: "c", addr: sin6(ANY6, port) }),
    s("socket", { as: "d", family: AF_INET6, type: DGRAM | NB }),
    setopt("d", SOL_IPV6, 26, int(1)),
    s("bind", { fd: "d", addr: sin6(ANY6, port) }),
    s("socket", { as: "e", family: AF_INET6, type: DGRAM | NB }),
    s("bind", { fd: "e", addr: sin6(ANY6, port + 1) }),
    s("socket", { as: "f", family: AF_INET, type: DGRAM | NB }),
    s("bind", { fd: "f", addr: sin(SELF, port + 1) }),
  ]);
  add("TCP AF_INET6: an IPV6_V6ONLY listener on [::] refuses IPv4", (port) => [
    s("socket", { as: "l", family: AF_INET6, type: STREAM | NB }),
    setopt("l", SOL_IPV6, 26, int(1)),
    s("bind", { fd: "l", addr: sin6(ANY6, port) }),
    s("listen", { fd: "l" }),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    p("poll", { fd: "pc", events: POLLOUT, timeout: 2000 }),
    p("getsockopt", { fd: "pc", level: SOL_SOCKET, name: 4, cap: 4 }),
    s("poll", { fd: "l", events: POLLIN, timeout: 100 }),
  ]);
  add("TCP AF_INET6: IPV6_V6ONLY listen without bind takes no IPv4 port", () => [
    s("socket", { as: "l", family: AF_INET6, type: STREAM | NB }),
    setopt("l", SOL_IPV6, 26, int(1)),
    s("listen", { fd: "l" }),
    s("getsockname", { fd: "l" }),
  ]);
  add("TCP: 0.0.0.0 beside an IPV6_V6ONLY [::] listener takes the IPv4 connection", (port) => [
    s("socket", { as: "l6", family: AF_INET6, type: STREAM | NB }),
    setopt("l6", SOL_IPV6, 26, int(1)),
    s("bind", { fd: "l6", addr: sin6(ANY6, port) }),
    s("listen", { fd: "l6" }),
    s("socket", { as: "l4", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "l4", addr: sin("0.0.0.0", port) }),
    s("listen", { fd: "l4" }),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    s("poll", { fd: "l4", events: POLLIN, timeout: 2000 }),
    s("accept", { fd: "l4", as: "a", flags: NB }),
    s("poll", { fd: "l6", events: POLLIN, timeout: 100 }),
  ]);
  add("TCP bind: [::] with and without IPV6_V6ONLY beside 0.0.0.0 and each other", (port) => [
    s("socket", { as: "a", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "a", addr: sin("0.0.0.0", port) }),
    s("socket", { as: "b", family: AF_INET6, type: STREAM | NB }),
    s("bind", { fd: "b", addr: sin6(ANY6, port) }),
    s("socket", { as: "c", family: AF_INET6, type: STREAM | NB }),
    setopt("c", SOL_IPV6, 26, int(1)),
    s("bind", { fd: "c", addr: sin6(ANY6, port) }),
    s("socket", { as: "d", family: AF_INET6, type: STREAM | NB }),
    setopt("d", SOL_IPV6, 26, int(1)),
    s("bind", { fd: "d", addr: sin6(ANY6, port) }),
    s("socket", { as: "e", family: AF_INET6, type: STREAM | NB }),
    s("bind", { fd: "e", addr: sin6(ANY6, port + 1) }),
    s("socket", { as: "f", family: AF_INET, type: STREAM | NB }),
    s("bind", { fd: "f", addr: sin(SELF, port + 1) }),
  ]);

  // ---- MSG_OOB: urgent data both ways, SIOCATMARK, SO_OOBINLINE, EPOLLPRI
  const OOB = 1;
  const POLLPRI = 2;
  const ATMARK = 0x8905;
  const INQ = 0x541b;
  add("MSG_OOB from the kernel: the urgent byte out of line, read with MSG_OOB", (port) => [
    ...connected(port),
    p("send", { fd: "pc", data: text("abc"), flags: OOB }),
    s("poll", { fd: "c", events: POLLIN | POLLPRI, timeout: 2000 }),
    s("ioctl", { fd: "c", req: ATMARK, arg: int(7) }),
    s("ioctl", { fd: "c", req: INQ, arg: int(7) }),
    s("recv", { fd: "c" }),
    s("ioctl", { fd: "c", req: ATMARK, arg: int(7) }),
    s("poll", { fd: "c", events: POLLIN | POLLPRI }),
    s("recv", { fd: "c", flags: OOB }),
    s("poll", { fd: "c", events: POLLIN | POLLPRI }),
    s("recv", { fd: "c", flags: OOB }),
    s("recv", { fd: "c" }),
    s("ioctl", { fd: "c", req: INQ, arg: int(7) }),
    s("ioctl", { fd: "c", req: ATMARK, arg: int(7) }),
    p("send", { fd: "pc", data: text("de") }),
    s("poll", { fd: "c", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "c" }),
  ]);
  add("MSG_OOB from the kernel: a read past the mark loses the urgent byte", (port) => [
    ...connected(port),
    p("send", { fd: "pc", data: text("xy"), flags: OOB }),
    s("poll", { fd: "c", events: POLLPRI, timeout: 2000 }),
    s("recv", { fd: "c" }),
    s("recv", { fd: "c" }),
    s("recv", { fd: "c", flags: OOB }),
    s("ioctl", { fd: "c", req: ATMARK, arg: int(7) }),
    s("poll", { fd: "c", events: POLLIN | POLLPRI }),
  ]);
  add("MSG_OOB with SO_OOBINLINE: the urgent byte stays in the stream", (port) => [
    ...connected(port),
    setopt("c", SOL_SOCKET, 10, int(1)),
    getopt("c", SOL_SOCKET, 10),
    p("send", { fd: "pc", data: text("abc"), flags: OOB }),
    s("poll", { fd: "c", events: POLLPRI, timeout: 2000 }),
    s("recv", { fd: "c" }),
    s("ioctl", { fd: "c", req: ATMARK, arg: int(7) }),
    s("poll", { fd: "c", events: POLLIN | POLLPRI }),
    s("recv", { fd: "c", flags: OOB }),
    s("recv", { fd: "c" }),
    s("ioctl", { fd: "c", req: ATMARK, arg: int(7) }),
    s("poll", { fd: "c", events: POLLIN | POLLPRI }),
  ]);
  add("recv MSG_OOB: none yet, then peeked, read, and read again", (port) => [
    ...connected(port),
    s("recv", { fd: "c", flags: OOB }),
    s("ioctl", { fd: "c", req: ATMARK, arg: int(7) }),
    p("send", { fd: "pc", data: text("q"), flags: OOB }),
    s("poll", { fd: "c", events: POLLPRI, timeout: 2000 }),
    s("ioctl", { fd: "c", req: ATMARK, arg: int(7) }),
    s("recv", { fd: "c", flags: OOB | MSG_PEEK }),
    s("recv", { fd: "c", flags: OOB, len: 0 }),
    s("recv", { fd: "c", flags: OOB }),
    s("recv", { fd: "c", flags: OOB }),
    s("recv", { fd: "c" }),
  ]);
  add("MSG_OOB from the kernel twice: the newer urgent byte replaces the older", (port) => [
    ...connected(port),
    p("send", { fd: "pc", data: text("ab"), flags: OOB }),
    s("poll", { fd: "c", events: POLLPRI, timeout: 2000 }),
    p("send", { fd: "pc", data: text("cd"), flags: OOB }),
    s("sleep", { ms: 100 }),
    s("recv", { fd: "c" }),
    s("recv", { fd: "c", flags: OOB }),
    s("recv", { fd: "c" }),
  ]);
  add("send MSG_OOB from the subject: the kernel reads the urgent byte", (port) => [
    ...connected(port),
    s("send", { fd: "c", data: text("hello!"), flags: OOB }),
    p("poll", { fd: "pc", events: POLLIN | POLLPRI, timeout: 2000 }),
    p("sleep", { ms: 50 }),
    p("recv", { fd: "pc" }),
    p("ioctl", { fd: "pc", req: ATMARK, arg: int(7) }),
    p("recv", { fd: "pc", flags: OOB }),
    p("recv", { fd: "pc" }),
    s("send", { fd: "c", data: text("more") }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pc" }),
    p("recv", { fd: "pc", flags: OOB }),
  ]);
  add("send MSG_OOB twice from the subject: the kernel keeps the newer urgent byte", (port) => [
    ...connected(port),
    s("send", { fd: "c", data: text("ab"), flags: OOB }),
    s("send", { fd: "c", data: text("cd"), flags: OOB }),
    p("sleep", { ms: 200 }),
    p("recv", { fd: "pc" }),
    p("recv", { fd: "pc", flags: OOB }),
    p("recv", { fd: "pc" }),
  ]);
  add("SO_OOBINLINE is inherited by the accepted socket; SIOCATMARK on a listener", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    setopt("l", SOL_SOCKET, 10, int(1)),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    s("ioctl", { fd: "l", req: ATMARK, arg: int(7) }),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    s("poll", { fd: "l", events: POLLIN, timeout: 2000 }),
    s("accept", { fd: "l", as: "a", flags: NB }),
    getopt("a", SOL_SOCKET, 10),
    p("poll", { fd: "pc", events: POLLOUT, timeout: 2000 }),
    p("send", { fd: "pc", data: text("xyz"), flags: OOB }),
    s("poll", { fd: "a", events: POLLPRI, timeout: 2000 }),
    s("recv", { fd: "a", flags: OOB }),
    s("recv", { fd: "a" }),
    s("recv", { fd: "a" }),
  ]);
  add("MSG_OOB on sockets that cannot: unconnected stream, datagram, SIOCATMARK there", () => [
    s("socket", { as: "c", family: AF_INET, type: STREAM | NB }),
    s("send", { fd: "c", data: text("x"), flags: OOB }),
    s("recv", { fd: "c", flags: OOB }),
    s("ioctl", { fd: "c", req: ATMARK, arg: int(7) }),
    s("socket", { as: "u", family: AF_INET, type: DGRAM | NB }),
    s("send", { fd: "u", data: text("x"), flags: OOB, addr: sin(PEER, 9) }),
    getopt("u", SOL_SOCKET, 10),
    setopt("u", SOL_SOCKET, 10, int(1)),
    getopt("u", SOL_SOCKET, 10),
  ]);

  // ---- SO_SNDBUF / SO_RCVBUF on stream sockets: set before listen, inherited on accept
  add("SO_RCVBUF and SO_SNDBUF on a listener go to the accepted socket", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    setopt("l", SOL_SOCKET, 8, int(6000)),
    setopt("l", SOL_SOCKET, 7, int(10000)),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l" }),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    s("poll", { fd: "l", events: POLLIN, timeout: 2000 }),
    s("accept", { fd: "l", as: "a", flags: NB }),
    getopt("a", SOL_SOCKET, 8),
    getopt("a", SOL_SOCKET, 7),
    p("poll", { fd: "pc", events: POLLOUT, timeout: 2000 }),
    p("send", { fd: "pc", data: text("through") }),
    s("poll", { fd: "a", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "a" }),
  ]);
  add("SO_RCVBUF on a stream socket before connect, and after", (port) => [
    ...peerListen(port),
    s("socket", { as: "c", family: AF_INET, type: STREAM | NB }),
    setopt("c", SOL_SOCKET, 8, int(5000)),
    getopt("c", SOL_SOCKET, 8),
    s("connect", { fd: "c", addr: sin(PEER, port) }),
    s("poll", { fd: "c", events: ALL, timeout: 2000 }),
    p("poll", { fd: "pl", events: POLLIN, timeout: 2000 }),
    p("accept", { fd: "pl", as: "pc", flags: NB }),
    setopt("c", SOL_SOCKET, 8, int(9000)),
    getopt("c", SOL_SOCKET, 8),
    p("send", { fd: "pc", data: text("ok") }),
    s("poll", { fd: "c", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "c" }),
  ]);

  add("MSG_OOB: a newer urgent byte drops an older one waiting at the read point", (port) => [
    ...connected(port),
    p("send", { fd: "pc", data: text("a"), flags: 1 }),
    s("poll", { fd: "c", events: 2, timeout: 2000 }),
    p("send", { fd: "pc", data: text("b"), flags: 1 }),
    s("sleep", { ms: 100 }),
    s("ioctl", { fd: "c", req: 0x541b, arg: int(7) }),
    s("ioctl", { fd: "c", req: 0x8905, arg: int(7) }),
    s("recv", { fd: "c", flags: 1 }),
    s("recv", { fd: "c" }),
    s("ioctl", { fd: "c", req: 0x541b, arg: int(7) }),
  ]);
  add("SO_SNDBUF and SO_RCVBUF of 1 on each kind: the minimums; SO_OOBINLINE's default", () =>
    KINDS.flatMap(([kind, family, type]) => [
      s("socket", { as: kind, family, type: type | NB }),
      setopt(kind, SOL_SOCKET, 7, int(1)),
      getopt(kind, SOL_SOCKET, 7),
      setopt(kind, SOL_SOCKET, 8, int(1)),
      getopt(kind, SOL_SOCKET, 8),
      getopt(kind, SOL_SOCKET, 10),
    ]),
  );

  // ---- TCP_INFO: the kernel's whole struct, and the fields both must agree on
  add("TCP_INFO of a connection after an exchange, the whole struct", (port) => [
    ...connected(port),
    s("send", { fd: "c", data: text("hello") }),
    p("poll", { fd: "pc", events: POLLIN, timeout: 2000 }),
    p("recv", { fd: "pc" }),
    p("send", { fd: "pc", data: text("world!") }),
    s("poll", { fd: "c", events: POLLIN, timeout: 2000 }),
    s("recv", { fd: "c" }),
    s("sleep", { ms: 300 }),
    s("tcpinfo", { fd: "c", cap: 512, fields: TCP_INFO_AGREED }),
  ]);
  add("TCP_INFO with optlen short of, and beyond, the struct", (port) => [
    ...connected(port),
    s("tcpinfo", { fd: "c", cap: 100 }),
    s("tcpinfo", { fd: "c", cap: 1 }),
    s("tcpinfo", { fd: "c", cap: 0 }),
    s("tcpinfo", { fd: "c", cap: 400 }),
  ]);
  add("TCP_INFO of a listener and of a fresh socket", (port) => [
    s("socket", { as: "l", family: AF_INET, type: STREAM | NB }),
    s("tcpinfo", { fd: "l", cap: 512, fields: ["state", "reordering", "max_pacing_rate"] }),
    s("bind", { fd: "l", addr: sin(SELF, port) }),
    s("listen", { fd: "l", backlog: 5 }),
    s("tcpinfo", { fd: "l", cap: 512, fields: ["state", "unacked", "sacked", "reordering"] }),
    p("socket", { as: "pc", family: AF_INET, type: STREAM | NB }),
    p("connect", { fd: "pc", addr: sin(SELF, port) }),
    s("poll", { fd: "l", events: POLLIN, timeout: 2000 }),
    s("tcpinfo", { fd: "l", cap: 512, fields: ["state", "unacked", "sacked"] }),
  ]);
  return list;
}
