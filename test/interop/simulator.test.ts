// The desktop simulator as a user runs it: its own lab, and --tap on a TAP someone else made.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";
import { labOrSkip } from "../support/lab.js";

const test = labOrSkip("interop/simulator");
const SIM = fileURLToPath(new URL("../../sim/main.js", import.meta.url));

/** Collects a child's output and resolves when a line matching `pattern` appears. */
function waitFor(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}:\n${output}`));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** Whether a process has ended (this machine's init does not reap, so a zombie counts). */
function gone(pid: string): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c));
    child.stderr.on("data", (c: Buffer) => (output += c));
    child.once("exit", () => resolve(output));
  });
}

test("npm start's simulator makes its lab, answers, says ready, and leaves nothing on Ctrl-C", async () => {
  const sim = spawn(process.execPath, [SIM], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const output = await waitFor(sim, /ready 192\.0\.2\.2\n/, 20000);
    assert.match(output, /ping from the kernel: 5 of 5 answered/);
    assert.match(output, /UDP echo from the kernel: "hello from the kernel\\n"/);
    const pid = /namespace of pid (\d+)/.exec(output)![1];
    const ping = await run("nsenter", [
      "-t",
      pid,
      "-n",
      "-m",
      "ping",
      "-c",
      "3",
      "-i",
      "0.05",
      "-W",
      "2",
      "192.0.2.2",
    ]);
    assert.match(ping, /3 packets transmitted, 3 received/);
    sim.kill("SIGINT");
    assert.is(await exited(sim), 0);
    assert.ok(gone(pid), "the lab's holder is gone");
  } finally {
    sim.kill("SIGKILL");
  }
});

test("--tap attaches to an existing TAP, --pcap records what tcpdump then reads", async ({
  lab,
}) => {
  const made = await lab.run("sh", [
    "-c",
    "ip tuntap add tapsim mode tap && sysctl -qw net.ipv6.conf.tapsim.disable_ipv6=1 && ip addr add 192.0.2.1/24 dev tapsim && ip link set tapsim up",
  ]);
  assert.is(made.status, 0, made.stderr);
  const dir = mkdtempSync(join(tmpdir(), "netstack-sim-"));
  const pcap = join(dir, "sim.pcap");
  const sim = lab.spawn(
    process.execPath,
    [SIM, "--tap", "tapsim", "--pcap", pcap, "--mac-addr", "02:00:00:00:00:99"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  try {
    await waitFor(sim, /ready 192\.0\.2\.2\n/, 20000);
    const ping = await lab.run("ping", ["-c", "3", "-i", "0.05", "-W", "2", "192.0.2.2"]);
    assert.match(ping.stdout, /3 packets transmitted, 3 received/);
    const neighbor = await lab.run("ip", ["neigh", "show", "192.0.2.2"]);
    assert.match(neighbor.stdout, /02:00:00:00:00:99/);
    const read = await run("tcpdump", ["-nn", "-r", pcap]);
    assert.is((read.match(/ICMP echo reply/g) ?? []).length, 3, read);
    sim.kill("SIGINT");
    assert.is(await exited(sim), 0);
  } finally {
    sim.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
