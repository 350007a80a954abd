// netstack's ECMA-419 classes in Moddable's `lin` simulator, taken the way an app takes
// Moddable's own from `device.network`: the stack comes up on a Linux TAP (run.sh makes and
// addresses it beforehand in a namespace of its own), the epsocket layer goes over it, and
// createNetwork(layer) lays the classes out as `device.network`. From then on the app uses only
// `network.tcp.io` (handed to the ECMA-419 HTTP client of examples/ecma419, as Moddable's HTTP
// client is handed it) and `network.udp.io`.
//
// Prints "ready <address>" once up; then fetches `path` from the kernel's http.server and prints
// "http: status S, N bytes, fnv1a H, first line: ..." (FNV-1a 32 over the body), and echoes
// every UDP datagram that reaches port 7 back to its sender, printing "udp: echoed N bytes".

import config from "mc/config";
import { TapDevice } from "netstack/hal/platform/moddable/tap";
import { ModdableDriver } from "netstack/hal/platform/moddable/driver";
import { SocketLayer } from "netstack/src/epsocket/layer";
import { createNetwork } from "netstack/src/ecma419/network";
import { Stack } from "netstack/src/stack";
import { parseMac } from "netstack/src/wire/address";
import { HTTPGet } from "ecma419/http-get";

interface Settings {
  tap: string;
  address: string;
  prefix: number;
  gateway: string;
  mac: string;
  server: string;
  serverPort: number;
  path: string;
  /** A DNS server for device.network.dns (dotted quad), or "" for none. */
  dns?: string;
}

const LF = 10;

function start(): void {
  const settings = config.netstack as Settings;
  const mac = new Uint8Array(6);
  if (!parseMac(settings.mac, mac)) throw new Error(`ecma419: bad mac ${settings.mac}`);

  const stack = new Stack({ seed: Date.now() | 0 });
  const tap = new TapDevice({ name: settings.tap, mac });
  stack.attach(tap, {
    address: settings.address,
    prefix: Number(settings.prefix),
    gateway: settings.gateway,
  });
  const layer = new SocketLayer(stack);
  // The DNS servers come from the config, as Moddable's own config modules give them.
  const servers = settings.dns ? [settings.dns] : [];
  const { network, host } = createNetwork(layer, { dns: { servers } });
  // The layer after the stack, the host (which delivers the callbacks) after the layer.
  const driver = new ModdableDriver();
  driver.add(stack);
  driver.add(layer);
  driver.add(host);
  driver.attach(tap);

  // What an app finds in device.network, and nothing else from here on.
  const device = { network };
  trace(`ready ${device.network.interface.ethernet.address} on ${settings.tap}\n`);

  const datagram = new Uint8Array(1500);
  new device.network.udp.io({
    port: 7,
    onReadable(packets: number) {
      while (packets-- > 0) {
        const n = this.read(datagram) as number | undefined;
        if (n === undefined) break;
        this.write(datagram.subarray(0, n), this.remoteAddress, this.remotePort);
        trace(`udp: echoed ${n} bytes to ${this.remoteAddress}:${this.remotePort}\n`);
      }
    },
  });

  let hash = 0x811c9dc5;
  const firstLine: number[] = [];
  let lineDone = false;
  new HTTPGet({
    socket: device.network.tcp,
    address: settings.server,
    port: Number(settings.serverPort),
    path: settings.path,
    onBody(bytes, length) {
      for (let i = 0; i < length; i++) {
        const b = bytes[i];
        hash = Math.imul(hash ^ b, 0x01000193);
        if (!lineDone) {
          if (b === LF || firstLine.length >= 80) lineDone = true;
          else firstLine.push(b);
        }
      }
    },
    onDone(status, length) {
      const fnv = (hash >>> 0).toString(16).padStart(8, "0");
      trace(
        `http: status ${status}, ${length} bytes, fnv1a ${fnv}, first line: ${String.fromCharCode(...firstLine)}\n`,
      );
    },
  });
}

// Set-up failures (no TAP, no permission) say why on the console before mcsim aborts.
try {
  start();
} catch (error) {
  trace(`ecma419 example: ${String(error)}\n`);
  throw error;
}
