// Linux's numbers for the socket calls, as x86-64 userspace sees them (asm-generic/socket.h,
// linux/in.h, linux/tcp.h, linux/sockios.h): the socket layer reads and writes the caller's bytes
// in exactly the layouts these describe.

export const AF_UNSPEC = 0;
export { AF_INET, AF_INET6 } from "../wire/address.js";

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
/** socket(2) and accept4(2) type flags. */
export const SOCK_NONBLOCK = 0x800;
export const SOCK_CLOEXEC = 0x80000;

export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;

export const SOL_SOCKET = 1;
export const SOL_IP = 0;
export const SOL_TCP = 6;
export const SOL_UDP = 17;
export const SOL_IPV6 = 41;

export const SO_DEBUG = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_DONTROUTE = 5;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_OOBINLINE = 10;
export const SO_LINGER = 13;
export const SO_REUSEPORT = 15;
export const SO_RCVLOWAT = 18;
export const SO_SNDLOWAT = 19;
export const SO_RCVTIMEO = 20;
export const SO_SNDTIMEO = 21;
export const SO_TIMESTAMP = 29;
export const SO_ACCEPTCONN = 30;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;

export const TCP_NODELAY = 1;
export const TCP_MAXSEG = 2;
export const TCP_CORK = 3;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_INFO = 11;

export const IP_TOS = 1;
export const IP_TTL = 2;
export const IP_MULTICAST_TTL = 33;
export const IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35;
export const IP_DROP_MEMBERSHIP = 36;

export const IPV6_V6ONLY = 26;

export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_WAITALL = 0x100;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_MORE = 0x8000;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

export const SIOCGIFNAME = 0x8910;
export const SIOCGIFCONF = 0x8912;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCGIFADDR = 0x8915;
export const SIOCGIFBRDADDR = 0x8919;
export const SIOCGIFNETMASK = 0x891b;
export const SIOCGIFMTU = 0x8921;
export const SIOCGIFHWADDR = 0x8927;
export const SIOCGIFINDEX = 0x8933;
/** Whether the read point is at the urgent mark. */
export const SIOCATMARK = 0x8905;
/** FIONREAD / SIOCINQ. */
export const TIOCINQ = 0x541b;
/** SIOCOUTQ. */
export const TIOCOUTQ = 0x5411;

/** struct ifreq: a 16-byte name, then a 24-byte union. */
export const IFNAMSIZ = 16;
export const IFREQ_SIZE = 40;
/** struct ifconf: int ifc_len, 4 bytes of padding, then the buffer pointer. */
export const IFCONF_SIZE = 16;

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_MULTICAST = 0x1000;
export const ARPHRD_ETHER = 1;

export const SOCKADDR_IN_SIZE = 16;
export const SOCKADDR_IN6_SIZE = 28;

/** Linux's TCP states, as TCP_INFO reports them (include/net/tcp_states.h). */
export const LINUX_TCP_ESTABLISHED = 1;
export const LINUX_TCP_CLOSE = 7;
export const LINUX_TCP_LISTEN = 10;
/**
 * sizeof(struct tcp_info) in the kernel the suite runs on (6.18): through tcpi_total_rto_time,
 * then the AccECN counters and ECN mode bits, which this stack (no ECN) leaves 0.
 */
export const TCP_INFO_SIZE = 280;
export const TCPI_OPT_TIMESTAMPS = 1;
export const TCPI_OPT_SACK = 2;
export const TCPI_OPT_WSCALE = 4;
