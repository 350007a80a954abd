// The handle an application holds for a UDP socket. Every call returns a count or -errno; once
// closed, every call returns -EBADF, and the slot it named may serve another socket without this
// handle reaching it.

import { EBADF } from "../errno.js";
import { FullAddress, IpAddress } from "../wire/address.js";
import type { UdpState } from "./udp.js";
import { DatagramHandle } from "./datagram-handle.js";

/** An application's UDP socket (stack.openUdp()): every call returns a count or -errno, and -EBADF once closed. */
export class UdpEndpoint extends DatagramHandle<UdpState> {
  /** SO_REUSEADDR. */
  get reuseAddress(): boolean {
    const s = this.live();
    return s !== null && s.reuseAddress;
  }

  /** Sets SO_REUSEADDR. */
  set reuseAddress(on: boolean) {
    const s = this.live();
    if (s !== null) s.reuseAddress = on;
  }

  /** The binding's space (BIND_V4, BIND_V6_ANY, BIND_V6_ONLY of endpoint-table.ts). */
  get v6Binding(): number {
    const s = this.live();
    return s === null ? 0 : s.v6Binding;
  }

  /** Sets the space the next bind takes: an AF_INET6 socket's `::`. */
  set v6Binding(binding: number) {
    const s = this.live();
    if (s !== null && s.localPort === 0) s.v6Binding = binding;
  }

  /** IP_TOS. */
  get tos(): number {
    const s = this.live();
    return s === null ? 0 : s.tos;
  }

  /** Sets IP_TOS. */
  set tos(tos: number) {
    const s = this.live();
    if (s !== null) s.tos = tos;
  }

  /** Datagrams waiting to be read. */
  get queuedDatagrams(): number {
    const s = this.live();
    return s === null ? 0 : s.queue.count;
  }

  /** The bound port, 0 when unbound or closed. */
  get localPort(): number {
    const s = this.live();
    return s === null ? 0 : s.localPort;
  }

  /** Binds to a local address (null for any) and port (0 for an ephemeral one); 0 or -errno (-EADDRINUSE, -EADDRNOTAVAIL). */
  bind(address: IpAddress | null, port: number): number {
    const s = this.live();
    return s === null ? -EBADF : s.bind(address, port);
  }

  /** Forgets the connected peer; 0 or -EBADF. */
  disconnect(): number {
    const s = this.live();
    return s === null ? -EBADF : s.disconnect();
  }

  /** Writes the connected peer into `out`; 0, or -ENOTCONN. */
  getPeer(out: FullAddress): number {
    const s = this.live();
    return s === null ? -EBADF : s.getPeer(out);
  }

  /** Writes the bound address and port into `out`; 0 or -EBADF. */
  getLocal(out: FullAddress): number {
    const s = this.live();
    return s === null ? -EBADF : s.getLocal(out);
  }

  /** Takes the pending error (positive errno, 0 for none): SO_ERROR. */
  takeError(): number {
    const s = this.live();
    return s === null ? 0 : s.takeError();
  }
}
