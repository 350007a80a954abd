// A pcap sink that writes to a file with synchronous calls, so a capture is complete on disk at
// every moment (a test can read it while the stack still runs, and nothing is lost on a crash).

import { closeSync, openSync, writeSync } from "node:fs";
import type { PcapSink } from "../../pcap.js";

export class PcapFileSink implements PcapSink {
  /** The file written. */
  readonly path: string;
  private fd: number;

  constructor(path: string) {
    this.path = path;
    this.fd = openSync(path, "w");
  }

  /** Appends the bytes at once (synchronously). */
  write(bytes: Uint8Array, offset: number, length: number): void {
    if (this.fd < 0) return;
    let done = 0;
    while (done < length) done += writeSync(this.fd, bytes, offset + done, length - done);
  }

  /** Closes the file; later writes are ignored. */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
