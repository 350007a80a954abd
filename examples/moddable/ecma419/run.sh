#!/usr/bin/env bash
# Builds examples/moddable/ecma419 with the Moddable SDK for the lin simulator and runs it in mcsim
# inside a network namespace of its own, with a TAP made and addressed beforehand (kernel
# 192.0.2.1/24, stack 192.0.2.2) and `python3 -m http.server` on the kernel's side serving a file
# of known content. The app fetches it through the TCP class it takes from the network object
# (ECMA-419's device.network); the script checks what the app printed (status, length, FNV-1a of
# the body, first line) against the file, then sends a datagram to the app's echo, made with the
# UDP class, and checks the reply. Exits 0 only if both held. Needs root (namespaces, TAP),
# $MODDABLE (a built SDK), xvfb-run, socat, python3.
#
#   MODDABLE=/path/to/moddable examples/moddable/ecma419/run.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

: "${MODDABLE:?set MODDABLE to a built Moddable SDK}"
[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root (network namespace, TAP)" >&2; exit 2; }
for tool in xvfb-run socat python3 ip; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 2; }
done
export PATH="$MODDABLE/build/bin/lin/release:$root/node_modules/.bin:$PATH"

ns="ns419-$$"
tap="nstap0"
kernel="192.0.2.1"
stack="192.0.2.2"
out="$(mktemp -d /tmp/netstack-ecma419.XXXXXX)"
log="$out/mcsim.log"
sim_pid=""
server_pid=""

cleanup() {
  if [[ -n "$sim_pid" ]]; then
    # mcsim, Xvfb and xvfb-run were started in their own process group: end that group only.
    kill -TERM -- "-$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT

echo "== build (dist/ and the app, SDK at $MODDABLE)"
(cd "$root" && npm run --silent build >"$out/build.log" 2>&1) || { cat "$out/build.log"; exit 1; }
(cd "$here" && mcconfig -m -p lin ${BUILD_FLAGS:-} -t build -o "$out" >>"$out/build.log" 2>&1) \
  || { tail -40 "$out/build.log"; exit 1; }
app="$(find "$out/bin/lin" -name mc.so | head -1)"
[[ -n "$app" ]] || { echo "run.sh: no mc.so under $out/bin/lin" >&2; exit 1; }

echo "== namespace $ns: TAP $tap, kernel $kernel/24"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev "$tap" mode tap
ip -n "$ns" addr add "$kernel/24" dev "$tap"
ip -n "$ns" link set "$tap" up
inns() { ip netns exec "$ns" "$@"; }

echo "== http.server on $kernel:8000 serving page.txt"
mkdir "$out/www"
# About 56 KB: many segments, and a first line to print.
{
  echo "netstack ECMA-419 page $$"
  for i in $(seq 1 1000); do echo "line $i of the page served by the kernel's http.server"; done
} >"$out/www/page.txt"
inns python3 -m http.server 8000 --bind "$kernel" --directory "$out/www" >"$out/http.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  inns bash -c "(echo > /dev/tcp/$kernel/8000) 2>/dev/null" && break
  sleep 0.05
done

echo "== mcsim $app"
setsid ip netns exec "$ns" xvfb-run -a stdbuf -oL -eL "$MODDABLE/build/bin/lin/release/mcsim" "$app" >"$log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 150); do
  grep -q "^http:" "$log" 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$log"; echo "run.sh: mcsim exited" >&2; exit 1; }
  sleep 0.2
done
failed=0

echo "== the app said"
grep -E "^(ready|http:)" "$log" || { cat "$log"; echo "run.sh: no HTTP result from the app" >&2; exit 1; }

expected="$(python3 - "$out/www/page.txt" <<'PY'
import sys
body = open(sys.argv[1], "rb").read()
h = 0x811C9DC5
for b in body:
    h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
first = body.split(b"\n", 1)[0][:80].decode()
print(f"http: status 200, {len(body)} bytes, fnv1a {h:08x}, first line: {first}")
PY
)"
got="$(grep -m1 "^http:" "$log")"
echo "expected: $expected"
[[ "$got" == "$expected" ]] || { echo "the HTTP result differs"; failed=1; }

echo "== UDP from the kernel to the app's UDP socket (port 7)"
udp_sent="udp through the ECMA-419 UDP class in mcsim $$"
udp_got="$(printf '%s' "$udp_sent" | inns timeout 5 socat -T 2 - "UDP4:$stack:7" || true)"
echo "sent: $udp_sent"
echo "got:  $udp_got"
[[ "$udp_got" == "$udp_sent" ]] || failed=1
sleep 0.5
grep -E "^udp:" "$log" || true

if [[ $failed -ne 0 ]]; then
  echo "FAILED (build and log in $out)"
  exit 1
fi
echo "PASSED: HTTP GET and UDP echo through the ECMA-419 classes of device.network in mcsim"
