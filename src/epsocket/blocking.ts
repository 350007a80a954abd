// Callback-driven blocking for one socket (SocketOperations delegates here): the blocking forms of
// connect, accept, recvmsg and sendmsg wait on the socket's one preallocated waiter entry and
// complete exactly once, later than the call.

import { EAGAIN, EALREADY, EBADF, EINPROGRESS, EISCONN, ETIMEDOUT } from "../errno.js";
import type {} from "../transport/tcp/endpoint.js";
import type {} from "../transport/udp-endpoint.js";
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDHUP } from "../transport/waiter.js";
import {} from "../wire/ipv4.js";
import { MSG_DONTWAIT } from "./linux.js";
import type { Completion, SocketOperations } from "./socket.js";
import { streamConnect } from "./connect.js";
import { OP_NONE, OP_CONNECT, OP_ACCEPT, OP_RECV, OP_SEND, OP_DONE } from "./codes.js";

/**
 * connect(2) on a blocking socket: `done` hears 0 or -errno once, later. SO_SNDTIMEO ends the
 * wait with -EINPROGRESS (the attempt goes on), `deadline` (stack ms) with -ETIMEDOUT.
 */
export function connectBlocking(
  s: SocketOperations,
  sa: Uint8Array,
  at: number,
  length: number,
  done: Completion,
  deadline: number,
): number {
  if (!s.inUse) return -EBADF;
  if (s.op !== OP_NONE) return -EALREADY;
  const r = s.tcp !== null ? streamConnect(s, sa, at, length, false) : s.connect(sa, at, length);
  if (r !== -EINPROGRESS) return finishLater(s, done, r);
  return block(
    s,
    OP_CONNECT,
    done,
    s.sendTimeout,
    EINPROGRESS,
    deadline,
    EVENT_OUT | EVENT_ERR | EVENT_HUP,
  );
}

/** accept4(2) on a blocking socket: `done` hears the new socket's fd (see `accepted`) or -errno. */
export function acceptBlocking(
  s: SocketOperations,
  flags: number,
  sa: Uint8Array | null,
  at: number,
  capacity: number,
  done: Completion,
  deadline: number,
): number {
  if (!s.inUse) return -EBADF;
  if (s.op !== OP_NONE) return -EALREADY;
  s.opFlags = flags;
  s.opAddress = sa;
  s.opAddressOffset = at;
  s.opAddressLength = capacity;
  const r = tryAccept(s);
  if (r !== -EAGAIN) return finishLater(s, done, r);
  return block(
    s,
    OP_ACCEPT,
    done,
    s.receiveTimeout,
    EAGAIN,
    deadline,
    EVENT_IN | EVENT_ERR | EVENT_HUP,
  );
}

/** recvmsg(2) on a blocking socket: `done` hears the count or -errno; SO_RCVTIMEO gives -EAGAIN. */
export function recvMsgBlocking(
  s: SocketOperations,
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
  if (!s.inUse) return -EBADF;
  if (s.op !== OP_NONE) return -EALREADY;
  s.opBuffer = dst;
  s.opOffset = offset;
  s.opLength = length;
  s.opFlags = flags;
  s.opAddress = sa;
  s.opAddressOffset = at;
  s.opAddressLength = capacity;
  const r = s.recvMsg(dst, offset, length, flags, sa, at, capacity);
  if (r !== -EAGAIN || (flags & MSG_DONTWAIT) !== 0) return finishLater(s, done, r);
  if (s.udp !== null && s.shutRead) return finishLater(s, done, 0);
  return block(
    s,
    OP_RECV,
    done,
    s.receiveTimeout,
    EAGAIN,
    deadline,
    EVENT_IN | EVENT_ERR | EVENT_HUP | EVENT_RDHUP,
  );
}

/**
 * sendmsg(2) on a blocking socket: a stream socket waits until every byte is queued; `done`
 * hears the count (what was queued when a timeout came, if any) or -errno.
 */
export function sendMsgBlocking(
  s: SocketOperations,
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
  if (!s.inUse) return -EBADF;
  if (s.op !== OP_NONE) return -EALREADY;
  s.opBuffer = src;
  s.opOffset = offset;
  s.opLength = length;
  s.opFlags = flags;
  s.opAddress = sa;
  s.opAddressOffset = at;
  s.opAddressLength = saLength;
  s.opDone = 0;
  const r = trySend(s);
  if (r !== -EAGAIN || (flags & MSG_DONTWAIT) !== 0) return finishLater(s, done, r);
  return block(
    s,
    OP_SEND,
    done,
    s.sendTimeout,
    EAGAIN,
    deadline,
    EVENT_OUT | EVENT_ERR | EVENT_HUP,
  );
}

export function tryAccept(s: SocketOperations): number {
  const r = s.accept(s.opFlags, s.opAddress, s.opAddressOffset, s.opAddressLength);
  if (typeof r === "number") return r;
  s.accepted = r;
  return r.fd;
}

/** Sends what is left of the blocked send: the total once all is queued, -EAGAIN to wait. */
export function trySend(s: SocketOperations): number {
  const left = s.opLength - s.opDone;
  const r = s.sendMsg(
    s.opBuffer as Uint8Array,
    s.opOffset + s.opDone,
    left,
    s.opFlags,
    s.opAddress,
    s.opAddressOffset,
    s.opAddressLength,
  );
  if (r < 0) return r === -EAGAIN || s.opDone === 0 ? r : s.opDone;
  s.opDone += r;
  if (s.tcp !== null && s.opDone < s.opLength) return -EAGAIN;
  return s.tcp !== null ? s.opDone : r;
}

/** Result known at once: complete from the layer's next poll, never from inside the call. */
export function finishLater(s: SocketOperations, done: Completion, result: number): number {
  s.op = OP_DONE;
  s.completion = done;
  s.result = result;
  s.hasResult = true;
  s.deadline = Infinity;
  s.layer.due(s);
  return 0;
}

export function block(
  s: SocketOperations,
  op: number,
  done: Completion,
  timeoutUs: number,
  timeoutErrno: number,
  deadline: number,
  mask: number,
): number {
  s.op = op;
  s.completion = done;
  s.hasResult = false;
  s.kicked = false;
  let until = deadline > 0 ? deadline : Infinity;
  s.timeoutErrno = ETIMEDOUT;
  if (timeoutUs > 0) {
    const t = s.layer.now + Math.ceil(timeoutUs / 1000);
    if (t <= until) {
      until = t;
      s.timeoutErrno = timeoutErrno;
    }
  }
  s.deadline = until;
  s.eventRegister(s.entry, mask);
  s.layer.waiting(s);
  return 0;
}

/** The waiter entry's callback: events came; try the blocked call again. */
export function retryBlocked(s: SocketOperations): void {
  if (s.op === OP_NONE || s.hasResult) return;
  let r: number;
  switch (s.op) {
    case OP_CONNECT:
      r = streamConnect(s, s.layer.emptySockaddr, 0, 16, false);
      if (r === -EINPROGRESS) return;
      if (r === -EISCONN) r = 0;
      break;
    case OP_ACCEPT:
      r = tryAccept(s);
      if (r === -EAGAIN) return;
      break;
    case OP_RECV:
      r = s.recvMsg(
        s.opBuffer as Uint8Array,
        s.opOffset,
        s.opLength,
        s.opFlags,
        s.opAddress,
        s.opAddressOffset,
        s.opAddressLength,
      );
      if (r === -EAGAIN) {
        if (s.udp !== null && s.shutRead) r = 0;
        else return;
      }
      break;
    default:
      r = trySend(s);
      if (r === -EAGAIN) return;
  }
  completeBlocked(s, r);
}

/** The deadline passed (the layer's poll). */
export function timedOut(s: SocketOperations): void {
  if (s.op === OP_NONE || s.hasResult) return;
  let r = -s.timeoutErrno;
  if (s.op === OP_SEND && s.opDone > 0) r = s.opDone;
  completeBlocked(s, r);
}

/** Ends the blocked call with `result` (the socket is closing: -EBADF). */
export function completeBlocked(s: SocketOperations, result: number): void {
  const done = s.completion;
  if (s.op === OP_NONE || done === null) return;
  s.eventUnregister(s.entry);
  s.op = OP_NONE;
  s.completion = null;
  s.hasResult = false;
  s.kicked = false;
  s.deadline = Infinity;
  s.opBuffer = null;
  s.opAddress = null;
  done.complete(s, result);
}

/** The result decided earlier (finishLater), delivered now. */
export function completeDue(s: SocketOperations): void {
  if (s.op === OP_NONE || !s.hasResult) return;
  completeBlocked(s, s.result);
}
