// The TAP device against the real kernel, inside a lab namespace the suite makes itself.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import * as assert from "uvu/assert";
import { DEVICE_RECEIVE, TX_TAKEN } from "../../src/device.js";
import { EINVAL, ENETDOWN } from "../../src/errno.js";
import { NodeDriver } from "../../hal/platform/node/driver.js";
import { Lab } from "../../hal/platform/node/lab.js";
import type { TapDevice } from "../../hal/tap/tap.js";
import { labOrSkip } from "../support/lab.js";
import { ether, icmp, ip, ipv4 } from "../support/frames.js";

const test = labOrSkip("hal/tap");

const KERNEL_IP = [192, 0, 2, 1];
const STACK_IP = [192, 0, 2, 2];
const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV4 = 0x0800;

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function macText(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits, through onEvent, for a frame `wanted` accepts; returns its length. */
function receiveMatching(
  device: TapDevice,
  frame: Uint8Array,
  wanted: (frame: Uint8Array, length: number) => boolean,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      device.onEvent = null;
      reject(new Error(`no matching frame within ${timeoutMs} ms`));
    }, timeoutMs);
    const drain = (): void => {
      for (let n = device.receive(frame, 0, frame.length); n > 0;) {
        if (wanted(frame, n)) {
          clearTimeout(timer);
          device.onEvent = null;
          resolve(n);
          return;
        }
        n = device.receive(frame, 0, frame.length);
      }
    };
    device.onEvent = drain;
    drain();
  });
}

function arpReply(stackMac: Uint8Array, kernelMac: Uint8Array): Uint8Array {
  const frame = new Uint8Array(42);
  frame.set(kernelMac, 0);
  frame.set(stackMac, 6);
  frame.set([0x08, 0x06], 12);
  frame.set([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02], 14); // Ethernet/IPv4, reply
  frame.set(stackMac, 22);
  frame.set(STACK_IP, 28);
  frame.set(kernelMac, 32);
  frame.set(KERNEL_IP, 38);
  return frame;
}

/** Whether a process is gone (or a zombie: it has left its namespaces either way). */
function gone(pid: number): boolean {
  try {
    return /State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; await sleep(20)) {
    if (gone(pid)) return true;
  }
  return gone(pid);
}

test("the kernel's ARP request arrives and a hand-built reply fills its neighbor table", async ({
  lab,
}) => {
  const tap = await lab.tap("tap0", { kernelIp: "192.0.2.1/24" });
  const ping = lab.spawn("ping", ["-c", "1", "-W", "1", "192.0.2.2"], { stdio: "ignore" });
  try {
    assert.ok(tap.linkUp);
    const kernelMac = lab.kernelMac("tap0");
    const frame = new Uint8Array(2048);
    const length = await receiveMatching(
      tap,
      frame,
      (f) => u16(f, 12) === ETHERTYPE_ARP && u16(f, 20) === 1,
      3000,
    );
    assert.is(length, 42, "an ARP request without padding");
    assert.equal(Array.from(frame.subarray(0, 6)), [255, 255, 255, 255, 255, 255]);
    assert.equal(frame.subarray(6, 12), kernelMac);
    assert.is(u16(frame, 14), 1, "hardware type Ethernet");
    assert.is(u16(frame, 16), ETHERTYPE_IPV4, "protocol type IPv4");
    assert.equal(frame.subarray(22, 28), kernelMac, "sender hardware address");
    assert.equal(Array.from(frame.subarray(28, 32)), KERNEL_IP, "sender protocol address");
    assert.equal(Array.from(frame.subarray(38, 42)), STACK_IP, "target protocol address");

    const reply = arpReply(tap.mac, kernelMac);
    assert.is(tap.transmit(reply, 0, reply.length), TX_TAKEN);
    assert.is(tap.held, 1, "held in the batch until a flush");
    assert.is(tap.framesOut, 0);
    tap.flush();
    assert.is(tap.held, 0);
    assert.is(tap.framesOut, 1);
    assert.is(tap.bytesOut, 42);

    let neighbors = "";
    for (let tries = 0; tries < 50; tries++) {
      neighbors = (await lab.run("ip", ["neigh", "show", "192.0.2.2", "dev", "tap0"])).stdout;
      if (neighbors.includes("lladdr")) break;
      await sleep(20);
    }
    assert.match(neighbors, `lladdr ${macText(tap.mac)}`);
    assert.not.match(neighbors, /FAILED|INCOMPLETE/);

    // Now that the kernel knows the stack's address, the ping itself arrives, sent to it.
    await receiveMatching(
      tap,
      frame,
      (f) => u16(f, 12) === ETHERTYPE_IPV4 && f[23] === 1 && f[34] === 8,
      3000,
    );
    assert.equal(frame.subarray(0, 6), tap.mac);
    assert.ok(tap.framesIn >= 2);
    assert.is(tap.errorsIn, 0);
  } finally {
    ping.kill("SIGKILL");
    lab.closeTap(tap);
  }
});

test("a burst of echo requests leaves in one write call; the replies come back in one read, in order", async ({
  lab,
}) => {
  const tap = await lab.tap("burst0", { kernelIp: "192.0.2.1/24", batch: 32 });
  try {
    const neighbor = await lab.run("ip", [
      "neigh",
      "replace",
      "192.0.2.2",
      "lladdr",
      macText(tap.mac),
      "dev",
      "burst0",
      "nud",
      "permanent",
    ]);
    assert.is(neighbor.status, 0, neighbor.stderr);
    const kernelMac = lab.kernelMac("burst0");
    const COUNT = 24;
    for (let seq = 0; seq < COUNT; seq++) {
      const request = ether(
        kernelMac,
        tap.mac,
        ETHERTYPE_IPV4,
        ipv4({
          source: ip("192.0.2.2"),
          destination: ip("192.0.2.1"),
          protocol: 1,
          id: seq,
          payload: icmp({ type: 8, rest: (0x4242 << 16) | seq, payload: new Uint8Array(32) }),
        }),
      );
      assert.is(tap.transmit(request, 0, request.length), TX_TAKEN);
    }
    assert.is(tap.batchesOut, 0);
    tap.flush();
    assert.is(tap.batchesOut, 1, "one addon call for the burst");
    assert.is(tap.framesOut, COUNT);

    // The kernel answers inside our writes (its input runs in the writer's context); a moment
    // more lets every reply wait in the TAP's queue together.
    await sleep(50);
    const frame = new Uint8Array(1514);
    const sequences: number[] = [];
    for (
      let n = tap.receive(frame, 0, frame.length);
      n > 0;
      n = tap.receive(frame, 0, frame.length)
    ) {
      if (u16(frame, 12) === ETHERTYPE_IPV4 && frame[23] === 1 && frame[34] === 0)
        sequences.push(u16(frame, 40));
    }
    assert.equal(
      sequences,
      Array.from({ length: COUNT }, (_, i) => i),
      "every reply, in order",
    );
    assert.is(tap.framesIn, COUNT);
    assert.is(tap.batchesIn, 1, "one addon call read them all");
  } finally {
    lab.closeTap(tap);
  }
});

test("receive returns 0 when nothing waits", async ({ lab }) => {
  const tap = await lab.tap("idle0");
  try {
    const frame = new Uint8Array(1514);
    for (let i = 0; i < 5; i++) {
      assert.is(tap.receive(frame, 0, frame.length), 0);
      await sleep(10);
    }
    assert.is(tap.framesIn, 0);
    assert.is(tap.errorsIn, 0);
  } finally {
    lab.closeTap(tap);
  }
});

test("a frame longer than the capacity is cut short and its full length reported", async ({
  lab,
}) => {
  const tap = await lab.tap("trunc0", { kernelIp: "192.0.2.1/24" });
  try {
    const neighbor = await lab.run("ip", [
      "neigh",
      "replace",
      "192.0.2.2",
      "lladdr",
      macText(tap.mac),
      "dev",
      "trunc0",
      "nud",
      "permanent",
    ]);
    assert.is(neighbor.status, 0, neighbor.stderr);
    let waiting = false;
    tap.onEvent = (events) => (waiting = events === DEVICE_RECEIVE);
    await lab.run("ping", ["-c", "1", "-W", "0.2", "-s", "1000", "192.0.2.2"]);
    for (let tries = 0; !waiting && tries < 100; tries++) await sleep(10);
    tap.onEvent = null;
    assert.ok(waiting, "the echo request was signalled");

    // A capacity running past the end of the buffer is refused and leaves the frame waiting.
    assert.is(tap.receive(new Uint8Array(64), 0, 1514), 0);
    assert.is(tap.errorsIn, 1);
    assert.is(tap.lastError, -22);

    const frame = new Uint8Array(200).fill(0xee);
    const length = tap.receive(frame, 10, 100);
    assert.is(length, 14 + 20 + 8 + 1000, "the full length of the echo request");
    assert.is(tap.truncatedIn, 1);
    assert.equal(frame.subarray(10, 16), tap.mac, "the head was copied");
    assert.is(u16(frame, 22), ETHERTYPE_IPV4);
    assert.is(frame[9], 0xee, "nothing written before offset");
    assert.ok(
      frame.subarray(110).every((b) => b === 0xee),
      "nothing written past capacity",
    );
  } finally {
    lab.closeTap(tap);
  }
});

test("transmit refuses a span past the end of the frame", async ({ lab }) => {
  const tap = await lab.tap("span0");
  try {
    assert.is(tap.transmit(new Uint8Array(60), 10, 60), -EINVAL);
    assert.is(tap.errorsOut, 1);
    assert.is(tap.framesOut, 0);
  } finally {
    lab.closeTap(tap);
  }
});

test("a closed device reports no link and does nothing", async ({ lab }) => {
  const tap = await lab.tap("gone0");
  lab.closeTap(tap);
  assert.not.ok(tap.linkUp);
  assert.is(tap.transmit(new Uint8Array(60), 0, 60), -ENETDOWN);
  assert.is(tap.receive(new Uint8Array(60), 0, 60), 0);
  assert.is(lab.readSys("class/net/gone0/carrier"), "", "the kernel removed the interface");
});

test("NodeDriver polls when the kernel sends the TapDevice a frame", async ({ lab }) => {
  const tap = await lab.tap("drive0", { kernelIp: "192.0.2.1/24" });
  const driver = new NodeDriver();
  const frame = new Uint8Array(1514);
  let arpRequests = 0;
  const drainer = {
    poll(): void {
      for (let n = tap.receive(frame, 0, frame.length); n > 0;) {
        if (u16(frame, 12) === ETHERTYPE_ARP) arpRequests++;
        n = tap.receive(frame, 0, frame.length);
      }
    },
    nextDeadline: (): number => Infinity,
  };
  driver.add(drainer);
  driver.attach(tap);
  await sleep(10);
  assert.is(driver.polls, 1, "one poll at start, none while idle");
  const ping = lab.spawn("ping", ["-c", "1", "-W", "1", "192.0.2.2"], { stdio: "ignore" });
  try {
    for (let tries = 0; arpRequests === 0 && tries < 200; tries++) await sleep(10);
    assert.ok(arpRequests > 0, "the ARP request was polled");
    assert.ok(driver.polls >= 2, "readiness made another poll");
  } finally {
    driver.stop();
    ping.kill("SIGKILL");
    lab.closeTap(tap);
  }
});

test("close() ends the holder and every program started in the lab", async () => {
  const lab = await Lab.create();
  const tap = await lab.tap("tap0", { kernelIp: "192.0.2.1/24" });
  const peer = lab.spawn("sleep", ["30"], { stdio: "ignore" });
  await sleep(50);
  assert.ok(peer.pid !== undefined && !gone(peer.pid));
  assert.not.ok(gone(lab.pid));
  await lab.close();
  assert.ok(lab.closed);
  assert.not.ok(tap.linkUp);
  assert.ok(gone(lab.pid), "the holder is gone");
  assert.ok(gone(peer.pid), "the peer is gone");
});

/**
 * Runs a Node program that makes a lab and reports the holder's pid, then does what `rest` says.
 * The program dies with this process, and every wait on it is bounded.
 */
function labChild(rest: string): {
  pid: Promise<number>;
  exit: Promise<number | null>;
  kill(): void;
} {
  const labModule = new URL("../../hal/platform/node/lab.js", import.meta.url).href;
  const program = `
    import { Lab } from ${JSON.stringify(labModule)};
    const lab = await Lab.create();
    const tap = await lab.tap("tap0", { kernelIp: "192.0.2.1/24" });
    tap.onEvent = () => {};
    tap.onEvent = null;
    console.log(String(lab.pid));
    ${rest}
  `;
  const child = spawn(
    "setpriv",
    ["--pdeathsig", "KILL", process.execPath, "--input-type=module", "-e", program],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const deadline = setTimeout(() => child.kill("SIGKILL"), 10_000);
  let output = "";
  child.stdout.setEncoding("utf8");
  const pid = new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (chunk: string) => {
      output += chunk;
      const match = /^(\d+)\n/.exec(output);
      if (match !== null) resolve(Number(match[1]));
    });
    // "close" comes after the last output; "exit" may come before it.
    child.once("close", () => reject(new Error(`the program ended without a pid: ${output}`)));
  });
  const exit = new Promise<number | null>((resolve) =>
    child.once("close", (code) => {
      clearTimeout(deadline);
      resolve(code);
    }),
  );
  return { pid, exit, kill: () => child.kill("SIGKILL") };
}

test("a lab left open does not keep Node alive, and exit removes it", async () => {
  const child = labChild("");
  const holder = await child.pid;
  assert.is(await child.exit, 0, "the program ended by itself");
  assert.ok(await waitGone(holder, 2000), "the holder is gone");
});

test("a parent killed with SIGKILL takes its lab with it", async () => {
  const child = labChild("setInterval(() => {}, 1000);");
  const holder = await child.pid;
  assert.not.ok(gone(holder));
  child.kill();
  await child.exit;
  assert.ok(await waitGone(holder, 2000), "the holder is gone");
});

test.run();
