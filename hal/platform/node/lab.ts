// A hermetic network lab: a fresh network namespace (and mount namespace, so /sys shows that
// namespace's own devices) owned by one holder process. TAP devices are created inside it, and peer
// programs (ping, socat, curl, ...) run inside it with nsenter. Nothing is created or looked up in
// the machine's normal namespace.
//
// The namespace must never outlive its user: it disappears with its last process and its last
// TAP fd, so the lab kills the holder and every program it started on close(), on process exit and
// on SIGINT/SIGTERM, and each of those processes carries a parent-death signal (setpriv
// --pdeathsig) so that even a SIGKILLed parent takes the lab down with it.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { TapDevice, loadTapAddon } from "../../tap/tap.js";

/** Whether a lab can be made here. */
export interface LabCheck {
  /** True when a lab can be made. */
  ok: boolean;
  /** Why a lab cannot be made here; empty when ok. */
  reason: string;
}

/** Options of Lab.run(). */
export interface RunOptions {
  /** Kill the program after this long (default 10 s); the result then has signal "SIGKILL". */
  timeoutMs?: number;
  /** Written to the program's standard input, which is then closed. */
  input?: string;
}

/** What a program run in a lab did. */
export interface RunResult {
  /** Exit status, or null when killed. */
  status: number | null;
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null;
  /** Everything it wrote to standard output. */
  stdout: string;
  /** Everything it wrote to standard error. */
  stderr: string;
}

/** Options of Lab.tap(). */
export interface LabTapOptions {
  /** The kernel side's IPv4 address with prefix, e.g. "192.0.2.1/24". None if absent. */
  kernelIp?: string;
  /** Keep the kernel's IPv6 on this link (router solicitations, MLD, DAD). Default false. */
  ipv6?: boolean;
  /** The kernel side's IPv6 address with prefix, e.g. "2001:db8::1/64" (implies ipv6). */
  kernelIp6?: string;
  /** The stack's MAC address (see TapDevice). */
  mac?: Uint8Array;
  /** MTU on both sides; default 1500. */
  mtu?: number;
  /** Frames per addon call each way (see TapDeviceOptions.batch). */
  batch?: number;
}

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;
const READY_TIMEOUT_MS = 5000;
const CARRIER_TIMEOUT_MS = 2000;

/** The holder: mount the namespace's own sysfs, bring loopback up, say so, then wait forever. */
const HOLDER_SCRIPT =
  "mount -t sysfs sysfs /sys && ip link set lo up && echo ready && exec sleep infinity";

/**
 * Configures a fresh TAP inside the lab. IPv6 goes off before the link comes up so the kernel
 * never starts its chatter; the addresses come after so they need no duplicate detection.
 * Arguments: $1 name, $2 "1" to disable IPv6, $3 mtu, $4 IPv4 address, $5 IPv6 address.
 */
const TAP_SCRIPT = [
  'if [ "$2" = 1 ]; then echo 1 > "/proc/sys/net/ipv6/conf/$1/disable_ipv6" || exit 1; fi',
  'ip link set dev "$1" mtu "$3"',
  'if [ -n "$4" ]; then ip addr add "$4" dev "$1" || exit 1; fi',
  'ip link set dev "$1" up',
  'if [ -n "$5" ]; then ip -6 addr add "$5" dev "$1" nodad || exit 1; fi',
].join(" && ");

function hasCapability(capEffHex: string, bit: number): boolean {
  return ((BigInt(`0x${capEffHex}`) >> BigInt(bit)) & 1n) === 1n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** A private network namespace for tests and demos: TAP devices and peer programs (ping, socat) inside it, all removed on close or exit. */
export class Lab {
  /** The holder's pid: its /proc/<pid>/ns/net is the lab. */
  readonly pid: number;

  private readonly holder: ChildProcess;
  private readonly taps = new Set<TapDevice>();
  private readonly children = new Set<ChildProcess>();
  private closing: Promise<void> | null = null;
  private readonly onExit: () => void;
  private readonly onSignal: (signal: NodeJS.Signals) => void;

  private constructor(holder: ChildProcess) {
    this.holder = holder;
    this.pid = holder.pid as number;
    this.onExit = () => this.killNow();
    this.onSignal = (signal) => {
      this.killNow();
      // Our listener replaced Node's default of dying; restore it unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on("exit", this.onExit);
    process.once("SIGINT", this.onSignal);
    process.once("SIGTERM", this.onSignal);
  }

  /** Whether this machine can make a lab at all, and if not, why. Synchronous and cheap. */
  static check(): LabCheck {
    const no = (reason: string): LabCheck => ({ ok: false, reason });
    if (process.platform !== "linux") return no(`labs need Linux (this is ${process.platform})`);
    let capEff = "0";
    try {
      capEff = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "0";
    } catch {
      return no("cannot read /proc/self/status");
    }
    if (!hasCapability(capEff, CAP_NET_ADMIN) || !hasCapability(capEff, CAP_SYS_ADMIN)) {
      return no(
        "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create namespaces and TAP devices",
      );
    }
    try {
      accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
    } catch {
      return no("/dev/net/tun is missing or not accessible");
    }
    const addon = loadTapAddon();
    if (typeof addon === "string") return no(`the TAP addon is unavailable: ${addon}`);
    for (const tool of ["setpriv", "nsenter", "ip"]) {
      const found = spawnSync(tool, ["--version"], { stdio: "ignore" });
      if (found.error !== undefined) return no(`${tool} is not installed`);
    }
    const trial = spawnSync("unshare", ["--net", "--mount", "true"], { encoding: "utf8" });
    if (trial.error !== undefined) return no("unshare is not installed");
    if (trial.status !== 0) {
      return no(
        `unshare --net --mount fails here: ${trial.stderr.trim() || `status ${trial.status}`}`,
      );
    }
    return { ok: true, reason: "" };
  }

  /** Starts a holder process owning a new network and mount namespace. */
  static async create(): Promise<Lab> {
    const holder = spawn(
      "setpriv",
      ["--pdeathsig", "KILL", "unshare", "--net", "--mount", "sh", "-c", HOLDER_SCRIPT],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    // A lab someone forgot to close must not keep the process alive; the exit hook removes it.
    holder.unref();
    let output = "";
    let errors = "";
    holder.stdout?.setEncoding("utf8");
    holder.stderr?.setEncoding("utf8");
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
      holder.stdout?.on("data", (chunk: string) => {
        output += chunk;
        if (output.includes("ready")) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      holder.stderr?.on("data", (chunk: string) => (errors += chunk));
      holder.once("error", (error) => {
        errors += error.message;
        clearTimeout(timer);
        resolve(false);
      });
      holder.once("exit", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    holder.stdout?.destroy();
    holder.stderr?.destroy();
    if (!ready || holder.pid === undefined) {
      holder.kill("SIGKILL");
      throw new Error(`Lab: the namespace holder did not start: ${errors.trim() || "no output"}`);
    }
    return new Lab(holder);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /**
   * Starts `command` inside the lab. The caller owns the process; the lab kills it on close if it
   * is still running.
   */
  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    if (this.closing !== null) throw new Error("Lab: closed");
    const child = spawn(
      "setpriv",
      [
        "--pdeathsig",
        "KILL",
        "nsenter",
        "-t",
        String(this.pid),
        "-n",
        "-m",
        "--",
        command,
        ...args,
      ],
      options,
    );
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    child.once("error", () => this.children.delete(child));
    return child;
  }

  /** Runs `command` inside the lab to completion and collects its output. Never rejects. */
  run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const child = this.spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.on("data", (chunk: string) => (stderr += chunk));
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.input ?? "");
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 10_000);
      child.once("error", (error) => {
        clearTimeout(timer);
        resolve({ status: null, signal: null, stdout, stderr: stderr + error.message });
      });
      child.once("close", (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal, stdout, stderr });
      });
    });
  }

  /**
   * Creates TAP `name` inside the lab and returns the stack's end of it, with the kernel's end
   * configured, up and carrying.
   */
  async tap(name: string, options: LabTapOptions = {}): Promise<TapDevice> {
    if (this.closing !== null) throw new Error("Lab: closed");
    const mtu = options.mtu ?? 1500;
    const device = new TapDevice({
      name,
      mac: options.mac,
      mtu,
      nsPid: this.pid,
      batch: options.batch,
    });
    this.taps.add(device);
    const keepIpv6 = options.ipv6 === true || options.kernelIp6 !== undefined;
    const configured = await this.run("sh", [
      "-c",
      TAP_SCRIPT,
      "sh",
      name,
      keepIpv6 ? "0" : "1",
      String(mtu),
      options.kernelIp ?? "",
      options.kernelIp6 ?? "",
    ]);
    if (configured.status !== 0) {
      this.closeTap(device);
      throw new Error(`Lab: cannot configure ${name}: ${configured.stderr.trim()}`);
    }
    const started = Date.now();
    while (this.readSys(`class/net/${name}/carrier`) !== "1") {
      if (Date.now() - started > CARRIER_TIMEOUT_MS) {
        this.closeTap(device);
        throw new Error(`Lab: ${name} has no carrier`);
      }
      await sleep(5);
    }
    return device;
  }

  /** Closes a TAP made by tap(); the kernel removes the interface. */
  closeTap(device: TapDevice): void {
    device.close();
    this.taps.delete(device);
  }

  /** The kernel side's MAC address of a lab interface. */
  kernelMac(name: string): Uint8Array {
    const text = this.readSys(`class/net/${name}/address`);
    const bytes = text.split(":").map((part) => parseInt(part, 16));
    if (bytes.length !== 6 || bytes.some((b) => Number.isNaN(b))) {
      throw new Error(`Lab: no address for ${name}`);
    }
    return Uint8Array.from(bytes);
  }

  /** Reads a file of the lab's own sysfs (e.g. "class/net/tap0/carrier"), trimmed; "" if absent. */
  readSys(path: string): string {
    try {
      return readFileSync(`/proc/${this.pid}/root/sys/${path}`, "utf8").trim();
    } catch {
      return "";
    }
  }

  /** Closes every TAP, ends every program started in the lab and the holder. Idempotent. */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.detachHooks();
    const waits: Promise<void>[] = [];
    for (const child of [...this.children, this.holder]) {
      // Wait for the exit event even if nothing else keeps the loop alive.
      child.ref();
      waits.push(exited(child));
    }
    this.killNow();
    await Promise.all(waits);
  }

  /** Synchronous teardown, for exit hooks: nothing here waits. */
  private killNow(): void {
    for (const device of this.taps) device.close();
    this.taps.clear();
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    if (this.holder.exitCode === null && this.holder.signalCode === null) {
      this.holder.kill("SIGKILL");
    }
    if (this.closing === null) this.detachHooks();
  }

  private detachHooks(): void {
    process.off("exit", this.onExit);
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }
}
