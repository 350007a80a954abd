// The stack on a Linux TAP inside Moddable's `lin` simulator: mcsim runs this app in a network
// namespace where the TAP was made and addressed beforehand (run.sh), and the kernel on the other
// side pings it, sends it UDP echo datagrams and opens TCP echo, discard and HTTP connections to it.
//
// Settings come from the manifest's config (the TAP name, addresses and MAC). Prints
// "ready <address>" once the stack is up, then a status line every 5 s.

import config from "mc/config";
import Timer from "timer";
import { TapDevice } from "netstack/hal/platform/moddable/tap";
import { ModdableDriver } from "netstack/hal/platform/moddable/driver";
import { HttpServer } from "netstack/src/apps/http-server";
import { TcpServices } from "netstack/src/apps/tcp-services";
import { UdpEcho } from "netstack/src/apps/udp-echo";
import { Stack } from "netstack/src/stack";
import { parseMac } from "netstack/src/wire/address";

interface Settings {
  tap: string;
  address: string;
  prefix: number;
  gateway: string;
  mac: string;
}

function start(): void {
  const settings = config.netstack as Settings;
  const mac = new Uint8Array(6);
  if (!parseMac(settings.mac, mac)) throw new Error(`tap: bad mac ${settings.mac}`);

  // UDP echo up to the default reassembly size; TCP echo and discard with two sessions of 2 KB and
  // HTTP with two: the default profile with eight TCP endpoints (three listeners, four
  // connections, one spare).
  const UDP_BUFFER = 4096;
  const TCP_SESSIONS = 2;
  const TCP_BUFFER = 2048;
  const HTTP = { sessions: 2, requestSize: 1024, chunk: 2048 };

  const stack = new Stack({
    seed: Date.now() | 0,
    tcpSockets: 8,
    appMemory: UDP_BUFFER + TCP_SESSIONS * TCP_BUFFER + HttpServer.memoryNeeded(HTTP),
  });
  const tap = new TapDevice({ name: settings.tap, mac });
  stack.attach(tap, {
    address: settings.address,
    prefix: Number(settings.prefix),
    gateway: settings.gateway,
  });
  const echo = new UdpEcho(stack, 7, UDP_BUFFER);
  const tcp = new TcpServices(stack, {
    chargen: 0,
    sessions: TCP_SESSIONS,
    bufferSize: TCP_BUFFER,
  });
  const http = new HttpServer(stack, HTTP);
  const driver = new ModdableDriver();
  driver.add(stack);
  driver.attach(tap);
  trace(
    `ready ${settings.address} on ${settings.tap}: UDP echo 7, TCP echo 7, discard 9, HTTP 80\n`,
  );

  Timer.repeat(() => {
    trace(
      `status: frames in ${tap.framesIn} out ${tap.framesOut}, events ${tap.events}, udp echoed ${echo.echoed}, tcp accepted ${tcp.accepted} closed ${tcp.closed} bytes in ${tcp.bytesIn} out ${tcp.bytesOut}, http ${http.requests} requests, polls ${driver.polls}\n`,
    );
  }, 5000);
}

// Set-up failures (no TAP, no permission) say why on the console before mcsim aborts.
try {
  start();
} catch (error) {
  trace(`tap example: ${String(error)}\n`);
  throw error;
}
