// Checks the harness itself: reports whether the preload-like freeze took hold, so a test can tell
// a frozen run from a plain one. Its output differs by mode, so it is not compared with Node.

import { PacketPool } from "../../../src/storage/pool.js";
import * as errno from "../../../src/errno.js";
import { value } from "../report.js";

function rejects(write: () => void): boolean {
  try {
    write();
    return false;
  } catch (error) {
    return error instanceof TypeError;
  }
}

export function main(): void {
  value("class", Object.isFrozen(PacketPool));
  value("prototype", Object.isFrozen(PacketPool.prototype));
  value("method", Object.isFrozen(PacketPool.prototype.alloc));
  value("namespace", Object.isFrozen(errno));
  value("builtin", Object.isFrozen(Array.prototype));
  value(
    "method-write-throws",
    rejects(() => {
      (PacketPool.prototype as unknown as Record<string, unknown>).alloc = null;
    }),
  );
  value(
    "static-add-throws",
    rejects(() => {
      (PacketPool as unknown as Record<string, unknown>).added = 1;
    }),
  );
}
