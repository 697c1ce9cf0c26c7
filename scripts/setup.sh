#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine with the Rust toolchain: what the conformance and
# report tests compare against — Python's biom-format (must read the BIOM files gutjoint
# writes) and Debian's chromium (renders the HTML report headless). Idempotent: quick when
# everything is already there.
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed; install Rust (https://rustup.rs) first" >&2
  exit 1
fi
if ! python3 -c "import biom, h5py" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "biom-format==2.1.18" h5py
fi
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: chromium is not installed (needs root: apt-get install chromium); the report-rendering test will be skipped" >&2
  fi
fi
# PostgreSQL for the shared-queue tests of `gutjoint serve` (.ci/run starts a throwaway cluster).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "note: PostgreSQL is not installed (needs root: apt-get install postgresql); the PostgreSQL job-store tests will be skipped" >&2
  fi
fi
