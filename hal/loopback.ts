// A device whose transmitted frames come back on its own receive(), through a bounded FIFO of slots
// in the arena. Useful for a stack talking to itself and for testing drivers.

import { Cable, FrameQueue, PairEnd, checkLinkOptions, frameSlot, macOption } from "./pair.js";
import { Memory } from "../src/storage/memory.js";

/** Options of a LoopbackDevice. */
export interface LoopbackOptions {
  /** Largest IP packet, without the Ethernet header. Default 1500. */
  mtu?: number;
  /** Frame slots. Default 64. */
  slots?: number;
  /** Station address. Default 02:00:00:00:00:01. */
  mac?: Uint8Array;
  /** The arena for the frame slots; the device makes its own when none is given. */
  memory?: Memory;
  /** Claims checksum offload (NetDevice.checksumOffload), as Linux's lo does. Default false. */
  checksumOffload?: boolean;
}

/** A cable with one end, which is its own peer. */
export class LoopbackDevice extends PairEnd {
  constructor(options: LoopbackOptions = {}) {
    const mtu = options.mtu ?? 1500;
    const slots = options.slots ?? 64;
    checkLinkOptions("loopback", mtu, slots);
    const slotSize = frameSlot(mtu);
    const memory = options.memory ?? new Memory(new Uint8Array(slots * slotSize + 8));
    super(
      new Cable(),
      macOption(options.mac, 0x01),
      mtu,
      new FrameQueue(memory, slots, slotSize),
      0,
    );
    this.cable.checksumOffload = options.checksumOffload === true;
  }

  override get linkUp(): boolean {
    return this.cable.up;
  }

  override set linkUp(up: boolean) {
    this.cable.setLink(up);
  }

  /** Takes the link down (dropping queued frames) or up, signalling DEVICE_LINK. */
  setLink(up: boolean): void {
    this.cable.setLink(up);
  }

  /** Frames waiting for receive(). */
  get pending(): number {
    return this.inbound.count;
  }
}
