// dnsmasq in a lab, serving a test zone (netstack.test, addresses of 192.0.2.0/24 only) on the
// kernel's side of the TAP, for the interop suites that resolve names. Without dnsmasq a test says
// so and passes nothing, except under CI (CI=true), where that is a failure.

import { spawnSync, type ChildProcess } from "node:child_process";
import * as assert from "uvu/assert";
import type { Lab } from "../../hal/platform/node/lab.js";

export const ZONE = "netstack.test";

/** Whether dnsmasq is installed; under CI its absence fails the calling test. */
export function dnsmasqOrSkip(what: string): boolean {
  const found = spawnSync("sh", ["-c", "command -v dnsmasq"], { encoding: "utf8" }).status === 0;
  if (found) return true;
  if (process.env.CI === "true")
    assert.unreachable(`${what}: dnsmasq is not installed (required when CI=true)`);
  console.log(`${what}: skipped, dnsmasq is not installed (apt-get install -y dnsmasq)`);
  return false;
}

export interface Dnsmasq {
  process: ChildProcess;
  /** What dnsmasq said on stderr (its log, with --log-queries). */
  log(): string;
  stop(): void;
}

/**
 * Starts dnsmasq on `address`:53 inside the lab with only local data: `hosts` (name -> address),
 * `cnames` (alias -> target), NXDOMAIN for any other name of the zone. Resolves once it listens.
 */
export async function startDnsmasq(
  lab: Lab,
  address: string,
  hosts: Record<string, string>,
  cnames: Record<string, string> = {},
  extra: readonly string[] = [],
): Promise<Dnsmasq> {
  const args = [
    "--keep-in-foreground",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--no-poll",
    "--pid-file=",
    "--user=root",
    "--group=root",
    `--listen-address=${address}`,
    "--bind-dynamic",
    "--port=53",
    `--local=/${ZONE}/`,
    "--log-queries",
    "--log-facility=-",
  ];
  for (const [name, a] of Object.entries(hosts)) args.push(`--host-record=${name},${a}`);
  for (const [alias, target] of Object.entries(cnames)) args.push(`--cname=${alias},${target}`);
  args.push(...extra);
  const child = lab.spawn("dnsmasq", args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (log += chunk));
  let exited = false;
  child.once("exit", () => (exited = true));
  const listening = await lab.run("sh", [
    "-c",
    "for i in $(seq 200); do grep -q ':0035 ' /proc/net/udp && exit 0; sleep 0.05; done; exit 1",
  ]);
  assert.ok(listening.status === 0 && !exited, `dnsmasq listens on ${address}:53:\n${log}`);
  return {
    process: child,
    log: () => log,
    stop: () => {
      if (!exited) child.kill("SIGKILL");
    },
  };
}
