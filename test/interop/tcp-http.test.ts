// The HTTP server against curl in the lab's namespace: 10 MB fetched intact (size and SHA-256 of
// the i % 251 pattern), the status page, keep-alive across requests, Connection: close, more
// clients at once than the server has sessions, and a malformed request answered 400 with the
// server still serving.

import { createHash } from "node:crypto";
import * as assert from "uvu/assert";
import { HTTP_PATTERN_PERIOD } from "../../src/apps/http-server.js";
import type { Lab } from "../../hal/platform/node/lab.js";
import { labOrSkip } from "../support/lab.js";
import { stopAfterEach, tapStack, until } from "../support/tap-stack.js";

const test = labOrSkip("interop/tcp-http");
const URL = "http://192.0.2.2";

const stacks = stopAfterEach(test);

function patternSha256(n: number): string {
  const block = new Uint8Array(HTTP_PATTERN_PERIOD * 256);
  for (let i = 0; i < block.length; i++) block[i] = i % HTTP_PATTERN_PERIOD;
  const hash = createHash("sha256");
  for (let at = 0; at < n; at += block.length)
    hash.update(block.subarray(0, Math.min(block.length, n - at)));
  return hash.digest("hex");
}

/** curl's body piped into sha256sum; curl's own figures on stderr. */
const FETCH = `curl -sS --max-time 60 -w '%{stderr}%{http_code} %{size_download} %{num_connects}\\n' "$1" | sha256sum`;

async function fetchHash(
  lab: Lab,
  url: string,
): Promise<{ code: number; size: number; sha: string }> {
  const r = await lab.run("sh", ["-c", FETCH, "fetch", url], { timeoutMs: 90_000 });
  assert.is(r.status, 0, r.stderr);
  const [code, size] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
  return { code, size, sha: r.stdout.split(" ")[0] };
}

test("curl fetches /bytes/10000000 intact: size and SHA-256 of the pattern", async ({ lab }) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const started = performance.now();
  const got = await fetchHash(lab, `${URL}/bytes/10000000`);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `  curl /bytes/10000000: ${seconds.toFixed(2)} s, ${(80 / seconds).toFixed(0)} Mbit/s`,
  );
  assert.is(got.code, 200);
  assert.is(got.size, 10_000_000);
  assert.is(got.sha, patternSha256(10_000_000));
  assert.is(run.http.byteResponses, 1);
  assert.ok(await until(() => run.http.active === 0, 2000), "the session ends with the connection");
});

test("curl gets the status page; two URLs in one curl share a keep-alive connection", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const r = await lab.run(
    "curl",
    [
      "-sS",
      "--max-time",
      "10",
      "-i",
      `${URL}/`,
      "-i",
      `${URL}/bytes/1000`,
      "-w",
      "%{num_connects}\n",
    ],
    { timeoutMs: 20_000 },
  );
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out, /\r\nContent-Type: text\/plain\r\n/);
  assert.match(out, /\r\n\r\nnetstack\n/);
  assert.match(out, /\nhttp_requests 1\n/);
  assert.match(out, /\ntcp_passive_opens 1\n/);
  assert.match(out, new RegExp(`\\npool_total ${run.stack.pool.count}\\n`));
  // The second transfer made no new connection.
  assert.match(out, /Content-Length: 1000\r\n/);
  assert.match(out, /\n1\n[^]*\n?0\n?$/);
  assert.is(run.http.accepted, 1);
  assert.is(run.http.requests, 2);
});

test("Connection: close is honoured; a malformed request gets 400 and the server goes on", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const closed = await lab.run(
    "curl",
    [
      "-sS",
      "--max-time",
      "10",
      "-D",
      "-",
      "-o",
      "/dev/null",
      "-H",
      "Connection: close",
      `${URL}/bytes/5`,
    ],
    { timeoutMs: 20_000 },
  );
  assert.is(closed.status, 0, closed.stderr);
  assert.match(closed.stdout, /\r\nConnection: close\r\n/);
  const bad = await lab.run("socat", ["-t", "2", "-", "TCP4:192.0.2.2:80"], {
    input: "BREW /pot HTCPCP/1.0\r\n\r\n",
    timeoutMs: 10_000,
  });
  assert.is(bad.status, 0, bad.stderr);
  assert.match(bad.stdout, /^HTTP\/1\.1 400 Bad Request\r\n/);
  const missing = await lab.run(
    "curl",
    ["-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", `${URL}/nothing`],
    { timeoutMs: 20_000 },
  );
  assert.is(missing.stdout, "404");
  const after = await fetchHash(lab, `${URL}/bytes/100000`);
  assert.is(after.sha, patternSha256(100_000));
  assert.is(run.http.badRequests, 1);
});

test("twelve curls at once, more than the server's sessions: every body intact", async ({
  lab,
}) => {
  const run = (stacks.current = await tapStack(lab, "tap0"));
  const clients = 12;
  const results = await Promise.all(
    Array.from({ length: clients }, () => fetchHash(lab, `${URL}/bytes/2000000`)),
  );
  const expected = patternSha256(2_000_000);
  for (const got of results) {
    assert.is(got.code, 200);
    assert.is(got.size, 2_000_000);
    assert.is(got.sha, expected);
  }
  assert.is(run.http.accepted, clients);
  assert.ok(await until(() => run.http.active === 0, 2000));
});

test.run();
