// The rest of what a Moddable app is handed: a network-interface object (ECMA-419 §17) reading
// the interface through the layer's ioctls and calling onChanged("connection" / "address") as
// Moddable's Ethernet interface does, a DNS resolver in Moddable's shape over the stack's DNS
// client (dotted quads answered without a query), and `createNetwork`, which binds the socket
// classes to one socket layer and lays them out as Moddable's `device.network`.

import {
  DNS_NODATA,
  DNS_NXDOMAIN,
  DNS_REFUSED,
  DNS_TIMEOUT,
  DNS_TRUNCATED,
  DnsClient,
  type DnsCallback,
  type DnsClientOptions,
  type DnsQuery,
  serverList,
} from "../apps/dns-client.js";
import { EAGAIN, EDESTADDRREQ, EINVAL } from "../errno.js";
import { SIOCGIFADDR, SIOCGIFHWADDR } from "../epsocket/linux.js";
import type { SocketLayer } from "../epsocket/layer.js";
import { formatIPv4, formatMac } from "../wire/address.js";
import { DNS_TYPE_A } from "../wire/dns.js";
import { type Deferred, type Delivery, SocketHost, dottedQuad } from "./host.js";
import { Listener, type ListenerOptions } from "./listener.js";
import { TCP, type TCPOptions } from "./tcp.js";
import { UDP, type UDPOptions } from "./udp.js";

/** ECMA-419's connection states for a network interface. */
export const CONNECTION_DISCONNECTED = 200;
/** Link up, no address yet. */
export const CONNECTION_CONNECTED = 400;
export const CONNECTION_IP_ASSIGNED = 500;

export interface InterfaceOptions {
  /** Called with "connection" when `connection` changes, "address" when the address does. */
  onChanged?: (this: NetworkInterface, name: string) => void;
  target?: unknown;
  [other: string]: unknown;
}

export class NetworkInterface implements Delivery {
  [expando: string]: unknown;
  #host: SocketHost;
  #onChanged: ((this: NetworkInterface, name: string) => void) | null;
  #connection: number;
  #address: number;
  #closed = false;

  constructor(options: InterfaceOptions, host: SocketHost) {
    this.#host = host;
    this.#onChanged = typeof options.onChanged === "function" ? options.onChanged : null;
    if (options.target !== undefined) this.target = options.target;
    this.#connection = this.#state();
    this.#address = this.#addressValue();
    host.watch(this);
  }

  #addressValue(): number {
    const iface = this.#host.layer.stack.iface;
    return iface === null ? 0 : iface.address;
  }

  /** As Moddable's Ethernet: 500 with link and address, 400 with link only, else 200. */
  #state(): number {
    const iface = this.#host.layer.stack.iface;
    if (iface === null || !iface.device.linkUp) return CONNECTION_DISCONNECTED;
    return iface.address === 0 ? CONNECTION_CONNECTED : CONNECTION_IP_ASSIGNED;
  }

  get connection(): number {
    return this.#state();
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

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.unwatch(this);
  }

  /** From the host's poll: compares link and address with what was last reported. */
  deliver(): void {
    const connection = this.#state();
    const address = this.#addressValue();
    const connectionChanged = connection !== this.#connection;
    const addressChanged = address !== this.#address;
    this.#connection = connection;
    this.#address = address;
    const onChanged = this.#onChanged;
    if (onChanged === null) return;
    if (connectionChanged && !this.#closed) onChanged.call(this, "connection");
    if (addressChanged && !this.#closed) onChanged.call(this, "address");
  }
}

export interface ResolveOptions {
  host: string;
  onResolved?: (host: string, address: string) => void;
  onError?: (host: string) => void;
}

/** The specification's completion: an Error or null, the address, the host. */
export type ResolveCallback = (error: Error | null, address?: string, host?: string) => void;

export interface ResolverOptions {
  /** DNS servers (dotted quads) for this resolver, as Moddable's `dns` options give them. */
  servers?: readonly string[];
  [other: string]: unknown;
}

/** What an error status says in the specification's Error. */
function statusText(status: number): string {
  if (status === -EINVAL) return "not found";
  if (status === -EDESTADDRREQ) return "no server";
  if (status < 0) return "no socket";
  if (status === DNS_NXDOMAIN || status === DNS_NODATA) return "not found";
  if (status === DNS_TIMEOUT) return "timeout";
  if (status === DNS_REFUSED) return "refused";
  if (status === DNS_TRUNCATED) return "truncated";
  return "server failure";
}

/** One resolve() request: answered at a poll, from the DNS client or at once for a dotted quad. */
class Lookup implements Deferred, DnsCallback {
  query: DnsQuery | null = null;
  address: string | null = null;
  status = 0;
  constructor(
    readonly resolver: Resolver,
    readonly request: ResolveOptions,
    readonly callback: ResolveCallback | null,
  ) {}

  dnsDone(query: DnsQuery): void {
    this.query = null;
    this.status = query.status;
    this.address = query.status === 0 ? formatIPv4(query.address) : null;
    this.run();
  }

  run(): void {
    const resolver = this.resolver;
    if (!resolver.forget(this)) return;
    const r = this.request;
    const address = this.address;
    if (address !== null) {
      if (typeof r.onResolved === "function") r.onResolved.call(resolver, r.host, address);
    } else if (typeof r.onError === "function") r.onError.call(resolver, r.host);
    const callback = this.callback;
    if (callback !== null) {
      if (address !== null) callback.call(resolver, null, address, r.host);
      else callback.call(resolver, new Error(statusText(this.status)), undefined, r.host);
    }
  }
}

export class Resolver implements Delivery {
  [expando: string]: unknown;
  #host: SocketHost;
  #servers: Int32Array | null;
  #closed = false;
  /** Requests under way; those not yet taken by the client (its table was full) have no query. */
  #lookups: Lookup[] = [];
  #waiting = false;

  constructor(options: ResolverOptions, host: SocketHost) {
    this.#host = host;
    const servers = options.servers;
    this.#servers = Array.isArray(servers) && servers.length > 0 ? serverList(servers) : null;
  }

  /** Moddable's `resolve({host, onResolved, onError})`, or the specification's completion. */
  resolve(request: ResolveOptions, callback?: ResolveCallback): void {
    if (this.#closed) throw new SyntaxError("closed");
    if (typeof request !== "object" || request === null || typeof request.host !== "string")
      throw new TypeError("invalid host");
    const lookup = new Lookup(this, request, typeof callback === "function" ? callback : null);
    this.#lookups.push(lookup);
    if (dottedQuad(request.host) >= 0) {
      lookup.address = request.host;
      this.#host.defer(lookup);
      return;
    }
    this.#ask(lookup);
  }

  /** Hands a request to the client; false when its table is full (tried again at each poll). */
  #ask(lookup: Lookup): boolean {
    const dns = this.#host.dns;
    const q =
      dns === null
        ? -EAGAIN
        : dns.resolve(lookup.request.host, DNS_TYPE_A, lookup, null, this.#servers);
    if (typeof q !== "number") {
      lookup.query = q;
      return true;
    }
    if (q === -EAGAIN && dns !== null) {
      if (!this.#waiting) {
        this.#waiting = true;
        this.#host.watch(this);
      }
      return false;
    }
    // A name that is no host name, no server to ask, no socket: an error, at the next poll.
    lookup.status = q;
    this.#host.defer(lookup);
    return true;
  }

  /** From the host's poll while requests wait for a free query slot. */
  deliver(): void {
    const lookups = this.#lookups;
    for (let i = 0; i < lookups.length; i++) {
      const l = lookups[i];
      if (l.query === null && l.address === null && l.status === 0 && !this.#ask(l)) return;
    }
    this.#waiting = false;
    this.#host.unwatch(this);
  }

  /** Takes a finished request off the list: false when it was cancelled (closed). */
  forget(lookup: Lookup): boolean {
    const i = this.#lookups.indexOf(lookup);
    if (i < 0) return false;
    this.#lookups.splice(i, 1);
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const dns = this.#host.dns;
    for (const l of this.#lookups) if (l.query !== null && dns !== null) dns.cancel(l.query);
    this.#lookups.length = 0;
    if (this.#waiting) this.#host.unwatch(this);
    this.#waiting = false;
  }
}

/** The classes bound to one layer, and Moddable's `device.network` entries for them. */
export interface Network {
  host: SocketHost;
  TCP: new (options: TCPOptions) => TCP;
  UDP: new (options: UDPOptions) => UDP;
  Listener: new (options: ListenerOptions) => Listener;
  Resolver: new (options?: ResolverOptions) => Resolver;
  /** Moddable's `embedded:network/interface/ethernet`: `new Interface({onChanged})`. */
  Interface: new (options?: InterfaceOptions) => NetworkInterface;
  interface: NetworkInterface;
  /** The DNS client the resolvers share. */
  dns: DnsClient;
  network: {
    tcp: { io: new (options: TCPOptions) => TCP };
    udp: { io: new (options: UDPOptions) => UDP };
    listener: { io: new (options: ListenerOptions) => Listener };
    dns: { io: new (options?: ResolverOptions) => Resolver; servers: string[] };
    interface: { ethernet: NetworkInterface };
  };
}

export interface NetworkOptions {
  /**
   * The DNS client's options: `servers` (dotted quads) are the default for every resolver, which
   * may name its own; `queries` (default 4) UDP endpoints are taken from the stack as they are used.
   */
  dns?: DnsClientOptions;
  /** Options of the `interface` instance (its onChanged). */
  interface?: InterfaceOptions;
}

/**
 * Binds TCP, UDP, Listener, the resolver and the interface to `layer`. Add `network.host` to the
 * driver after the stack and the layer: it delivers the callbacks and runs the DNS client. Run
 * once at start-up (it makes classes).
 */
export function createNetwork(layer: SocketLayer, options: NetworkOptions = {}): Network {
  const host = new SocketHost(layer);
  const dnsOptions = options.dns ?? {};
  const dns = new DnsClient(layer.stack, dnsOptions);
  host.dns = dns;
  dns.onWake = () => host.wake();
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
    constructor(options: ResolverOptions = {}) {
      super(options, host);
    }
  }
  class BoundInterface extends NetworkInterface {
    constructor(options: InterfaceOptions = {}) {
      super(options, host);
    }
  }
  const iface = new BoundInterface(options.interface ?? {});
  const servers: string[] = [];
  for (const s of dnsOptions.servers ?? []) servers.push(typeof s === "number" ? formatIPv4(s) : s);
  return {
    host,
    TCP: BoundTCP,
    UDP: BoundUDP,
    Listener: BoundListener,
    Resolver: BoundResolver,
    Interface: BoundInterface,
    interface: iface,
    dns,
    network: {
      tcp: { io: BoundTCP },
      udp: { io: BoundUDP },
      listener: { io: BoundListener },
      dns: { io: BoundResolver, servers },
      interface: { ethernet: iface },
    },
  };
}
