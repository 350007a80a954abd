// One frame in and one frame out through the ENC28J60 driver and the simulated chip, as an
// allocation step for bench/xs-alloc.ts: a frame of 64..1514 bytes (a different length each step,
// so every chunk size is used) arrives from the wire, the driver reads it into a buffer of the
// caller's, sends it back, and the wire takes it. No stack: what is measured
// is the driver (and the simulator, which allocates nothing per frame either).

import { Enc28j60 } from "../../hal/enc28j60/driver.js";
import { Enc28j60Sim } from "../../hal/enc28j60/simulator.js";
import { LinkPair } from "../../hal/pair.js";

interface State {
  pair: LinkPair;
  sim: Enc28j60Sim;
  driver: Enc28j60;
  frame: Uint8Array;
  buffer: Uint8Array;
  now: number;
}

let state: State | null = null;

function clock(): number {
  return state === null ? 0 : state.now;
}

function interrupt(this: { target: unknown }): void {
  (this.target as Enc28j60).interrupt();
}

export function setup(): void {
  const pair = new LinkPair({ slots: 8 });
  const sim = new Enc28j60Sim(pair.a, { clock });
  const driver = new Enc28j60({
    spi: sim,
    mac: Uint8Array.of(2, 0, 0, 0, 0, 10),
    interrupt: sim.pin,
  });
  sim.pin.target = driver;
  sim.pin.onReadable = interrupt;
  const frame = new Uint8Array(1514);
  frame.set([2, 0, 0, 0, 0, 10, 2, 0, 0, 0, 0, 11, 0x08, 0x00]);
  state = { pair, sim, driver, frame, buffer: new Uint8Array(1514), now: 0 };
  driver.poll(0);
  state.now = 3;
  sim.poll(3);
  driver.poll(3);
  if (!driver.running) throw new Error("enc28j60 step: the chip did not start");
  step(0);
}

export function step(i: number): void {
  const s = state as State;
  const length = 64 + ((i * 389) % 1451);
  s.frame[20] = i & 255;
  s.pair.b.transmit(s.frame, 0, length);
  s.now += 2;
  s.sim.poll(s.now);
  s.driver.poll(s.now);
  const n = s.driver.receive(s.buffer, 0, s.buffer.length);
  if (n !== length || s.buffer[20] !== (i & 255)) throw new Error("enc28j60 step: receive");
  if (s.driver.transmit(s.buffer, 0, n) !== 1) throw new Error("enc28j60 step: transmit");
  s.now += 4; // SPI time of both transfers, then the wire time
  s.sim.poll(s.now);
  s.driver.poll(s.now);
  if (s.pair.b.receive(s.buffer, 0, s.buffer.length) !== length)
    throw new Error("enc28j60 step: wire");
}
