// The package's builds, into dist/ (or $NETSTACK_DIST):
// - netstack.js: one ES module of src/index.ts for Node and bundlers, with netstack.d.ts;
// - src/** and hal/**: every portable module on its own, as ES2022 modules with declarations,
//   for Moddable, whose manifest.json maps "netstack/src/*" and "netstack/hal/*" onto them so a
//   relative import such as "../hal/device.js" resolves there too. Node-only code (hal/tap,
//   hal/platform/node) is left out.
// Both compile through tsconfig.portable.json: no Node types, so a Node global fails the build.
import typescript from "@rollup/plugin-typescript";
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
const dist = resolve(root, process.env.NETSTACK_DIST ?? "dist");
const nodeOnly = ["hal/tap/", "hal/platform/node/"];

function sources(dir, found = []) {
  for (const name of readdirSync(join(root, dir)).sort()) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) sources(path, found);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) found.push(path);
  }
  return found;
}

const portable = [...sources("src"), ...sources("hal")].filter(
  (path) => !nodeOnly.some((folder) => path.startsWith(folder)),
);

/** Module names that are not files of ours (Moddable's "embedded:io/spi", "timer") stay imports. */
const external = (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0");

function compile(sourceMap) {
  return typescript({
    tsconfig: join(root, "tsconfig.portable.json"),
    compilerOptions: {
      noEmit: false,
      module: "ES2022",
      moduleResolution: "Bundler",
      target: "ES2022",
      rootDir: root,
      outDir: dist,
      declaration: true,
      declarationDir: dist,
      declarationMap: false,
      sourceMap,
      incremental: false,
    },
    // Type errors stop the build.
    noEmitOnError: true,
  });
}

/** Emits netstack.d.ts, which points at the declarations of src/index.ts. */
const entryDeclarations = {
  name: "netstack-declarations",
  generateBundle() {
    this.emitFile({
      type: "asset",
      fileName: "netstack.d.ts",
      source: 'export * from "./src/index.js";\n',
    });
  },
};

function onwarn(warning, warn) {
  // A module with types only compiles to nothing; that is expected.
  if (warning.code === "EMPTY_BUNDLE") return;
  warn(warning);
}

export default [
  {
    input: join(root, "src/index.ts"),
    external,
    onwarn,
    plugins: [compile(true), entryDeclarations],
    output: {
      file: join(dist, "netstack.js"),
      format: "es",
      sourcemap: true,
    },
  },
  {
    input: Object.fromEntries(
      portable.map((path) => [path.replace(/\.ts$/, ""), join(root, path)]),
    ),
    external,
    onwarn,
    // Each module stays whole, as Moddable preloads it.
    treeshake: false,
    plugins: [compile(false)],
    output: {
      dir: dist,
      format: "es",
      preserveModules: true,
      preserveModulesRoot: root,
      entryFileNames: "[name].js",
      generatedCode: "es2015",
    },
  },
];
