// Codes and byte helpers the socket's operation modules share: Linux's sock->state, the kind of
// blocked call, keepalive defaults, little-endian ints in Linux's option layouts, and the errnos
// the stack's own table lacks.

/** Linux's sock->state for stream sockets. */
export const SS_UNCONNECTED = 0;
export const SS_CONNECTING = 1;
export const SS_CONNECTED = 2;

export const OP_NONE = 0;
export const OP_CONNECT = 1;
export const OP_ACCEPT = 2;
export const OP_RECV = 3;
export const OP_SEND = 4;
/** The result was known at call time and waits for the layer's poll. */
export const OP_DONE = 5;

/** Linux's default keepalive figures (seconds, probes) and limits. */
export const KEEPIDLE_DEFAULT = 7200;
export const KEEPINTVL_DEFAULT = 75;
export const KEEPCNT_DEFAULT = 9;
export const MAX_TCP_KEEPIDLE = 32767;
export const MAX_TCP_KEEPINTVL = 32767;
export const MAX_TCP_KEEPCNT = 127;

export function readInt(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
}

export function writeInt(b: Uint8Array, at: number, value: number): void {
  b[at] = value & 255;
  b[at + 1] = (value >>> 8) & 255;
  b[at + 2] = (value >>> 16) & 255;
  b[at + 3] = value >>> 24;
}

/** A little-endian 64-bit signed value as a number (timeval fields). */
export function readLong(b: Uint8Array, at: number): number {
  return (
    (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) +
    b[at + 3] * 0x1000000 +
    readInt(b, at + 4) * 0x100000000
  );
}

export function writeLong(b: Uint8Array, at: number, value: number): void {
  const low = value % 0x100000000;
  writeInt(b, at, low);
  writeInt(b, at + 4, (value - low) / 0x100000000);
}

/** Linux errnos not otherwise used by the stack. */
export const EDOM_LINUX = 33;
export const ENOBUFS_LINUX = 105;
export const EFAULT_LINUX = 14;
export const EMSGSIZE_LINUX = 90;

/** Multicast groups one socket may join (Linux's default igmp_max_memberships is 20). */
export const MAX_MEMBERSHIPS = 4;
