// Two stacks over the in-memory pair, under XS as under V8: ARP resolution, a ping and its reply,
// UDP datagrams up to 8000 bytes (fragmented and reassembled), ICMP port unreachable turning into
// ECONNREFUSED, and every pool buffer back at the end.

import type { UdpEndpoint } from "../../../src/transport/udp-endpoint.js";
import type { PingEndpoint } from "../../../src/transport/ping.js";
import { EAGAIN, ECONNREFUSED } from "../../../src/errno.js";
import { FullAddress } from "../../../src/wire/address.js";
import { duo, endpoint, poolFull } from "../../support/stacks.js";
import { check, same, value } from "../report.js";

export function main(): void {
  const d = duo({ udpReceiveBuffer: 20000, reassemblySize: 8192 + 64 });
  const { a, b, net } = d;

  // ARP + ping.
  const ping = a.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 7, 0x10, 0x20, 0x30, 0x40);
  same(
    "ping.sent",
    ping.sendTo(request, 0, request.length, endpoint("192.0.2.2", 0)),
    request.length,
  );
  check("ping.idle", net.runUntilIdle());
  const reply = new Uint8Array(64);
  const from = new FullAddress();
  same("ping.reply-length", ping.recvFrom(reply, 0, reply.length, from, 0), request.length);
  same("ping.reply-type", reply[0], 0);
  same("ping.reply-sequence", reply[7], 7);
  same("ping.reply-data", reply[11], 0x40);
  same("ping.from", from.address.toString(), "192.0.2.2");
  same("arp.requests", a.iface!.arpStats.requestsOut, 1);
  same("arp.replies", b.iface!.arpStats.repliesOut, 1);
  value("arp.announcements", a.iface!.arpStats.announcementsOut);

  // UDP, small and fragmented.
  const server = b.openUdp() as UdpEndpoint;
  same("udp.bind", server.bind(null, 7), 0);
  const client = a.openUdp() as UdpEndpoint;
  const buffer = new Uint8Array(9000);
  for (const size of [1, 512, 1472, 1473, 8000]) {
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 13 + size) & 255;
    same(`udp.${size}.sent`, client.sendTo(data, 0, size, endpoint("192.0.2.2", 7)), size);
    net.runUntilIdle();
    same(`udp.${size}.received`, server.recvFrom(buffer, 0, buffer.length, from, 0), size);
    let exact = true;
    for (let i = 0; i < size; i++) if (buffer[i] !== data[i]) exact = false;
    check(`udp.${size}.exact`, exact);
    same(`udp.${size}.echoed`, server.sendTo(buffer, 0, size, from), size);
    net.runUntilIdle();
    same(`udp.${size}.back`, client.recvFrom(buffer, 0, buffer.length, null, 0), size);
  }
  same("udp.empty", client.recvFrom(buffer, 0, buffer.length, null, 0), -EAGAIN);
  same("ip.reassembled", b.iface!.ipStats.reassembled + a.iface!.ipStats.reassembled, 4);

  // A closed port: port unreachable, then ECONNREFUSED on the connected socket.
  const lonely = a.openUdp() as UdpEndpoint;
  same("refused.connect", lonely.connect(endpoint("192.0.2.2", 9999)), 0);
  same("refused.send", lonely.sendTo(buffer, 0, 10, null), 10);
  net.runUntilIdle();
  same("refused.icmp", b.iface!.icmpStats.destUnreachableOut, 1);
  same("refused.errno", lonely.recvFrom(buffer, 0, buffer.length, null, 0), -ECONNREFUSED);

  check("pool.a-full", poolFull(a));
  check("pool.b-full", poolFull(b));
}
