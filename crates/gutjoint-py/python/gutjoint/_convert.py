"""Turning what Python users hold into the engine's table and tree, and back.

Accepted tables (samples × features unless said otherwise):

- ``pandas.DataFrame``: index = sample ids, columns = feature ids; read in place when it is one
  float64 block (no dense copy); a ``df.attrs["taxonomy"]`` mapping feature id -> lineage is
  used when present (``read_table`` sets it);
- ``numpy.ndarray`` (2-D) or a list of lists, with ``ids`` (samples) and ``taxa`` (features);
- ``biom.Table`` (features × samples, as BIOM stores it; its ``taxonomy`` metadata is kept);
- a SciPy sparse matrix (samples × features) with ``ids``/``taxa``;
- a ``gutjoint.Table`` (from ``read_table(..., as_table=True)``), used as is.

Trees: ``skbio.TreeNode``, Newick text, a path to a Newick file, or a ``gutjoint.Tree``.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

from . import _gutjoint


def _lineage_list(taxonomy: Any, feature_ids: Sequence[str]) -> Optional[list]:
    """One lineage string (or None) per feature from a mapping or Series of lineages."""
    if taxonomy is None:
        return None
    get = taxonomy.get
    out = []
    for f in feature_ids:
        v = get(f)
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out.append(None)
        elif isinstance(v, (list, tuple)):
            out.append("; ".join(str(x) for x in v))
        else:
            out.append(str(v))
    return out if any(v is not None for v in out) else None


def _ids(values: Sequence[Any], n: int, what: str) -> list:
    ids = [str(v) for v in values]
    if len(ids) != n:
        raise ValueError(f"{len(ids)} {what} ids for {n} {what}s")
    return ids


def to_table(table: Any, ids: Any = None, taxa: Any = None) -> "_gutjoint.Table":
    """The engine's table for any accepted input (see the module docstring)."""
    if isinstance(table, _gutjoint.Table):
        return table
    if isinstance(table, pd.DataFrame):
        sample_ids = _ids(table.index if ids is None else ids, table.shape[0], "sample")
        feature_ids = _ids(table.columns if taxa is None else taxa, table.shape[1], "feature")
        lineages = _lineage_list(table.attrs.get("taxonomy"), feature_ids)
        values = table.to_numpy(dtype=np.float64, copy=False)
        return _gutjoint.Table.from_dense(values, sample_ids, feature_ids, lineages, "DataFrame")
    if _is_biom(table):
        matrix = table.matrix_data.tocsc()  # features × samples, CSC = sample-major
        sample_ids = [str(s) for s in table.ids(axis="sample")]
        feature_ids = [str(f) for f in table.ids(axis="observation")]
        lineages = None
        metadata = table.metadata(axis="observation")
        if metadata is not None:
            lineages = _lineage_list(
                {f: (m or {}).get("taxonomy") for f, m in zip(feature_ids, metadata)},
                feature_ids,
            )
        return _from_sample_major(matrix, sample_ids, feature_ids, lineages, "biom.Table")
    if hasattr(table, "tocsr") and hasattr(table, "indptr"):
        matrix = table.tocsr()
        n, d = matrix.shape
        sample_ids = _ids(range(n) if ids is None else ids, n, "sample")
        feature_ids = _ids(range(d) if taxa is None else taxa, d, "feature")
        return _from_sample_major(matrix, sample_ids, feature_ids, None, "sparse matrix")
    values = np.asarray(table, dtype=np.float64)
    if values.ndim == 1:
        values = values[np.newaxis, :]
    if values.ndim != 2:
        raise ValueError(f"expected a 2-D table (samples × features), got {values.ndim} dimensions")
    n, d = values.shape
    sample_ids = _ids(range(n) if ids is None else ids, n, "sample")
    feature_ids = _ids(range(d) if taxa is None else taxa, d, "feature")
    return _gutjoint.Table.from_dense(values, sample_ids, feature_ids, None, "array")


def _from_sample_major(matrix: Any, sample_ids: list, feature_ids: list,
                       lineages: Optional[list], origin: str) -> "_gutjoint.Table":
    """The engine's table from a SciPy matrix whose compressed axis is the samples."""
    matrix.sort_indices()
    return _gutjoint.Table.from_csr(
        np.asarray(matrix.indptr, dtype=np.int64),
        np.asarray(matrix.indices, dtype=np.int64),
        np.asarray(matrix.data, dtype=np.float64),
        sample_ids, feature_ids, lineages, origin)


def _is_biom(obj: Any) -> bool:
    return type(obj).__module__.startswith("biom") and hasattr(obj, "matrix_data")


def to_tree(tree: Any) -> Optional["_gutjoint.Tree"]:
    """The engine's tree for a TreeNode, Newick text or a Newick file path."""
    if tree is None or isinstance(tree, _gutjoint.Tree):
        return tree
    if isinstance(tree, os.PathLike):
        return _gutjoint.Tree.read(os.fspath(tree))
    if isinstance(tree, str):
        text = tree.strip()
        if text.endswith(";") or text.startswith("("):
            return _gutjoint.Tree.from_newick(text, "newick")
        return _gutjoint.Tree.read(tree)
    if type(tree).__module__.startswith("skbio") and hasattr(tree, "write"):
        import io

        buffer = io.StringIO()
        tree.write(buffer, format="newick")
        return _gutjoint.Tree.from_newick(buffer.getvalue(), "skbio.TreeNode")
    raise TypeError(
        f"expected a skbio.TreeNode, Newick text or a Newick file path, got {type(tree).__name__}"
    )


def to_dataframe(table: "_gutjoint.Table") -> pd.DataFrame:
    """A dense samples × features DataFrame (lineages in ``attrs["taxonomy"]``)."""
    df = pd.DataFrame(table.dense(), index=pd.Index(table.sample_ids, name="sample-id"),
                      columns=pd.Index(table.feature_ids, name="feature-id"))
    lineages = table.lineages
    if lineages is not None:
        df.attrs["taxonomy"] = dict(zip(table.feature_ids, lineages))
    df.attrs["value_kind"] = table.kind
    return df


def to_biom(table: "_gutjoint.Table") -> Any:
    """A ``biom.Table`` (features × samples) with taxonomy metadata when the table has it."""
    try:
        import biom
        import scipy.sparse as sp
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("as_biom=True needs biom-format: pip install biom-format") from e
    indptr, indices, data = table.csr()
    n, d = table.shape
    samples_major = sp.csr_matrix((data, indices, indptr), shape=(n, d))
    metadata = None
    if table.lineages is not None:
        metadata = [
            {"taxonomy": [p.strip() for p in lin.split(";")] if lin else []}
            for lin in table.lineages
        ]
    return biom.Table(samples_major.T.tocsr(), table.feature_ids, table.sample_ids,
                      observation_metadata=metadata)


def condensed(distance_matrix: Any) -> tuple:
    """``(ids, condensed upper triangle)`` of a skbio DistanceMatrix, a square array with ids
    given as ``distance_matrix.ids``, or a (ids, square) pair."""
    if hasattr(distance_matrix, "condensed_form") and hasattr(distance_matrix, "ids"):
        return [str(i) for i in distance_matrix.ids], np.ascontiguousarray(
            distance_matrix.condensed_form(), dtype=np.float64)
    if isinstance(distance_matrix, pd.DataFrame):
        square = distance_matrix.to_numpy(dtype=np.float64)
        ids = [str(i) for i in distance_matrix.index]
    else:
        raise TypeError(
            "expected a skbio.DistanceMatrix or a square pandas DataFrame of distances, got "
            f"{type(distance_matrix).__name__}")
    if square.ndim != 2 or square.shape[0] != square.shape[1]:
        raise ValueError(f"a distance matrix must be square, got shape {square.shape}")
    iu = np.triu_indices(square.shape[0], k=1)
    return ids, np.ascontiguousarray(square[iu])
