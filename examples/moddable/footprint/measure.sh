#!/usr/bin/env bash
# Footprint of netstack on Moddable, from instrumented lin builds (SDK at $MODDABLE):
# - what the preloaded modules add to the image: this app (which includes the package's
#   manifest.json) against baseline/ (the same SDK modules without it), from the XS linker's output;
# - slots and chunks of a Stack in each memory profile, printed by the app running in mcsim.
#
#   MODDABLE=/path/to/moddable examples/moddable/footprint/measure.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
: "${MODDABLE:?set MODDABLE to a built Moddable SDK}"
export PATH="$MODDABLE/build/bin/lin/release:$root/node_modules/.bin:$PATH"
out="$(mktemp -d /tmp/netstack-footprint.XXXXXX)"
sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]]; then
    kill -TERM -- "-$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

(cd "$root" && npm run --silent build >"$out/build.log" 2>&1) || { cat "$out/build.log"; exit 1; }
for app in footprint baseline; do
  dir="$here"
  [[ $app == baseline ]] && dir="$here/baseline"
  mkdir -p "$out/$app"
  (cd "$dir" && mcconfig -m -p lin -i -t build -o "$out/$app" >>"$out/build.log" 2>&1) \
    || { tail -30 "$out/build.log"; exit 1; }
done

# The linker's image: slots (mxHeapCount; 16 B each on a 32-bit device), bytecode (the bytes of
# every preloaded function's code, which the linker writes as "\xNN" strings), aliasable objects
# (mxAliasCount, 4 B of RAM each on a device) and keys.
image() {
  local c
  c="$(find "$out/$1/tmp" -name mc.xs.c | head -1)"
  local heap alias keys code
  heap="$(sed -n 's/^#define mxHeapCount \([0-9]*\)/\1/p' "$c")"
  alias="$(sed -n 's/^#define mxAliasCount \([0-9]*\)/\1/p' "$c")"
  keys="$(sed -n 's/^#define mxKeysCount \([0-9]*\)/\1/p' "$c")"
  code="$(grep XS_CODE_X_KIND "$c" | grep -o '\\x' | wc -l)"
  echo "$heap $alias $keys $code"
}
read -r h1 a1 k1 c1 <<<"$(image footprint)"
read -r h0 a0 k0 c0 <<<"$(image baseline)"
dh=$((h1 - h0))
dc=$((c1 - c0))
echo "preloaded by netstack: slots $dh ($((dh * 16)) B at 16 B a slot), bytecode $dc B, keys $((k1 - k0)), aliasable objects $((a1 - a0)) ($(((a1 - a0) * 4)) B of RAM)"
echo "  flash on a 32-bit device: about $(((dh * 16 + dc + 1023) / 1024)) KB"

so="$(find "$out/footprint/bin" -name mc.so | head -1)"
log="$out/mcsim.log"
setsid xvfb-run -a stdbuf -oL -eL "$MODDABLE/build/bin/lin/release/mcsim" "$so" >"$log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 150); do
  grep -q "^footprint done" "$log" && break
  kill -0 "$sim_pid" 2>/dev/null || break
  sleep 0.2
done
grep "^footprint" "$log" || { cat "$log"; exit 1; }
grep -q "^footprint done" "$log"
