// SocketOperations: one socket of the seed's layer (gVisor's epsocket) over a UDP or TCP endpoint.
// Every call takes the caller's bytes in Linux's x86-64 layouts (sockaddrs, option values, ifreq)
// and returns a count or -errno, with the errno Linux gives for the same call in the same state;
// the socket-level state Linux keeps above its protocols (sock->state, sk_shutdown, options the
// endpoints do not hold) lives here.
//
// Blocking is a callback: connectBlocking, acceptBlocking, recvMsgBlocking and sendMsgBlocking
// take a Completion, wait on the socket's one preallocated waiter entry, and complete exactly once,
// always later than the call (from the stack's readiness delivery or the layer's poll).

import {
  EADDRINUSE,
  EADDRNOTAVAIL,
  EAFNOSUPPORT,
  EAGAIN,
  EALREADY,
  EBADF,
  ECONNABORTED,
  ECONNRESET,
  EDESTADDRREQ,
  EINPROGRESS,
  EINVAL,
  EISCONN,
  EMFILE,
  ENETUNREACH,
  ENODEV,
  ENOPROTOOPT,
  ENOTCONN,
  EOPNOTSUPP,
  EPIPE,
  EPROTO,
  ETIMEDOUT,
} from "../errno.js";
import type { TcpEndpoint } from "../transport/tcp/endpoint.js";
import {
  CLOSED,
  CLOSE_WAIT,
  CLOSING,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  LAST_ACK,
  LISTEN,
  SYN_RECEIVED,
  SYN_SENT,
  TIME_WAIT,
} from "../transport/tcp/constants.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import {
  EVENT_ERR,
  EVENT_HUP,
  EVENT_IN,
  EVENT_OUT,
  EVENT_RDHUP,
  type EntryCallback,
  WaiterEntry,
} from "../transport/waiter.js";
import { AF_INET, AF_INET6, FullAddress } from "../wire/address.js";
import { isMulticastV4 } from "../wire/ipv4.js";
import {
  AF_UNSPEC,
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_TOS,
  IP_TTL,
  IPV6_V6ONLY,
  LINUX_TCP_CLOSE,
  LINUX_TCP_ESTABLISHED,
  LINUX_TCP_LISTEN,
  MSG_DONTWAIT,
  MSG_MORE,
  MSG_OOB,
  MSG_PEEK,
  MSG_TRUNC,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SO_ACCEPTCONN,
  SO_BROADCAST,
  SO_DOMAIN,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_PROTOCOL,
  SO_RCVBUF,
  SO_RCVTIMEO,
  SO_REUSEADDR,
  SO_SNDBUF,
  SO_SNDTIMEO,
  SO_TIMESTAMP,
  SO_TYPE,
  SOL_IP,
  SOL_IPV6,
  SOL_SOCKET,
  SOL_TCP,
  TCP_INFO,
  TCP_INFO_SIZE,
  TCP_KEEPCNT,
  TCP_KEEPIDLE,
  TCP_KEEPINTVL,
  TCP_MAXSEG,
  TCP_NODELAY,
  TCPI_OPT_SACK,
  TCPI_OPT_TIMESTAMPS,
  TCPI_OPT_WSCALE,
  TIOCINQ,
  TIOCOUTQ,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "./linux.js";
import { convertAddress, getAddress, isUnspecified6, sockaddrFamily } from "./sockaddr.js";
import type { SocketLayer } from "./layer.js";

/** What a blocking call completes through: Moddable's `target` style, no closure per call. */
export interface Completion {
  complete(socket: SocketOperations, result: number): void;
}

/** Linux's sock->state for stream sockets. */
const SS_UNCONNECTED = 0;
const SS_CONNECTING = 1;
const SS_CONNECTED = 2;

const OP_NONE = 0;
const OP_CONNECT = 1;
const OP_ACCEPT = 2;
const OP_RECV = 3;
const OP_SEND = 4;
/** The result was known at call time and waits for the layer's poll. */
const OP_DONE = 5;

/** Multicast groups one socket may join (Linux's default igmp_max_memberships is 20). */
export const MAX_MEMBERSHIPS = 4;

/** Linux's default keepalive figures (seconds, probes) and limits. */
const KEEPIDLE_DEFAULT = 7200;
const KEEPINTVL_DEFAULT = 75;
const KEEPCNT_DEFAULT = 9;
const MAX_TCP_KEEPIDLE = 32767;
const MAX_TCP_KEEPINTVL = 32767;
const MAX_TCP_KEEPCNT = 127;

/** tcp_poll's "connection ended" states for shutdown purposes. */
function tcpLinuxState(state: number): number {
  switch (state) {
    case ESTABLISHED:
      return LINUX_TCP_ESTABLISHED;
    case SYN_SENT:
      return 2;
    case SYN_RECEIVED:
      return 3;
    case FIN_WAIT_1:
      return 4;
    case FIN_WAIT_2:
      return 5;
    case TIME_WAIT:
      return 6;
    case CLOSE_WAIT:
      return 8;
    case LAST_ACK:
      return 9;
    case LISTEN:
      return LINUX_TCP_LISTEN;
    case CLOSING:
      return 11;
    default:
      return LINUX_TCP_CLOSE;
  }
}

function readInt(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
}

function writeInt(b: Uint8Array, at: number, value: number): void {
  b[at] = value & 255;
  b[at + 1] = (value >>> 8) & 255;
  b[at + 2] = (value >>> 16) & 255;
  b[at + 3] = value >>> 24;
}

/** A little-endian 64-bit signed value as a number (timeval fields). */
function readLong(b: Uint8Array, at: number): number {
  return (
    (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) +
    b[at + 3] * 0x1000000 +
    readInt(b, at + 4) * 0x100000000
  );
}

function writeLong(b: Uint8Array, at: number, value: number): void {
  const low = value % 0x100000000;
  writeInt(b, at, low);
  writeInt(b, at + 4, (value - low) / 0x100000000);
}

export class SocketOperations implements EntryCallback {
  readonly layer: SocketLayer;
  /** This socket's number in its layer, as a descriptor. */
  readonly fd: number;
  inUse = false;
  family = 0;
  type = 0;
  /** O_NONBLOCK. */
  nonblocking = false;
  udp: UdpEndpoint | null = null;
  tcp: TcpEndpoint | null = null;

  /** Linux's sk_shutdown bits, as set by shutdown(). */
  shutRead = false;
  shutWrite = false;
  private streamState = SS_UNCONNECTED;
  /** An error the socket layer itself holds for SO_ERROR (ECONNRESET after a disconnect). */
  private socketError = 0;

  // Options Linux keeps at the socket level, in the units Linux reports them.
  /** SO_RCVTIMEO / SO_SNDTIMEO in microseconds; 0 waits forever. */
  receiveTimeout = 0;
  sendTimeout = 0;
  timestamp = false;
  keepalive = false;
  keepIdle = KEEPIDLE_DEFAULT;
  keepInterval = KEEPINTVL_DEFAULT;
  keepCount = KEEPCNT_DEFAULT;
  lingerOn = false;
  lingerSeconds = 0;
  v6only = false;
  /** SO_SNDBUF / SO_RCVBUF of a stream socket as set (0: the default). */
  streamSendBuffer = 0;
  streamReceiveBuffer = 0;
  multicastTtl = 1;
  multicastLoop = true;
  readonly groups = new Int32Array(MAX_MEMBERSHIPS);
  groupCount = 0;

  // What the last call reported beside its result.
  /** The full length of the sockaddr the last accept, recvMsg or get*Name wrote. */
  addressLength = 0;
  /** msg_flags of the last recvMsg: MSG_TRUNC when a datagram was cut. */
  messageFlags = 0;
  /** SO_TIMESTAMP: the stack time (ms) the last read data was taken, -1 when not asked for. */
  receivedAt = -1;
  /** The socket accept() made, for acceptBlocking's completion. */
  accepted: SocketOperations | null = null;

  // The blocked call, if any.
  readonly entry: WaiterEntry;
  private op = OP_NONE;
  private completion: Completion | null = null;
  /** The blocked call's result, once hasResult. */
  result = 0;
  hasResult = false;
  /** shutdown() changed what the blocked call would see: retry it at the next poll. */
  kicked = false;
  /** When the blocked call gives up (stack time, ms), Infinity for never. */
  deadline = Infinity;
  private timeoutErrno = EAGAIN;
  private opBuffer: Uint8Array | null = null;
  private opOffset = 0;
  private opLength = 0;
  private opFlags = 0;
  private opAddress: Uint8Array | null = null;
  private opAddressOffset = 0;
  private opAddressLength = 0;
  private opDone = 0;

  constructor(layer: SocketLayer, fd: number) {
    this.layer = layer;
    this.fd = fd;
    this.entry = new WaiterEntry(this);
    this.entry.context = this;
  }

  /** Set up as a fresh socket over its endpoint. */
  open(family: number, type: number, nonblocking: boolean): void {
    this.inUse = true;
    this.family = family;
    this.type = type;
    this.nonblocking = nonblocking;
    this.shutRead = false;
    this.shutWrite = false;
    this.streamState = SS_UNCONNECTED;
    this.socketError = 0;
    this.receiveTimeout = 0;
    this.sendTimeout = 0;
    this.timestamp = false;
    this.keepalive = false;
    this.keepIdle = KEEPIDLE_DEFAULT;
    this.keepInterval = KEEPINTVL_DEFAULT;
    this.keepCount = KEEPCNT_DEFAULT;
    this.lingerOn = false;
    this.lingerSeconds = 0;
    this.v6only = false;
    this.streamSendBuffer = 0;
    this.streamReceiveBuffer = 0;
    this.multicastTtl = 1;
    this.multicastLoop = true;
    this.groupCount = 0;
    this.addressLength = 0;
    this.messageFlags = 0;
    this.receivedAt = -1;
    this.accepted = null;
    this.op = OP_NONE;
    this.result = 0;
    this.hasResult = false;
    this.kicked = false;
  }

  /** An accepted connection: a connected stream socket from its first moment. */
  openAccepted(
    family: number,
    tcp: TcpEndpoint,
    nonblocking: boolean,
    parent: SocketOperations,
  ): void {
    this.open(family, SOCK_STREAM, nonblocking);
    this.tcp = tcp;
    this.streamState = SS_CONNECTED;
    // Linux copies the listener's socket options into the child (sk_clone_lock).
    this.receiveTimeout = parent.receiveTimeout;
    this.sendTimeout = parent.sendTimeout;
    this.timestamp = parent.timestamp;
    this.keepIdle = parent.keepIdle;
    this.keepInterval = parent.keepInterval;
    this.keepCount = parent.keepCount;
    this.lingerOn = parent.lingerOn;
    this.lingerSeconds = parent.lingerSeconds;
    this.v6only = parent.v6only;
    tcp.noDelay = parent.tcp !== null && parent.tcp.noDelay;
    if (parent.keepalive) this.applyKeepalive(true);
  }

  // ================================================================ connect, bind, listen, accept

  /**
   * connect(2) as a non-blocking call (a blocking socket uses connectBlocking): 0, -EINPROGRESS,
   * or -errno.
   */
  connect(sa: Uint8Array, at: number, length: number): number {
    if (!this.inUse) return -EBADF;
    if (this.tcp !== null) return this.streamConnect(sa, at, length, true);
    return this.datagramConnect(sa, at, length);
  }

  private datagramConnect(sa: Uint8Array, at: number, length: number): number {
    const udp = this.udp as UdpEndpoint;
    const family = sockaddrFamily(sa, at, length);
    if (family < 0) return -EINVAL;
    if (family === AF_UNSPEC) {
      udp.disconnect();
      return 0;
    }
    const to = this.layer.address;
    const r = this.destination(sa, at, length, to);
    if (r < 0) return r;
    return udp.connect(to);
  }

  /**
   * A destination sockaddr for connect: IPv4 (v4-mapped for an AF_INET6 socket). 0, or -errno as
   * Linux's tcp_v4_connect / tcp_v6_connect and their datagram twins give.
   */
  private destination(sa: Uint8Array, at: number, length: number, to: FullAddress): number {
    const r = getAddress(this.family, sa, at, length, to);
    if (r < 0) return r;
    if (this.family === AF_INET6 && to.address.family !== AF_INET) {
      // An IPv6 peer: the stack has no IPv6 address to send from yet, as Linux answers for an
      // interface with IPv6 disabled.
      return -EADDRNOTAVAIL;
    }
    if (this.family === AF_INET6 && this.v6only) return -ENETUNREACH;
    return 0;
  }

  private streamConnect(sa: Uint8Array, at: number, length: number, nonblocking: boolean): number {
    const tcp = this.tcp as TcpEndpoint;
    const family = sockaddrFamily(sa, at, length);
    if (family < 0) return -EINVAL;
    if (family === AF_UNSPEC) {
      return this.disconnect(tcp);
    }
    const state = tcp.state;
    if (this.streamState === SS_CONNECTED) return -EISCONN;
    if (this.streamState === SS_CONNECTING) {
      if (state === SYN_SENT || state === SYN_RECEIVED)
        return nonblocking ? -EALREADY : -EINPROGRESS;
      if (state === CLOSED) {
        // Refused, reset or timed out: the error once, else ECONNABORTED, and a fresh start.
        const error = tcp.takeError();
        this.streamState = SS_UNCONNECTED;
        this.shutRead = false;
        this.shutWrite = false;
        return error !== 0 ? -error : -ECONNABORTED;
      }
      this.streamState = SS_CONNECTED;
      return 0;
    }
    if (state !== CLOSED) return -EISCONN;
    const to = this.layer.address;
    const r = this.destination(sa, at, length, to);
    if (r < 0) return r;
    const result = tcp.connect(to);
    if (result === -EINPROGRESS) this.streamState = SS_CONNECTING;
    return result;
  }

  /**
   * connect(AF_UNSPEC) on a stream socket, as Linux's tcp_disconnect: a listener stops, a
   * connection is reset (the peer hears RST, SO_ERROR says ECONNRESET), and the socket may bind,
   * listen or connect again. Its options go on to the fresh endpoint.
   */
  private disconnect(tcp: TcpEndpoint): number {
    const state = tcp.state;
    this.streamState = SS_UNCONNECTED;
    this.shutRead = false;
    this.shutWrite = false;
    if (state === CLOSED) return 0;
    const fresh = this.layer.stack.openTcp();
    if (fresh === null) return -ENOBUFS_LINUX;
    fresh.reuseAddress = tcp.reuseAddress;
    fresh.noDelay = tcp.noDelay;
    fresh.lingerZero = this.lingerOn && this.lingerSeconds === 0;
    if (state !== LISTEN) this.socketError = ECONNRESET;
    tcp.eventUnregister(this.entry);
    tcp.lingerZero = true;
    tcp.close();
    this.tcp = fresh;
    if (this.keepalive) this.applyKeepalive(true);
    return 0;
  }

  /** Takes the pending error: the socket's own (a disconnect) first, then the endpoint's. */
  private takeError(): number {
    const own = this.socketError;
    if (own !== 0) {
      this.socketError = 0;
      return own;
    }
    const tcp = this.tcp;
    return tcp !== null ? tcp.takeError() : (this.udp as UdpEndpoint).takeError();
  }

  bind(sa: Uint8Array, at: number, length: number): number {
    if (!this.inUse) return -EBADF;
    const local = this.layer.address;
    let r: number;
    if (this.family === AF_INET) {
      // Linux's inet_bind takes AF_UNSPEC with INADDR_ANY as AF_INET, for old programs.
      if (length >= 16 && sockaddrFamily(sa, at, length) === AF_UNSPEC) {
        if ((sa[at + 4] | sa[at + 5] | sa[at + 6] | sa[at + 7]) !== 0) return -EAFNOSUPPORT;
        local.port = (sa[at + 2] << 8) | sa[at + 3];
        local.address.setV4(0);
        r = 0;
      } else r = getAddress(AF_INET, sa, at, length, local);
    } else {
      if (length >= 2 && sockaddrFamily(sa, at, length) !== AF_INET6) return -EAFNOSUPPORT;
      r = getAddress(AF_INET6, sa, at, length, local);
    }
    if (r < 0) return r;
    const address = local.address;
    if (this.family === AF_INET6) {
      if (address.family === AF_INET) {
        if (this.v6only) return -EINVAL;
      } else if (isUnspecified6(address)) address.setV4(0);
      // No IPv6 address is ours until the IPv6 data path.
      else return -EADDRNOTAVAIL;
    }
    if (this.tcp !== null) return this.tcp.bind(address, local.port);
    return (this.udp as UdpEndpoint).bind(address, local.port);
  }

  listen(backlog: number): number {
    if (!this.inUse) return -EBADF;
    const tcp = this.tcp;
    if (tcp === null) return -EOPNOTSUPP;
    if (this.streamState !== SS_UNCONNECTED) return -EINVAL;
    return tcp.listen(backlog);
  }

  /**
   * accept4(2) without blocking: the new socket, or -errno (-EAGAIN when none waits). Its peer is
   * written to `sa[at ..+ capacity)` (addressLength tells the full length). `flags` takes
   * SOCK_NONBLOCK and SOCK_CLOEXEC.
   */
  accept(
    flags: number,
    sa: Uint8Array | null,
    at: number,
    capacity: number,
  ): SocketOperations | number {
    if (!this.inUse) return -EBADF;
    if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return -EINVAL;
    const tcp = this.tcp;
    if (tcp === null) return -EOPNOTSUPP;
    if (tcp.state !== LISTEN) return -EINVAL;
    const layer = this.layer;
    const socket = layer.freeSocket();
    if (socket === null) return -EMFILE;
    const from = layer.address;
    const child = tcp.accept(from);
    if (typeof child === "number") return child;
    socket.openAccepted(this.family, child, (flags & SOCK_NONBLOCK) !== 0, this);
    this.addressLength = convertAddress(
      this.family,
      from.address,
      from.port,
      0,
      sa,
      at,
      capacity,
      layer.sockaddrScratch,
    );
    return socket;
  }

  // ================================================================ data

  /** read(2): recvMsg without flags or address. */
  read(dst: Uint8Array, offset: number, length: number): number {
    return this.recvMsg(dst, offset, length, 0, null, 0, 0);
  }

  /** write(2): sendMsg without flags or address. */
  write(src: Uint8Array, offset: number, length: number): number {
    return this.sendMsg(src, offset, length, 0, null, 0, 0);
  }

  /**
   * recvmsg(2) without blocking: bytes read (the datagram's full length with MSG_TRUNC), 0 at end
   * of stream, or -errno. The sender goes to `sa[at ..+ capacity)` for datagrams; messageFlags
   * and receivedAt tell the rest.
   */
  recvMsg(
    dst: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    sa: Uint8Array | null,
    at: number,
    capacity: number,
  ): number {
    if (!this.inUse) return -EBADF;
    if (length < 0) return -EINVAL;
    this.messageFlags = 0;
    this.addressLength = 0;
    return this.tcp !== null
      ? this.streamRecv(dst, offset, length, flags)
      : this.datagramRecv(dst, offset, length, flags, sa, at, capacity);
  }

  private streamRecv(dst: Uint8Array, offset: number, length: number, flags: number): number {
    const tcp = this.tcp as TcpEndpoint;
    const state = tcp.state;
    if (state === LISTEN) return -ENOTCONN;
    if ((flags & MSG_OOB) !== 0) return -EINVAL;
    const queued = tcp.receiveQueued;
    if (queued === 0) {
      const error = this.takeError();
      if (error !== 0) return -error;
      if (this.shutRead || this.ended || tcp.readiness(EVENT_RDHUP) !== 0) return 0;
      if (state === CLOSED) return -ENOTCONN;
      return length === 0 ? 0 : -EAGAIN;
    }
    if (this.timestamp) this.receivedAt = this.layer.now;
    if ((flags & MSG_TRUNC) !== 0) {
      // Linux counts (MSG_PEEK) or discards (without) the bytes, copying nothing.
      const n = length < queued ? length : queued;
      if ((flags & MSG_PEEK) !== 0) return n;
      const scratch = this.layer.discardScratch;
      let left = n;
      while (left > 0) {
        const r = tcp.recv(scratch, 0, left < scratch.length ? left : scratch.length, 0);
        if (r <= 0) break;
        left -= r;
      }
      return n - left;
    }
    return tcp.recv(dst, offset, length, flags & MSG_PEEK);
  }

  private datagramRecv(
    dst: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    sa: Uint8Array | null,
    at: number,
    capacity: number,
  ): number {
    const udp = this.udp as UdpEndpoint;
    const layer = this.layer;
    const from = layer.address;
    const full = udp.recvFrom(dst, offset, length, from, (flags & MSG_PEEK) | MSG_TRUNC);
    if (full < 0) return full;
    if (full > length) this.messageFlags = MSG_TRUNC;
    if (this.timestamp) this.receivedAt = layer.now;
    this.addressLength = convertAddress(
      this.family,
      from.address,
      from.port,
      0,
      sa,
      at,
      capacity,
      layer.sockaddrScratch,
    );
    return (flags & MSG_TRUNC) !== 0 || full < length ? full : length;
  }

  /**
   * sendmsg(2) without blocking: bytes queued (a stream socket may take fewer than `length`), or
   * -errno. `sa` (a destination) only for datagram sockets; MSG_MORE holds a partial TCP segment.
   */
  sendMsg(
    src: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    sa: Uint8Array | null,
    at: number,
    saLength: number,
  ): number {
    if (!this.inUse) return -EBADF;
    if (length < 0) return -EINVAL;
    const tcp = this.tcp;
    if (tcp !== null) {
      if ((flags & MSG_OOB) !== 0) return -EOPNOTSUPP;
      // A stream socket ignores a destination once connected; before, Linux says EPIPE anyway.
      const state = tcp.state;
      if (state === SYN_SENT || state === SYN_RECEIVED) {
        const error = tcp.takeError();
        return error !== 0 ? -error : -EAGAIN;
      }
      if (this.shutWrite) {
        const error = tcp.takeError();
        return error !== 0 ? -error : -EPIPE;
      }
      return tcp.send(src, offset, length, flags & MSG_MORE);
    }
    const udp = this.udp as UdpEndpoint;
    if ((flags & MSG_OOB) !== 0) return -EOPNOTSUPP;
    let to: FullAddress | null = null;
    if (sa !== null && saLength > 0) {
      to = this.layer.address;
      const r = this.sendDestination(sa, at, saLength, to);
      if (r < 0) return r;
      if (r === 1) to = null;
    }
    if (this.shutWrite) return -EPIPE;
    const layer = this.layer;
    const corking = layer.corkOwner === this;
    if (!corking && to === null && !this.udpConnected) return -EDESTADDRREQ;
    if ((flags & MSG_MORE) === 0 && !corking) return udp.sendTo(src, offset, length, to);
    return this.cork(udp, src, offset, length, flags, to);
  }

  /**
   * MSG_MORE on a datagram socket: the bytes wait in the layer's cork buffer, and the send
   * without it goes out as one datagram with everything held, to the first call's destination,
   * as Linux's corked UDP does.
   */
  private cork(
    udp: UdpEndpoint,
    src: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    to: FullAddress | null,
  ): number {
    const layer = this.layer;
    if (layer.corkOwner === null) {
      layer.corkOwner = this;
      layer.corkLength = 0;
      layer.corkHasDestination = to !== null;
      if (to !== null) {
        layer.corkDestination.address.copyFrom(to.address);
        layer.corkDestination.port = to.port;
      }
    } else if (layer.corkOwner !== this) return -ENOBUFS_LINUX;
    const buffer = layer.corkBuffer;
    if (layer.corkLength + length > buffer.length) {
      layer.corkOwner = null;
      return -EMSGSIZE_LINUX;
    }
    for (let i = 0; i < length; i++) buffer[layer.corkLength + i] = src[offset + i];
    layer.corkLength += length;
    if ((flags & MSG_MORE) !== 0) return length;
    layer.corkOwner = null;
    const r = udp.sendTo(
      buffer,
      0,
      layer.corkLength,
      layer.corkHasDestination ? layer.corkDestination : null,
    );
    return r < 0 ? r : length;
  }

  /** A sendto destination: 0, 1 for "none" (AF_UNSPEC on an AF_INET6 socket), or -errno. */
  private sendDestination(sa: Uint8Array, at: number, length: number, to: FullAddress): number {
    if (length < 2) return -EINVAL;
    const family = sockaddrFamily(sa, at, length);
    if (this.family === AF_INET) {
      if (length < 16) return -EINVAL;
      if (family !== AF_INET && family !== AF_UNSPEC) return -EAFNOSUPPORT;
      to.port = (sa[at + 2] << 8) | sa[at + 3];
      to.address.setV4((sa[at + 4] << 24) | (sa[at + 5] << 16) | (sa[at + 6] << 8) | sa[at + 7]);
      return to.port === 0 ? -EINVAL : 0;
    }
    if (family === AF_UNSPEC) return 1;
    if (family === AF_INET) {
      if (length < 16) return -EINVAL;
      to.port = (sa[at + 2] << 8) | sa[at + 3];
      to.address.setV4((sa[at + 4] << 24) | (sa[at + 5] << 16) | (sa[at + 6] << 8) | sa[at + 7]);
      return to.port === 0 ? -EINVAL : 0;
    }
    if (family !== AF_INET6) return -EINVAL;
    const r = getAddress(AF_INET6, sa, at, length, to);
    if (r < 0) return r;
    if (to.address.family !== AF_INET) return -EADDRNOTAVAIL;
    if (this.v6only) return -ENETUNREACH;
    return to.port === 0 ? -EINVAL : 0;
  }

  shutdown(how: number): number {
    if (!this.inUse) return -EBADF;
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return -EINVAL;
    const read = how !== SHUT_WR;
    const write = how !== SHUT_RD;
    const tcp = this.tcp;
    let result = 0;
    if (tcp !== null) {
      const state = tcp.state;
      if (state === LISTEN) {
        // Linux stops listening on SHUT_RD; the socket may bind and listen again.
        if (read) this.layer.renewStream(this);
        return 0;
      }
      if (state === CLOSED) result = -ENOTCONN;
      else if (state === SYN_SENT) tcp.shutdown(how);
      else if (write) tcp.shutdown(SHUT_WR);
    } else if (!this.udpConnected) result = -ENOTCONN;
    // As inet_shutdown, the flags are set even when the socket was not connected.
    if (read) this.shutRead = true;
    if (write) this.shutWrite = true;
    this.layer.raise(this);
    return result;
  }

  /** Closes the socket: a blocked call completes with -EBADF, the endpoint is let go. */
  close(): number {
    if (!this.inUse) return -EBADF;
    this.layer.release(this);
    return 0;
  }

  /** The socket let go by its layer: endpoint closed, memberships dropped. */
  releaseEndpoint(): void {
    const tcp = this.tcp;
    if (tcp !== null) {
      if (tcp.isOpen) {
        tcp.eventUnregister(this.entry);
        tcp.close();
      }
      this.tcp = null;
    }
    const udp = this.udp;
    if (udp !== null) {
      if (udp.isOpen) {
        udp.eventUnregister(this.entry);
        udp.close();
      }
      this.udp = null;
    }
    if (this.layer.corkOwner === this) this.layer.corkOwner = null;
    for (let i = 0; i < this.groupCount; i++) this.layer.leaveGroup(this.groups[i]);
    this.groupCount = 0;
    this.inUse = false;
  }

  // ================================================================ readiness

  /** A datagram socket with a fixed peer. */
  private get udpConnected(): boolean {
    const udp = this.udp;
    return udp !== null && udp.getPeer(this.layer.peerScratch) === 0;
  }

  /** A stream socket whose connection (or attempt) is over: Linux's sk_shutdown is then full. */
  private get ended(): boolean {
    const tcp = this.tcp;
    return tcp !== null && tcp.state === CLOSED && this.streamState !== SS_UNCONNECTED;
  }

  /** The events among `mask` that hold now (EVENT_IN, OUT, ERR, HUP, RDHUP): tcp_poll, datagram_poll. */
  readiness(mask: number): number {
    if (!this.inUse) return 0;
    let events = 0;
    const tcp = this.tcp;
    if (tcp !== null) {
      const state = tcp.state;
      const endpoint = tcp.readiness(EVENT_IN | EVENT_OUT | EVENT_ERR | EVENT_RDHUP | EVENT_HUP);
      if (state === LISTEN) return endpoint & (EVENT_IN | EVENT_ERR) & mask;
      const ended = this.ended;
      const readShut = this.shutRead || ended || (endpoint & EVENT_RDHUP) !== 0;
      const writeShut = this.shutWrite || ended;
      if ((readShut && writeShut) || state === CLOSED) events |= EVENT_HUP;
      if (readShut) events |= EVENT_IN | EVENT_RDHUP;
      if (state !== SYN_SENT && state !== SYN_RECEIVED) {
        if (tcp.receiveQueued > 0) events |= EVENT_IN;
        if (
          writeShut ||
          (endpoint & EVENT_OUT) !== 0 ||
          (state !== ESTABLISHED && state !== CLOSE_WAIT)
        )
          events |= EVENT_OUT;
      }
      if ((endpoint & EVENT_ERR) !== 0 || this.socketError !== 0) events |= EVENT_ERR;
    } else {
      const udp = this.udp as UdpEndpoint;
      events = udp.readiness(EVENT_IN | EVENT_OUT | EVENT_ERR);
      if (this.shutRead) events |= EVENT_IN | EVENT_RDHUP;
      if (this.shutRead && this.shutWrite) events |= EVENT_HUP;
    }
    return events & mask;
  }

  /** Registers `entry` with the endpoint's waiter queue for the events in `mask`. */
  eventRegister(entry: WaiterEntry, mask: number): number {
    if (!this.inUse) return -EBADF;
    if (this.tcp !== null) return this.tcp.eventRegister(entry, mask);
    return (this.udp as UdpEndpoint).eventRegister(entry, mask);
  }

  eventUnregister(entry: WaiterEntry): void {
    if (!this.inUse) return;
    if (this.tcp !== null) this.tcp.eventUnregister(entry);
    else (this.udp as UdpEndpoint).eventUnregister(entry);
  }

  // ================================================================ names

  /** getsockname(2): writes the sockaddr (truncated to `capacity`); returns its full length. */
  getSockName(sa: Uint8Array | null, at: number, capacity: number): number {
    if (!this.inUse) return -EBADF;
    const local = this.layer.address;
    if (this.tcp !== null) this.tcp.getLocal(local);
    else (this.udp as UdpEndpoint).getLocal(local);
    return (this.addressLength = convertAddress(
      this.family,
      local.address,
      local.port,
      0,
      sa,
      at,
      capacity,
      this.layer.sockaddrScratch,
    ));
  }

  /** getpeername(2): the full length, or -ENOTCONN. */
  getPeerName(sa: Uint8Array | null, at: number, capacity: number): number {
    if (!this.inUse) return -EBADF;
    const peer = this.layer.address;
    const tcp = this.tcp;
    if (tcp !== null) {
      const state = tcp.state;
      if (state === CLOSED || state === SYN_SENT) return -ENOTCONN;
      const r = tcp.getPeer(peer);
      if (r < 0) return r;
    } else {
      const r = (this.udp as UdpEndpoint).getPeer(peer);
      if (r < 0) return r;
    }
    return (this.addressLength = convertAddress(
      this.family,
      peer.address,
      peer.port,
      0,
      sa,
      at,
      capacity,
      this.layer.sockaddrScratch,
    ));
  }

  // ================================================================ options

  /**
   * getsockopt(2): writes the value into `out[at ..+ capacity)` (truncated as Linux truncates)
   * and returns the length written (Linux's optlen), or -errno.
   */
  getSockOpt(level: number, name: number, out: Uint8Array, at: number, capacity: number): number {
    if (!this.inUse) return -EBADF;
    if (capacity < 0) return -EINVAL;
    const tcp = this.tcp;
    const udp = this.udp;
    if (level === SOL_SOCKET) {
      switch (name) {
        case SO_TYPE:
          return this.putInt(out, at, capacity, this.type);
        case SO_DOMAIN:
          return this.putInt(out, at, capacity, this.family);
        case SO_PROTOCOL:
          return this.putInt(out, at, capacity, tcp !== null ? IPPROTO_TCP : IPPROTO_UDP);
        case SO_ERROR:
          return this.putInt(out, at, capacity, this.takeError());
        case SO_REUSEADDR:
          return this.putInt(
            out,
            at,
            capacity,
            (tcp !== null ? tcp.reuseAddress : (udp as UdpEndpoint).reuseAddress) ? 1 : 0,
          );
        case SO_KEEPALIVE:
          return this.putInt(out, at, capacity, this.keepalive ? 1 : 0);
        case SO_BROADCAST:
          return this.putInt(out, at, capacity, udp !== null && udp.broadcast ? 1 : 0);
        case SO_ACCEPTCONN:
          return this.putInt(out, at, capacity, tcp !== null && tcp.state === LISTEN ? 1 : 0);
        case SO_TIMESTAMP:
          return this.putInt(out, at, capacity, this.timestamp ? 1 : 0);
        case SO_SNDBUF:
          return this.putInt(out, at, capacity, this.sendBufferSize());
        case SO_RCVBUF:
          return this.putInt(out, at, capacity, this.receiveBufferSize());
        case SO_LINGER: {
          const scratch = this.layer.optionScratch;
          writeInt(scratch, 0, this.lingerOn ? 1 : 0);
          writeInt(scratch, 4, this.lingerSeconds);
          return this.putBytes(out, at, capacity, 8);
        }
        case SO_RCVTIMEO:
        case SO_SNDTIMEO: {
          const us = name === SO_RCVTIMEO ? this.receiveTimeout : this.sendTimeout;
          const scratch = this.layer.optionScratch;
          writeLong(scratch, 0, Math.floor(us / 1000000));
          writeLong(scratch, 8, us % 1000000);
          return this.putBytes(out, at, capacity, 16);
        }
        default:
          return -ENOPROTOOPT;
      }
    }
    if (level === SOL_TCP) {
      // What Linux's UDP answers for SOL_TCP: the v4 and v6 paths differ.
      if (tcp === null) return this.family === AF_INET ? -EOPNOTSUPP : -ENOPROTOOPT;
      switch (name) {
        case TCP_NODELAY:
          return this.putTcpInt(out, at, capacity, tcp.noDelay ? 1 : 0);
        case TCP_KEEPIDLE:
          return this.putTcpInt(out, at, capacity, this.keepIdle);
        case TCP_KEEPINTVL:
          return this.putTcpInt(out, at, capacity, this.keepInterval);
        case TCP_KEEPCNT:
          return this.putTcpInt(out, at, capacity, this.keepCount);
        case TCP_MAXSEG:
          return this.putTcpInt(out, at, capacity, tcp.sendMss > 0 ? tcp.sendMss : 536);
        case TCP_INFO:
          return this.tcpInfo(out, at, capacity);
        default:
          return -ENOPROTOOPT;
      }
    }
    if (level === SOL_IP) {
      switch (name) {
        case IP_TTL:
          return this.putIpInt(
            out,
            at,
            capacity,
            udp !== null && udp.ttl >= 0 ? udp.ttl : this.layer.defaultTtl,
          );
        case IP_TOS:
          return this.putIpInt(out, at, capacity, udp !== null ? udp.tos : 0);
        case IP_MULTICAST_TTL:
          return this.putIpInt(out, at, capacity, this.multicastTtl);
        case IP_MULTICAST_LOOP:
          return this.putIpInt(out, at, capacity, this.multicastLoop ? 1 : 0);
        default:
          return -ENOPROTOOPT;
      }
    }
    if (level === SOL_IPV6) {
      if (this.family !== AF_INET6) return -EOPNOTSUPP;
      if (name === IPV6_V6ONLY) {
        return this.putInt(out, at, capacity, this.v6only ? 1 : 0);
      }
      return -ENOPROTOOPT;
    }
    return tcp !== null ? -EOPNOTSUPP : -ENOPROTOOPT;
  }

  /** SOL_SOCKET ints: Linux copies min(optlen, 4) bytes. */
  private putInt(out: Uint8Array, at: number, capacity: number, value: number): number {
    writeInt(this.layer.optionScratch, 0, value);
    return this.putBytes(out, at, capacity, 4);
  }

  /** SOL_TCP ints: as SOL_SOCKET's. */
  private putTcpInt(out: Uint8Array, at: number, capacity: number, value: number): number {
    return this.putInt(out, at, capacity, value);
  }

  /** SOL_IP ints: a short optlen gets one byte when the value fits one, as do_ip_getsockopt does. */
  private putIpInt(out: Uint8Array, at: number, capacity: number, value: number): number {
    if (capacity < 4 && capacity > 0 && value >= 0 && value <= 255) {
      out[at] = value;
      return 1;
    }
    return this.putInt(out, at, capacity, value);
  }

  private putBytes(out: Uint8Array, at: number, capacity: number, length: number): number {
    const n = capacity < length ? capacity : length;
    const scratch = this.layer.optionScratch;
    for (let i = 0; i < n; i++) out[at + i] = scratch[i];
    return n;
  }

  private sendBufferSize(): number {
    if (this.tcp !== null)
      return this.streamSendBuffer !== 0 ? this.streamSendBuffer : this.layer.tcpSendBufferDefault;
    return (this.udp as UdpEndpoint).sendBuffer;
  }

  private receiveBufferSize(): number {
    if (this.tcp !== null)
      return this.streamReceiveBuffer !== 0
        ? this.streamReceiveBuffer
        : this.layer.tcpReceiveBufferDefault;
    return (this.udp as UdpEndpoint).receiveBuffer;
  }

  /** struct tcp_info through tcpi_total_retrans, from the connection's real figures. */
  private tcpInfo(out: Uint8Array, at: number, capacity: number): number {
    const tcp = this.tcp as TcpEndpoint;
    const s = this.layer.optionScratch;
    s.fill(0, 0, TCP_INFO_SIZE);
    const state = tcp.state;
    s[0] = tcpLinuxState(state);
    const retransmitting = tcp.retransmits;
    s[2] = 0;
    let options = 0;
    if (tcp.timestamps) options |= TCPI_OPT_TIMESTAMPS;
    if (tcp.sack) options |= TCPI_OPT_SACK;
    if (tcp.sendWscale >= 0) {
      options |= TCPI_OPT_WSCALE;
      s[6] = (tcp.sendWscale & 15) | ((tcp.receiveWscale & 15) << 4);
    }
    s[5] = options;
    // tcpi_delivery_rate_app_limited: nothing waits to be sent, so the application limits the rate.
    if (tcp.sendQueued === 0) s[7] = 1;
    const mss = tcp.sendMss;
    writeInt(s, 8, tcp.rto * 1000);
    writeInt(s, 16, mss);
    writeInt(s, 20, mss);
    writeInt(s, 24, mss > 0 ? Math.ceil(tcp.unacknowledged / mss) : 0);
    writeInt(s, 68, tcp.rtt * 1000);
    writeInt(s, 72, tcp.rttVariance * 1000);
    const ssthresh = tcp.slowStartThreshold;
    writeInt(s, 76, mss > 0 && ssthresh < 0x7fffffff ? Math.floor(ssthresh / mss) : 0x7fffffff);
    writeInt(s, 80, mss > 0 ? Math.floor(tcp.congestionWindow / mss) : 0);
    writeInt(s, 84, mss);
    writeInt(s, 100, retransmitting);
    return this.putBytes(out, at, capacity, TCP_INFO_SIZE);
  }

  /** setsockopt(2): 0 or -errno. */
  setSockOpt(level: number, name: number, value: Uint8Array, at: number, length: number): number {
    if (!this.inUse) return -EBADF;
    if (length < 0) return -EINVAL;
    const tcp = this.tcp;
    const udp = this.udp;
    if (level === SOL_SOCKET) {
      if (name === SO_LINGER) {
        if (length < 8) return -EINVAL;
        this.lingerOn = readInt(value, at) !== 0;
        this.lingerSeconds = readInt(value, at + 4);
        if (tcp !== null) tcp.lingerZero = this.lingerOn && this.lingerSeconds === 0;
        return 0;
      }
      if (name === SO_RCVTIMEO || name === SO_SNDTIMEO) {
        if (length < 16) return -EINVAL;
        const seconds = readLong(value, at);
        const us = readLong(value, at + 8);
        if (us < 0 || us >= 1000000) return -EDOM_LINUX;
        const total = seconds < 0 ? 0 : seconds * 1000000 + us;
        if (name === SO_RCVTIMEO) this.receiveTimeout = total;
        else this.sendTimeout = total;
        return 0;
      }
      if (length < 4) return -EINVAL;
      const v = readInt(value, at);
      switch (name) {
        case SO_REUSEADDR:
          if (tcp !== null) tcp.reuseAddress = v !== 0;
          else (udp as UdpEndpoint).reuseAddress = v !== 0;
          return 0;
        case SO_KEEPALIVE:
          if (tcp !== null) this.applyKeepalive(v !== 0);
          this.keepalive = v !== 0;
          return 0;
        case SO_BROADCAST:
          if (udp !== null) udp.broadcast = v !== 0;
          return 0;
        case SO_TIMESTAMP:
          this.timestamp = v !== 0;
          return 0;
        case SO_SNDBUF:
          if (tcp !== null) this.streamSendBuffer = this.layer.clampBuffer(v);
          else (udp as UdpEndpoint).setSendBuffer(v);
          return 0;
        case SO_RCVBUF:
          if (tcp !== null) this.streamReceiveBuffer = this.layer.clampBuffer(v);
          else (udp as UdpEndpoint).setReceiveBuffer(v);
          return 0;
        case SO_TYPE:
        case SO_ERROR:
        case SO_DOMAIN:
        case SO_PROTOCOL:
        case SO_ACCEPTCONN:
          return -ENOPROTOOPT;
        default:
          return -ENOPROTOOPT;
      }
    }
    if (level === SOL_TCP) {
      if (tcp === null) return -ENOPROTOOPT;
      if (length < 4) return -EINVAL;
      const v = readInt(value, at);
      switch (name) {
        case TCP_NODELAY:
          tcp.noDelay = v !== 0;
          return 0;
        case TCP_KEEPIDLE:
          if (v < 1 || v > MAX_TCP_KEEPIDLE) return -EINVAL;
          this.keepIdle = v;
          if (this.keepalive) this.applyKeepalive(true);
          return 0;
        case TCP_KEEPINTVL:
          if (v < 1 || v > MAX_TCP_KEEPINTVL) return -EINVAL;
          this.keepInterval = v;
          if (this.keepalive) this.applyKeepalive(true);
          return 0;
        case TCP_KEEPCNT:
          if (v < 1 || v > MAX_TCP_KEEPCNT) return -EINVAL;
          this.keepCount = v;
          if (this.keepalive) this.applyKeepalive(true);
          return 0;
        case TCP_INFO:
          return -ENOPROTOOPT;
        default:
          return -ENOPROTOOPT;
      }
    }
    if (level === SOL_IP) {
      if (name === IP_ADD_MEMBERSHIP || name === IP_DROP_MEMBERSHIP) {
        if (tcp !== null) return -EPROTO;
        if (length < 8) return -EINVAL;
        const group =
          (value[at] << 24) | (value[at + 1] << 16) | (value[at + 2] << 8) | value[at + 3];
        const local =
          (value[at + 4] << 24) | (value[at + 5] << 16) | (value[at + 6] << 8) | value[at + 7];
        if (name === IP_ADD_MEMBERSHIP && !isMulticastV4(group)) return -EINVAL;
        // ip_mc_find_dev: the interface by its address, or the one the group routes through.
        const found = this.layer.multicastInterface(group, local);
        if (name === IP_ADD_MEMBERSHIP) return found ? this.joinGroup(group) : -ENODEV;
        if (!found && local === 0) return -ENODEV;
        return this.dropGroup(group);
      }
      // Linux takes an int, or a single byte for these.
      if (length < 1) return -EINVAL;
      const v = length >= 4 ? readInt(value, at) : value[at];
      switch (name) {
        case IP_TTL:
          if (v !== -1 && (v < 1 || v > 255)) return -EINVAL;
          if (udp !== null) udp.ttl = v;
          return 0;
        case IP_TOS:
          if (udp !== null) udp.tos = v & 0xfc;
          return 0;
        case IP_MULTICAST_TTL:
          if (v === -1) this.multicastTtl = 1;
          else if (v < 0 || v > 255) return -EINVAL;
          else this.multicastTtl = v;
          return 0;
        case IP_MULTICAST_LOOP:
          this.multicastLoop = v !== 0;
          return 0;
        default:
          return -ENOPROTOOPT;
      }
    }
    if (level === SOL_IPV6) {
      if (this.family !== AF_INET6) return tcp !== null ? -EOPNOTSUPP : -ENOPROTOOPT;
      if (name === IPV6_V6ONLY) {
        if (length < 4) return -EINVAL;
        // Fixed once bound, as Linux's inet_num check.
        const local = this.layer.address;
        if (tcp !== null) tcp.getLocal(local);
        else (udp as UdpEndpoint).getLocal(local);
        if (local.port !== 0) return -EINVAL;
        this.v6only = readInt(value, at) !== 0;
        return 0;
      }
      return -ENOPROTOOPT;
    }
    return tcp !== null ? -EOPNOTSUPP : -ENOPROTOOPT;
  }

  private applyKeepalive(on: boolean): void {
    const tcp = this.tcp;
    if (tcp === null) return;
    tcp.setKeepalive(on, this.keepIdle * 1000, this.keepInterval * 1000, this.keepCount);
  }

  private joinGroup(group: number): number {
    if (!isMulticastV4(group)) return -EINVAL;
    for (let i = 0; i < this.groupCount; i++) if (this.groups[i] === group) return -EADDRINUSE;
    if (this.groupCount === MAX_MEMBERSHIPS) return -ENOBUFS_LINUX;
    if (!this.layer.joinGroup(group)) return -ENOBUFS_LINUX;
    this.groups[this.groupCount++] = group;
    return 0;
  }

  private dropGroup(group: number): number {
    for (let i = 0; i < this.groupCount; i++) {
      if (this.groups[i] !== group) continue;
      this.groups[i] = this.groups[--this.groupCount];
      this.layer.leaveGroup(group);
      return 0;
    }
    return -EADDRNOTAVAIL;
  }

  // ================================================================ ioctl

  /** TIOCINQ and TIOCOUTQ write an int into `arg`; the interface requests are the layer's. */
  ioctl(
    request: number,
    arg: Uint8Array,
    at: number,
    length: number,
    data: Uint8Array | null,
  ): number {
    if (!this.inUse) return -EBADF;
    if (request === TIOCINQ || request === TIOCOUTQ) {
      if (length < 4) return -EFAULT_LINUX;
      const tcp = this.tcp;
      let value: number;
      if (tcp !== null) {
        if (tcp.state === LISTEN) return -EINVAL;
        value = request === TIOCINQ ? tcp.receiveQueued : tcp.sendQueued;
      } else if (request === TIOCINQ) {
        // UDP answers with the first datagram's length (first_packet_length).
        const udp = this.udp as UdpEndpoint;
        const n = udp.recvFrom(this.layer.discardScratch, 0, 0, null, MSG_PEEK | MSG_TRUNC);
        value = n > 0 ? n : 0;
      } else value = 0;
      writeInt(arg, at, value);
      return 0;
    }
    return this.layer.interfaceIoctl(request, arg, at, length, data);
  }

  // ================================================================ blocking calls

  /**
   * connect(2) on a blocking socket: `done` hears 0 or -errno once, later. SO_SNDTIMEO ends the
   * wait with -EINPROGRESS (the attempt goes on), `deadline` (stack ms) with -ETIMEDOUT.
   */
  connectBlocking(
    sa: Uint8Array,
    at: number,
    length: number,
    done: Completion,
    deadline: number,
  ): number {
    if (!this.inUse) return -EBADF;
    if (this.op !== OP_NONE) return -EALREADY;
    const r =
      this.tcp !== null ? this.streamConnect(sa, at, length, false) : this.connect(sa, at, length);
    if (r !== -EINPROGRESS) return this.finishLater(done, r);
    return this.block(
      OP_CONNECT,
      done,
      this.sendTimeout,
      EINPROGRESS,
      deadline,
      EVENT_OUT | EVENT_ERR | EVENT_HUP,
    );
  }

  /** accept4(2) on a blocking socket: `done` hears the new socket's fd (see `accepted`) or -errno. */
  acceptBlocking(
    flags: number,
    sa: Uint8Array | null,
    at: number,
    capacity: number,
    done: Completion,
    deadline: number,
  ): number {
    if (!this.inUse) return -EBADF;
    if (this.op !== OP_NONE) return -EALREADY;
    this.opFlags = flags;
    this.opAddress = sa;
    this.opAddressOffset = at;
    this.opAddressLength = capacity;
    const r = this.tryAccept();
    if (r !== -EAGAIN) return this.finishLater(done, r);
    return this.block(
      OP_ACCEPT,
      done,
      this.receiveTimeout,
      EAGAIN,
      deadline,
      EVENT_IN | EVENT_ERR | EVENT_HUP,
    );
  }

  /** recvmsg(2) on a blocking socket: `done` hears the count or -errno; SO_RCVTIMEO gives -EAGAIN. */
  recvMsgBlocking(
    dst: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    sa: Uint8Array | null,
    at: number,
    capacity: number,
    done: Completion,
    deadline: number,
  ): number {
    if (!this.inUse) return -EBADF;
    if (this.op !== OP_NONE) return -EALREADY;
    this.opBuffer = dst;
    this.opOffset = offset;
    this.opLength = length;
    this.opFlags = flags;
    this.opAddress = sa;
    this.opAddressOffset = at;
    this.opAddressLength = capacity;
    const r = this.recvMsg(dst, offset, length, flags, sa, at, capacity);
    if (r !== -EAGAIN || (flags & MSG_DONTWAIT) !== 0) return this.finishLater(done, r);
    if (this.udp !== null && this.shutRead) return this.finishLater(done, 0);
    return this.block(
      OP_RECV,
      done,
      this.receiveTimeout,
      EAGAIN,
      deadline,
      EVENT_IN | EVENT_ERR | EVENT_HUP | EVENT_RDHUP,
    );
  }

  /**
   * sendmsg(2) on a blocking socket: a stream socket waits until every byte is queued; `done`
   * hears the count (what was queued when a timeout came, if any) or -errno.
   */
  sendMsgBlocking(
    src: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    sa: Uint8Array | null,
    at: number,
    saLength: number,
    done: Completion,
    deadline: number,
  ): number {
    if (!this.inUse) return -EBADF;
    if (this.op !== OP_NONE) return -EALREADY;
    this.opBuffer = src;
    this.opOffset = offset;
    this.opLength = length;
    this.opFlags = flags;
    this.opAddress = sa;
    this.opAddressOffset = at;
    this.opAddressLength = saLength;
    this.opDone = 0;
    const r = this.trySend();
    if (r !== -EAGAIN || (flags & MSG_DONTWAIT) !== 0) return this.finishLater(done, r);
    return this.block(
      OP_SEND,
      done,
      this.sendTimeout,
      EAGAIN,
      deadline,
      EVENT_OUT | EVENT_ERR | EVENT_HUP,
    );
  }

  /** A blocked call is waiting. */
  get blocked(): boolean {
    return this.op !== OP_NONE;
  }

  private tryAccept(): number {
    const r = this.accept(this.opFlags, this.opAddress, this.opAddressOffset, this.opAddressLength);
    if (typeof r === "number") return r;
    this.accepted = r;
    return r.fd;
  }

  /** Sends what is left of the blocked send: the total once all is queued, -EAGAIN to wait. */
  private trySend(): number {
    const left = this.opLength - this.opDone;
    const r = this.sendMsg(
      this.opBuffer as Uint8Array,
      this.opOffset + this.opDone,
      left,
      this.opFlags,
      this.opAddress,
      this.opAddressOffset,
      this.opAddressLength,
    );
    if (r < 0) return r === -EAGAIN || this.opDone === 0 ? r : this.opDone;
    this.opDone += r;
    if (this.tcp !== null && this.opDone < this.opLength) return -EAGAIN;
    return this.tcp !== null ? this.opDone : r;
  }

  /** Result known at once: complete from the layer's next poll, never from inside the call. */
  private finishLater(done: Completion, result: number): number {
    this.op = OP_DONE;
    this.completion = done;
    this.result = result;
    this.hasResult = true;
    this.deadline = Infinity;
    this.layer.due(this);
    return 0;
  }

  private block(
    op: number,
    done: Completion,
    timeoutUs: number,
    timeoutErrno: number,
    deadline: number,
    mask: number,
  ): number {
    this.op = op;
    this.completion = done;
    this.hasResult = false;
    this.kicked = false;
    let until = deadline > 0 ? deadline : Infinity;
    this.timeoutErrno = ETIMEDOUT;
    if (timeoutUs > 0) {
      const t = this.layer.now + Math.ceil(timeoutUs / 1000);
      if (t <= until) {
        until = t;
        this.timeoutErrno = timeoutErrno;
      }
    }
    this.deadline = until;
    this.eventRegister(this.entry, mask);
    this.layer.waiting(this);
    return 0;
  }

  /** The waiter entry's callback: events came; try the blocked call again. */
  callback(_entry: WaiterEntry, _events: number): void {
    if (this.op === OP_NONE || this.hasResult) return;
    let r: number;
    switch (this.op) {
      case OP_CONNECT:
        r = this.streamConnect(this.layer.emptySockaddr, 0, 16, false);
        if (r === -EINPROGRESS) return;
        if (r === -EISCONN) r = 0;
        break;
      case OP_ACCEPT:
        r = this.tryAccept();
        if (r === -EAGAIN) return;
        break;
      case OP_RECV:
        r = this.recvMsg(
          this.opBuffer as Uint8Array,
          this.opOffset,
          this.opLength,
          this.opFlags,
          this.opAddress,
          this.opAddressOffset,
          this.opAddressLength,
        );
        if (r === -EAGAIN) {
          if (this.udp !== null && this.shutRead) r = 0;
          else return;
        }
        break;
      default:
        r = this.trySend();
        if (r === -EAGAIN) return;
    }
    this.complete(r);
  }

  /** The deadline passed (the layer's poll). */
  timedOut(): void {
    if (this.op === OP_NONE || this.hasResult) return;
    let r = -this.timeoutErrno;
    if (this.op === OP_SEND && this.opDone > 0) r = this.opDone;
    this.complete(r);
  }

  /** Ends the blocked call with `result` (the socket is closing: -EBADF). */
  complete(result: number): void {
    const done = this.completion;
    if (this.op === OP_NONE || done === null) return;
    this.eventUnregister(this.entry);
    this.op = OP_NONE;
    this.completion = null;
    this.hasResult = false;
    this.kicked = false;
    this.deadline = Infinity;
    this.opBuffer = null;
    this.opAddress = null;
    done.complete(this, result);
  }

  /** The result decided earlier (finishLater), delivered now. */
  completeDue(): void {
    if (this.op === OP_NONE || !this.hasResult) return;
    this.complete(this.result);
  }
}

/** Linux errnos not otherwise used by the stack. */
const EDOM_LINUX = 33;
const ENOBUFS_LINUX = 105;
const EFAULT_LINUX = 14;
const EMSGSIZE_LINUX = 90;
