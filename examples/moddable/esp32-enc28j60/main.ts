// The stack on an ESP32 with an ENC28J60 on SPI: a static address from the manifest's config, UDP
// echo and TCP echo on port 7. Pins, SPI clock and addresses are in manifest.json's config.
//
//   mcconfig -d -m -p esp32 (from this folder, with the SDK's ESP-IDF set up)
//
// The XS stack is 768 slots (manifest "creation"): a TCP segment's path through the stack peaked at
// 486 slots in the lin build, too close to the 512 an ESP32 or Pico gets by default.
//
// The chip's INT line (active low) wakes the driver through a falling-edge Digital input; the
// driver services the chip until it is quiet, with a watchdog poll for the errata's lost PKTIF.

import config from "mc/config";
import Digital from "embedded:io/digital";
import SPI from "embedded:io/spi";
import Timer from "timer";
import { Enc28j60 } from "netstack/hal/enc28j60/driver";
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
  // One input for both jobs: its falling edge wakes the driver, and the driver reads its level.
  let chip: Enc28j60 | null = null;
  const intPin = new Digital({
    pin: settings.interrupt,
    mode: Digital.InputPullUp,
    edge: Digital.Falling,
    onReadable() {
      if (chip !== null) chip.interrupt();
    },
  });
  const enc = new Enc28j60({ spi, mac, interrupt: intPin });
  chip = enc;

  // The default profile (sized for an ESP32's default heaps); a 1472-byte UDP echo buffer and one
  // TCP echo session of 2 KB come from the same arena.
  const stack = new Stack({ seed: Date.now() | 0, appMemory: 1472 + 2048 });
  stack.attach(enc, {
    address: settings.address,
    prefix: Number(settings.prefix),
    gateway: settings.gateway,
  });
  const echo = new UdpEcho(stack, 7, 1472);
  const tcp = new TcpServices(stack, { discard: 0, chargen: 0, sessions: 1, bufferSize: 2048 });
  const driver = new ModdableDriver();
  driver.add(stack);
  driver.attach(enc);
  trace(`netstack ${settings.address}: ENC28J60 at ${settings.spi.hz} Hz, UDP and TCP echo on 7\n`);

  Timer.repeat(() => {
    trace(
      `link ${enc.linkUp ? "up" : "down"}, rev ${enc.revision}, frames in ${enc.rxFrames} out ${enc.txFrames}, udp echoed ${echo.echoed}, tcp ${tcp.accepted} connections ${tcp.bytesIn} B\n`,
    );
  }, 10000);
}

try {
  start();
} catch (error) {
  trace(`esp32-enc28j60: ${String(error)}\n`);
  throw error;
}
