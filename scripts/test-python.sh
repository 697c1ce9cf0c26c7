#!/usr/bin/env bash
# The Python package's tests (crates/gutjoint-py): build the wheel with maturin, install it into
# a fresh virtual environment with nothing but its declared dependencies and import it there,
# then run pytest in a second fresh environment that also sees the peers (scikit-bio 0.7.4,
# statsmodels, scikit-learn, biom-format) from the venv scripts/setup.sh made. Prints how long the wheel took.
# Without that venv the tests are skipped with a note (an error when GUTJOINT_REQUIRE_PYTHON=1).
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS="${GUTJOINT_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/gutjoint/py-peers}"
if [ ! -x "$PEERS/bin/maturin" ]; then
  if [ "${GUTJOINT_REQUIRE_PYTHON:-0}" = 1 ]; then
    echo "error: no Python peers venv at $PEERS (scripts/setup.sh makes it)" >&2
    exit 1
  fi
  echo "note: no Python peers venv at $PEERS; the Python package tests are skipped" >&2
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

start=$(date +%s)
"$PEERS/bin/maturin" build --release --quiet -i "$PEERS/bin/python" \
  -m crates/gutjoint-py/Cargo.toml -o "$work/dist"
echo "python: wheel built in $(( $(date +%s) - start )) s ($(ls "$work"/dist/*.whl | xargs -n1 basename))"
wheel="$(ls "$work"/dist/*.whl)"

# 1. A clean environment: the wheel and what it declares (numpy, pandas), nothing else.
"$PEERS/bin/python" -m venv "$work/clean"
"$work/clean/bin/pip" install --quiet --disable-pip-version-check "$wheel"
(cd "$work" && "$work/clean/bin/python" -c "import gutjoint, sys; t = gutjoint.read_table(sys.argv[1]); print('python: import gutjoint', gutjoint.__version__, 'in a clean venv; read', t.shape)" \
  "$OLDPWD/examples/data/gmhi/species_relative_abundances.csv")

# 2. The tests: a fresh environment with the wheel, seeing the peers' packages through a .pth.
"$PEERS/bin/python" -m venv "$work/test"
site="$("$work/test/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$PEERS/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/peers.pth"
"$work/test/bin/pip" install --quiet --disable-pip-version-check --no-deps "$wheel"
status=0
"$work/test/bin/python" -m pytest -q -p no:cacheprovider crates/gutjoint-py/tests || status=$?
if [ "$status" = 5 ]; then
  echo "error: pytest collected no tests in crates/gutjoint-py/tests" >&2
  exit 1
fi
exit "$status"
