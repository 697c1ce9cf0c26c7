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
# The Python package (crates/gutjoint-py): maturin builds the wheel; its tests compare with
# scikit-bio 0.7.4, statsmodels and biom-format, kept in a venv of their own (scripts/test-python.sh).
PY_PEERS="${GUTJOINT_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/gutjoint/py-peers}"
if ! "$PY_PEERS/bin/python" -c "import maturin, skbio, statsmodels, sklearn, biom, pytest; assert skbio.__version__ == '0.7.4'" >/dev/null 2>&1; then
  if ! python3 -m venv --clear "$PY_PEERS" >/dev/null 2>&1 \
      && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq  # Debian's python3 needs python3-venv for `python3 -m venv`
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv --clear "$PY_PEERS"
  fi
  "$PY_PEERS/bin/pip" install --quiet --disable-pip-version-check \
    "maturin>=1.5,<2" "scikit-bio==0.7.4" statsmodels scikit-learn biom-format h5py pytest jsonschema
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
# Snakemake for the blockwise workflow (workflow/Snakefile, issue #16), in a venv of its own so
# its pins do not meet the Python peers'; the Slurm executor plugin for the cluster profile.
SNAKEMAKE_VENV="${GUTJOINT_SNAKEMAKE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/gutjoint/snakemake}"
if ! "$SNAKEMAKE_VENV/bin/snakemake" --version >/dev/null 2>&1; then
  python3 -m venv --clear "$SNAKEMAKE_VENV"
  "$SNAKEMAKE_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "snakemake>=9,<10" snakemake-executor-plugin-slurm
fi
# Python jsonschema validates results.json against docs/results.schema.json (a CLI test), in the
# peers venv (added after the venv was first made, so installed here when missing).
if [ -x "$PY_PEERS/bin/python" ] && ! "$PY_PEERS/bin/python" -c "import jsonschema" >/dev/null 2>&1; then
  "$PY_PEERS/bin/pip" install --quiet --disable-pip-version-check jsonschema
fi
# matplotlib for the Python tour (examples/python/tour.py draws a PCoA plot); a pytest runs the
# tour end to end, so it is a peer of the Python package's tests (issue #18).
if [ -x "$PY_PEERS/bin/python" ] && ! "$PY_PEERS/bin/python" -c "import matplotlib" >/dev/null 2>&1; then
  "$PY_PEERS/bin/pip" install --quiet --disable-pip-version-check "matplotlib>=3.8"
fi
