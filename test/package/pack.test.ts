// The package as its users meet it: `npm pack`, then the tarball installed into fresh projects the
// way a user's `npm install netstack` would, the examples of examples/node type-checked there with
// `tsc --strict --module nodenext` and run. In a namespace the test makes (root): an install with
// no C++ compiler anywhere must succeed and the in-memory examples still run, TapDevice saying
// what is missing; with the machine's compiler the addon is built, and the TAP example answers
// socat inside the namespace.
//
// Nothing is fetched: node-addon-api, the package's one dependency, is packed from this checkout's
// node_modules and installed beside it with --offline, and the installs in the namespace have no
// network at all.

import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { labOrSkip } from "../support/lab.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "netstack-pack-"));
process.once("exit", () => rmSync(work, { recursive: true, force: true }));
const examples = join(root, "examples/node");
const exampleFiles = readdirSync(examples).filter((name) => name.endsWith(".ts"));
/** The npm that runs this test, or the one beside node. */
const npmCli =
  process.env.npm_execpath !== undefined && process.env.npm_execpath.endsWith(".js")
    ? process.env.npm_execpath
    : join(process.execPath, "../../lib/node_modules/npm/bin/npm-cli.js");

/** The environment without npm's lifecycle variables, as a user's shell would have it. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  return env;
}

function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs = 300_000,
): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env: cleanEnv(), encoding: "utf8", timeout: timeoutMs });
}

function output(result: SpawnSyncReturns<string>): string {
  return `status ${result.status}\n${result.stdout}\n${result.stderr}\n${result.error ?? ""}`;
}

/** A fresh user project, with the examples and a tsconfig as the README gives it. */
function project(name: string): string {
  const dir = join(work, name);
  cpSync(examples, dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: `try-${name}`, version: "1.0.0", type: "module", private: true }),
  );
  // Deep imports, as NodeNext resolves them: with their .js, the same classes as the root's.
  writeFileSync(
    join(dir, "deep.ts"),
    `import { FullAddress } from "netstack";\n` +
      `import { FullAddress as Deep } from "netstack/src/wire/address.js";\n` +
      `import { LinkPair } from "netstack/hal/pair.js";\n` +
      `import { TapDevice } from "netstack/node";\n` +
      `const address: Deep = new FullAddress();\n` +
      `console.log(String(address instanceof Deep) + " " + typeof LinkPair + " " + typeof TapDevice);\n`,
  );
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: "nodenext",
        target: "es2022",
        outDir: "out",
        types: ["node"],
        typeRoots: [join(root, "node_modules/@types")],
      },
      include: ["*.ts"],
    }),
  );
  return dir;
}

let tarball = "";
let addonApi = "";
const installArgs = () => [
  npmCli,
  "install",
  "--offline",
  "--no-audit",
  "--no-fund",
  "--no-package-lock",
  tarball,
  addonApi,
];

const pack = suite("package");

pack("every TypeScript example in the README is a file of examples/node, byte for byte", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  assert.ok(blocks.length >= 3, "the quick start's examples");
  const files = exampleFiles.map((file) => readFileSync(join(examples, file), "utf8"));
  for (const block of blocks)
    assert.ok(files.includes(block), `a README example is not in examples/node:\n${block}`);
  for (const [i, file] of exampleFiles.entries())
    assert.ok(blocks.includes(files[i]), `examples/node/${file} is in the README`);
});

pack("npm pack makes a tarball with the build, the manifest and the addon's sources only", () => {
  // The build the prepack script makes, then the pack itself without scripts (one build, not two).
  rmSync(join(root, "dist"), { recursive: true, force: true });
  const built = run(process.execPath, [npmCli, "run", "build"], root);
  assert.is(built.status, 0, output(built));
  const packed = run(
    process.execPath,
    [npmCli, "pack", "--ignore-scripts", "--json", "--pack-destination", work],
    root,
  );
  assert.is(packed.status, 0, output(packed));
  const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info[0].filename);
  const files = info[0].files.map((file) => file.path);
  for (const expected of [
    "dist/src/index.js",
    "dist/src/index.d.ts",
    "dist/hal/platform/node/index.js",
    "dist/hal/tap/tap.js",
    "manifest.json",
    "native/memops.c",
    "binding.gyp",
    "hal/tap/native/tap.cc",
    "scripts/install-addon.mjs",
    "README.md",
  ])
    assert.ok(files.includes(expected), `${expected} packed`);
  assert.equal(
    files.filter(
      (path) =>
        /^(test|bench|sim|src|build)\//.test(path) ||
        (path.endsWith(".ts") && !path.endsWith(".d.ts")),
    ),
    [],
    "no sources, tests or local builds",
  );
  const api = run(
    process.execPath,
    [
      npmCli,
      "pack",
      "--ignore-scripts",
      "--pack-destination",
      work,
      join(root, "node_modules/node-addon-api"),
    ],
    root,
  );
  assert.is(api.status, 0, output(api));
  addonApi = join(work, api.stdout.trim().split("\n").pop() ?? "");
  assert.ok(existsSync(addonApi), addonApi);
});

pack(
  "installed with the machine's toolchain, the examples type-check strictly under nodenext",
  () => {
    const dir = project("toolchain");
    const installed = run(process.execPath, installArgs(), dir);
    assert.is(installed.status, 0, output(installed));
    const hasCompiler = spawnSync("sh", ["-c", "command -v c++ && command -v make"]).status === 0;
    if (hasCompiler)
      assert.ok(
        existsSync(join(dir, "node_modules/netstack/build/Release/tap.node")),
        "addon built",
      );
    const checked = run(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", dir],
      dir,
    );
    assert.is(checked.status, 0, output(checked));
    for (const file of exampleFiles)
      assert.ok(existsSync(join(dir, "out", file.replace(/\.ts$/, ".js"))), `${file} compiled`);
  },
);

pack("the in-memory examples run: a UDP exchange and a ping", () => {
  const dir = join(work, "toolchain");
  const udp = run(process.execPath, ["out/udp-pair.js"], dir, 30_000);
  assert.is(udp.status, 0, output(udp));
  assert.match(udp.stdout, /^reply from 192\.0\.2\.1:7: hello, netstack$/m);
  const ping = run(process.execPath, ["out/ping.js"], dir, 30_000);
  assert.is(ping.status, 0, output(ping));
  for (const seq of [1, 2, 3])
    assert.match(ping.stdout, new RegExp(`^40 bytes from 192\\.0\\.2\\.2: icmp_seq=${seq} `, "m"));
});

pack("deep imports with .js type-check and load the root's own modules", () => {
  const dir = join(work, "toolchain");
  const deep = run(process.execPath, ["out/deep.js"], dir, 30_000);
  assert.is(deep.stdout.trim(), "true function function", output(deep));
});

pack.run();

const lab = labOrSkip("package in a namespace");

lab(
  "with no C++ compiler and no network, the install succeeds and TapDevice says why it cannot",
  async ({ lab }) => {
    const dir = project("no-compiler");
    // The lab has its own mount namespace: the compilers are masked there only.
    const mask =
      "for tool in cc c++ gcc g++ clang clang++ make; do " +
      'p=$(command -v $tool) && mount --bind /dev/null "$(readlink -f "$p")"; done; ' +
      "! c++ --version >/dev/null 2>&1 && ! make --version >/dev/null 2>&1 && echo masked";
    const masked = await lab.run("sh", ["-c", mask]);
    assert.match(masked.stdout, /masked/, masked.stderr);
    const env = Object.entries(cleanEnv())
      .filter(([key]) => /^(PATH|HOME)$/.test(key))
      .map(([key, value]) => `${key}=${value ?? ""}`);
    const installed = await lab.run(
      "env",
      ["-i", "-C", dir, ...env, process.execPath, ...installArgs()],
      { timeoutMs: 300_000 },
    );
    assert.is(installed.status, 0, `${installed.stdout}\n${installed.stderr}`);
    assert.ok(existsSync(join(dir, "node_modules/netstack/dist/src/index.js")), "installed");
    assert.not.ok(
      existsSync(join(dir, "node_modules/netstack/build/Release/tap.node")),
      "no addon",
    );
    cpSync(join(work, "toolchain/out"), join(dir, "out"), { recursive: true });
    const udp = run(process.execPath, ["out/udp-pair.js"], dir, 30_000);
    assert.is(udp.status, 0, output(udp));
    assert.match(udp.stdout, /^reply from 192\.0\.2\.1:7: hello, netstack$/m);
    const tap = run(process.execPath, ["out/tap-udp-echo.js", "tap0"], dir, 30_000);
    assert.is.not(tap.status, 0);
    assert.match(tap.stderr, /TapDevice: the TAP addon \(build\/Release\/tap\.node\) is not built/);
  },
);

lab("with a compiler, the TAP example answers socat in the namespace", async ({ lab }) => {
  const dir = join(work, "toolchain");
  assert.ok(existsSync(join(dir, "node_modules/netstack/build/Release/tap.node")), "addon built");
  const made = await lab.run("sh", [
    "-c",
    "ip tuntap add dev tap0 mode tap && ip addr add 192.0.2.1/24 dev tap0 && ip link set tap0 up",
  ]);
  assert.is(made.status, 0, made.stderr);
  const server = lab.spawn(process.execPath, [join(dir, "out/tap-udp-echo.js"), "tap0"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let said = "";
  server.stdout?.setEncoding("utf8");
  server.stderr?.setEncoding("utf8");
  server.stdout?.on("data", (chunk: string) => (said += chunk));
  server.stderr?.on("data", (chunk: string) => (said += chunk));
  try {
    for (let i = 0; i < 200 && !said.includes("ready"); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(said, /^ready: UDP echo on 192\.0\.2\.2:7 via tap0$/m);
    const answered = await lab.run("socat", ["-t2", "-", "UDP:192.0.2.2:7"], {
      input: "hello over a TAP\n",
      timeoutMs: 10_000,
    });
    assert.is(answered.stdout, "hello over a TAP\n", answered.stderr);
    for (let i = 0; i < 40 && !said.includes("echoed"); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(said, /^echoed 17 bytes to 192\.0\.2\.1:\d+$/m);
  } finally {
    server.kill("SIGTERM");
  }
});

lab.run();
