#!/bin/sh
# Builds the benchmarks' native peers into $1 (default: a fresh temporary directory) and prints
# that directory. tcp-load needs only a C compiler; lwip-peer needs Debian's liblwip-dev
# (apt-get install liblwip-dev) and is skipped, with a note on stderr, without it.
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d /tmp/netstack-native-XXXXXX)}
mkdir -p "$out"
cc -O2 -Wall -o "$out/tcp-load" "$here/tcp-load.c" -lpthread
cc -O2 -Wall -o "$out/udp-echo-load" "$here/udp-echo-load.c"
if [ -f /usr/include/lwip/lwipopts.h ]; then
  # -I order as lwip.pc gives it: lwipopts.h and arch/ live at the top of /usr/include/lwip.
  cc -O2 -Wall -I/usr/include/lwip -o "$out/lwip-peer" "$here/lwip-peer.c" -llwip -lpthread
else
  echo "build.sh: liblwip-dev is not installed; no lwip-peer" >&2
fi
echo "$out"
