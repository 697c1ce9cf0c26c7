#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine with the Rust toolchain: the Python packages the
# conformance tests compare against (biom-format reads the BIOM files gutjoint writes).
# Idempotent: quick when everything is already there.
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust (https://rustup.rs) first" >&2
  exit 1
fi
if ! python3 -c "import biom, h5py" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "biom-format==2.1.18" h5py
fi
