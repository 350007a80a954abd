// Two stacks over the in-memory pair inside a Moddable app, the way an application is written:
// each Stack and the LinkPair with their own memory, application buffers of its own. Driven by the
// SDK's timers through ModdableDriver. Prints one result line per phase:
//   ping: the echo came back; udp N: N datagrams of SIZE bytes echoed byte-exact, with the slots,
//   chunks and collections the XS instrumentation counted over the steady-state round trips.
// Run on the lin simulator by hand (README, "Moddable"), never in CI.

import Instrumentation from "instrumentation";
import Timer from "timer";
import { LinkPair } from "netstack/hal/pair";
import { ModdableDriver } from "netstack/hal/platform/moddable/driver";
import { Stack } from "netstack/src/stack";
import { EVENT_IN, WaiterEntry } from "netstack/src/transport/waiter";
import { FullAddress } from "netstack/src/wire/address";

const ROUNDS = 2000;
const SIZE = 512;

const SLOTS = Instrumentation.map("XS Slot Heap Used");
const CHUNKS = Instrumentation.map("XS Chunk Heap Used");
const GCS = Instrumentation.map("XS Garbage Collection Count");

const pair = new LinkPair();
const a = new Stack({ seed: 11 });
const b = new Stack({ seed: 22 });
a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
const driver = new ModdableDriver();
driver.add(a);
driver.add(b);
driver.attach(pair.a);
driver.attach(pair.b);

const server = b.openUdp();
server.bind(null, 7);
const client = a.openUdp();
const to = new FullAddress();
to.address.parse("192.0.2.2");
to.port = 7;
const from = new FullAddress();
const out = new Uint8Array(SIZE);
const back = new Uint8Array(SIZE);
const serverBuffer = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) out[i] = (i * 7) & 255;

let round = 0;
let bad = 0;
/** Slots, chunks and collections when the steady state begins; filled in place. */
const start = new Float64Array(3);

class Server {
  callback() {
    for (
      let n = server.recvFrom(serverBuffer, 0, SIZE, from, 0);
      n >= 0;
      n = server.recvFrom(serverBuffer, 0, SIZE, from, 0)
    )
      server.sendTo(serverBuffer, 0, n, from);
  }
}
class Client {
  callback() {
    for (
      let n = client.recvFrom(back, 0, SIZE, null, 0);
      n >= 0;
      n = client.recvFrom(back, 0, SIZE, null, 0)
    ) {
      if (n !== SIZE || back[SIZE - 1] !== out[SIZE - 1] || back[0] !== out[0]) bad++;
      round++;
      if (round === 100) {
        start[0] = Instrumentation.get(SLOTS);
        start[1] = Instrumentation.get(CHUNKS);
        start[2] = Instrumentation.get(GCS);
      }
      if (round === ROUNDS) return finish();
      client.sendTo(out, 0, SIZE, to);
    }
  }
}
server.eventRegister(new WaiterEntry(new Server()), EVENT_IN);
client.eventRegister(new WaiterEntry(new Client()), EVENT_IN);

function finish() {
  const steady = ROUNDS - 100;
  const slots = Instrumentation.get(SLOTS) - start[0];
  const chunks = Instrumentation.get(CHUNKS) - start[1];
  const gcs = Instrumentation.get(GCS) - start[2];
  trace(
    `udp ${ROUNDS}: ${SIZE} B, bad ${bad}; over ${steady} round trips: slots ${slots}, chunks ${chunks}, collections ${gcs}\n`,
  );
  trace(
    `memory: stack arena ${Stack.memoryNeeded({})} B each, slots used ${Instrumentation.get(SLOTS)}, chunks used ${Instrumentation.get(CHUNKS)}\n`,
  );
  // Stop from another timer, as an application would, then stay up: on the lin simulator a driver
  // timer rescheduled inside its own callback and cleared from elsewhere crashed mcsim ~2 s later.
  Timer.set(() => {
    driver.stop();
    Timer.set(() => trace("done: alive 5 s after stopping the driver\n"), 5000);
  }, 10);
}

Timer.set(() => {
  trace("start\n");
  client.sendTo(out, 0, SIZE, to);
}, 100);
