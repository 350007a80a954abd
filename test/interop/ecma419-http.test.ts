// The ECMA-419 HTTP client of examples/ecma419 over netstack's TCP class, against Python's
// http.server on the kernel's side of the lab: a 200 KB file fetched intact (length and SHA-256),
// a 404, a refused port ending in onDone(-1), and the file fetched by name, resolved through
// netstack's resolver class from dnsmasq beside the server.

import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import * as assert from "uvu/assert";
import { HTTPGet } from "../../examples/ecma419/http-get.js";
import { SocketLayer } from "../../src/epsocket/layer.js";
import { createNetwork } from "../../src/ecma419/network.js";
import { type Dnsmasq, ZONE, dnsmasqOrSkip, startDnsmasq } from "../support/dnsmasq.js";
import { labOrSkip } from "../support/lab.js";
import { type TapStack, tapStack, until } from "../support/tap-stack.js";

const test = labOrSkip("interop/ecma419-http");

let current: TapStack | null = null;
let server: ChildProcess | null = null;
let dns: Dnsmasq | null = null;

test.after.each(() => {
  if (server !== null) server.kill("SIGKILL");
  server = null;
  if (dns !== null) dns.stop();
  dns = null;
  // Cleared before the check: uvu runs after.each again when it throws.
  const stopping = current;
  current = null;
  if (stopping !== null) {
    stopping.stop();
    assert.is(
      stopping.stack.pool.available,
      stopping.stack.pool.count,
      "every pool buffer returned",
    );
  }
});

const SIZE = 200_000;

async function setup(lab: Parameters<typeof tapStack>[0]) {
  const run = (current = await tapStack(lab, "tap0"));
  const layer = new SocketLayer(run.stack);
  const net = createNetwork(layer, { dns: { servers: ["192.0.2.1"] } });
  run.driver.add(layer);
  run.driver.add(net.host);
  const dir = mkdtempSync(join(tmpdir(), "ecma419-http-"));
  const file = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) file[i] = (i * 7 + (i >> 8)) & 255;
  writeFileSync(join(dir, "file.bin"), file);
  server = lab.spawn(
    "python3",
    ["-m", "http.server", "8000", "--bind", "192.0.2.1", "--directory", dir],
    {
      stdio: "ignore",
    },
  );
  const ready = await lab.run("bash", [
    "-c",
    "for i in $(seq 100); do (echo > /dev/tcp/192.0.2.1/8000) 2>/dev/null && exit 0; sleep 0.05; done; exit 1",
  ]);
  assert.is(ready.status, 0, "http.server listening");
  return { net, file };
}

function get(net: ReturnType<typeof createNetwork>, path: string, port = 8000) {
  const hash = createHash("sha256");
  const result = { status: 0, length: -1, done: false, hash: "" };
  const client = new HTTPGet({
    socket: net.network.tcp,
    address: "192.0.2.1",
    port,
    path,
    onBody(bytes, length) {
      hash.update(bytes.subarray(0, length));
    },
    onDone(status, length) {
      result.status = status;
      result.length = length;
      result.hash = hash.digest("hex");
      result.done = true;
    },
  });
  return { client, result };
}

test("the ECMA-419 client fetches a 200 KB file from http.server intact", async ({ lab }) => {
  const { net, file } = await setup(lab);
  const { client, result } = get(net, "/file.bin");
  assert.ok(await until(() => result.done, 20_000), "the response ends");
  assert.is(result.status, 200);
  assert.is(client.contentLength, SIZE);
  assert.is(result.length, SIZE);
  assert.is(result.hash, createHash("sha256").update(file).digest("hex"));
});

test("a missing file is a 404; a closed port ends with status -1", async ({ lab }) => {
  const { net } = await setup(lab);
  const missing = get(net, "/nothing-here");
  assert.ok(await until(() => missing.result.done, 10_000));
  assert.is(missing.result.status, 404);
  const refused = get(net, "/", 8001);
  assert.ok(await until(() => refused.result.done, 10_000));
  assert.is(refused.result.status, -1);
});

test("the same file fetched by name: the client resolves it through the resolver class", async ({
  lab,
}) => {
  if (!dnsmasqOrSkip("interop/ecma419-http")) return;
  const { net, file } = await setup(lab);
  dns = await startDnsmasq(lab, "192.0.2.1", { [`files.${ZONE}`]: "192.0.2.1" });
  const hash = createHash("sha256");
  const result = { status: 0, length: -1, done: false };
  const client = new HTTPGet({
    socket: net.network.tcp,
    dns: net.network.dns,
    host: `files.${ZONE}`,
    port: 8000,
    path: "/file.bin",
    onBody(bytes, length) {
      hash.update(bytes.subarray(0, length));
    },
    onDone(status, length) {
      result.status = status;
      result.length = length;
      result.done = true;
    },
  });
  assert.ok(await until(() => result.done, 20_000), dns.log());
  assert.is(client.address, "192.0.2.1", "resolved through dnsmasq");
  assert.match(dns.log(), new RegExp(`query\\[A\\] files\\.${ZONE.replace(".", "\\.")}`));
  assert.is(result.status, 200);
  assert.is(result.length, SIZE);
  assert.is(hash.digest("hex"), createHash("sha256").update(file).digest("hex"));
  // A name dnsmasq does not know ends the request with -1.
  const missing = { status: 0, done: false };
  new HTTPGet({
    socket: net.network.tcp,
    dns: net.network.dns,
    host: `nowhere.${ZONE}`,
    onDone(status) {
      missing.status = status;
      missing.done = true;
    },
  });
  assert.ok(await until(() => missing.done, 10_000));
  assert.is(missing.status, -1);
});

test.run();
