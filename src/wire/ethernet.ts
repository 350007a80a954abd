// Ethernet II framing (IEEE 802.3 with an EtherType). The frame starts at `at`; no preamble, no FCS.

import { readU16, writeU16 } from "./address.js";
import { WireView } from "./view.js";

export const ETHERNET_HEADER_LENGTH = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

export class EthernetFrame extends WireView {
  get destinationOffset(): number {
    return this.at;
  }

  get sourceOffset(): number {
    return this.at + 6;
  }

  get etherType(): number {
    return readU16(this.bytes, this.at + 12);
  }

  set etherType(value: number) {
    writeU16(this.bytes, this.at + 12, value);
  }

  get payloadOffset(): number {
    return this.at + ETHERNET_HEADER_LENGTH;
  }

  /** Group bit of the destination: broadcast or multicast. */
  get isGroupDestination(): boolean {
    return (this.bytes[this.at] & 1) !== 0;
  }

  get isBroadcastDestination(): boolean {
    const b = this.bytes;
    const at = this.at;
    return (b[at] & b[at + 1] & b[at + 2] & b[at + 3] & b[at + 4] & b[at + 5]) === 0xff;
  }

  /** Whether the destination is `mac[macAt .. +6)`. */
  isDestination(mac: Uint8Array, macAt: number): boolean {
    const b = this.bytes;
    const at = this.at;
    for (let i = 0; i < 6; i++) if (b[at + i] !== mac[macAt + i]) return false;
    return true;
  }

  /** Writes both addresses and the EtherType. */
  writeHeader(
    destination: Uint8Array,
    destinationAt: number,
    source: Uint8Array,
    etherType: number,
  ): void {
    const b = this.bytes;
    const at = this.at;
    for (let i = 0; i < 6; i++) {
      b[at + i] = destination[destinationAt + i];
      b[at + 6 + i] = source[i];
    }
    writeU16(b, at + 12, etherType);
  }
}
