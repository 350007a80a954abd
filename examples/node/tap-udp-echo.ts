// A UDP echo server on a Linux TAP device, reached from the kernel's side with socat. Needs root
// (or CAP_NET_ADMIN) and the native addon. Make the TAP first, then start this:
//
//   ip tuntap add dev tap0 mode tap && ip addr add 192.0.2.1/24 dev tap0 && ip link set tap0 up
//   node tap-udp-echo.js tap0
//   echo hello | socat -t1 - UDP:192.0.2.2:7
import { EAGAIN, EVENT_IN, EVENT_OUT, FullAddress, Stack, WaiterEntry, errnoName } from "netstack";
import { NodeDriver, TapDevice } from "netstack/node";

const name = process.argv[2] ?? "tap0";
const device = new TapDevice({ name }); // throws, saying why, when the addon or the TAP is missing
const stack = new Stack();
stack.attach(device, { address: "192.0.2.2", prefix: 24 });
const driver = new NodeDriver();
driver.add(stack);
driver.attach(device);

const socket = stack.openUdp();
if (typeof socket === "number") throw new Error(`openUdp: ${errnoName(socket)}`);
const bound = socket.bind(null, 7);
if (bound < 0) throw new Error(`bind: ${errnoName(bound)}`);

// Readiness: the stack calls back after each poll in which the socket became readable (or,
// after a send refused with -EAGAIN, writable again). Read until -EAGAIN, answering each.
const buffer = new Uint8Array(2048);
const peer = new FullAddress();
let held = -1; // a datagram read but not yet sent back
socket.eventRegister(
  new WaiterEntry({
    callback() {
      for (;;) {
        const n = held >= 0 ? held : socket.recvFrom(buffer, 0, buffer.length, peer);
        if (n < 0) return;
        const sent = socket.sendTo(buffer, 0, n, peer);
        held = sent === -EAGAIN ? n : -1; // send it when EVENT_OUT comes
        if (held >= 0) return;
        console.log(`echoed ${n} bytes to ${peer.address}:${peer.port}`);
      }
    },
  }),
  EVENT_IN | EVENT_OUT,
);

console.log(`ready: UDP echo on 192.0.2.2:7 via ${name}`);
process.once("SIGINT", () => {
  driver.stop();
  device.close();
});
process.once("SIGTERM", () => {
  driver.stop();
  device.close();
});
