// What every platform driver shares: the Pollables it runs and the devices whose signals wake it.
// Subclasses decide how a wake-up is scheduled on their host (Node's loop, Moddable's Timer).

import type { NetDevice, Pollable } from "../../src/device.js";

export abstract class DriverBase {
  /** Polls run so far, for tests and diagnostics. */
  polls = 0;

  protected readonly pollables: Pollable[] = [];
  protected readonly devices: NetDevice[] = [];
  protected readonly scheduleBound: () => void;
  protected stopped = false;

  constructor() {
    this.scheduleBound = () => this.schedule();
  }

  /** Asks for a poll soon; never polls in place. */
  abstract schedule(): void;

  /** Adds something to poll; it is polled on the next turn and whenever its deadline comes. */
  add(pollable: Pollable): void {
    if (this.pollables.indexOf(pollable) < 0) this.pollables.push(pollable);
    if (pollable.onWake !== undefined) pollable.onWake = this.scheduleBound;
    this.schedule();
  }

  /** Stops polling a pollable added with add(). */
  remove(pollable: Pollable): void {
    const at = this.pollables.indexOf(pollable);
    if (at >= 0) this.pollables.splice(at, 1);
    if (pollable.onWake === this.scheduleBound) pollable.onWake = null;
  }

  /**
   * Polls whenever `device` has frames waiting. Its own deadlines (a delay line) also wake the
   * driver, though only the stack polls it.
   */
  attach(device: NetDevice): void {
    if (this.devices.indexOf(device) < 0) this.devices.push(device);
    device.onEvent = this.scheduleBound;
    this.schedule();
  }

  /** Stops listening to a device attached with attach(). */
  detach(device: NetDevice): void {
    const at = this.devices.indexOf(device);
    if (at < 0) return;
    this.devices.splice(at, 1);
    if (device.onEvent === this.scheduleBound) device.onEvent = null;
  }

  /** The earliest deadline of every pollable and attached device, or Infinity. */
  nextDeadline(): number {
    let earliest = Infinity;
    const pollables = this.pollables;
    for (let i = 0; i < pollables.length; i++) {
      const deadline = pollables[i].nextDeadline();
      if (deadline < earliest) earliest = deadline;
    }
    const devices = this.devices;
    for (let i = 0; i < devices.length; i++) {
      const deadline = devices[i].nextDeadline();
      if (deadline < earliest) earliest = deadline;
    }
    return earliest;
  }

  /** One round: every pollable, in the order added. */
  protected pollAll(now: number): void {
    this.polls++;
    const pollables = this.pollables;
    for (let i = 0; i < pollables.length; i++) pollables[i].poll(now);
  }

  /** Detaches every device; the subclass cancels what it has pending. */
  protected detachAll(): void {
    this.stopped = true;
    while (this.devices.length > 0) this.detach(this.devices[this.devices.length - 1]);
  }
}
