// The package build, into dist/ (or $NETSTACK_DIST): every module of src/ and hal/ on its own at its source path
// (dist/src/**.js, dist/hal/**.js), so there is one copy of each module whatever the import path:
// the package's exports ("netstack", "netstack/node", deep imports) and Moddable's manifest.json
// all map onto the same files. Declarations sit beside them, without what is marked @internal.
//
// Two compilers share the one build: the portable modules go through tsconfig.portable.json, with
// no Node types, so a Node global there fails the build; the Node-only modules (hal/tap,
// hal/platform/node) through tsconfig.json, with them.
import typescript from "@rollup/plugin-typescript";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
const dist = resolve(root, process.env.NETSTACK_DIST ?? "dist");
const nodeOnlyFolders = ["hal/tap/", "hal/platform/node/"];
const nodeOnly = nodeOnlyFolders.map((folder) => `${folder}**`);
const isNodeOnly = (path) => nodeOnlyFolders.some((folder) => path.startsWith(folder));

function sources(dir, found = []) {
  for (const name of readdirSync(join(root, dir)).sort()) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) sources(path, found);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) found.push(path);
  }
  return found;
}

/** Module names that are not files of ours ("node:fs", Moddable's "timer") stay imports. */
const external = (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0");

function compile(tsconfig, forNode) {
  const plugin = typescript({
    tsconfig: join(root, tsconfig),
    ...(forNode ? { include: nodeOnly } : { exclude: nodeOnly }),
    compilerOptions: {
      noEmit: false,
      module: "ES2022",
      moduleResolution: "Bundler",
      rootDir: root,
      outDir: dist,
      declaration: true,
      declarationMap: false,
      stripInternal: true,
      sourceMap: false,
      incremental: false,
    },
    // Type errors stop the build.
    noEmitOnError: true,
  });
  // Each compiler's program declares every module it reaches, imports included; each writes the
  // declarations of its own modules only, so none is written twice.
  const generateBundle = plugin.generateBundle;
  plugin.generateBundle = function (...args) {
    const emitFile = (file) =>
      file.type !== "asset" || isNodeOnly(file.fileName) === forNode ? this.emitFile(file) : "";
    return generateBundle.apply(Object.create(this, { emitFile: { value: emitFile } }), args);
  };
  return plugin;
}

/** The default dist/ starts empty, so nothing of an earlier build is packed; a directory given in
 * NETSTACK_DIST is the caller's to clear. */
const clean = {
  name: "netstack-clean",
  buildStart() {
    if (process.env.NETSTACK_DIST === undefined) rmSync(dist, { recursive: true, force: true });
  },
};

function onwarn(warning, warn) {
  // A module of types only compiles to an empty one; some TCP modules import each other, as their
  // sources do, which ES modules allow.
  if (warning.code === "EMPTY_BUNDLE" || warning.code === "CIRCULAR_DEPENDENCY") return;
  warn(warning);
}

export default {
  input: Object.fromEntries(
    [...sources("src"), ...sources("hal")].map((path) => [
      path.replace(/\.ts$/, ""),
      join(root, path),
    ]),
  ),
  external,
  onwarn,
  // Each module stays whole, as Moddable preloads it.
  treeshake: false,
  plugins: [clean, compile("tsconfig.portable.json", false), compile("tsconfig.json", true)],
  output: {
    dir: dist,
    format: "es",
    preserveModules: true,
    preserveModulesRoot: root,
    entryFileNames: "[name].js",
    generatedCode: "es2015",
  },
};
