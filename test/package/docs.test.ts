// `npm run docs`: the API reference from the doc comments, with every exported declaration
// documented (typedoc.json makes an undocumented export a warning and warnings errors).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const typedoc = join(root, "node_modules/typedoc/bin/typedoc");

if (!existsSync(typedoc) && process.env.CI !== "true") {
  console.log("docs: skipped, typedoc is not installed (npm ci installs it)");
} else {
  test("the API reference builds without a warning", () => {
    assert.ok(existsSync(typedoc), "typedoc is installed (a devDependency)");
    const out = mkdtempSync(join(tmpdir(), "netstack-docs-"));
    try {
      const run = spawnSync(process.execPath, [typedoc, "--out", out], {
        cwd: root,
        encoding: "utf8",
        timeout: 300_000,
      });
      const said = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
      assert.is(run.status, 0, said);
      assert.not.match(said, /\[warning\]/, said);
      for (const page of [
        "index.html",
        "classes/netstack.Stack.html",
        "classes/netstack_node.TapDevice.html",
      ])
        assert.ok(existsSync(join(out, page)), `${page} written`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test.run();
