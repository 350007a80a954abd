#!/usr/bin/env bash
# Builds examples/moddable/tap with the Moddable SDK for the lin simulator, runs it in mcsim inside
# a network namespace of its own with a TAP made and addressed beforehand (kernel 192.0.2.1/24,
# stack 192.0.2.2), and checks it from the kernel side: ping, UDP echo, TCP echo, HTTP. Exits 0 only
# if all four answered. Needs root (namespaces, TAP), $MODDABLE (a built SDK), xvfb-run, socat,
# curl, python3.
#
#   MODDABLE=/path/to/moddable examples/moddable/tap/run.sh [--keep]
#
# BUILD_FLAGS="-i" builds it instrumented (mcsim then prints an "instruments:" line a second, with
# the peak XS stack); mcsim.log in the build directory keeps everything it printed.
# --keep leaves mcsim running in the namespace until Ctrl-C (try `ip netns exec NS ping 192.0.2.2`).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
keep=0
[[ "${1:-}" == "--keep" ]] && keep=1

: "${MODDABLE:?set MODDABLE to a built Moddable SDK}"
[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root (network namespace, TAP)" >&2; exit 2; }
for tool in xvfb-run socat curl python3 ip; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 2; }
done
export PATH="$MODDABLE/build/bin/lin/release:$root/node_modules/.bin:$PATH"

ns="nstap-$$"
tap="nstap0"
kernel="192.0.2.1"
stack="192.0.2.2"
out="$(mktemp -d /tmp/netstack-tap.XXXXXX)"
log="$out/mcsim.log"
sim_pid=""

cleanup() {
  if [[ -n "$sim_pid" ]]; then
    # mcsim, Xvfb and xvfb-run were started in their own process group: end that group only.
    kill -TERM -- "-$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
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

echo "== mcsim $app"
setsid ip netns exec "$ns" xvfb-run -a stdbuf -oL -eL "$MODDABLE/build/bin/lin/release/mcsim" "$app" >"$log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
  grep -q "^ready" "$log" 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$log"; echo "run.sh: mcsim exited" >&2; exit 1; }
  sleep 0.2
done
grep "^ready" "$log" || { cat "$log"; echo "run.sh: the app did not come up" >&2; exit 1; }

inns() { ip netns exec "$ns" "$@"; }
failed=0

echo "== ping from the kernel"
if inns ping -c 5 -i 0.2 -W 2 "$stack"; then :; else failed=1; fi

echo "== UDP echo from the kernel (port 7)"
udp_sent="udp echo through the stack in mcsim $$"
udp_got="$(printf '%s' "$udp_sent" | inns timeout 5 socat -T 2 - "UDP4:$stack:7" || true)"
echo "sent: $udp_sent"
echo "got:  $udp_got"
[[ "$udp_got" == "$udp_sent" ]] || failed=1

echo "== TCP echo from the kernel (port 7), 64 KB"
head -c 65536 /dev/urandom >"$out/tcp.in"
inns timeout 20 socat -T 5 - "TCP4:$stack:7,shut-down" <"$out/tcp.in" >"$out/tcp.out" 2>"$out/tcp.err" || true
sent_sum="$(sha256sum <"$out/tcp.in" | cut -c1-16)"
got_sum="$(sha256sum <"$out/tcp.out" | cut -c1-16)"
echo "sent $(stat -c %s "$out/tcp.in") B sha256 $sent_sum; got $(stat -c %s "$out/tcp.out") B sha256 $got_sum"
[[ "$sent_sum" == "$got_sum" ]] || { cat "$out/tcp.err"; failed=1; }

echo "== HTTP from the kernel: GET /bytes/100000 (body byte i is i % 251)"
inns timeout 20 curl -sS -o "$out/http.body" "http://$stack/bytes/100000" || true
if python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); sys.exit(0 if len(b) == 100000 and all(v == i % 251 for i, v in enumerate(b)) else 1)' "$out/http.body"; then
  echo "got 100000 B, every byte as the pattern says"
else
  echo "got $(stat -c %s "$out/http.body" 2>/dev/null || echo 0) B, not the pattern"
  failed=1
fi

sleep 5.5
echo "== mcsim said"
grep -E "^(ready|status)" "$log" | tail -3

if [[ $keep -eq 1 && $failed -eq 0 ]]; then
  echo "== running; ip netns exec $ns ping $stack (Ctrl-C ends)"
  wait "$sim_pid" || true
fi
if [[ $failed -ne 0 ]]; then
  echo "FAILED (build and log in $out)"
  exit 1
fi
echo "PASSED: ping, UDP echo, TCP echo and HTTP from the kernel to the stack in mcsim"
