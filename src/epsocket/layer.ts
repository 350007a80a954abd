// The socket layer over one stack: a fixed set of SocketOperations made at start-up and recycled
// (a socket's number is its descriptor), the interface ioctls, multicast memberships counted
// across sockets, and the clock of blocked calls. It is a Pollable: the driver polls it after the
// stack, so a blocked call's deadline is met and a result known at call time is delivered later,
// never from inside the call.

import { EBADF, EAFNOSUPPORT, EADDRNOTAVAIL, EMFILE, ENODEV, EPROTONOSUPPORT } from "../errno.js";
import type { Pollable } from "../device.js";
import { NO_ROUTE } from "../iface/ipv4.js";
import type { Stack } from "../stack.js";
import { socketBufferSize } from "../transport/datagram-queue.js";
import { TcpInfo } from "../transport/tcp/info.js";
import { AF_INET, AF_INET6, FullAddress } from "../wire/address.js";
import {
  ARPHRD_ETHER,
  IFF_BROADCAST,
  IFF_MULTICAST,
  IFF_RUNNING,
  IFF_UP,
  IFNAMSIZ,
  IFREQ_SIZE,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SIOCGIFADDR,
  SIOCGIFBRDADDR,
  SIOCGIFCONF,
  SIOCGIFFLAGS,
  SIOCGIFHWADDR,
  SIOCGIFINDEX,
  SIOCGIFMTU,
  SIOCGIFNAME,
  SIOCGIFNETMASK,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  TCP_INFO_SIZE,
} from "./linux.js";
import { SocketOperations } from "./socket.js";

/** Linux's answers the stack's errno table lacks. */
const ENOTTY = 25;
const EFAULT = 14;
const ESOCKTNOSUPPORT = 94;

export interface SocketLayerOptions {
  /** Sockets open at once (default: the stack's UDP plus TCP endpoints). */
  sockets?: number;
  /**
   * Bytes a datagram socket may hold with MSG_MORE before the send that ends the datagram
   * (default 1472: one unfragmented datagram on Ethernet); one socket corks at a time.
   */
  corkBytes?: number;
  /** The interface's name for the SIOCGIF* requests (default "eth0"). */
  interfaceName?: string;
}

export class SocketLayer implements Pollable {
  readonly stack: Stack;
  readonly sockets: SocketOperations[] = [];
  /** Scratch for the sockaddr of the call in progress. */
  readonly address = new FullAddress();
  readonly peerScratch = new FullAddress();
  readonly sockaddrScratch = new Uint8Array(28);
  readonly optionScratch = new Uint8Array(TCP_INFO_SIZE);
  /** TCP_INFO's figures, read from a connection into this one object. */
  readonly tcpFigures = new TcpInfo();
  readonly discardScratch = new Uint8Array(512);
  /** An AF_INET sockaddr that a connect already under way never reads. */
  readonly emptySockaddr = new Uint8Array(16);
  readonly interfaceName: Uint8Array;
  readonly tcpSendBufferDefault: number;
  readonly tcpReceiveBufferDefault: number;
  readonly defaultTtl: number;
  private readonly groups: Int32Array;
  private readonly groupUsers: Int32Array;
  private groupCount = 0;
  onWake: (() => void) | null = null;
  /** The datagram socket holding bytes with MSG_MORE, its bytes and their destination. */
  corkOwner: SocketOperations | null = null;
  readonly corkBuffer: Uint8Array;
  corkLength = 0;
  readonly corkDestination = new FullAddress();
  corkHasDestination = false;

  constructor(stack: Stack, options: SocketLayerOptions = {}) {
    this.stack = stack;
    const config = stack.config;
    const count = options.sockets ?? config.udpSockets + config.tcpSockets;
    for (let i = 0; i < count; i++) this.sockets.push(new SocketOperations(this, i));
    const name = options.interfaceName ?? "eth0";
    if (name.length === 0 || name.length >= IFNAMSIZ)
      throw new RangeError("socket layer: bad interface name");
    this.interfaceName = new Uint8Array(IFNAMSIZ);
    for (let i = 0; i < name.length; i++) this.interfaceName[i] = name.charCodeAt(i) & 0x7f;
    this.emptySockaddr[0] = AF_INET;
    this.corkBuffer = new Uint8Array(options.corkBytes ?? 1472);
    // Linux reports a stream socket's buffers doubled, as it does for a value set.
    this.tcpSendBufferDefault = config.tcpSendBuffer * 2;
    this.tcpReceiveBufferDefault = config.tcpReceiveBuffer * 2;
    this.defaultTtl = config.ttl;
    this.groups = new Int32Array(count * 4);
    this.groupUsers = new Int32Array(count * 4);
  }

  get now(): number {
    return this.stack.now;
  }

  /**
   * socket(2) for AF_INET and AF_INET6, SOCK_STREAM or SOCK_DGRAM (with SOCK_NONBLOCK and
   * SOCK_CLOEXEC): the socket, or -errno.
   */
  socket(family: number, type: number, protocol: number): SocketOperations | number {
    if (family !== AF_INET && family !== AF_INET6) return -EAFNOSUPPORT;
    const kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (kind !== SOCK_STREAM && kind !== SOCK_DGRAM) return -ESOCKTNOSUPPORT;
    const expected = kind === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    if (protocol !== 0 && protocol !== expected) return -EPROTONOSUPPORT;
    const socket = this.freeSocket();
    if (socket === null) return -EMFILE;
    if (kind === SOCK_STREAM) {
      const tcp = this.stack.openTcp();
      if (typeof tcp === "number") return tcp;
      socket.open(family, kind, (type & SOCK_NONBLOCK) !== 0);
      socket.tcp = tcp;
    } else {
      const udp = this.stack.openUdp();
      if (typeof udp === "number") return udp;
      socket.open(family, kind, (type & SOCK_NONBLOCK) !== 0);
      socket.udp = udp;
    }
    return socket;
  }

  /** The open socket numbered `fd`, or null. */
  get(fd: number): SocketOperations | null {
    const s = fd >= 0 && fd < this.sockets.length ? this.sockets[fd] : null;
    return s !== null && s.inUse ? s : null;
  }

  /** A socket free for use: closed, with no blocked call still to complete. */
  freeSocket(): SocketOperations | null {
    const sockets = this.sockets;
    for (let i = 0; i < sockets.length; i++) {
      const s = sockets[i];
      if (!s.inUse && !s.blocked) return s;
    }
    return null;
  }

  /** close(): the endpoint goes now; a blocked call hears -EBADF from the next poll. */
  release(socket: SocketOperations): void {
    socket.releaseEndpoint();
    if (socket.blocked) {
      socket.result = -EBADF;
      socket.hasResult = true;
      this.wake();
    }
  }

  /** A listener stopped by shutdown(SHUT_RD): a fresh endpoint, as Linux's disconnect leaves it. */
  renewStream(socket: SocketOperations): void {
    const old = socket.tcp;
    if (old === null) return;
    old.eventUnregister(socket.entry);
    old.close();
    const tcp = this.stack.openTcp();
    socket.tcp = typeof tcp === "number" ? null : tcp;
    if (socket.tcp !== null) socket.applyStreamOptions();
  }

  /** The socket's state changed outside the stack (shutdown): its blocked call looks again. */
  raise(socket: SocketOperations): void {
    if (!socket.blocked) return;
    socket.kicked = true;
    this.wake();
  }

  due(_socket: SocketOperations): void {
    this.wake();
  }

  waiting(_socket: SocketOperations): void {
    this.wake();
  }

  private wake(): void {
    if (this.onWake !== null) this.onWake();
  }

  poll(now: number): void {
    const sockets = this.sockets;
    for (let i = 0; i < sockets.length; i++) {
      const s = sockets[i];
      if (!s.blocked) continue;
      if (s.hasResult) s.completeDue();
      else if (s.kicked) {
        s.kicked = false;
        s.callback(s.entry, 0);
      }
      if (s.blocked && !s.hasResult && s.deadline <= now) s.timedOut();
    }
  }

  nextDeadline(): number {
    let t = Infinity;
    const sockets = this.sockets;
    for (let i = 0; i < sockets.length; i++) {
      const s = sockets[i];
      if (!s.blocked) continue;
      if (s.hasResult || s.kicked) return 0;
      if (s.deadline < t) t = s.deadline;
    }
    return t;
  }

  /**
   * Linux's SO_RCVBUF / SO_SNDBUF arithmetic for a stream socket: at most `max`, doubled, at least
   * the minimum (twice as much for sending, as Linux's SOCK_MIN_SNDBUF is).
   */
  clampBuffer(bytes: number, max: number, send: boolean): number {
    const min = this.stack.config.socketBufferMin;
    return socketBufferSize(bytes, max, send ? 2 * min : min);
  }

  // ================================================================ multicast memberships

  /** One more member of `group`; the interface joins on the first. */
  joinGroup(group: number): boolean {
    for (let i = 0; i < this.groupCount; i++) {
      if (this.groups[i] !== group) continue;
      this.groupUsers[i]++;
      return true;
    }
    const iface = this.stack.iface;
    if (iface === null || this.groupCount === this.groups.length || !iface.joinGroup(group))
      return false;
    this.groups[this.groupCount] = group;
    this.groupUsers[this.groupCount++] = 1;
    return true;
  }

  leaveGroup(group: number): void {
    for (let i = 0; i < this.groupCount; i++) {
      if (this.groups[i] !== group) continue;
      if (--this.groupUsers[i] > 0) return;
      const last = --this.groupCount;
      this.groups[i] = this.groups[last];
      this.groupUsers[i] = this.groupUsers[last];
      const iface = this.stack.iface;
      if (iface !== null) iface.leaveGroup(group);
      return;
    }
  }

  /**
   * Whether a membership of `group` has an interface: ours by its address `local`, or, for
   * INADDR_ANY, when the group routes through it (Linux's ip_mc_find_dev).
   */
  multicastInterface(group: number, local: number): boolean {
    const iface = this.stack.iface;
    if (iface === null) return false;
    if (local !== 0) return local === iface.address;
    return iface.route(group) !== NO_ROUTE;
  }

  /** Whether the interface is a member of `group` for some socket. */
  isMember(group: number): boolean {
    for (let i = 0; i < this.groupCount; i++) if (this.groups[i] === group) return true;
    return false;
  }

  // ================================================================ interface ioctls

  /** Whether the ifreq at `arg[at]` names our interface. */
  private namesInterface(arg: Uint8Array, at: number): boolean {
    const name = this.interfaceName;
    for (let i = 0; i < IFNAMSIZ; i++) {
      const c = arg[at + i];
      if (c !== name[i]) return false;
      if (c === 0) return true;
    }
    return true;
  }

  /**
   * The SIOCGIF* requests on an ifreq (40 bytes at `arg[at]`), and SIOCGIFCONF on an ifconf
   * (ifc_len at `arg[at]`, the buffer in `data`, null for a null ifc_buf). 0 or -errno.
   */
  interfaceIoctl(
    request: number,
    arg: Uint8Array,
    at: number,
    length: number,
    data: Uint8Array | null,
  ): number {
    const iface = this.stack.iface;
    if (request === SIOCGIFCONF) {
      if (length < 16) return -EFAULT;
      const capacity = arg[at] | (arg[at + 1] << 8) | (arg[at + 2] << 16) | (arg[at + 3] << 24);
      let written = 0;
      if (iface !== null && iface.address !== 0) {
        if (data === null) written = IFREQ_SIZE;
        else if (capacity >= IFREQ_SIZE && data.length >= IFREQ_SIZE) {
          data.fill(0, 0, IFREQ_SIZE);
          data.set(this.interfaceName, 0);
          this.writeInet(data, 16, iface.address);
          written = IFREQ_SIZE;
        }
      }
      writeInt(arg, at, written);
      return 0;
    }
    switch (request) {
      case SIOCGIFNAME:
      case SIOCGIFFLAGS:
      case SIOCGIFADDR:
      case SIOCGIFBRDADDR:
      case SIOCGIFNETMASK:
      case SIOCGIFMTU:
      case SIOCGIFHWADDR:
      case SIOCGIFINDEX:
        break;
      default:
        return -ENOTTY;
    }
    if (length < IFREQ_SIZE) return -EFAULT;
    if (request === SIOCGIFNAME) {
      const index =
        arg[at + 16] | (arg[at + 17] << 8) | (arg[at + 18] << 16) | (arg[at + 19] << 24);
      if (iface === null || index !== iface.index) return -ENODEV;
      for (let i = 0; i < IFNAMSIZ; i++) arg[at + i] = this.interfaceName[i];
      return 0;
    }
    if (iface === null || !this.namesInterface(arg, at)) return -ENODEV;
    switch (request) {
      case SIOCGIFFLAGS: {
        let flags = IFF_BROADCAST | IFF_MULTICAST | IFF_UP;
        if (iface.device.linkUp) flags |= IFF_RUNNING;
        arg[at + 16] = flags & 255;
        arg[at + 17] = flags >>> 8;
        return 0;
      }
      case SIOCGIFADDR:
        if (iface.address === 0) return -EADDRNOTAVAIL;
        this.writeInet(arg, at + 16, iface.address);
        return 0;
      case SIOCGIFBRDADDR:
        if (iface.address === 0) return -EADDRNOTAVAIL;
        this.writeInet(arg, at + 16, iface.broadcast);
        return 0;
      case SIOCGIFNETMASK:
        if (iface.address === 0) return -EADDRNOTAVAIL;
        this.writeInet(arg, at + 16, iface.mask);
        return 0;
      case SIOCGIFMTU:
        writeInt(arg, at + 16, iface.mtu);
        return 0;
      case SIOCGIFHWADDR:
        arg[at + 16] = ARPHRD_ETHER;
        arg[at + 17] = 0;
        for (let i = 0; i < 6; i++) arg[at + 18 + i] = iface.mac[i];
        for (let i = 24; i < 32; i++) arg[at + i] = 0;
        return 0;
      default:
        writeInt(arg, at + 16, iface.index);
        return 0;
    }
  }

  /** A sockaddr_in of `address`, port 0, at `b[at]`. */
  private writeInet(b: Uint8Array, at: number, address: number): void {
    b.fill(0, at, at + 16);
    b[at] = AF_INET;
    b[at + 4] = address >>> 24;
    b[at + 5] = (address >>> 16) & 255;
    b[at + 6] = (address >>> 8) & 255;
    b[at + 7] = address & 255;
  }
}

function writeInt(b: Uint8Array, at: number, value: number): void {
  b[at] = value & 255;
  b[at + 1] = (value >>> 8) & 255;
  b[at + 2] = (value >>> 16) & 255;
  b[at + 3] = value >>> 24;
}
