// The link-layer device contract: what the stack needs from a TAP, a chip driver, an in-memory pair
// or a wrapper around another device (impairment, capture). The stack owns this contract; `hal/`
// implements it. Frames are Ethernet II, without preamble or FCS.
//
// Transmit has backpressure: a device that takes one frame at a time (the ENC28J60, the W5500 in
// MACRAW mode) answers "busy", the stack keeps the frame in its bounded transmit queue and offers it
// again after the device signals DEVICE_TRANSMIT (or on the next poll). Nothing is lost to a busy
// device. Receive copies into a pool buffer the stack supplies, or, for devices that fill buffers
// asynchronously (DMA, an interrupt-driven SPI transfer), hands over a pool buffer it filled.

import type { PacketPool } from "./storage/pool.js";

/** Event flags passed to `onEvent`. */
/** Frames are waiting for receive(). */
export const DEVICE_RECEIVE = 1;
/** Room to transmit opened up: a frame finished, or a busy device became free. */
export const DEVICE_TRANSMIT = 2;
/** The cached link state changed. */
export const DEVICE_LINK = 4;

/** transmit() took the frame (sent, or copied into the device's own queue). */
export const TX_TAKEN = 1;
/** transmit() could not take the frame now; offer it again after DEVICE_TRANSMIT. */
export const TX_BUSY = 0;
// Any negative result is -errno: the frame was refused for good (link down, bad length, I/O error)
// and the stack drops and counts it.

/** What the stack needs of a network device: frames in and out, link state, events and a multicast filter. */
export interface NetDevice {
  /** The station address, 6 bytes. The stack reads it; it never changes while attached. */
  readonly mac: Uint8Array;
  /** Largest IP packet the link carries, without the 14-byte Ethernet header (1500 on Ethernet). */
  readonly mtu: number;
  /**
   * Whether the link has carrier: a cached value the device updates from its interrupts or its
   * poll(), never a bus transaction (the stack reads it on every poll).
   */
  readonly linkUp: boolean;

  /**
   * Offers one frame of `length` bytes from `frame[offset]`: TX_TAKEN when the device copied it out
   * or sent it, TX_BUSY when it cannot take it now, or -errno when it refuses it for good. Never
   * keeps a reference to `frame`.
   */
  transmit(frame: Uint8Array, offset: number, length: number): number;

  /**
   * Copies the next waiting frame into `frame[offset .. offset + capacity)` and returns its length,
   * or 0 when none is waiting. A frame longer than `capacity` is truncated to `capacity` and its
   * true length returned (when the device knows it), so the caller can count it as oversized.
   */
  receive(frame: Uint8Array, offset: number, capacity: number): number;

  /**
   * Gives the device the current time; it finishes what is due (a delay line releases frames, a
   * chip driver services its interrupt flags or polls its PHY). The stack calls it at the start of
   * every poll.
   */
  poll(now: number): void;

  /** The earliest time poll() has work to do, or Infinity. */
  nextDeadline(): number;

  /**
   * The multicast groups the stack wants to receive: `count` MAC addresses of 6 bytes at
   * `macs[0 ..)`. Called whenever a group is joined or left; the device programs its receive
   * filter (a hash table, a pattern, or all-multicast) so those frames reach receive().
   */
  setMulticastFilter(macs: Uint8Array, count: number): void;

  /**
   * Set by whoever drives the stack (a platform adapter, a test loop). The device calls it with
   * DEVICE_* flags, never from inside transmit() or receive(), so the driver can schedule a poll.
   */
  onEvent: ((events: number) => void) | null;

  /**
   * Optional checksum offload, as Linux's loopback and veth do (CHECKSUM_PARTIAL on transmit,
   * CHECKSUM_UNNECESSARY on receive): true when every frame between this device and its peer stays
   * in memory the two stacks trust, so TCP and UDP checksums need not be computed on transmit nor
   * verified on receive. Both ends must agree, since a sender that skips the sum relies on its
   * receiver skipping the check. Corruption between the ends then goes undetected, as on loopback.
   * IP header checksums are still computed and checked. The stack reads it on every poll, so a
   * device may turn it off when something starts to stand between the ends (an impairment). Never
   * set by a device whose frames cross a wire or a kernel: a TAP, a chip.
   */
  readonly checksumOffload?: boolean;

  /**
   * Optional: the link between this device and its peer stops being trusted end to end (a wrapper
   * that may change frames was put in between): both ends stop claiming `checksumOffload`.
   */
  disableChecksumOffload?(): void;

  /**
   * Optional: called after the stack's output pass; a device that batches transmits sends what it
   * holds now.
   */
  flush?(): void;

  /**
   * Optional, for devices that fill pool buffers themselves (DMA, asynchronous SPI): the handle of
   * a buffer of `pool` holding the next frame (its length in `pool.length[handle]`, the frame at
   * `pool.offsetOf(handle)`), now owned by the stack, or -1 when none is waiting. Such a device
   * takes buffers with `pool.alloc()` while it waits for frames. When present, the stack uses it
   * instead of receive().
   */
  receiveBuffer?(pool: PacketPool): number;

  /**
   * Optional, for devices that send from the pool buffer itself: takes ownership of `handle`
   * (TX_TAKEN) and frees it to `pool` when the transfer is done, or answers TX_BUSY / -errno and
   * leaves it with the stack. When present, the stack uses it instead of transmit().
   */
  transmitBuffer?(pool: PacketPool, handle: number, offset: number, length: number): number;
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
  /** Does all work that is due: received frames, expired timers, queued output. Never blocks. */
  poll(now: number): void;
  /** The earliest time poll() has more work to do, or Infinity. Call poll() again at that time. */
  nextDeadline(): number;
  /**
   * Set by the driver, when the pollable has this field. Called when something outside poll() (an
   * application's send) gave it work, so the driver polls soon and re-arms.
   */
  onWake?: (() => void) | null;
}
