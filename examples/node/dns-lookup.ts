// Names resolved on a Linux TAP device by the stub resolver, asking a DNS server on the kernel's
// side. Needs root (or CAP_NET_ADMIN) and the native addon. Make the TAP and a server first:
//
//   ip tuntap add dev tap0 mode tap && ip addr add 192.0.2.1/24 dev tap0 && ip link set tap0 up
//   dnsmasq --no-resolv --no-hosts --listen-address=192.0.2.1 --bind-interfaces \
//     --local=/example.test/ --host-record=printer.example.test,192.0.2.40
//   node dns-lookup.js tap0 192.0.2.1 printer.example.test nothing.example.test
import {
  DNS_OK,
  DNS_TYPE_A,
  DnsClient,
  Stack,
  dnsStatusName,
  errnoName,
  formatIPv4,
  type DnsCallback,
} from "netstack";
import { NodeDriver, TapDevice } from "netstack/node";

const [name = "tap0", server = "192.0.2.1", ...hosts] = process.argv.slice(2);
const device = new TapDevice({ name }); // throws, saying why, when the addon or the TAP is missing
const stack = new Stack();
stack.attach(device, { address: "192.0.2.2", prefix: 24 });
// Up to 4 queries at once, each from its own random port with a random ID; a small TTL cache.
const resolver = new DnsClient(stack, { servers: [server] });
const driver = new NodeDriver();
driver.add(stack);
driver.add(resolver); // questions leave, and answers are read, from the resolver's poll
driver.attach(device);

let left = hosts.length;
const done: DnsCallback = {
  // Called once per query from the resolver's poll; the query is valid during the call.
  dnsDone(query) {
    if (query.status === DNS_OK)
      console.log(`${query.name} ${formatIPv4(query.address)} (ttl ${query.ttl} s)`);
    else console.log(`${query.name}: ${dnsStatusName(query.status)}`);
    if (--left === 0) {
      driver.stop();
      device.close();
    }
  },
};
for (const host of hosts) {
  const query = resolver.resolve(host, DNS_TYPE_A, done);
  if (typeof query === "number") {
    console.log(`${host}: ${errnoName(query)}`); // -EAGAIN past 4 at once, -EINVAL for a bad name
    left--;
  }
}
