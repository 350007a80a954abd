// The package's public surface for Node and bundlers. Moddable apps import modules one by one
// through manifest.json instead.
export * from "./errno.js";
export { Memory, copy } from "./storage/memory.js";
export { PacketPool, HandleList } from "./storage/pool.js";
export { ByteRing } from "./storage/ring.js";
export { Random } from "./random.js";
export type { NetDevice, Pollable } from "../hal/device.js";
