// The IP layer's protocol table: one handler per protocol number, for input and for ICMP errors
// about what we sent. UDP, the ping sockets, TCP (and later IGMP) plug in here without the
// interface knowing them.

/** What the IP layer knows about a datagram it hands to a transport. */
export class Ipv4Info {
  source = 0;
  destination = 0;
  protocol = 0;
  ttl = 0;
  tos = 0;
  /** Where the (first fragment's) IP header is: the frame, or a reassembly slot's copy. */
  headerBytes: Uint8Array;
  headerAt = 0;
  headerLength = 0;
  /** Arrived as link-layer broadcast or multicast. */
  linkGroup = false;
  /** Addressed to a broadcast or multicast IP address. */
  groupDestination = false;
  /** The payload lies in the received frame (not a reassembly slot), so it may be answered in place. */
  inFrame = false;

  constructor(bytes: Uint8Array) {
    this.headerBytes = bytes;
  }
}

/** No ICMP answer is due: the handler took the datagram (or dropped and counted it). */
export const DELIVERED = 0;

export interface ProtocolHandler {
  /**
   * A datagram for us: `bytes[at ..+ length)` is the transport header and payload. Returns
   * DELIVERED, or the ICMP destination-unreachable code the IP layer should answer with (port
   * unreachable when nobody listens). Never calls back into the application: readiness is
   * delivered after the input pass.
   */
  input(info: Ipv4Info, bytes: Uint8Array, at: number, length: number): number;
  /**
   * An ICMP error about a datagram we sent, or a local failure to deliver one (address resolution
   * gave up: destination unreachable, host unreachable, as Linux reports it): `bytes[at ..+ length)`
   * is the quoted IP header and at least 8 bytes of what followed it.
   */
  error(type: number, code: number, bytes: Uint8Array, at: number, length: number): void;
}

export class ProtocolTable {
  private readonly handlers: (ProtocolHandler | null)[] = [];

  constructor() {
    for (let i = 0; i < 256; i++) this.handlers.push(null);
  }

  /** Registers the handler of a protocol number; returns false when one is already there. */
  register(protocol: number, handler: ProtocolHandler): boolean {
    if (this.handlers[protocol & 0xff] !== null) return false;
    this.handlers[protocol & 0xff] = handler;
    return true;
  }

  get(protocol: number): ProtocolHandler | null {
    return this.handlers[protocol & 0xff];
  }
}
