// The package's public surface for Node and bundlers. Moddable apps import modules one by one
// through manifest.json instead.
export * from "./errno.js";
export { Stack, type StackSetup, type Ipv4Settings } from "./stack.js";
export { DEFAULTS, PROFILES, StackConfig, type Profile, type StackOptions } from "./config.js";
export { Interface } from "./iface/interface.js";
export { Ipv4Info, ProtocolTable, DELIVERED, type ProtocolHandler } from "./iface/protocols.js";
export { UdpTable, UDP_MAX_PAYLOAD } from "./transport/udp.js";
export { UdpEndpoint } from "./transport/udp-endpoint.js";
export { PingEndpoint, PingTable } from "./transport/ping.js";
export { TcpTable } from "./transport/tcp/table.js";
export { TcpEndpoint } from "./transport/tcp/endpoint.js";
export * as tcpStates from "./transport/tcp/constants.js";
export { MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC } from "./transport/datagram-queue.js";
export {
  EVENT_ERR,
  EVENT_HUP,
  EVENT_IN,
  EVENT_OUT,
  WaiterEntry,
  WaiterQueue,
  type EntryCallback,
} from "./transport/waiter.js";
export { UdpEcho } from "./apps/udp-echo.js";
export { HTTP_PATTERN_PERIOD, HttpServer, type HttpServerOptions } from "./apps/http-server.js";
export {
  AF_INET,
  AF_INET6,
  FullAddress,
  IpAddress,
  formatIPv4,
  formatMac,
  parseIPv4,
  parseMac,
} from "./wire/address.js";
export * from "./stats.js";
export { Memory, copy } from "./storage/memory.js";
export { PacketPool, HandleList } from "./storage/pool.js";
export { ByteRing } from "./storage/ring.js";
export { Random } from "./random.js";
export {
  DEVICE_LINK,
  DEVICE_RECEIVE,
  DEVICE_TRANSMIT,
  TX_BUSY,
  TX_TAKEN,
  type NetDevice,
  type Pollable,
} from "./device.js";
export { LinkPair, PairEnd } from "../hal/pair.js";
export { LoopbackDevice } from "../hal/loopback.js";
export { ImpairedDevice, type ImpairOptions } from "../hal/impair.js";
export { PcapDevice, type PcapSink } from "../hal/pcap.js";
export { TimerDriver } from "../hal/platform/timer-driver.js";
