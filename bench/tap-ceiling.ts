// The raw frame ceiling of the TAP path, with no stack: how many 1514-byte frames per second a
// TapDevice can write into the kernel, and read when the kernel floods it, through transmit() and
// receive() (frames cross in batches of TapDevice.batch per addon call). Whatever the stack
// achieves over a TAP is bounded by these figures.
//
// Both run inside a lab namespace. Transmit: UDP to 192.0.2.1 port 9, which the kernel drops
// (nothing listens). Receive: the kernel sends UDP to 192.0.2.2 (a static neighbor with the
// TapDevice's MAC) from a small C sendmmsg sender, the fastest sender measured here (~700k
// frames/s); without a C compiler, socat (~140k frames/s, so then the figure is socat's).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Lab } from "../hal/platform/node/lab.js";
import type { TapDevice } from "../hal/tap/tap.js";

export interface TapCeiling {
  /** Frames per second read from the TAP while the kernel floods it. */
  rxFps: number;
  /** Frames per second written into the TAP. */
  txFps: number;
  /** What flooded the TAP: "sendmmsg" or "socat". */
  sender: string;
}

const FRAME = 1514;
const UDP_PAYLOAD = FRAME - 14 - 20 - 8;
const WARM_UP_MS = 200;
/** Frames drained per readiness callback, so a flood cannot starve the loop's timers. */
const DRAIN_BUDGET = 1024;

const SENDER_C = `
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#define BATCH 64
static char payload[${UDP_PAYLOAD}];
int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {0};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  inet_pton(AF_INET, "192.0.2.2", &to.sin_addr);
  if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof to) < 0) return 1;
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH] = {0};
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = sizeof payload;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  struct timespec now, end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += (time_t)seconds + 1;
  do {
    for (int i = 0; i < 64; i++) sendmmsg(s, msgs, BATCH, MSG_DONTWAIT);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec < end.tv_sec);
  return 0;
}
`;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function macText(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** One 1514-byte Ethernet/IPv4/UDP frame from 192.0.2.2 to 192.0.2.1 port 9. */
function udpFrame(source: Uint8Array, destination: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME);
  frame.set(destination, 0);
  frame.set(source, 6);
  frame.set([0x08, 0x00], 12);
  const ip = 14;
  const total = FRAME - 14;
  frame.set([0x45, 0, total >> 8, total & 0xff, 0, 1, 0x40, 0, 64, 17, 0, 0], ip);
  frame.set([192, 0, 2, 2, 192, 0, 2, 1], ip + 12);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (frame[ip + i] << 8) | frame[ip + i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const checksum = ~sum & 0xffff;
  frame[ip + 10] = checksum >> 8;
  frame[ip + 11] = checksum & 0xff;
  const udp = ip + 20;
  const udpLength = total - 20;
  // Checksum 0: none, which IPv4 allows, so the kernel does not spend time verifying it.
  frame.set([0, 9, 0, 9, udpLength >> 8, udpLength & 0xff, 0, 0], udp);
  return frame;
}

/** Builds the C sender into a temporary directory; null without a compiler. */
function buildSender(): { path: string; dir: string } | null {
  const dir = mkdtempSync(join(tmpdir(), "tap-ceiling-"));
  writeFileSync(join(dir, "sender.c"), SENDER_C);
  const built = spawnSync("cc", ["-O2", "-o", join(dir, "sender"), join(dir, "sender.c")], {
    stdio: "ignore",
  });
  if (built.error !== undefined || built.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return { path: join(dir, "sender"), dir };
}

function measureTransmit(tap: TapDevice, frame: Uint8Array, seconds: number): number {
  const started = performance.now();
  const end = started + seconds * 1000;
  const before = tap.framesOut;
  let now = started;
  while (now < end) {
    for (let i = 0; i < 256; i++) tap.transmit(frame, 0, frame.length);
    // A full batch goes out by itself; the flush sends the rest, as the stack's output pass does.
    tap.flush();
    now = performance.now();
  }
  return (tap.framesOut - before) / ((now - started) / 1000);
}

async function measureReceive(
  lab: Lab,
  tap: TapDevice,
  seconds: number,
): Promise<{ fps: number; sender: string }> {
  const frame = new Uint8Array(2048);
  tap.onEvent = () => {
    for (let i = 0; i < DRAIN_BUDGET && tap.receive(frame, 0, frame.length) > 0; i++);
  };
  const built = buildSender();
  const sender = built !== null ? "sendmmsg" : "socat";
  const child =
    built !== null
      ? lab.spawn(built.path, [String(seconds + WARM_UP_MS / 1000)], { stdio: "ignore" })
      : lab.spawn("socat", ["-u", "-b", String(UDP_PAYLOAD), "/dev/zero", "UDP:192.0.2.2:9"], {
          stdio: "ignore",
        });
  try {
    await sleep(WARM_UP_MS);
    const before = tap.framesIn;
    const started = performance.now();
    await sleep(seconds * 1000);
    const fps = (tap.framesIn - before) / ((performance.now() - started) / 1000);
    return { fps, sender };
  } finally {
    tap.onEvent = null;
    child.kill("SIGKILL");
    if (built !== null) rmSync(built.dir, { recursive: true, force: true });
  }
}

/**
 * Measures each direction for `seconds` (so about twice that in all, plus set-up), moving `batch`
 * frames per addon call (1: one call per frame, as before batching).
 */
export async function tapCeiling(seconds: number, batch?: number): Promise<TapCeiling> {
  const check = Lab.check();
  if (!check.ok) throw new Error(`tapCeiling: ${check.reason}`);
  const lab = await Lab.create();
  try {
    const tap = await lab.tap("bench0", { kernelIp: "192.0.2.1/24", batch });
    // Static, so neither direction ever waits on ARP.
    const neighbor = await lab.run("ip", [
      "neigh",
      "replace",
      "192.0.2.2",
      "lladdr",
      macText(tap.mac),
      "dev",
      "bench0",
      "nud",
      "permanent",
    ]);
    if (neighbor.status !== 0) throw new Error(`tapCeiling: ${neighbor.stderr.trim()}`);
    const txFps = measureTransmit(tap, udpFrame(tap.mac, lab.kernelMac("bench0")), seconds);
    // Drop what the kernel answered (port unreachable) before flooding the other way.
    const scratch = new Uint8Array(2048);
    while (tap.receive(scratch, 0, scratch.length) > 0);
    const received = await measureReceive(lab, tap, seconds);
    return { rxFps: received.fps, txFps, sender: received.sender };
  } finally {
    await lab.close();
  }
}
