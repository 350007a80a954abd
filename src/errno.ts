// Linux errno numbers (asm-generic/errno-base.h, errno.h). Stack calls return them negated, as the
// kernel does, so a result is either a non-negative count or -errno.
/** Operation not permitted. */
export const EPERM = 1;
/** No such file or directory. */
export const ENOENT = 2;
/** Interrupted system call. */
export const EINTR = 4;
/** Input/output error. */
export const EIO = 5;
/** Bad file descriptor. */
export const EBADF = 9;
/** Resource temporarily unavailable. */
export const EAGAIN = 11;
/** Resource temporarily unavailable. */
export const EWOULDBLOCK = 11;
/** Cannot allocate memory. */
export const ENOMEM = 12;
/** Permission denied. */
export const EACCES = 13;
/** Bad address. */
export const EFAULT = 14;
/** Device or resource busy. */
export const EBUSY = 16;
/** File exists. */
export const EEXIST = 17;
/** No such device. */
export const ENODEV = 19;
/** Invalid argument. */
export const EINVAL = 22;
/** Too many open files in system. */
export const ENFILE = 23;
/** Too many open files. */
export const EMFILE = 24;
/** No space left on device. */
export const ENOSPC = 28;
/** Broken pipe. */
export const EPIPE = 32;
/** Numerical result out of range. */
export const ERANGE = 34;
/** Function not implemented. */
export const ENOSYS = 38;
/** Machine is not on the network. */
export const ENONET = 64;
/** Socket operation on non-socket. */
export const ENOTSOCK = 88;
/** Destination address required. */
export const EDESTADDRREQ = 89;
/** Message too long. */
export const EMSGSIZE = 90;
/** Protocol wrong type for socket. */
export const EPROTOTYPE = 91;
/** Protocol not available. */
export const ENOPROTOOPT = 92;
/** Protocol not supported. */
export const EPROTONOSUPPORT = 93;
/** Operation not supported. */
export const EOPNOTSUPP = 95;
/** Address family not supported by protocol. */
export const EAFNOSUPPORT = 97;
/** Address already in use. */
export const EADDRINUSE = 98;
/** Cannot assign requested address. */
export const EADDRNOTAVAIL = 99;
/** Network is down. */
export const ENETDOWN = 100;
/** Network is unreachable. */
export const ENETUNREACH = 101;
/** Software caused connection abort. */
export const ECONNABORTED = 103;
/** Connection reset by peer. */
export const ECONNRESET = 104;
/** No buffer space available. */
export const ENOBUFS = 105;
/** Transport endpoint is already connected. */
export const EISCONN = 106;
/** Transport endpoint is not connected. */
export const ENOTCONN = 107;
/** Connection timed out. */
export const ETIMEDOUT = 110;
/** Connection refused. */
export const ECONNREFUSED = 111;
/** Host is down. */
export const EHOSTDOWN = 112;
/** No route to host. */
export const EHOSTUNREACH = 113;
/** Operation already in progress. */
export const EALREADY = 114;
/** Operation now in progress. */
export const EINPROGRESS = 115;

/** errno numbers by value to their names; EWOULDBLOCK is EAGAIN's number, named EAGAIN. */
const NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  28: "ENOSPC",
  32: "EPIPE",
  34: "ERANGE",
  38: "ENOSYS",
  64: "ENONET",
  88: "ENOTSOCK",
  89: "EDESTADDRREQ",
  90: "EMSGSIZE",
  91: "EPROTOTYPE",
  92: "ENOPROTOOPT",
  93: "EPROTONOSUPPORT",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  106: "EISCONN",
  107: "ENOTCONN",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  112: "EHOSTDOWN",
  113: "EHOSTUNREACH",
  114: "EALREADY",
  115: "EINPROGRESS",
});

/**
 * The name of an errno, given as returned (negative) or positive: `errnoName(-98)` is
 * "EADDRINUSE". A number that is no errno of the stack's gives "E" and the number ("E200").
 */
export function errnoName(errno: number): string {
  const value = errno < 0 ? -errno : errno;
  return NAMES[value] ?? `E${value}`;
}
