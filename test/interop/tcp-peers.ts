// Kernel peers for the TCP interop suites: a kernel server the stack connects to as a client.

import { createHash } from "node:crypto";
import * as assert from "uvu/assert";
import type { Lab } from "../../hal/platform/node/lab.js";
import { EAGAIN, EINPROGRESS } from "../../src/errno.js";
import { Random } from "../../src/random.js";
import { ESTABLISHED, SHUT_WR } from "../../src/transport/tcp/constants.js";
import { endpoint } from "../support/stacks.js";
import { TapStack, until } from "../support/tap-stack.js";

const KERNEL_SERVER = `
import socket, hashlib, random, sys
m = int(sys.argv[1])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("192.0.2.1", 5000)); srv.listen(1)
print("ready", flush=True)
c, _ = srv.accept()
h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
data = random.Random(2).randbytes(m)
c.sendall(data); c.close()
print(n, h.hexdigest(), hashlib.sha256(data).hexdigest(), flush=True)
`;
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";

/** Starts the kernel server; once it listens, resolves with a promise of its final line. */
async function kernelServer(lab: Lab, back: number): Promise<{ done: Promise<string> }> {
  const child = lab.spawn("python3", ["-c", KERNEL_SERVER, String(back)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (c: string) => (out += c));
  child.stderr!.on("data", (c: string) => (err += c));
  const done = new Promise<string>((resolve) =>
    child.once("close", () =>
      resolve(out.split("\n").filter((l) => l !== "")[1] ?? `error: ${err}`),
    ),
  );
  if (!(await until(() => out.startsWith("ready"), 10_000))) throw new Error(`server: ${err}`);
  // Wrapped: an async function returning a promise would wait for it.
  return { done };
}

/**
 * The stack connects to a kernel server, sends `size` bytes and shuts down; the server reads to the
 * end, sends `back` bytes and closes. SHA-256 equal on both ends, every byte counted.
 */
export async function stackClient(
  run: TapStack,
  lab: Lab,
  size: number,
  back: number,
): Promise<{ ws: boolean; ts: boolean; sack: boolean }> {
  const finished = await kernelServer(lab, back);
  const conn = run.stack.openTcp() as TcpEndpoint;
  assert.is(conn.connect(endpoint("192.0.2.1", 5000)), -EINPROGRESS);
  assert.ok(await until(() => conn.state === ESTABLISHED, 5000), "connected");
  const data = new Uint8Array(size);
  const random = new Random(9);
  for (let i = 0; i < size; i += 4) {
    const x = random.next();
    data[i] = x;
    data[i + 1] = x >>> 8;
    data[i + 2] = x >>> 16;
    data[i + 3] = x >>> 24;
  }
  let sent = 0;
  let received = 0;
  let eof = false;
  const hash = createHash("sha256");
  const buf = new Uint8Array(65536);
  const ok = await until(() => {
    while (sent < size) {
      const n = conn.send(data, sent, size - sent, 0);
      if (n === -EAGAIN) break;
      if (n < 0) throw new Error(`send: ${n}`);
      sent += n;
      if (sent === size) conn.shutdown(SHUT_WR);
    }
    for (;;) {
      const n = conn.recv(buf, 0, buf.length, 0);
      if (n === 0) eof = true;
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
      received += n;
    }
    return eof;
  }, 240_000);
  assert.ok(ok, `transfer finished (sent ${sent}, received ${received})`);
  const [count, theirs, sentBack] = (await finished.done).split(" ");
  assert.is(Number(count), size);
  assert.is(theirs, createHash("sha256").update(data).digest("hex"));
  assert.is(received, back);
  assert.is(hash.digest("hex"), sentBack);
  const negotiated = { ws: conn.sendWscale >= 0, ts: conn.timestamps, sack: conn.sack };
  conn.close();
  return negotiated;
}
