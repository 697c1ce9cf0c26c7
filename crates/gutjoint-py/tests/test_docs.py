"""The package's documentation is part of its interface (issue #18: "docstrings with examples;
help(gutjoint.beta_diversity) reads like scikit-bio's"): every public function and class has a
numpydoc ``Examples`` section, the examples that are not marked ``+SKIP`` run and print what they
show, and the type stubs name every native function the package calls."""

import doctest
import inspect
import os
import re
from pathlib import Path

import gutjoint
from gutjoint import _gutjoint

ROOT = Path(__file__).resolve().parents[3]


def test_every_public_name_has_an_example():
    missing = []
    for name in gutjoint.__all__:
        obj = getattr(gutjoint, name)
        doc = inspect.getdoc(obj) or ""
        if "Examples" not in doc or ">>>" not in doc:
            missing.append(name)
    assert missing == [], f"no Examples section: {missing}"


def test_docstring_examples_run(monkeypatch):
    # The examples use paths relative to the repository root, as the README's commands do.
    monkeypatch.chdir(ROOT)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(gutjoint, extraglobs={"gutjoint": gutjoint}, optionflags=flags)
    assert result.failed == 0
    # Not only skipped ones: read_table, alpha/beta diversity, built_in_references run.
    assert result.attempted >= 8


def test_stubs_cover_the_native_module():
    stub = (Path(gutjoint.__file__).parent / "_gutjoint.pyi").read_text(encoding="utf-8")
    declared = set(re.findall(r"^(?:def|class) (\w+)", stub, flags=re.M))
    native = {n for n in dir(_gutjoint) if not n.startswith("_")}
    assert native - declared == set(), "native names without a stub"
    # And the package ships its PEP 561 marker, so type checkers read the stubs.
    assert os.path.exists(Path(gutjoint.__file__).parent / "py.typed")
