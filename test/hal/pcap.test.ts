import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEVICE_LINK, DEVICE_RECEIVE, TX_BUSY, TX_TAKEN } from "../../src/device.js";
import { LinkPair } from "../../hal/pair.js";
import { PcapDevice, type PcapSink } from "../../hal/pcap.js";
import { PcapFileSink } from "../../hal/platform/node/pcap-file.js";

class MemorySink implements PcapSink {
  readonly bytes = new Uint8Array(1 << 20);
  length = 0;
  write(bytes: Uint8Array, offset: number, length: number): void {
    this.bytes.set(bytes.subarray(offset, offset + length), this.length);
    this.length += length;
  }
}

function frame(length: number, seed: number): Uint8Array {
  const f = new Uint8Array(length);
  f.set([0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x88, 0xb5]);
  for (let i = 14; i < length; i++) f[i] = (i * 11 + seed * 3) & 0xff;
  return f;
}

interface Record {
  seconds: number;
  micros: number;
  caplen: number;
  length: number;
  data: Uint8Array;
}

function parse(bytes: Uint8Array): { header: DataView; records: Record[] } {
  const header = new DataView(bytes.buffer, bytes.byteOffset, 24);
  const records: Record[] = [];
  let at = 24;
  while (at < bytes.length) {
    const v = new DataView(bytes.buffer, bytes.byteOffset + at, 16);
    const caplen = v.getUint32(8, true);
    records.push({
      seconds: v.getUint32(0, true),
      micros: v.getUint32(4, true),
      caplen,
      length: v.getUint32(12, true),
      data: bytes.slice(at + 16, at + 16 + caplen),
    });
    at += 16 + caplen;
  }
  return { header, records };
}

test("writes the classic pcap file header", () => {
  const sink = new MemorySink();
  new PcapDevice(new LinkPair().a, sink);
  assert.is(sink.length, 24);
  const { header } = parse(sink.bytes.subarray(0, sink.length));
  assert.is(header.getUint32(0, true), 0xa1b2c3d4);
  assert.is(header.getUint16(4, true), 2);
  assert.is(header.getUint16(6, true), 4);
  assert.is(header.getUint32(16, true), 65535);
  assert.is(header.getUint32(20, true), 1);
});

test("records both directions with timestamps from poll and the epoch", () => {
  const sink = new MemorySink();
  const pair = new LinkPair();
  const dev = new PcapDevice(pair.a, sink, { epoch: 1_700_000_000_000 });
  dev.poll(1234.5);
  assert.is(dev.transmit(frame(60, 1), 0, 60), TX_TAKEN);
  pair.b.transmit(frame(100, 2), 0, 100);
  dev.poll(2000);
  const buf = new Uint8Array(200);
  assert.is(dev.receive(buf, 0, 200), 100);
  assert.is(dev.receive(buf, 0, 200), 0, "nothing recorded when nothing arrives");
  const { records } = parse(sink.bytes.subarray(0, sink.length));
  assert.is(records.length, 2);
  assert.equal(records[0], {
    seconds: 1_700_000_001,
    micros: 234_500,
    caplen: 60,
    length: 60,
    data: frame(60, 1),
  });
  assert.equal(records[1], {
    seconds: 1_700_000_002,
    micros: 0,
    caplen: 100,
    length: 100,
    data: frame(100, 2),
  });
  assert.is(dev.records, 2);
});

test("a refused frame is not recorded; a truncated one keeps its true length", () => {
  const sink = new MemorySink();
  const pair = new LinkPair({ slots: 1 });
  const dev = new PcapDevice(pair.a, sink, { snaplen: 64 });
  assert.is(dev.transmit(frame(60, 1), 0, 60), TX_TAKEN);
  assert.is(dev.transmit(frame(60, 2), 0, 60), TX_BUSY, "the answer passes through");
  pair.b.transmit(frame(300, 3), 0, 300);
  const buf = new Uint8Array(300);
  assert.is(dev.receive(buf, 0, 80), 300);
  const { records } = parse(sink.bytes.subarray(0, sink.length));
  assert.is(records.length, 2);
  assert.is(records[1].caplen, 64, "snaplen limits the record");
  assert.is(records[1].length, 300);
  assert.equal(records[1].data, frame(300, 3).subarray(0, 64));
});

test("passes the device through: address, mtu, link, signal", () => {
  const pair = new LinkPair({ mtu: 1280 });
  const dev = new PcapDevice(pair.a, new MemorySink());
  assert.is(dev.mac, pair.a.mac);
  assert.is(dev.mtu, 1280);
  let signals = 0;
  let last = 0;
  dev.onEvent = (events) => {
    signals++;
    last = events;
  };
  pair.b.transmit(frame(60, 1), 0, 60);
  assert.is(signals, 1);
  assert.is(last, DEVICE_RECEIVE);
  pair.setLink(false);
  assert.not.ok(dev.linkUp);
  assert.is(last, DEVICE_LINK, "link changes pass through");
  const groups = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb);
  dev.setMulticastFilter(groups, 1);
  assert.is(pair.a.multicastCount, 1, "the filter reaches the wrapped device");
  assert.ok(pair.a.hasMulticast(groups));
});

test("tcpdump reads the file: same frame count, contents and times", () => {
  const dir = mkdtempSync(join(tmpdir(), "pcap-"));
  try {
    const path = join(dir, "capture.pcap");
    const sink = new PcapFileSink(path);
    const pair = new LinkPair();
    const dev = new PcapDevice(pair.a, sink, { epoch: 1_000_000_000_000 });
    const sent: Uint8Array[] = [];
    const buf = new Uint8Array(1514);
    for (let i = 0; i < 40; i++) {
      dev.poll(i * 250 + 3);
      const f = frame(60 + ((i * 97) % 1455), i);
      sent.push(f);
      if (i % 2 === 0) assert.is(dev.transmit(f, 0, f.length), TX_TAKEN);
      else {
        pair.b.transmit(f, 0, f.length);
        assert.is(dev.receive(buf, 0, 1514), f.length);
      }
    }
    sink.close();
    const out = spawnSync("tcpdump", ["-nn", "-tt", "-xx", "-r", path], { encoding: "utf8" });
    assert.is(out.status, 0, out.stderr);
    // Each packet: a summary line starting with the timestamp, then "\t0x0000:  hex..." lines.
    const packets: { time: string; bytes: number[] }[] = [];
    for (const line of out.stdout.split("\n")) {
      const dump = /^\s+0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4}\s?)+)/.exec(line);
      if (dump !== null) {
        const hex = dump[1].replace(/\s+/g, "");
        for (let i = 0; i < hex.length; i += 2)
          packets[packets.length - 1].bytes.push(parseInt(hex.slice(i, i + 2), 16));
      } else if (/^\d+\.\d{6} /.test(line))
        packets.push({ time: line.slice(0, line.indexOf(" ")), bytes: [] });
    }
    assert.is(packets.length, 40);
    for (let i = 0; i < 40; i++) {
      assert.equal(packets[i].bytes, Array.from(sent[i]), `frame ${i}`);
      const ms = 1_000_000_000_000 + i * 250 + 3;
      assert.is(
        packets[i].time,
        `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000).padStart(6, "0")}`,
      );
    }
    assert.is(readFileSync(path).length, 24 + 40 * 16 + sent.reduce((n, f) => n + f.length, 0));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
