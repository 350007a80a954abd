// The package's public surface for Node and bundlers (`import { Stack } from "netstack"`). The
// Node-only parts (TAP device, Node driver, labs, pcap files) are at "netstack/node"; every module
// is also reachable on its own ("netstack/src/wire/ipv4.js"). Moddable apps import modules one by
// one through manifest.json instead.

/**
 * The portable core: the stack, its endpoints, in-memory devices and drivers. Runs on Node and XS.
 * @module netstack
 */
export * from "./errno.js";
export { Stack, type StackSetup, type Ipv4Settings } from "./stack.js";
export {
  DEFAULTS,
  PROFILES,
  StackConfig,
  type Profile,
  type Sizes,
  type StackOptions,
} from "./config.js";
export { Interface } from "./iface/interface.js";
export { UDP_MAX_PAYLOAD } from "./transport/udp.js";
export { UdpEndpoint } from "./transport/udp-endpoint.js";
export { PingEndpoint } from "./transport/ping.js";
export { TcpEndpoint } from "./transport/tcp/endpoint.js";
export { TcpInfo } from "./transport/tcp/info.js";
export * as tcpStates from "./transport/tcp/constants.js";
export { MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC } from "./transport/datagram-queue.js";
export {
  EVENT_ERR,
  EVENT_HUP,
  EVENT_IN,
  EVENT_OUT,
  WaiterEntry,
  type EntryCallback,
} from "./transport/waiter.js";
export { UdpEcho } from "./apps/udp-echo.js";
export {
  DNS_NODATA,
  DNS_NOPORT,
  DNS_NXDOMAIN,
  DNS_OK,
  DNS_REFUSED,
  DNS_SERVFAIL,
  DNS_TIMEOUT,
  DNS_TRUNCATED,
  DnsClient,
  DnsQuery,
  DnsStats,
  dnsStatusName,
  serverList,
  type DnsCallback,
  type DnsClientOptions,
} from "./apps/dns-client.js";
export { DNS_TYPE_A, DNS_TYPE_AAAA } from "./wire/dns.js";
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
export { Memory } from "./storage/memory.js";
export { PacketPool } from "./storage/pool.js";
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
export { LinkPair, PairEnd, type LinkPairOptions } from "../hal/pair.js";
export { LoopbackDevice, type LoopbackOptions } from "../hal/loopback.js";
export { ImpairedDevice, type ImpairOptions, type Impairments } from "../hal/impair.js";
export { PcapDevice, type PcapOptions, type PcapSink } from "../hal/pcap.js";
export {
  TimerDriver,
  type HostTime,
  type HostTimer,
  type TimerDriverOptions,
} from "../hal/platform/timer-driver.js";
