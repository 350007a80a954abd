// A Linux TAP device as a NetDevice (src/device.ts) inside Moddable's `lin` simulator (mcsim), over
// the host functions of tap.c. manifest.json maps it as "netstack/hal/platform/moddable/tap" for the
// lin platform only. The TAP is usually made and addressed beforehand (`ip tuntap add`), often in a
// network namespace mcsim runs in; attaching needs CAP_NET_ADMIN.
//
//   const tap = new TapDevice({ name: "nstap0", mac });
//   stack.attach(tap, { address: "192.0.2.2", prefix: 24 });
//   driver.attach(tap);               // sets onEvent: readiness comes from the GLib main loop
//
// One frame per read and per write, straight between the fd and the stack's buffer: no copies, no
// allocation. Readiness: while onEvent is set, a readable fd calls onEvent(DEVICE_RECEIVE) once;
// receive() then drains until it returns 0, which re-arms the watch. Until then nextDeadline() is
// now, so a poll that stopped at its receive budget is followed by another. A write the kernel
// cannot take now answers TX_BUSY and DEVICE_TRANSMIT follows once it can.

import {
  DEVICE_RECEIVE,
  DEVICE_TRANSMIT,
  TX_BUSY,
  TX_TAKEN,
} from "../../../src/device";
import { EINVAL, EMSGSIZE, ENETDOWN } from "../../../src/errno";

const TAP_READABLE = 1;
const TAP_WRITABLE = 2;
/** Room for a VLAN tag beyond the MTU and the header. */
const FRAME_SLACK = 4;

/** The fd and its watches; calls device.tapReady(flags) from the main loop. */
class TapHandle @ "xs_netstack_tap_destructor" {
  constructor(name, device) @ "xs_netstack_tap_open";
  read(frame, offset, capacity) @ "xs_netstack_tap_read";
  write(frame, offset, length) @ "xs_netstack_tap_write";
  watch(on) @ "xs_netstack_tap_watch";
  close() @ "xs_netstack_tap_close";
}

class TapDevice {
  name;
  mac;
  mtu;

  /** Frames and bytes read from the kernel. */
  framesIn = 0;
  bytesIn = 0;
  /** Frames and bytes the kernel took. */
  framesOut = 0;
  bytesOut = 0;
  /** Frames longer than the capacity they were read into (cut short, full length returned). */
  truncatedIn = 0;
  /** Failed reads (other than "nothing waiting"). */
  errorsIn = 0;
  /** Frames refused for good: by the kernel, or longer than the link carries. */
  errorsOut = 0;
  /** transmit() answers TX_BUSY: the kernel would take nothing now. */
  busyOut = 0;
  /** Readiness events from the main loop. */
  events = 0;
  /** Multicast groups last given to setMulticastFilter(); a TAP receives all multicast anyway. */
  multicastCount = 0;
  filterUpdates = 0;
  /** The last -errno seen, for diagnostics. */
  lastError = 0;

  #handle;
  #open = true;
  #listener = null;
  /** A readable event came and receive() has not yet found the queue empty. */
  #readable = false;
  #largest;

  /** Attaches TAP `options.name`; throws when it cannot (set-up, not a per-frame condition). */
  constructor(options) {
    const mac = options.mac ?? Uint8Array.of(0x02, 0x54, 0x41, 0x50, 0x00, 0x02);
    if (mac.length !== 6) throw new RangeError("tap: mac must be 6 bytes");
    this.name = options.name;
    this.mac = Uint8Array.from(mac);
    this.mtu = options.mtu ?? 1500;
    this.#largest = this.mtu + 14 + FRAME_SLACK;
    this.#handle = new TapHandle(options.name, this);
  }

  /** A TAP has carrier from the moment it is attached until it is closed. */
  get linkUp() {
    return this.#open;
  }

  get onEvent() {
    return this.#listener;
  }

  /** Watching starts with the first listener and stops when it is cleared. */
  set onEvent(listener) {
    const was = this.#listener !== null;
    this.#listener = listener;
    if (!this.#open) return;
    if (listener !== null && !was) this.#handle.watch(true);
    else if (listener === null && was) {
      this.#handle.watch(false);
      this.#readable = false;
    }
  }

  transmit(frame, offset, length) {
    if (!this.#open) return -ENETDOWN;
    if (!(offset >= 0 && length >= 0 && length <= frame.length - offset)) {
      this.errorsOut++;
      this.lastError = -EINVAL;
      return -EINVAL;
    }
    if (length > this.#largest) {
      this.errorsOut++;
      this.lastError = -EMSGSIZE;
      return -EMSGSIZE;
    }
    const n = this.#handle.write(frame, offset, length);
    if (n === length) {
      this.framesOut++;
      this.bytesOut += n;
      return TX_TAKEN;
    }
    if (n === 0) {
      this.busyOut++;
      return TX_BUSY;
    }
    // A short write cannot happen on a TAP (one write is one frame); count it with the refusals.
    this.errorsOut++;
    this.lastError = n < 0 ? n : -EINVAL;
    return n < 0 ? n : -EINVAL;
  }

  receive(frame, offset, capacity) {
    if (!this.#open) return 0;
    const n = this.#handle.read(frame, offset, capacity);
    if (n > 0) {
      this.framesIn++;
      this.bytesIn += n;
      if (n > capacity) this.truncatedIn++;
      return n;
    }
    // Empty (the watch is armed again) or an error: either way nothing is waiting now.
    this.#readable = false;
    if (n < 0) {
      this.errorsIn++;
      this.lastError = n;
    }
    return 0;
  }

  poll(_now) {}

  /** Now while a readable event has not been drained, else nothing to do. */
  nextDeadline() {
    return this.#readable ? 0 : Infinity;
  }

  setMulticastFilter(_macs, count) {
    this.filterUpdates++;
    this.multicastCount = count;
  }

  /** From the main loop (tap.c): the fd became readable or writable. */
  tapReady(flags) {
    this.events++;
    let events = 0;
    if ((flags & TAP_READABLE) !== 0) {
      this.#readable = true;
      events |= DEVICE_RECEIVE;
    }
    if ((flags & TAP_WRITABLE) !== 0) events |= DEVICE_TRANSMIT;
    const listener = this.#listener;
    if (listener !== null && events !== 0) listener(events);
  }

  /** Detaches the device and lets the host object go; nothing is called back afterwards. Idempotent. */
  close() {
    if (!this.#open) return;
    this.#open = false;
    this.#readable = false;
    this.#handle.close();
  }
}
Object.freeze(TapDevice.prototype);
Object.freeze(TapHandle.prototype);

export { TapDevice };
