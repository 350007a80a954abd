// The package as published: the build (rollup.config.js) into a scratch directory, then the
// outputs, their imports and manifest.json are checked the way Node, TypeScript and Moddable's
// mcconfig would read them.
// mcconfig maps a wildcard over one folder only (no subfolders), resolves "./x" and "../x" against
// the importing module's specifier, and matches a preload wildcard as a prefix.

import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { xsnapPath } from "../support/xs.js";
import { buildRoot, isNodeOnly, portableSources, root } from "./portable.js";

const dist = mkdtempSync(join(tmpdir(), "netstack-dist-"));
const build = spawnSync(
  process.execPath,
  [join(root, "node_modules/rollup/dist/bin/rollup"), "-c"],
  {
    cwd: root,
    env: { ...process.env, NETSTACK_DIST: dist },
    encoding: "utf8",
  },
);

interface ManifestPart {
  modules?: Record<string, string | string[]>;
  preload?: string[];
}
interface Manifest {
  modules: Record<string, string | string[]>;
  preload: string[];
  platforms?: Record<string, ManifestPart>;
}
const written = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8")) as Manifest;
/** Platform modules that need the SDK's `timer` and `time`, which not every platform has. */
const PLATFORM_FOLDER = "netstack/hal/platform/moddable/*";
/** What a build for a platform with timers sees: the top level and that platform's entry. */
const manifest: Manifest = {
  modules: { ...written.modules, ...(written.platforms?.lin?.modules ?? {}) },
  preload: [...written.preload, ...(written.platforms?.lin?.preload ?? [])],
};

function files(dir: string, found: string[] = []): string[] {
  if (!existsSync(dir)) return found;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, found);
    else found.push(path);
  }
  return found;
}

/** Output files under dist/src and dist/hal, relative to dist ("src/storage/pool.js"). */
function moduleFiles(extension: string): string[] {
  return [...files(join(dist, "src")), ...files(join(dist, "hal"))]
    .map((path) => relative(dist, path))
    .filter((path) => path.endsWith(extension) && (extension !== ".js" || !path.endsWith(".d.js")));
}

function importsOf(path: string): string[] {
  return ts
    .preProcessFile(readFileSync(path, "utf8"), true, true)
    .importedFiles.map((f) => f.fileName);
}

/** The manifest's module specifier for a dist file, or undefined when no entry maps its folder. */
function specifierOf(distPath: string): string | undefined {
  const folder = posix.dirname(distPath);
  for (const [target, source] of Object.entries(manifest.modules)) {
    if (typeof source !== "string" || !target.endsWith("/*") || !source.endsWith("/*")) continue;
    if (source.slice(0, -2).replace(/^\.\/dist\/?/, "") === folder)
      return target.slice(0, -1) + posix.basename(distPath).replace(/\.js$/, "");
  }
  return undefined;
}

test("the build succeeds", () => {
  assert.is(build.status, 0, `${build.stdout}\n${build.stderr}`);
});

test("the root and netstack/node entries load, sharing one copy of every module", async () => {
  for (const name of ["src/index.js", "src/index.d.ts", "hal/platform/node/index.js"])
    assert.ok(existsSync(join(dist, name)), `${name} built`);
  const core = (await import(pathToFileURL(join(dist, "src/index.js")).href)) as Record<
    string,
    unknown
  >;
  const compiled = (await import(pathToFileURL(join(buildRoot, "src/index.js")).href)) as object;
  assert.equal(Object.keys(core).sort(), Object.keys(compiled).sort(), "same exports as src/index");
  const deep = (await import(pathToFileURL(join(dist, "src/wire/address.js")).href)) as Record<
    string,
    unknown
  >;
  assert.ok(deep.FullAddress === core.FullAddress, "a deep import is the same module");
  const node = (await import(
    pathToFileURL(join(dist, "hal/platform/node/index.js")).href
  )) as Record<string, unknown>;
  for (const name of ["TapDevice", "NodeDriver", "Lab", "PcapFileSink"])
    assert.type(node[name], "function", name);
});

test("declarations leave out what is marked @internal", () => {
  const stack = readFileSync(join(dist, "src/stack.d.ts"), "utf8");
  assert.match(stack, /openUdp\(/);
  for (const name of ["ready", "socketBuffers", "summer"])
    assert.not.match(stack, new RegExp(`\\b${name}\\b`), `Stack.${name} hidden`);
});

test("every portable module is in dist with its declarations; only Node-only ones use Node", () => {
  for (const source of portableSources()) {
    const base = source.replace(/\.ts$/, "");
    assert.ok(existsSync(join(dist, `${base}.js`)), `${base}.js built`);
    assert.ok(existsSync(join(dist, `${base}.d.ts`)), `${base}.d.ts built`);
  }
  const built = moduleFiles(".js").filter((file) => !isNodeOnly(file));
  assert.ok(built.length >= portableSources().length);
  const nodeNames = new Set(builtinModules);
  for (const file of built) {
    for (const specifier of importsOf(join(dist, file))) {
      if (specifier.startsWith(".")) {
        const target = posix.join(posix.dirname(file), specifier);
        assert.not.ok(isNodeOnly(target), `${file} imports the Node-only ${specifier}`);
        continue;
      }
      assert.not.ok(
        specifier.startsWith("node:") || nodeNames.has(specifier.split("/")[0]),
        `${file} imports the Node module ${specifier}`,
      );
      assert.not.ok(
        existsSync(join(root, "node_modules", specifier)),
        `${file} imports the npm package ${specifier}`,
      );
    }
  }
});

test("every relative import in dist resolves to a file", () => {
  const unresolved: string[] = [];
  for (const file of [...moduleFiles(".js"), ...moduleFiles(".d.ts")]) {
    const declaration = file.endsWith(".d.ts");
    for (const specifier of importsOf(join(dist, file))) {
      if (!specifier.startsWith(".")) continue;
      const target = join(dist, dirname(file), specifier);
      const path = declaration ? target.replace(/\.js$/, ".d.ts") : target;
      if (!existsSync(path)) unresolved.push(`${file}: ${specifier}`);
    }
  }
  assert.equal(unresolved, []);
});

/** Native replacements: "~" drops the portable file, a named entry maps ./native/<name>. */
const nativeTargets = Object.entries(written.modules).filter(([target]) => !target.endsWith("/*"));
/** Native modules with no portable file (host devices), mapped by one platform's entry only. */
const LIN_NATIVES: Record<string, string> = {
  "netstack/hal/platform/moddable/tap": "./native/lin/tap",
};

test("each native replacement excludes its portable file and exports the same names", async () => {
  const excluded = written.modules["~"];
  assert.ok(Array.isArray(excluded), "a ~ list");
  const natives = nativeTargets.filter(([target]) => target !== "~");
  assert.is(natives.length, excluded.length, "one exclusion per native module");
  for (const [target, source] of natives) {
    assert.type(source, "string");
    const name = posix.basename(source as string);
    assert.ok((source as string).startsWith("./native/"), `${target} maps into native/`);
    const distFile = `${target.slice("netstack/".length)}.js`;
    assert.ok(excluded.includes(`./dist/${distFile}`), `./dist/${distFile} excluded`);
    assert.ok(existsSync(join(root, `native/${name}.c`)), `native/${name}.c exists`);
    const glue = readFileSync(join(root, `native/${name}.js`), "utf8");
    const portable = (await import(pathToFileURL(join(dist, distFile)).href)) as object;
    const exported = /export\s*\{([^}]*)\}/
      .exec(glue)?.[1]
      .split(",")
      .map((n) => n.trim());
    assert.equal(exported?.sort(), Object.keys(portable).sort(), `${target}: same exports`);
    for (const fn of Object.keys(portable))
      assert.match(
        glue,
        new RegExp(`function ${fn}\\([^)]*\\) @ "xs_`),
        `${fn} is a host function`,
      );
  }
});

test("host-device native modules are mapped and preloaded for lin only, with C, glue and types", () => {
  for (const [target, source] of Object.entries(LIN_NATIVES)) {
    assert.not.ok(target in written.modules, `${target} is not mapped at the top level`);
    for (const [platform, part] of Object.entries(written.platforms ?? {})) {
      const mapped = part.modules?.[target];
      if (platform !== "lin") {
        assert.is(mapped, undefined, `${platform} does not map ${target}`);
        continue;
      }
      assert.equal(mapped, [source], `lin maps ${target} to ${source}`);
      assert.ok(part.preload?.includes(target), `lin preloads ${target}`);
    }
    for (const ext of [".c", ".js", ".d.ts"])
      assert.ok(existsSync(join(root, source + ext)), `${source}${ext} exists`);
    const glue = readFileSync(join(root, `${source}.js`), "utf8");
    const c = readFileSync(join(root, `${source}.c`), "utf8");
    // Every host function the glue names is defined in the C file.
    const hosts = [...glue.matchAll(/@ "(xs_[a-z_]+)"/g)].map((m) => m[1]);
    assert.ok(hosts.length > 0, "the glue declares host functions");
    for (const host of hosts)
      assert.match(c, new RegExp(`void ${host}\\(`), `${host} is defined in ${source}.c`);
  }
});

test("modules that need the SDK's timer and time sit under platforms entries only", () => {
  // A module not mapped is not built, whatever the preload patterns say.
  assert.not.ok(PLATFORM_FOLDER in written.modules, "not mapped at the top level");
  for (const platform of ["esp32", "pico", "lin", "mac", "win"]) {
    const part = written.platforms?.[platform];
    assert.ok(part?.modules?.[PLATFORM_FOLDER] !== undefined, `${platform} maps the driver`);
    assert.ok(part?.preload?.includes(PLATFORM_FOLDER), `${platform} preloads it`);
  }
  const fallback = written.platforms?.["..."];
  assert.ok(fallback !== undefined && fallback.modules === undefined, "others leave it out");
});

test("manifest.json maps existing folders and every module, and preloads them all", () => {
  const mapped = Object.entries(manifest.modules).filter(([target]) => target.endsWith("/*")) as [
    string,
    string,
  ][];
  assert.ok(mapped.length >= 2);
  for (const [target, source] of mapped) {
    assert.ok(target.startsWith("netstack/") && target.endsWith("/*"), target);
    assert.ok(source.startsWith("./dist/") && source.endsWith("/*"), source);
    // The specifier mirrors the folder, so relative imports resolve in the manifest's namespace.
    assert.is(target.slice("netstack/".length), source.slice("./dist/".length), target);
    const folder = join(dist, source.slice("./dist/".length, -2));
    assert.ok(existsSync(folder), `${source} exists in the build`);
    assert.ok(
      readdirSync(folder).some((name) => name.endsWith(".js")),
      `${source} holds modules`,
    );
  }
  const specifiers = new Map<string, string>();
  // Node-only modules are for Node's resolution (package.json exports), never Moddable's.
  for (const file of moduleFiles(".js").filter((f) => !isNodeOnly(f))) {
    const specifier = specifierOf(file);
    const folder = posix.dirname(file);
    assert.ok(
      specifier !== undefined,
      `${file} is not mapped: add "netstack/${folder}/*": "./dist/${folder}/*" to manifest.json`,
    );
    specifiers.set(file, specifier);
  }
  const preloads = manifest.preload.map((p) => (p.endsWith("*") ? p.slice(0, -1) : p));
  for (const [file, specifier] of specifiers) {
    assert.ok(
      preloads.some((p) => specifier === p || (p.endsWith("/") && specifier.startsWith(p))),
      `${specifier} preloaded`,
    );
    // How XS resolves a relative import: against the importer's specifier, without ".js".
    for (const imported of importsOf(join(dist, file))) {
      if (!imported.startsWith(".")) continue;
      const resolved = posix.join(posix.dirname(specifier), imported).replace(/\.js$/, "");
      assert.ok(
        [...specifiers.values()].includes(resolved),
        `${specifier} imports ${imported}, which Moddable would look up as ${resolved}`,
      );
    }
  }
});

test("the dist modules load one by one under XS", () => {
  // The xsnap CLI loads modules by relative path, as Moddable loads them by specifier.
  const probe = join(dist, "probe.js");
  writeFileSync(
    probe,
    `import * as netstack from "./src/index.js";\n` +
      `const pool = new netstack.PacketPool(new netstack.Memory(new Uint8Array(1024)), 4, 128);\n` +
      `print("loaded " + Object.keys(netstack).length + " " + pool.alloc() + " " + pool.available);\n`,
  );
  const run = spawnSync(xsnapPath(), ["-m", "./probe.js"], {
    cwd: dist,
    encoding: "utf8",
    timeout: 20_000,
  });
  // A module that throws ends the CLI with status 0, so only the printed line proves success.
  assert.match(run.stdout, /^loaded \d+ 0 3$/m, `${run.stdout}\n${run.stderr}`);
});

test("clean up", () => {
  rmSync(dist, { recursive: true, force: true });
  assert.not.ok(existsSync(dist));
});

test.run();
