// The UDP header (RFC 768).

import { readU16, writeU16 } from "./address.js";
import { WireView } from "./view.js";

export const UDP_HEADER_LENGTH = 8;

export class UdpDatagram extends WireView {
  get sourcePort(): number {
    return readU16(this.bytes, this.at);
  }

  get destinationPort(): number {
    return readU16(this.bytes, this.at + 2);
  }

  /** Header plus payload. */
  get length(): number {
    return readU16(this.bytes, this.at + 4);
  }

  get checksum(): number {
    return readU16(this.bytes, this.at + 6);
  }

  set checksum(value: number) {
    writeU16(this.bytes, this.at + 6, value);
  }

  get payloadOffset(): number {
    return this.at + UDP_HEADER_LENGTH;
  }

  writeHeader(sourcePort: number, destinationPort: number, length: number): void {
    const b = this.bytes;
    const at = this.at;
    writeU16(b, at, sourcePort);
    writeU16(b, at + 2, destinationPort);
    writeU16(b, at + 4, length);
    writeU16(b, at + 6, 0);
  }
}
