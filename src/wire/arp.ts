// ARP for IPv4 over Ethernet (RFC 826): the only form a Linux host sends on Ethernet.

import { readI32, readU16, writeU16, writeU32 } from "./address.js";
import { WireView } from "./view.js";

export const ARP_LENGTH = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export class ArpPacket extends WireView {
  /** Hardware Ethernet (1), protocol IPv4, address lengths 6 and 4. */
  get isEthernetIPv4(): boolean {
    const b = this.bytes;
    const at = this.at;
    return (
      readU16(b, at) === 1 && readU16(b, at + 2) === 0x0800 && b[at + 4] === 6 && b[at + 5] === 4
    );
  }

  get operation(): number {
    return readU16(this.bytes, this.at + 6);
  }

  get senderHardwareOffset(): number {
    return this.at + 8;
  }

  get senderProtocolAddress(): number {
    return readI32(this.bytes, this.at + 14);
  }

  get targetHardwareOffset(): number {
    return this.at + 18;
  }

  get targetProtocolAddress(): number {
    return readI32(this.bytes, this.at + 24);
  }

  /** Writes a whole packet; a null target hardware address is written as zeros (a request). */
  write(
    operation: number,
    senderMac: Uint8Array,
    senderIp: number,
    targetMac: Uint8Array | null,
    targetMacAt: number,
    targetIp: number,
  ): void {
    const b = this.bytes;
    const at = this.at;
    writeU16(b, at, 1);
    writeU16(b, at + 2, 0x0800);
    b[at + 4] = 6;
    b[at + 5] = 4;
    writeU16(b, at + 6, operation);
    for (let i = 0; i < 6; i++) {
      b[at + 8 + i] = senderMac[i];
      b[at + 18 + i] = targetMac === null ? 0 : targetMac[targetMacAt + i];
    }
    writeU32(b, at + 14, senderIp);
    writeU32(b, at + 24, targetIp);
  }
}
