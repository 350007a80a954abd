// The desktop simulator: the stack on a Linux TAP device, driven by Node's event loop.
//
// Without --tap it builds a private network namespace (gone when the simulator exits) with a TAP,
// the kernel at .1 of the stack's subnet, shows the stack answering a ping and a UDP echo from the
// kernel side, and then runs with a live status line until Ctrl-C. With --tap NAME it attaches to
// an existing TAP in the current namespace and makes no lab.

import { spawnSync } from "node:child_process";
import type { NetDevice, Pollable } from "../src/device.js";
import { simulatedEnc28j60 } from "../hal/enc28j60/simulated.js";
import { ImpairedDevice, ImpairOptions } from "../hal/impair.js";
import { PcapDevice } from "../hal/pcap.js";
import { NodeDriver } from "../hal/platform/node/driver.js";
import { Lab } from "../hal/platform/node/lab.js";
import { PcapFileSink } from "../hal/platform/node/pcap-file.js";
import { TapDevice } from "../hal/tap/tap.js";
import { simulatedW5500 } from "../hal/w5500/chip.js";
import { HttpServer } from "../src/apps/http-server.js";
import { TcpServices } from "../src/apps/tcp-services.js";
import { UdpEcho } from "../src/apps/udp-echo.js";
import { Stack } from "../src/stack.js";
import { formatIPv4, formatMac, parseIPv4, parseMac, prefixMask } from "../src/wire/address.js";
import { dropTotal } from "./status.js";

const USAGE = `usage: npm start -- [options]        (as root)
  --tap NAME            attach to an existing TAP in this namespace; make no lab
  --ip A.B.C.D/N        the stack's address (default 192.0.2.2/24)
  --gw A.B.C.D          default gateway
  --mac-addr MAC        the stack's MAC address (default 02:54:41:50:00:02)
  --pcap FILE           record every frame on the link to FILE
  --impair SPEC         seeded faults, e.g. loss=0.1,reorder=0.05,dup=0.02,corrupt=0,delay=0,seed=1
  --device KIND         tap (default): the stack on the TAP; enc28j60: through the chip's driver
                        and the simulated chip, whose wire is the TAP; w5500: the same for that chip
  --help`;

interface Options {
  tap: string | null;
  address: number;
  prefix: number;
  gateway: number;
  mac: Uint8Array;
  pcap: string | null;
  impair: ImpairOptions | null;
  device: "tap" | "enc28j60" | "w5500";
}

function fail(message: string): never {
  console.error(`netstack-sim: ${message}`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    tap: null,
    address: parseIPv4("192.0.2.2")!,
    prefix: 24,
    gateway: 0,
    mac: Uint8Array.of(0x02, 0x54, 0x41, 0x50, 0x00, 0x02),
    pcap: null,
    impair: null,
    device: "tap",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case "--tap":
        options.tap = value();
        break;
      case "--ip": {
        const [address, prefix = "24"] = value().split("/");
        const parsed = parseIPv4(address);
        options.prefix = Number(prefix);
        if (parsed === null || !(options.prefix >= 1 && options.prefix <= 30))
          fail(`bad --ip ${argv[i]} (want A.B.C.D/N with N from 1 to 30)`);
        options.address = parsed;
        break;
      }
      case "--gw": {
        const gateway = parseIPv4(value());
        if (gateway === null) fail(`bad --gw ${argv[i]}`);
        options.gateway = gateway;
        break;
      }
      case "--mac-addr":
        if (!parseMac(value(), options.mac) || (options.mac[0] & 1) !== 0)
          fail(`bad --mac-addr ${argv[i]} (want a unicast XX:XX:XX:XX:XX:XX)`);
        break;
      case "--pcap":
        options.pcap = value();
        break;
      case "--impair": {
        const parsed = ImpairedDevice.parse(value());
        if (typeof parsed === "string") fail(`bad --impair: ${parsed}`);
        options.impair = parsed;
        break;
      }
      case "--device": {
        const kind = value();
        if (kind !== "tap" && kind !== "enc28j60" && kind !== "w5500")
          fail(`bad --device ${kind} (want tap, enc28j60 or w5500)`);
        options.device = kind;
        break;
      }
      case "--help":
      case "-h":
        console.log(USAGE);
        process.exit(0);
      default:
        fail(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return options;
}

/** The kernel's address in the lab: the subnet's first host, or its second if the stack has that. */
function kernelAddress(address: number, prefix: number): number {
  const network = address & prefixMask(prefix);
  return (network | 1) === address ? network | 2 : network | 1;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const ip = formatIPv4(options.address);
  let lab: Lab | null = null;
  let tap: TapDevice;
  if (options.tap === null) {
    const check = Lab.check();
    if (!check.ok) fail(`cannot make a lab here: ${check.reason} (run as root, or use --tap NAME)`);
    lab = await Lab.create();
    const kernel = kernelAddress(options.address, options.prefix);
    tap = await lab.tap("tap0", {
      kernelIp: `${formatIPv4(kernel)}/${options.prefix}`,
      mac: options.mac,
    });
    console.log(`lab: namespace of pid ${lab.pid}, tap0 with the kernel at ${formatIPv4(kernel)}`);
  } else {
    tap = new TapDevice({ name: options.tap, mac: options.mac });
    console.log(`attached to ${options.tap}`);
  }

  let device: NetDevice = tap;
  let sink: PcapFileSink | null = null;
  if (options.pcap !== null) {
    sink = new PcapFileSink(options.pcap);
    device = new PcapDevice(device, sink, { epoch: Date.now() - performance.now() });
  }
  let impaired: ImpairedDevice | null = null;
  if (options.impair !== null) {
    impaired = new ImpairedDevice(device, options.impair);
    device = impaired;
  }

  const driver = new NodeDriver();

  // Desktop sizing: room for bursts from the kernel and for 64 KiB datagrams.
  const stack = new Stack({
    seed: (Math.random() * 0x100000000) >>> 0,
    buffers: 512,
    neighbors: 32,
    arpQueue: 128,
    reassemblySlots: 8,
    reassemblySize: 65535,
    udpSockets: 16,
    udpReceiveBuffer: 256 * 1024,
    appMemory: 65536 + TcpServices.memoryNeeded(SERVICES) + HttpServer.memoryNeeded(HTTP),
    tcpSockets: 16,
    tcpSendBuffer: 65536,
    tcpReceiveBuffer: 65536,
  });
  // A chip device: the stack talks to its driver, the simulated chip to the wire.
  const wire = device;
  let chip: Pollable | null = null;
  if (options.device === "enc28j60") {
    const simulated = simulatedEnc28j60(wire, options.mac, () => driver.now());
    chip = simulated.chip;
    device = simulated.driver;
  } else if (options.device === "w5500") {
    // The W5500 simulator takes the wire's events itself and wakes the driver through onWake.
    const simulated = simulatedW5500(wire, options.mac, () => driver.now());
    device = simulated.driver;
    driver.add(simulated.chip);
    console.log("device: W5500 driver on a simulated chip (SPI 20 MHz) wired to the TAP");
  }
  stack.attach(device, {
    address: options.address,
    prefix: options.prefix,
    gateway: options.gateway,
  });
  const echo = new UdpEcho(stack, 7);
  const tcpServices = new TcpServices(stack, SERVICES);
  const http = new HttpServer(stack, HTTP);
  if (chip !== null) {
    driver.add(chip);
    driver.attach(wire);
  }
  driver.add(stack);
  driver.attach(device);
  console.log(
    `stack: ${ip}/${options.prefix} mac ${formatMac(options.mac)}, UDP echo on port 7, TCP echo 7, discard 9, chargen 19, HTTP 80` +
      (options.device !== "tap" ? `, through a simulated ${options.device}` : ""),
  );

  let status: ReturnType<typeof setInterval> | null = null;
  let closing = false;
  const shutdown = async (code: number): Promise<void> => {
    if (closing) return;
    closing = true;
    if (status !== null) clearInterval(status);
    if (process.stdout.isTTY) process.stdout.write("\n");
    driver.stop();
    console.log(statusLine(stack, echo));
    console.log(`tcp: ${tcpServices.accepted} connections, ${tcpServices.bytesIn} bytes in`);
    console.log(`http: ${http.accepted} connections, ${http.requests} requests`);
    if (sink !== null) sink.close();
    if (lab !== null) await lab.close();
    else tap.close();
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  if (lab !== null) {
    // With --impair some of these may be lost or doubled: one answer of each kind is enough.
    const ping = await kernelPing(lab, ip, 5);
    const summary = /(\d+) packets transmitted, (\d+) received.*\n.*= ([\d./]+) ms/s.exec(ping);
    console.log(
      summary
        ? `ping from the kernel: ${summary[2]} of ${summary[1]} answered, rtt min/avg/max/mdev ${summary[3]} ms`
        : `ping from the kernel: no answer\n${ping}`,
    );
    let echoed = false;
    for (let attempt = 0; attempt < 3 && !echoed; attempt++) {
      const reply = await kernelUdpEcho(lab, ip, "hello from the kernel\n");
      echoed = reply.startsWith("hello from the kernel\n");
      console.log(`UDP echo from the kernel: ${JSON.stringify(reply)}`);
    }
    if (summary === null || !echoed) {
      console.error("netstack-sim: the stack did not answer");
      await shutdown(1);
      return;
    }
    console.log(`reach it from a shell: sudo nsenter -t ${lab.pid} -n -m ping ${ip}`);
    console.log(`                       sudo nsenter -t ${lab.pid} -n -m socat - UDP4:${ip}:7`);
    console.log(`                       sudo nsenter -t ${lab.pid} -n -m curl http://${ip}/`);
  } else {
    console.log(`reach it at ${ip} through ${options.tap}`);
  }
  console.log(`ready ${ip}`);

  status = setInterval(
    () => {
      const line = statusLine(stack, echo);
      if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${line}`);
      else console.log(line);
    },
    process.stdout.isTTY ? 500 : 10000,
  );
}

/** The HTTP server's sessions: with the TCP services' 8 and 4 listeners, within the 16 sockets. */
const HTTP = Object.freeze({ sessions: 4 });
/** TCP echo, discard and chargen: 8 sessions of 16 KB. */
const SERVICES = Object.freeze({ sessions: 8, bufferSize: 16384 });

function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/** ICMP echo from Python's raw socket, printing what ping(8) prints, where ping is not installed. */
const PY_PING = `
import os, socket, struct, sys, time
def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
dst, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1)
ident, rtts = os.getpid() & 0xffff, []
for seq in range(1, count + 1):
    body = struct.pack("!HH", ident, seq) + b"netstack-sim-ping-payload-56-bytes-long-enough-padding!!"
    s.sendto(struct.pack("!BBH", 8, 0, checksum(struct.pack("!BBH", 8, 0, 0) + body)) + body, (dst, 0))
    sent = time.time()
    try:
        while True:
            data, _ = s.recvfrom(2048)
            h = (data[0] & 15) * 4
            if data[h] == 0 and struct.unpack("!HH", data[h + 4:h + 8]) == (ident, seq):
                rtts.append((time.time() - sent) * 1000); break
    except socket.timeout:
        pass
    time.sleep(0.2)
print("%d packets transmitted, %d received" % (count, len(rtts)))
if rtts:
    avg = sum(rtts) / len(rtts)
    print("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/0.000 ms" % (min(rtts), avg, max(rtts)))
`;

/** Pings from the kernel's side with ping(8), or with Python where ping is not installed. */
async function kernelPing(lab: Lab, ip: string, count: number): Promise<string> {
  const result = hasCommand("ping")
    ? await lab.run("ping", ["-c", String(count), "-i", "0.2", "-W", "2", ip], { timeoutMs: 15000 })
    : await lab.run("python3", ["-c", PY_PING, ip, String(count)], { timeoutMs: 15000 });
  return result.stdout + result.stderr;
}

const NODE_UDP_CLIENT = `
const socket = require("node:dgram").createSocket("udp4");
const [ip, text] = process.argv.slice(1);
const timer = setTimeout(() => process.exit(0), 1000);
socket.on("message", (reply) => { process.stdout.write(reply); clearTimeout(timer); setTimeout(() => process.exit(0), 200); });
socket.send(text, 7, ip);
`;

/** One datagram to port 7 from the kernel's side, with socat, or with Node where socat is not installed. */
async function kernelUdpEcho(lab: Lab, ip: string, text: string): Promise<string> {
  const result = hasCommand("socat")
    ? await lab.run("socat", ["-t", "1", "-T", "1", "-", `UDP4:${ip}:7`], {
        input: text,
        timeoutMs: 5000,
      })
    : await lab.run(process.execPath, ["-e", NODE_UDP_CLIENT, ip, text], { timeoutMs: 5000 });
  return result.stdout;
}

function statusLine(stack: Stack, echo: UdpEcho): string {
  const iface = stack.iface!;
  const pool = stack.pool;
  return (
    `frames in ${iface.link.framesIn} out ${iface.link.framesOut}` +
    ` | drops ${dropTotal(iface, stack.udp.stats)}` +
    ` | pool ${pool.count - pool.available}/${pool.count} in use` +
    ` | arp ${iface.neighbors.queued} waiting | udp echoed ${echo.echoed}`
  );
}

main().catch((error: unknown) => {
  console.error(`netstack-sim: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
