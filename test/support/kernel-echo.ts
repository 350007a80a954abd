// A kernel client (python3 in the lab's namespace) of the stack's TCP echo service at 192.0.2.2:
// it sends n seeded random bytes while a thread reads the echo back, then reports the SHA-256 of
// what it sent and of what came back, and how many bytes came back.

import type { Lab } from "../../hal/platform/node/lab.js";

const ECHO_CLIENT = `
import socket, hashlib, threading, random, sys
n = int(sys.argv[1]); port = int(sys.argv[2]); seed = int(sys.argv[3])
data = random.Random(seed).randbytes(n)
s = socket.create_connection(("192.0.2.2", port), timeout=60)
got = hashlib.sha256(); count = [0]
def reader():
    while True:
        b = s.recv(65536)
        if not b: break
        got.update(b); count[0] += len(b)
t = threading.Thread(target=reader); t.start()
s.sendall(data); s.shutdown(socket.SHUT_WR); t.join()
print(hashlib.sha256(data).hexdigest(), got.hexdigest(), count[0])
`;

export interface KernelEcho {
  /** The client's exit status (0 when it ran to the end), and what it wrote to standard error. */
  status: number | null;
  stderr: string;
  /** SHA-256 (hex) of the bytes sent and of the bytes echoed back. */
  sent: string;
  got: string;
  /** Bytes echoed back. */
  count: number;
}

/** Runs the echo client for `size` bytes to `port`, its data from random.Random(seed). */
export async function kernelEcho(
  lab: Lab,
  size: number,
  timeoutMs: number,
  port = 7,
  seed = 1,
): Promise<KernelEcho> {
  const r = await lab.run(
    "python3",
    ["-c", ECHO_CLIENT, String(size), String(port), String(seed)],
    {
      timeoutMs,
    },
  );
  const [sent = "", got = "", count = "0"] = r.stdout.trim().split(" ");
  return { status: r.status, stderr: r.stderr, sent, got, count: Number(count) };
}
