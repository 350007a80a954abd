// The link-layer device the stack drives: a TAP, a chip driver, an in-memory pair, or a wrapper
// around another device (impairment, capture). Frames are Ethernet II, without preamble or FCS.
//
// The contract is synchronous and copy-based, so a stack never lends out a pool buffer:
// transmit() copies the frame out before returning, receive() copies the next frame into a buffer
// the stack supplies. Neither allocates.

export interface NetDevice {
  /** The station address, 6 bytes. The stack reads it; it never changes while attached. */
  readonly mac: Uint8Array;
  /** Largest IP packet the link carries, without the 14-byte Ethernet header (1500 on Ethernet). */
  readonly mtu: number;
  /** Whether the link has carrier. */
  readonly linkUp: boolean;

  /**
   * Sends one frame of `length` bytes from `frame[offset]`. Returns false when the device cannot take
   * it now (queue full, link down); the caller counts the drop. Never keeps a reference to `frame`.
   */
  transmit(frame: Uint8Array, offset: number, length: number): boolean;

  /**
   * Copies the next waiting frame into `frame[offset .. offset + capacity)` and returns its length,
   * or 0 when none is waiting. A frame longer than `capacity` is truncated to `capacity` and its
   * true length returned (when the device knows it), so the caller can count it as oversized.
   */
  receive(frame: Uint8Array, offset: number, capacity: number): number;

  /**
   * Gives a device that holds frames back (a delay line) the current time; it releases what is due.
   * The stack calls this at the start of every poll. Plain devices do nothing.
   */
  poll(now: number): void;

  /** The earliest time poll() has work to do, or Infinity. */
  nextDeadline(): number;

  /**
   * Set by whoever drives the stack (a platform adapter, a test loop). The device calls it, outside of
   * any receive() call, when frames become waiting, so the driver can schedule stack.poll().
   */
  onReceivable: (() => void) | null;
}

/** Ethernet framing figures shared by devices and the stack. */
export const ETHERNET_HEADER = 14;
/** Shortest frame on the wire without FCS; shorter frames are padded on transmit. */
export const ETHERNET_MIN_FRAME = 60;

/**
 * What a platform adapter or test loop drives: the Stack, or anything else with deadlines. Times are
 * whole milliseconds on a monotonic clock chosen by the driver (a virtual one in tests), as
 * Moddable's Time.ticks are: integers stay unboxed in V8 and XS alike.
 */
export interface Pollable {
  /** Does all work that is due: received frames, expired timers. Never blocks. */
  poll(now: number): void;
  /** The earliest time poll() has more work to do, or Infinity. Call poll() again at that time. */
  nextDeadline(): number;
  /**
   * Set by the driver, when the pollable has this field. Called when something outside poll() (an
   * application's send) gave it an earlier deadline, so the driver polls soon and re-arms.
   */
  onWake?: (() => void) | null;
}
