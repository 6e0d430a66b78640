#!/usr/bin/env bash
# Sets up a fresh Debian machine (or re-checks an existing one): system packages, pnpm,
# dependencies, the tfjs-node native binding and a build. Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
# gl (headless-gl) compiles from source: X11 headers and pkg-config. xvfb + xauth give the GPU
# tests a display; chromium and firefox-esr (driven over WebDriver BiDi) run the browser tests.
# python3, make and g++ build the native addons (gl, the tfjs-node binding).
# libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri: Mesa's EGL and OpenGL (llvmpipe), which Dawn (the
# webgpu package, backend-webgpu in Node) runs on where there is no GPU.
APT_PACKAGES=(python3 make g++ libxi-dev libxext-dev libx11-dev pkg-config xvfb xauth chromium firefox-esr libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)

log() { printf '\n==> %s\n' "$*" >&2; }

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  log "Installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "error: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]]; then
  log "Installing pnpm $PNPM_VERSION"
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION"
fi

export TURBO_TELEMETRY_DISABLED=1
# node-gyp builds against the installed Node headers instead of downloading them.
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
log 'Installing dependencies (gl compiles from source the first time: ~5 minutes)'
pnpm install --frozen-lockfile

if [[ -f packages/backend-tfjs-node/scripts/setup-native.mjs ]]; then
  log 'Checking the tfjs-node native binding (builds it from a local TensorFlow wheel if needed)'
  node packages/backend-tfjs-node/scripts/setup-native.mjs
fi

log 'Building'
pnpm build
