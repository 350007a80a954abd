// The rest of what a Moddable app is handed: a network-interface object (ECMA-419 §17) reading
// the interface through the layer's ioctls, a DNS resolver in Moddable's shape that answers
// dotted quads only (no queries are sent: names fail with onError), and `createNetwork`, which
// binds the socket classes to one socket layer and lays them out as Moddable's `device.network`.

import { SIOCGIFADDR, SIOCGIFHWADDR } from "../epsocket/linux.js";
import type { SocketLayer } from "../epsocket/layer.js";
import { formatIPv4, formatMac } from "../wire/address.js";
import { type Deferred, SocketHost, dottedQuad } from "./host.js";
import { Listener, type ListenerOptions } from "./listener.js";
import { TCP, type TCPOptions } from "./tcp.js";
import { UDP, type UDPOptions } from "./udp.js";

/** ECMA-419's connection states for a network interface. */
export const CONNECTION_DISCONNECTED = 200;
export const CONNECTION_IP_ASSIGNED = 500;

export interface InterfaceOptions {
  onChanged?: (this: NetworkInterface, name: string) => void;
  target?: unknown;
  [other: string]: unknown;
}

export class NetworkInterface {
  [expando: string]: unknown;
  #host: SocketHost;

  constructor(options: InterfaceOptions, host: SocketHost) {
    this.#host = host;
    if (options.target !== undefined) this.target = options.target;
  }

  /** 500 (IP address assigned) once the interface has an address, else 200. */
  get connection(): number {
    return this.address === undefined ? CONNECTION_DISCONNECTED : CONNECTION_IP_ASSIGNED;
  }

  get address(): string | undefined {
    const host = this.#host;
    const req = host.ifreq;
    req.fill(0);
    req.set(host.layer.interfaceName, 0);
    if (host.layer.interfaceIoctl(SIOCGIFADDR, req, 0, 40, null) < 0) return undefined;
    return formatIPv4(((req[20] << 24) | (req[21] << 16) | (req[22] << 8) | req[23]) >>> 0);
  }

  get MAC(): string | undefined {
    const host = this.#host;
    const req = host.ifreq;
    req.fill(0);
    req.set(host.layer.interfaceName, 0);
    if (host.layer.interfaceIoctl(SIOCGIFHWADDR, req, 0, 40, null) < 0) return undefined;
    return formatMac(req, 18);
  }

  /** The stack's address is configured when it is attached: nothing to start. */
  connect(): void {}

  disconnect(): void {}

  close(): void {}
}

export interface ResolveOptions {
  host: string;
  onResolved?: (host: string, address: string) => void;
  onError?: (host: string) => void;
}

/** The specification's completion: an Error or null, the address, the host. */
export type ResolveCallback = (error: Error | null, address?: string, host?: string) => void;

/** One resolve() answered at the next poll (never from inside the call). */
class Answer implements Deferred {
  constructor(
    readonly request: ResolveOptions,
    readonly target: unknown,
    readonly callback: ResolveCallback | null,
  ) {}
  run(): void {
    const r = this.request;
    const resolved = dottedQuad(r.host) >= 0;
    if (resolved) {
      if (typeof r.onResolved === "function") r.onResolved.call(this.target, r.host, r.host);
    } else if (typeof r.onError === "function") r.onError.call(this.target, r.host);
    const callback = this.callback;
    if (callback !== null) {
      if (resolved) callback.call(this.target, null, r.host, r.host);
      else callback.call(this.target, new Error("not found"), undefined, r.host);
    }
  }
}

export class Resolver {
  [expando: string]: unknown;
  #host: SocketHost;
  #closed = false;

  constructor(_options: Record<string, unknown>, host: SocketHost) {
    this.#host = host;
  }

  /** Moddable's `resolve({host, onResolved, onError})`, or the specification's completion. */
  resolve(request: ResolveOptions, callback?: ResolveCallback): void {
    if (this.#closed) throw new SyntaxError("closed");
    this.#host.defer(new Answer(request, this, typeof callback === "function" ? callback : null));
  }

  close(): void {
    this.#closed = true;
  }
}

/** The classes bound to one layer, and Moddable's `device.network` entries for them. */
export interface Network {
  host: SocketHost;
  TCP: new (options: TCPOptions) => TCP;
  UDP: new (options: UDPOptions) => UDP;
  Listener: new (options: ListenerOptions) => Listener;
  Resolver: new (options: Record<string, unknown>) => Resolver;
  interface: NetworkInterface;
  network: {
    tcp: { io: new (options: TCPOptions) => TCP };
    udp: { io: new (options: UDPOptions) => UDP };
    listener: { io: new (options: ListenerOptions) => Listener };
    dns: { io: new (options: Record<string, unknown>) => Resolver };
    interface: { ethernet: NetworkInterface };
  };
}

/**
 * Binds TCP, UDP, Listener and the resolver to `layer`. Add `network.host` to the driver after
 * the stack and the layer: it delivers the callbacks. Run once at start-up (it makes classes).
 */
export function createNetwork(layer: SocketLayer): Network {
  const host = new SocketHost(layer);
  class BoundTCP extends TCP {
    constructor(options: TCPOptions) {
      super(options, host);
    }
  }
  class BoundUDP extends UDP {
    constructor(options: UDPOptions) {
      super(options, host);
    }
  }
  class BoundListener extends Listener {
    constructor(options: ListenerOptions) {
      super(options, host);
    }
  }
  class BoundResolver extends Resolver {
    constructor(options: Record<string, unknown>) {
      super(options, host);
    }
  }
  const iface = new NetworkInterface({}, host);
  return {
    host,
    TCP: BoundTCP,
    UDP: BoundUDP,
    Listener: BoundListener,
    Resolver: BoundResolver,
    interface: iface,
    network: {
      tcp: { io: BoundTCP },
      udp: { io: BoundUDP },
      listener: { io: BoundListener },
      dns: { io: BoundResolver },
      interface: { ethernet: iface },
    },
  };
}
