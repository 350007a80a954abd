// A ping: one stack sends ICMP echo requests to another over an in-memory cable, through a ping
// socket (Linux's SOCK_DGRAM ICMP socket: the stack fills in the identifier and the checksum).
import {
  EVENT_IN,
  FullAddress,
  LinkPair,
  Stack,
  WaiterEntry,
  errnoName,
  type EntryCallback,
} from "netstack";
import { NodeDriver } from "netstack/node";

const COUNT = 3;
const pair = new LinkPair();
const a = new Stack();
const b = new Stack();
a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
const driver = new NodeDriver();
driver.add(a);
driver.add(b);
driver.attach(pair.a);
driver.attach(pair.b);

const opened = a.openPing();
if (typeof opened === "number") throw new Error(`openPing: ${errnoName(opened)}`);
const ping = opened;
const target = new FullAddress();
target.address.parse("192.0.2.2");

// An echo request: type 8, code 0, checksum and identifier (the stack's), sequence, then data.
const request = new Uint8Array(8 + 32);
const reply = new Uint8Array(request.length);
let sequence = 0;
let sentAt = 0;

function send(): void {
  sequence++;
  request[0] = 8;
  request[6] = sequence >> 8;
  request[7] = sequence & 0xff;
  sentAt = driver.now();
  const result = ping.sendTo(request, 0, request.length, target);
  if (result < 0) console.log(`sendTo: ${errnoName(result)}`);
}

const onReply: EntryCallback = {
  callback() {
    for (;;) {
      const n = ping.recvFrom(reply);
      if (n < 0) break;
      const seq = (reply[6] << 8) | reply[7];
      console.log(
        `${n} bytes from ${target.address}: icmp_seq=${seq} time=${driver.now() - sentAt} ms`,
      );
      if (seq === COUNT) {
        ping.close();
        driver.stop();
      } else setTimeout(send, 200);
    }
  },
};
ping.eventRegister(new WaiterEntry(onReply), EVENT_IN);
send();
