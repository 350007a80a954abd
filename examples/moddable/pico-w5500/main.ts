// The stack on a Raspberry Pi Pico with a WIZnet W5500 on SPI (the W5500-EVB-Pico's wiring): the
// chip's socket 0 in MACRAW mode, a static address from the manifest's config, UDP echo and TCP
// echo on port 7. Pins, SPI clock and addresses are in manifest.json's config; 31.25 MHz is the
// Pico's nearest SPI clock under the W5500's guaranteed 33.3 MHz.
//
// The XS stack is 768 slots (manifest "creation"): a TCP segment's path through the stack peaked at
// 486 slots in the lin build, too close to the 512 an ESP32 or Pico gets by default.
//
//   mcconfig -d -m -p pico (from this folder, with the SDK's Pico toolchain set up)

import config from "mc/config";
import Digital from "embedded:io/digital";
import SPI from "embedded:io/spi";
import Timer from "timer";
import { W5500 } from "netstack/hal/w5500/driver";
import { ModdableDriver } from "netstack/hal/platform/moddable/driver";
import { TcpServices } from "netstack/src/apps/tcp-services";
import { UdpEcho } from "netstack/src/apps/udp-echo";
import { Stack } from "netstack/src/stack";
import { parseMac } from "netstack/src/wire/address";

interface Settings {
  spi: { port?: number; clock: number; out: number; in: number; select: number; hz: number };
  interrupt: number;
  address: string;
  prefix: number;
  gateway: string;
  mac: string;
}

function start(): void {
  const settings = config.netstack as Settings;
  const mac = new Uint8Array(6);
  if (!parseMac(settings.mac, mac)) throw new Error(`bad mac ${settings.mac}`);

  const spi = new SPI({
    port: settings.spi.port,
    clock: settings.spi.clock,
    out: settings.spi.out,
    in: settings.spi.in,
    select: settings.spi.select,
    hz: settings.spi.hz,
    mode: 0,
  });
  // INTn (active low): its falling edge asks for a poll, and the driver reads its level.
  let chip: W5500 | null = null;
  const intPin = new Digital({
    pin: settings.interrupt,
    mode: Digital.InputPullUp,
    edge: Digital.Falling,
    onReadable() {
      if (chip !== null) chip.onInterrupt();
    },
  });
  const w5500 = new W5500({ spi, mac, interrupt: intPin });
  const begun = w5500.begin();
  if (begun < 0) throw new Error(`the W5500 does not answer (errno ${-begun})`);
  chip = w5500;

  // The default profile; a 1472-byte UDP echo buffer and one TCP echo session of 2 KB come from
  // the same arena.
  const stack = new Stack({ seed: Date.now() | 0, appMemory: 1472 + 2048 });
  stack.attach(w5500, {
    address: settings.address,
    prefix: Number(settings.prefix),
    gateway: settings.gateway,
  });
  const echo = new UdpEcho(stack, 7, 1472);
  const tcp = new TcpServices(stack, { discard: 0, chargen: 0, sessions: 1, bufferSize: 2048 });
  const driver = new ModdableDriver();
  driver.add(stack);
  driver.attach(w5500);
  trace(`netstack ${settings.address}: W5500 at ${settings.spi.hz} Hz, UDP and TCP echo on 7\n`);

  Timer.repeat(() => {
    const s = w5500.stats;
    trace(
      `link ${w5500.linkUp ? "up" : "down"}, frames in ${s.rxFrames} out ${s.txFrames}, reopens ${s.reopens}, udp echoed ${echo.echoed}, tcp ${tcp.accepted} connections ${tcp.bytesIn} B\n`,
    );
  }, 10000);
}

try {
  start();
} catch (error) {
  trace(`pico-w5500: ${String(error)}\n`);
  throw error;
}
