// Addresses. An IpAddress is 16 bytes so every endpoint table holds IPv4 and IPv6 alike; IPv4 is
// kept v4-mapped (::ffff:a.b.c.d), the form a Linux dual-stack socket reports. IPv4 addresses in
// the per-packet paths are numbers: the address's 32 bits as a signed integer (192.0.2.1 is
// -1073741311), which both V8 and XS keep unboxed; as unsigned values above 2^31, every address
// passed to a function would be a heap-allocated double on V8.
//
// Parsing and formatting build strings and are for configuration and diagnostics, never per packet.

/** Address family of IPv4. */
export const AF_INET = 2;
/** Address family of IPv6. */
export const AF_INET6 = 10;

/** An IPv4 or IPv6 address in 16 bytes (IPv4 as ::ffff:a.b.c.d), made once and reused. */
export class IpAddress {
  /** The 16 bytes of the address. */
  readonly bytes = new Uint8Array(16);

  /** AF_INET or AF_INET6. */
  get family(): number {
    const b = this.bytes;
    for (let i = 0; i < 10; i++) if (b[i] !== 0) return AF_INET6;
    return b[10] === 0xff && b[11] === 0xff ? AF_INET : AF_INET6;
  }

  /** The IPv4 address as a number; meaningful when family is AF_INET. */
  get v4(): number {
    return readI32(this.bytes, 12);
  }

  /** Sets an IPv4 address given as a 32-bit number. */
  setV4(address: number): this {
    const b = this.bytes;
    // Stores, not fill(): fill is a runtime call costing more than the ten stores (per datagram).
    for (let i = 0; i < 10; i++) b[i] = 0;
    b[10] = 0xff;
    b[11] = 0xff;
    writeU32(b, 12, address);
    return this;
  }

  /** Sets the unspecified IPv6 address (::), which also stands for "any" before a family is known. */
  clear(): this {
    this.bytes.fill(0);
    return this;
  }

  /** Copies another address into this one. */
  copyFrom(other: IpAddress): this {
    this.bytes.set(other.bytes);
    return this;
  }

  /** Whether both hold the same address. */
  equals(other: IpAddress): boolean {
    const a = this.bytes;
    const b = other.bytes;
    for (let i = 15; i >= 0; i--) if (a[i] !== b[i]) return false;
    return true;
  }

  /** 0.0.0.0 or :: — a wildcard in a bind or a filter. */
  get isUnspecified(): boolean {
    // Both forms end in four zero bytes after ten zero bytes; bytes 10-11 are 0 (::) or 0xffff
    // (0.0.0.0). The last four bytes first: a bound address fails there at once. Asked per datagram.
    const b = this.bytes;
    if ((b[12] | b[13] | b[14] | b[15]) !== 0) return false;
    for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
    const mapped = (b[10] << 8) | b[11];
    return mapped === 0 || mapped === 0xffff;
  }

  /** Parses dotted-quad IPv4 text; returns false (and leaves the address as it was) on bad input. */
  parse(text: string): boolean {
    const v4 = parseIPv4(text);
    if (v4 === null) return false;
    this.setV4(v4);
    return true;
  }

  /** The address as text ("192.0.2.1"); allocates, so not for the hot path. */
  toString(): string {
    return this.family === AF_INET ? formatIPv4(this.v4) : formatIPv6(this.bytes);
  }
}

export function readU16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

export function writeU16(b: Uint8Array, at: number, value: number): void {
  b[at] = value >>> 8;
  b[at + 1] = value;
}

/** Four bytes as a signed 32-bit integer: the form IPv4 addresses take in the stack. */
export function readI32(b: Uint8Array, at: number): number {
  return (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
}

export function writeU32(b: Uint8Array, at: number, value: number): void {
  b[at] = value >>> 24;
  b[at + 1] = value >>> 16;
  b[at + 2] = value >>> 8;
  b[at + 3] = value;
}

/** Dotted-quad text to an address (a signed 32-bit integer), or null. */
export function parseIPv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8) | n;
  }
  return value;
}

/** "a.b.c.d" of an address held as a 32-bit number. */
export function formatIPv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

function formatIPv6(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(readU16(b, i).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/** "02:00:00:00:00:01" to 6 bytes in `out`; false on bad input. */
export function parseMac(text: string, out: Uint8Array): boolean {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6) return false;
  for (let i = 0; i < 6; i++) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(parts[i])) return false;
    out[i] = parseInt(parts[i], 16);
  }
  return true;
}

/** "xx:xx:xx:xx:xx:xx" of six bytes. */
export function formatMac(b: Uint8Array, at = 0): string {
  let text = "";
  for (let i = 0; i < 6; i++)
    text += (i ? ":" : "") + (b[at + i] < 16 ? "0" : "") + b[at + i].toString(16);
  return text;
}

/** Prefix length (0..32) to a netmask number. */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : -1 << (32 - prefix);
}

/** An address and port (and interface, for link-local scopes): gVisor's tcpip.FullAddress. */
export class FullAddress {
  /** The IP address. */
  readonly address = new IpAddress();
  /** The port (0 for ping endpoints). */
  port = 0;
  /** The interface number, 0 for any. */
  nic = 0;
}
