#!/usr/bin/env bash
# Builds the libdeflate addon eStargz compresses with (npm runs this after install). It needs
# Debian's libdeflate-dev; without it the build is skipped and eStargz falls back to zlib, which
# the worker says at start.
set -uo pipefail
cd "$(dirname "$0")/../libs/convert/native"
if [ ! -f /usr/include/libdeflate.h ]; then
  echo "[accel] libdeflate-dev is not installed: eStargz will compress with zlib (apt-get install libdeflate-dev, then npm run build:native)" >&2
  exit 0
fi
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
  echo "[accel] the libdeflate addon did not build: eStargz will compress with zlib" >&2
fi
exit 0
