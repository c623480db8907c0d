#!/usr/bin/env bash
# Builds the converters' addons (npm runs this after install): accel_deflate (eStargz members,
# against Debian's libdeflate-dev) and accel_gunzip (source layers, against libisal-dev). One
# whose library is missing is skipped and zlib does its work instead, which the worker says at
# start.
set -uo pipefail
cd "$(dirname "$0")/../libs/convert/native"
missing=0
if [ ! -f /usr/include/libdeflate.h ]; then
  echo "[accel] libdeflate-dev is not installed: eStargz will compress with zlib (apt-get install libdeflate-dev, then npm run build:native)" >&2
  missing=$((missing + 1))
fi
if [ ! -f /usr/include/isa-l/igzip_lib.h ]; then
  echo "[accel] libisal-dev is not installed: layers will decompress with zlib (apt-get install libisal-dev, then npm run build:native)" >&2
  missing=$((missing + 1))
fi
[ "$missing" -lt 2 ] || exit 0
gyp=$(command -v node-gyp || true)
if [ -z "$gyp" ]; then
  npm_dir=$(dirname "$(readlink -f "$(command -v npm)")")
  gyp="node $npm_dir/../node_modules/node-gyp/bin/node-gyp.js"
fi
# Node's own headers where the machine has them (npm's nodedir setting, or beside the node binary:
# Debian's /usr, the official images' /usr/local):
# node-gyp would otherwise download them.
nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
if { [ -z "$nodedir" ] || [ "$nodedir" = undefined ]; } && [ -f "$prefix/include/node/node_api.h" ]; then nodedir=$prefix; fi
args=(rebuild --loglevel=error)
if [ -n "$nodedir" ] && [ "$nodedir" != undefined ]; then args+=("--nodedir=$nodedir"); fi
if ! log=$($gyp "${args[@]}" 2>&1); then
  printf '%s\n' "$log" | tail -20 >&2
  echo "[accel] the native addons did not build: the converters will use zlib" >&2
fi
exit 0
