// The Node side of the package, `netstack/node`: a Linux TAP device, the driver that runs stacks
// on Node's event loop, network-namespace labs and pcap files. The TAP device and the driver's
// allocation-free timers need the native addon, built at install time where a C++ toolchain is
// present; without it TapDevice throws saying so, and the driver falls back to Node's timers.

/**
 * The Node side: TapDevice, NodeDriver, Lab and PcapFileSink.
 * @module netstack/node
 */
export {
  TapDevice,
  TAP_DEFAULT_BATCH,
  TAP_DEFAULT_MAC,
  loadTapAddon,
  type TapAddon,
  type TapDeviceOptions,
} from "../../tap/tap.js";
export { NodeDriver, type NodeDriverOptions } from "./driver.js";
export { Lab, type LabCheck, type LabTapOptions, type RunOptions, type RunResult } from "./lab.js";
export { PcapFileSink } from "./pcap-file.js";
