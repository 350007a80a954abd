// Two stacks in memory, joined by a virtual cable, exchange a UDP datagram. Runs anywhere Node
// does: no TAP, no root, no native addon.
import {
  EVENT_IN,
  FullAddress,
  LinkPair,
  Stack,
  UdpEcho,
  WaiterEntry,
  errnoName,
  type EntryCallback,
} from "netstack";
import { NodeDriver } from "netstack/node";

const pair = new LinkPair();
const server = new Stack();
const client = new Stack();
server.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
client.attach(pair.b, { address: "192.0.2.2", prefix: 24 });

// The driver polls both stacks on Node's event loop whenever a device or a deadline asks.
const driver = new NodeDriver();
driver.add(server);
driver.add(client);
driver.attach(pair.a);
driver.attach(pair.b);

// A UDP echo service (RFC 862) on the server's port 7.
new UdpEcho(server, 7);

// The client: every call returns a count or -errno, as Linux's socket calls do.
const socket = client.openUdp();
if (typeof socket === "number") throw new Error(`openUdp: ${errnoName(socket)}`);
const echoServer = new FullAddress();
echoServer.address.parse("192.0.2.1");
echoServer.port = 7;

const reply = new Uint8Array(1500);
const from = new FullAddress();
const onReadable: EntryCallback = {
  callback() {
    const n = socket.recvFrom(reply, 0, reply.length, from);
    if (n < 0) return; // -EAGAIN: nothing more to read
    const text = new TextDecoder().decode(reply.subarray(0, n));
    console.log(`reply from ${from.address}:${from.port}: ${text}`);
    socket.close();
    driver.stop();
  },
};
socket.eventRegister(new WaiterEntry(onReadable), EVENT_IN);

const sent = socket.sendTo(new TextEncoder().encode("hello, netstack"), 0, 15, echoServer);
console.log(sent < 0 ? `sendTo: ${errnoName(sent)}` : `sent ${sent} bytes to 192.0.2.1:7`);
