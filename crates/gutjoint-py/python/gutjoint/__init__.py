"""gutjoint: a fast engine for gut-microbiome research on inflammatory joint disease.

The same Rust library as the ``gutjoint`` command-line tool, for notebooks: tables come in as
pandas DataFrames (samples × features), NumPy arrays, ``biom.Table`` or files in any format
the CLI reads; results come back as pandas and scikit-bio objects with scikit-bio's numbers.

Research use only: nothing gutjoint computes is a diagnosis or a treatment recommendation.

Examples
--------
>>> import gutjoint
>>> df = gutjoint.read_table("examples/data/gmhi/validation_abundance.csv")
>>> dm = gutjoint.beta_diversity(df, "braycurtis")          # a skbio.DistanceMatrix
>>> gutjoint.pcoa(dm).proportion_explained.iloc[:2]          # doctest: +SKIP
>>> gutjoint.gmhi(df)["gmhi"].describe()                     # doctest: +SKIP

Every function releases the GIL while the engine works. ``beta_diversity`` and ``permanova``
take ``progress=callback``, called as ``callback(done, total)`` about ten times a second.
Bad input raises ``ValueError`` with the engine's message; unreadable files raise ``OSError``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _gutjoint
from ._convert import condensed as _condensed
from ._convert import to_biom as _to_biom
from ._convert import to_dataframe as _to_dataframe
from ._convert import to_table as _to_table
from ._convert import to_tree as _to_tree
from ._gutjoint import Table, Tree

__version__ = _gutjoint.version()

__all__ = [
    "Table",
    "Tree",
    "Reference",
    "read_table",
    "alpha_diversity",
    "beta_diversity",
    "pcoa",
    "permanova",
    "permdisp",
    "gmhi",
    "build_reference",
    "dysbiosis",
    "signatures",
    "da",
    "drugs",
    "classify",
    "analyze",
    "write_report",
    "built_in_references",
]

Progress = Optional[Callable[[int, int], Any]]
PathLike = Union[str, "os.PathLike[str]"]


def read_table(
    path: Union[PathLike, Sequence[PathLike]],
    *,
    format: Optional[str] = None,
    samples_as_rows: bool = False,
    rank: Optional[str] = None,
    taxonomy: Optional[PathLike] = None,
    as_biom: bool = False,
    as_table: bool = False,
) -> Any:
    """Read a feature table in any format the gutjoint CLI reads.

    Formats are sniffed from content (gzip undone): BIOM 2.1 (HDF5), BIOM 1.0 (JSON), QIIME 2
    ``.qza`` (``FeatureTable[Frequency|RelativeFrequency]``), MetaPhlAn 2/3/4 profiles (one
    file, a merged table, several files or a directory), TSV/CSV with features as rows, and
    HUMAnN tables.

    Parameters
    ----------
    path : str or path-like, or a list of them
        The table; several paths are read as single-sample MetaPhlAn profiles.
    format : str, optional
        Skip sniffing: ``biom-hdf5``, ``biom-json``, ``qza``, ``metaphlan``, ``tsv``, ``csv``.
    samples_as_rows : bool
        Plain TSV/CSV has samples as rows (default: features as rows, as BIOM and MetaPhlAn).
    rank : str, optional
        MetaPhlAn: the rank kept (default species). Other tables with lineages are collapsed to
        this rank by summing.
    taxonomy : str or path-like, optional
        A QIIME 2 taxonomy file (``Feature ID<TAB>Taxon``) to attach lineages from.
    as_biom : bool
        Return a ``biom.Table`` (features × samples) instead of a DataFrame.
    as_table : bool
        Return the engine's ``gutjoint.Table`` (sparse; no dense copy), which every function
        here accepts.

    Returns
    -------
    pandas.DataFrame
        Samples × features (index ``sample-id``). Lineages, when the file has them, are in
        ``df.attrs["taxonomy"]``; ``df.attrs["value_kind"]`` is ``counts`` or ``relative``.

    Raises
    ------
    FileNotFoundError, OSError
        The file cannot be opened.
    ValueError
        The content is not a valid table (the message names the file, line and expectation).

    Examples
    --------
    >>> df = gutjoint.read_table("examples/data/gmhi/validation_abundance.csv")
    >>> df.shape
    (782, 576)
    >>> gp = gutjoint.read_table("gp.biom", as_biom=True)           # doctest: +SKIP
    """
    paths = [os.fspath(p) for p in path] if isinstance(path, (list, tuple)) else [os.fspath(path)]
    table = Table.read(paths, format, samples_as_rows, rank,
                       os.fspath(taxonomy) if taxonomy is not None else None)
    if as_table:
        return table
    if as_biom:
        return _to_biom(table)
    df = _to_dataframe(table)
    df.attrs["format"] = table.format
    df.attrs["notes"] = table.notes
    return df


def _table_first(table: Any, metric: Any) -> tuple:
    """Accept scikit-bio's argument order ``(metric, counts)`` as well as ``(table, metric)``."""
    if isinstance(table, str) and not isinstance(metric, str):
        return metric, table
    return table, metric


def alpha_diversity(
    table: Any,
    metric: Union[str, Sequence[str]] = "shannon",
    ids: Optional[Sequence[Any]] = None,
    *,
    tree: Any = None,
    taxa: Optional[Sequence[Any]] = None,
    drop_missing: bool = False,
) -> Union[pd.Series, pd.DataFrame]:
    """Compute alpha diversity for every sample, as scikit-bio does.

    Parameters
    ----------
    table : DataFrame, 2-D array, biom.Table, scipy sparse matrix or gutjoint.Table
        Samples × features counts or relative abundances (a ``biom.Table`` is features ×
        samples, as BIOM stores it).
    metric : str or list of str
        ``observed_features``, ``shannon`` (natural log), ``simpson``, ``dominance``,
        ``berger_parker_d``, ``pielou_e``, ``chao1`` (counts only), ``faith_pd`` (needs
        ``tree``). A list computes several at once.
    ids : sequence, optional
        Sample ids for an array (DataFrame index otherwise).
    tree : skbio.TreeNode, Newick text or path, optional
        Phylogeny whose tips are the feature ids (``faith_pd``).
    taxa : sequence, optional
        Feature ids for an array (DataFrame columns otherwise); scikit-bio's name.
    drop_missing : bool
        Leave out features that are not tips of the tree instead of raising.

    Returns
    -------
    pandas.Series
        One value per sample, named by the metric (a DataFrame with one column per metric when
        ``metric`` is a list).

    Examples
    --------
    >>> import pandas as pd, gutjoint
    >>> df = pd.DataFrame([[1, 1, 2], [5, 0, 0]], index=["A", "B"], columns=["x", "y", "z"])
    >>> gutjoint.alpha_diversity(df, "observed_features").tolist()
    [3.0, 1.0]
    """
    table, metric = _table_first(table, metric)
    metrics = [metric] if isinstance(metric, str) else list(metric)
    native = _to_table(table, ids, taxa)
    values = _gutjoint.alpha(native, metrics, _to_tree(tree), drop_missing)
    index = pd.Index(native.sample_ids)
    if isinstance(metric, str):
        return pd.Series(values[0], index=index, name=metric)
    return pd.DataFrame(values.T, index=index, columns=metrics)


def beta_diversity(
    table: Any,
    metric: str = "braycurtis",
    ids: Optional[Sequence[Any]] = None,
    *,
    tree: Any = None,
    taxa: Optional[Sequence[Any]] = None,
    drop_missing: bool = False,
    alpha: float = 1.0,
    pseudocount: float = 1.0,
    condensed: bool = False,
    progress: Progress = None,
) -> Any:
    """Compute distances between all pairs of samples, as scikit-bio does.

    Parameters
    ----------
    table : DataFrame, 2-D array, biom.Table, scipy sparse matrix or gutjoint.Table
        Samples × features (``biom.Table``: features × samples).
    metric : str
        ``braycurtis``, ``jaccard`` (presence/absence), ``aitchison`` (CLR of value +
        ``pseudocount``), ``unweighted_unifrac``, ``weighted_unifrac``,
        ``weighted_normalized_unifrac``, ``generalized_unifrac`` (with ``alpha``).
    ids : sequence, optional
        Sample ids for an array.
    tree : skbio.TreeNode, Newick text or path, optional
        Needed by the UniFrac metrics; tips are feature ids.
    taxa : sequence, optional
        Feature ids for an array.
    drop_missing : bool
        Leave out features that are not tips of the tree instead of raising.
    alpha : float
        Generalized UniFrac's alpha (default 1).
    pseudocount : float
        Aitchison's pseudocount (default 1).
    condensed : bool
        Store the result in scikit-bio's condensed form (half the memory).
    progress : callable, optional
        ``progress(done, total)`` with pairs done, about ten times a second.

    Returns
    -------
    skbio.DistanceMatrix
        Ids in table order. Equal to ``skbio.diversity.beta_diversity`` (Bray–Curtis, Jaccard,
        UniFrac) within 1e-12.

    Examples
    --------
    >>> import pandas as pd, gutjoint
    >>> df = pd.DataFrame([[1, 1, 2], [5, 0, 0]], index=["A", "B"], columns=["x", "y", "z"])
    >>> dm = gutjoint.beta_diversity(df, "braycurtis")
    >>> print(round(dm["A", "B"], 6))
    0.777778
    """
    table, metric = _table_first(table, metric)
    from skbio import DistanceMatrix

    native = _to_table(table, ids, taxa)
    if native.shape[0] == 0:
        raise ValueError("the table has no samples")
    values = _gutjoint.beta(native, metric, _to_tree(tree), drop_missing, alpha, pseudocount,
                            progress, square=not condensed)
    # The engine's matrix is symmetric and hollow by construction: no re-validation. The square
    # form comes filled from the engine (in parallel, without the GIL), so scikit-bio keeps the
    # array as it is instead of expanding a condensed vector with SciPy's squareform.
    return DistanceMatrix(values, native.sample_ids, validate=False, condensed=condensed)


def pcoa(
    distance_matrix: Any,
    method: str = "eigh",
    dimensions: int = 0,
    seed: int = 0,
) -> Any:
    """Principal coordinate analysis, as ``skbio.stats.ordination.pcoa``.

    Parameters
    ----------
    distance_matrix : skbio.DistanceMatrix or square DataFrame
    method : str
        ``eigh`` (exact; with ``dimensions`` only the leading axes are computed, and the
        proportions are relative to the trace, as scikit-bio's partial eigh) or ``fsvd``
        (randomized, the leading ``dimensions`` axes; for large cohorts).
    dimensions : int
        Axes to keep (0 = all for ``eigh``, 10 for ``fsvd``).
    seed : int
        Seed of ``fsvd``'s random sketch.

    Returns
    -------
    skbio.OrdinationResults
        ``samples`` (coordinates, columns ``PC1``…), ``eigvals``, ``proportion_explained``.
        Axis signs are arbitrary in every solver; gutjoint makes the largest-magnitude
        coordinate of each axis positive.

    Examples
    --------
    >>> ordination = gutjoint.pcoa(dm)                                  # doctest: +SKIP
    >>> ordination.samples[["PC1", "PC2"]].plot.scatter("PC1", "PC2")   # doctest: +SKIP
    """
    from skbio import OrdinationResults

    ids, values = _condensed(distance_matrix)
    eigvals, proportion, coordinates = _gutjoint.pcoa(
        ids, values, method, dimensions if dimensions > 0 else None, seed)
    axes = [f"PC{i}" for i in range(1, len(eigvals) + 1)]
    long_name = ("Principal Coordinate Analysis" if method == "eigh"
                 else "Approximate Principal Coordinate Analysis using FSVD")
    return OrdinationResults(
        short_method_name="PCoA",
        long_method_name=long_name,
        eigvals=pd.Series(eigvals, index=axes),
        samples=pd.DataFrame(coordinates, index=ids, columns=axes),
        proportion_explained=pd.Series(proportion, index=axes),
    )


def _grouping(ids: List[str], grouping: Any, column: Optional[str]) -> List[str]:
    """One group label per id from a DataFrame column, a Series or a sequence (skbio's rules)."""
    if isinstance(grouping, pd.DataFrame):
        if column is None:
            raise ValueError("grouping is a DataFrame: give the column to use")
        if column not in grouping.columns:
            raise ValueError(f"no column '{column}' in the grouping; the columns are: "
                             + ", ".join(map(str, grouping.columns)))
        grouping = grouping[column]
    if isinstance(grouping, pd.Series):
        grouping = grouping.copy()
        grouping.index = grouping.index.map(str)
        missing = [i for i in ids if i not in grouping.index]
        if missing:
            raise ValueError(f"{len(missing)} ids of the distance matrix have no group "
                             f"(first: '{missing[0]}')")
        values = grouping.loc[ids]
        if values.isna().any():
            raise ValueError("the grouping has missing values for samples of the distance matrix")
        return [str(v) for v in values]
    labels = [str(v) for v in grouping]
    if len(labels) != len(ids):
        raise ValueError(f"{len(labels)} group labels for {len(ids)} samples")
    return labels


def _permutation_test(test: str, distance_matrix: Any, grouping: Any, column: Optional[str],
                      permutations: int, seed: int, dimensions: int,
                      progress: Progress) -> pd.Series:
    ids, values = _condensed(distance_matrix)
    labels = _grouping(ids, grouping, column)
    result = json.loads(_gutjoint.permutation_test(ids, values, labels, permutations, seed, test,
                                                   dimensions, progress))
    p = result["p_value"]
    return pd.Series(
        [result["method"], result["test_statistic_name"], result["sample_size"],
         result["number_of_groups"], result["test_statistic"],
         float("nan") if p is None else p, result["permutations"]],
        index=["method name", "test statistic name", "sample size", "number of groups",
               "test statistic", "p-value", "number of permutations"],
        name=f"{result['method']} results",
    )


def permanova(
    distance_matrix: Any,
    grouping: Any,
    column: Optional[str] = None,
    permutations: int = 999,
    seed: int = 0,
    *,
    progress: Progress = None,
) -> pd.Series:
    """PERMANOVA (Anderson 2001), with ``skbio.stats.distance.permanova``'s result.

    Parameters
    ----------
    distance_matrix : skbio.DistanceMatrix or square DataFrame
    grouping : DataFrame, Series or sequence
        Group per sample: a DataFrame (with ``column``) or Series indexed by sample id, or a
        sequence in the matrix's id order.
    column : str, optional
        Column of a DataFrame ``grouping``.
    permutations : int
        Number of permutations (0: no p-value).
    seed : int
        Seed of gutjoint's portable generator (same seed, same p-value on every machine). The
        permutations differ from scikit-bio's, so p-values agree within Monte Carlo error only;
        the pseudo-F statistic is the same.
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    pandas.Series
        Named ``PERMANOVA results`` with scikit-bio's index: ``method name``, ``test statistic
        name``, ``sample size``, ``number of groups``, ``test statistic``, ``p-value``,
        ``number of permutations``. p = (hits + 1) / (permutations + 1).

    Examples
    --------
    >>> gutjoint.permanova(dm, metadata, column="group", seed=1)["p-value"]  # doctest: +SKIP
    """
    return _permutation_test("permanova", distance_matrix, grouping, column, permutations, seed,
                             0, progress)


def permdisp(
    distance_matrix: Any,
    grouping: Any,
    column: Optional[str] = None,
    permutations: int = 999,
    seed: int = 0,
    *,
    dimensions: int = 10,
    progress: Progress = None,
) -> pd.Series:
    """PERMDISP (Anderson 2006): do the groups differ in dispersion? Distances to each group's
    spatial median in the first ``dimensions`` PCoA axes (scikit-bio's default 10), then a
    permutation F test. Arguments and result as :func:`permanova`.

    Examples
    --------
    >>> dm = gutjoint.beta_diversity(genus, "braycurtis")                    # doctest: +SKIP
    >>> gutjoint.permdisp(dm, metadata, column="group", seed=1)["p-value"]   # doctest: +SKIP
    """
    return _permutation_test("permdisp", distance_matrix, grouping, column, permutations, seed,
                             dimensions, progress)


def gmhi(table: Any, ids: Optional[Sequence[Any]] = None, *,
         taxa: Optional[Sequence[Any]] = None) -> pd.DataFrame:
    """Gut Microbiome Health Index (Gupta et al. 2020, Nat Commun 11:4635) of every sample.

    Exactly the authors' script: unclassified and viral rows dropped, profiles renormalised,
    values below 1e-5 zeroed, the 7 health-prevalent against the 43 health-scarce species.
    Needs species-level profiles (MetaPhlAn ``s__Genus_species`` names or lineages).

    Returns
    -------
    pandas.DataFrame
        Index ``sample-id``; columns ``gmhi``, ``mh_richness``, ``mn_richness``,
        ``mh_shannon``, ``mn_shannon``, ``psi_mh``, ``psi_mn``. ``attrs`` holds how many marker
        species the table has.

    Examples
    --------
    >>> df = gutjoint.read_table("examples/data/gmhi/species_relative_abundances.csv")
    >>> gutjoint.gmhi(df)["gmhi"].head()                                 # doctest: +SKIP
    """
    result = json.loads(_gutjoint.gmhi(_to_table(table, ids, taxa)))
    df = pd.DataFrame(result.pop("scores")).set_index("sample_id")
    df.index.name = "sample-id"
    df.attrs.update(result)
    return df


class Reference:
    """A healthy reference: profiles of healthy people by population, for dysbiosis scores and
    signature percentiles. Make one with :func:`build_reference` or load a file written by
    ``gutjoint reference build`` (``Reference.load(path)``).

    A reference is only as good as its match to your samples: prefer healthy people of the
    same country and protocol.

    Examples
    --------
    >>> ref = gutjoint.Reference.load("my-healthy.json")                  # doctest: +SKIP
    >>> ref.populations, ref.sizes                                        # doctest: +SKIP
    """

    def __init__(self, text: str):
        self._text = text
        data = json.loads(text)
        self.name: str = data["name"]
        self.rank: str = data["rank"]
        self.description: str = data.get("description", "")
        self.populations: List[str] = [p["label"] for p in data["populations"]]
        self.sizes: Dict[str, int] = {p["label"]: len(p["sample_ids"]) for p in data["populations"]}

    @classmethod
    def load(cls, path: PathLike) -> "Reference":
        """Read a reference JSON file."""
        with open(os.fspath(path), encoding="utf-8") as f:
            return cls(f.read())

    def save(self, path: PathLike) -> None:
        """Write the reference as JSON (readable by ``gutjoint dysbiosis --reference FILE``)."""
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            f.write(self._text + "\n")

    def to_json(self) -> str:
        return self._text

    def __repr__(self) -> str:
        pops = ", ".join(f"{k} ({v})" for k, v in self.sizes.items())
        return f"<gutjoint Reference '{self.name}' at {self.rank} level: {pops}>"


def build_reference(
    table: Any,
    population: Union[None, str, Sequence[Any], pd.Series] = None,
    *,
    name: str = "reference",
    description: str = "",
    rank: Optional[str] = None,
) -> Reference:
    """Build a healthy reference from healthy samples.

    Parameters
    ----------
    table : any accepted table
        The healthy samples only.
    population : str, Series or sequence, optional
        One population label per sample (Series indexed by sample id, or a sequence in table
        order), or one label for all (default ``"reference"``). With several populations an
        ``all`` population pools them.
    name, description : str
        Recorded in the reference.
    rank : str, optional
        Rank to key taxa by (default: the deepest rank the table names).

    Examples
    --------
    >>> healthy = df.loc[metadata["Phenotype"] == "Healthy"]             # doctest: +SKIP
    >>> ref = gutjoint.build_reference(healthy, name="my-healthy")      # doctest: +SKIP
    """
    native = _to_table(table)
    n = native.shape[0]
    if population is None or isinstance(population, str):
        labels = [population or "reference"] * n
    elif isinstance(population, pd.Series):
        labels = _grouping(native.sample_ids, population, None)
    else:
        labels = [str(v) for v in population]
    return Reference(_gutjoint.reference_build(native, labels, name, description,
                                               "a table given from Python", rank))


def _reference(reference: Any) -> Reference:
    if isinstance(reference, Reference):
        return reference
    if isinstance(reference, (str, os.PathLike)) and os.path.isfile(os.fspath(reference)):
        return Reference.load(reference)
    if isinstance(reference, str):
        # a built-in reference (gutjoint.built_in_references()), or an error naming them
        return Reference(_gutjoint.reference_named(reference))
    if isinstance(reference, (pd.DataFrame,)) or _is_table_like(reference):
        return build_reference(reference)
    raise ValueError(
        f"reference must be a gutjoint.Reference, a reference JSON file or a table of healthy "
        f"samples; got {reference!r:.80}")


def _is_table_like(obj: Any) -> bool:
    return isinstance(obj, (Table, np.ndarray)) or hasattr(obj, "matrix_data")


def dysbiosis(
    table: Any,
    reference: Any,
    population: Optional[str] = None,
    *,
    top: int = 5,
    metric: str = "braycurtis",
) -> pd.DataFrame:
    """Dysbiosis of every sample: median distance to a healthy reference population (the HMP2
    definition, Lloyd-Price et al. 2019), its percentile among the reference's own
    leave-one-out scores, a flag above the 90th percentile, and the most deviating taxa.

    Parameters
    ----------
    table : any accepted table
    reference : Reference, built-in name, path to a reference JSON, or a table of healthy samples
        Built-in: ``gmhi-healthy`` (MetaPhlAn2 species), ``gespic-healthy`` (16S genera).
    population : str, optional
        Reference population to compare with (default: all pooled).
    top : int
        Deviating taxa reported per sample (CLR z-scores against the reference).
    metric : str
        ``braycurtis`` (HMP2) or ``aitchison``.

    Returns
    -------
    pandas.DataFrame
        Index ``sample-id``; columns ``dysbiosis``, ``percentile``, ``flag``, ``reference``,
        ``top_deviating_taxa`` (list of (taxon, z)), ``left_out_of_reference``. ``attrs``
        holds the metric, population, threshold and mean shared abundance.

    Examples
    --------
    >>> d = gutjoint.dysbiosis(df, ref)                                  # doctest: +SKIP
    >>> d.groupby(metadata["Phenotype"])["dysbiosis"].median()           # doctest: +SKIP
    """
    ref = _reference(reference)
    result = json.loads(_gutjoint.dysbiosis(_to_table(table), ref.to_json(), population, top,
                                            metric))
    df = pd.DataFrame(result.pop("scores")).set_index("sample_id")
    df.index.name = "sample-id"
    df["top_deviating_taxa"] = [[tuple(p) for p in t] for t in df["top_deviating_taxa"]]
    df.attrs.update(result)
    return df


def signatures(
    table: Any,
    diseases: Union[None, str, Sequence[str]] = None,
    reference: Any = None,
    population: Optional[str] = None,
    *,
    sample_population: Optional[str] = None,
) -> pd.DataFrame:
    """Arthritis signatures: for each sample and each cited taxon–disease association of the
    knowledge base, the sample's abundance of the taxon, its percentile among healthy reference
    samples, whether it points the way the study reported, with citation and DOI.

    A comparison with published associations, not a diagnosis.

    Parameters
    ----------
    table : any accepted table
    diseases : str or list, optional
        Disease codes or names (``AS``, ``RA``, ``axSpA``, ``PsA``…); default all.
    reference : Reference, path or healthy table, optional
        For percentiles.
    population : str, optional
        Reference population.
    sample_population : str, optional
        The samples' own population (country name or ISO code), for the population notes.

    Returns
    -------
    pandas.DataFrame
        One row per (sample, association): ``sample_id``, ``taxon``, ``disease``,
        ``reported_direction``, ``abundance``, ``percentile``, ``consistent``,
        ``population_note``, ``confidence``, ``citation``, ``doi``, …

    Examples
    --------
    >>> gutjoint.signatures(df, "AS", reference=ref).query("consistent == 'yes'")  # doctest: +SKIP
    """
    if isinstance(diseases, str):
        diseases = [diseases]
    ref = _reference(reference).to_json() if reference is not None else None
    rows = json.loads(_gutjoint.signatures(_to_table(table), list(diseases or []), ref,
                                           population, sample_population))
    return pd.DataFrame(rows)


def _metadata_tsv(metadata: Any) -> str:
    """A metadata DataFrame (index = sample ids) as QIIME 2 metadata TSV for the engine's
    reader, so that column types follow the same rules as metadata files."""
    if isinstance(metadata, (str, os.PathLike)):
        with open(os.fspath(metadata), encoding="utf-8-sig") as f:
            return f.read()
    if not isinstance(metadata, pd.DataFrame):
        raise TypeError(f"metadata must be a DataFrame or a path, got {type(metadata).__name__}")
    md = metadata.copy()
    md.index = md.index.map(str)
    md.index.name = "sample-id"
    return md.to_csv(sep="\t", na_rep="")


def da(
    table: Any,
    metadata: Any,
    formula: str,
    reference: Optional[Dict[str, str]] = None,
    *,
    method: str = "lm",
    transform: str = "log10",
    pseudocount: Optional[float] = None,
    p_adjust: Optional[str] = None,
    min_prevalence: float = 0.0,
    max_iter: int = 100,
    tol: float = 1e-5,
) -> pd.DataFrame:
    """Differential abundance with covariates, per feature and model term.

    ``method="lm"``: ordinary least squares of each feature's transformed relative abundance
    (``log10(x + pseudocount)``, pseudocount default half the smallest nonzero value; or
    ``asin-sqrt``) on the formula's design — statsmodels' OLS numbers — with BH-adjusted
    p-values. ``method="ancombc"``: ANCOM-BC (Lin & Peddada 2020) as scikit-bio's ``ancombc``,
    Holm-adjusted.

    Parameters
    ----------
    table : any accepted table
    metadata : DataFrame (index = sample ids) or path to a metadata TSV
    formula : str
        Right-hand side, patsy-style: ``"group + age + C(sex)"``.
    reference : dict, optional
        Reference level per categorical column, e.g. ``{"group": "healthy"}``.
    min_prevalence : float
        Keep features present in at least this share of the analysed samples.

    Returns
    -------
    pandas.DataFrame
        ``feature``, ``term``, ``estimate``, ``se``, ``statistic``, ``p``, ``q``; ``attrs``
        holds the design (terms, samples kept and dropped) and, for ANCOM-BC, the bias.

    Examples
    --------
    >>> res = gutjoint.da(genus, md, "group + age + C(sex)", {"group": "healthy"})  # doctest: +SKIP
    >>> res.query("term == 'group[T.axSpA]' and q < 0.1")                          # doctest: +SKIP
    """
    result = json.loads(_gutjoint.da(_to_table(table), _metadata_tsv(metadata), formula,
                                     dict(reference or {}), method, transform, pseudocount,
                                     p_adjust, min_prevalence, max_iter, tol))
    df = pd.DataFrame(result["coefficients"],
                      columns=["feature", "term", "estimate", "se", "statistic", "p", "q"])
    df.attrs["design"] = result["design"]
    df.attrs["bias"] = result["bias"]
    return df


def drugs(
    table: Any,
    drugs: Union[None, str, Sequence[str]] = None,
    *,
    medications: Optional[pd.Series] = None,
    reference: Any = None,
    knowledge: Optional[PathLike] = None,
) -> pd.DataFrame:
    """What the samples' gut bacteria may do to drugs (pharmacomicrobiomics).

    For each sample, drug and mechanism: the community's capacity (Σ species abundance ×
    AGORA2 strain carriage of the enzyme; Heinken et al. 2023), the share of the profile AGORA2
    covers and the upper bound if every unmapped species carried the enzyme, a low/typical/high
    call against a healthy reference, the evidence and its citation. Research use only, never a
    prescription aid.

    Parameters
    ----------
    table : any accepted table
        Species-level profiles (MetaPhlAn species or species lineages).
    drugs : str or list of str, optional
        Drugs scored for every sample (brand names and misspellings resolved; an unknown name is
        a ValueError with a suggestion).
    medications : Series, optional
        Each sample's own medications (index = sample ids; a list of names or a string
        separated by ``,`` ``;`` ``/`` ``+``). Unknown names are skipped and listed in
        ``attrs["unknown"]``.
    reference : Reference, path or healthy table, optional
        Species-level healthy reference for the calls (without one the call is ``n/a``).
    knowledge : path, optional
        Folder with the AGORA2 carriage and Maier 2018 tables (default
        ``$GUTJOINT_KNOWLEDGE``, else the source tree's ``knowledge/``).

    Returns
    -------
    pandas.DataFrame
        ``sample_id``, ``drug``, ``interaction``, ``enzyme``, ``capacity``, ``mapped_fraction``,
        ``upper_bound``, ``call``, ``source``, ``evidence``, ``citation``.

    Examples
    --------
    >>> gutjoint.drugs(df, ["sulfasalazine", "diclofenac"], reference=ref)   # doctest: +SKIP
    """
    native = _to_table(table)
    if isinstance(drugs, str):
        drugs = [drugs]
    per_sample = None
    if medications is not None:
        meds = medications.copy()
        meds.index = meds.index.map(str)
        per_sample = []
        for sid in native.sample_ids:
            value = meds.get(sid)
            if value is None or (isinstance(value, float) and np.isnan(value)):
                per_sample.append([])
            elif isinstance(value, str):
                # The separators and "no medication" words of `gutjoint drugs --medication-column`.
                names = [x.strip() for x in value.replace(";", ",").replace("/", ",")
                         .replace("+", ",").split(",")]
                per_sample.append([x for x in names if x and x.lower() not in
                                   ("none", "no", "na", "-", "0")])
            else:
                per_sample.append([str(x) for x in value])
    ref = _reference(reference).to_json() if reference is not None else None
    result = json.loads(_gutjoint.drugs(native, list(drugs or []), per_sample, ref,
                                        os.fspath(knowledge) if knowledge is not None else None))
    df = pd.DataFrame(result["calls"])
    df.attrs["unknown"] = result["unknown"]
    return df


def built_in_references() -> pd.DataFrame:
    """The healthy references built into gutjoint (name, rank, description).

    Any of these names can be given as ``reference=`` to :func:`dysbiosis`, :func:`signatures`
    and :func:`drugs`.

    Examples
    --------
    >>> "gmhi-healthy" in gutjoint.built_in_references().index
    True
    """
    return pd.DataFrame(_gutjoint.built_in_references(),
                        columns=["name", "rank", "description"]).set_index("name")


def classify(
    table: Any,
    labels: Union[pd.Series, Sequence[Any]],
    positive: Any,
    negative: Union[None, Any, Sequence[Any]] = None,
    *,
    model: str = "l1-logistic",
    trees: int = 500,
    c: float = 1.0,
    folds: int = 5,
    repeats: int = 5,
    seed: int = 0,
    min_prevalence: float = 0.1,
    pseudocount: Optional[float] = None,
) -> Dict[str, Any]:
    """Cross-validated classifier of ``positive`` against ``negative`` samples from CLR
    features (features present in at least ``min_prevalence`` of the samples), as
    ``gutjoint classify``: stratified folds, repeated with seeds ``seed``, ``seed + 1``, …

    Parameters
    ----------
    table : any accepted table
    labels : Series (index = sample ids) or sequence in table order
    positive : the positive class value
    negative : value or list of values, optional
        The negative class (default: every other labelled sample).
    model : str
        ``l1-logistic`` (L1-penalised logistic regression, inverse strength ``c``) or ``rf``
        (random forest of ``trees`` trees, seeded).

    Returns
    -------
    dict
        ``auc`` (of the repeat-averaged out-of-fold probabilities) with ``auc_ci`` (DeLong),
        ``repeat_auc``, ``predictions`` (DataFrame: label, probability), ``importances``
        (Series by feature) and ``selected`` (share of fits using each feature).

    Examples
    --------
    >>> res = gutjoint.classify(genus, md["group"], "axSpA", "healthy", seed=1)  # doctest: +SKIP
    >>> res["auc"], res["auc_ci"]                                              # doctest: +SKIP
    """
    native = _to_table(table)
    ids = native.sample_ids
    if isinstance(labels, pd.Series):
        series = labels.copy()
        series.index = series.index.map(str)
        values = [series.get(i) for i in ids]
    else:
        values = list(labels)
    negatives = None
    if negative is not None:
        negatives = {str(v) for v in (negative if isinstance(negative, (list, tuple, set))
                                      else [negative])}
    coded: List[Optional[bool]] = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            coded.append(None)
        elif str(v) == str(positive):
            coded.append(True)
        elif negatives is None or str(v) in negatives:
            coded.append(False)
        else:
            coded.append(None)
    result = json.loads(_gutjoint.classify(native, coded, model, trees, c, folds, repeats, seed,
                                           min_prevalence, pseudocount))
    cv = result["cross_validation"]
    features = result["features"]
    return {
        "model": result["model"],
        "auc": cv["auc"]["auc"],
        "auc_ci": tuple(cv["auc"]["ci"]) if cv["auc"].get("ci") is not None else None,
        "repeat_auc": cv["repeat_auc"],
        "predictions": pd.DataFrame(
            {"label": result["labels"], "probability": cv["probabilities"]},
            index=pd.Index(result["sample_ids"], name="sample-id")),
        "importances": pd.Series(cv["importances"], index=features, name="importance"),
        "selected": pd.Series(cv["selected"], index=features, name="selected"),
        "pseudocount": result["pseudocount"],
    }


def _config_json(config: Any, **overrides: Any) -> str:
    if isinstance(config, (str, os.PathLike)) and not isinstance(config, str):
        config = {"table": [os.fspath(config)]}
    elif isinstance(config, str):
        config = {"table": [config]}
    config = dict(config)
    config.update({k: v for k, v in overrides.items() if v is not None})
    table = config.get("table")
    if isinstance(table, (str, os.PathLike)):
        config["table"] = [os.fspath(table)]
    elif table is not None:
        config["table"] = [os.fspath(t) for t in table]
    for key in ("metadata", "tree", "taxonomy"):
        if config.get(key) is not None:
            config[key] = os.fspath(config[key])
    return json.dumps(config)


def analyze(config: Any, *, progress: Optional[Callable[[str, int, int], Any]] = None,
            **settings: Any) -> Dict[str, Any]:
    """Run the whole gutjoint analysis, as ``gutjoint analyze``, and return its results.

    Parameters
    ----------
    config : dict or path
        The analysis configuration: ``table`` (path or list of paths) and optionally
        ``metadata``, ``group``, ``metric``, ``tree``, ``permutations``, ``seed``,
        ``reference``, ``population``, ``drugs``, ``medication_column``, ``host_variables``,
        ``covariates``, ``da_method`` (``lm``/``ancombc``), ``classifier``, ``sample``,
        ``title`` — the fields of the engine's ``AnalysisConfig`` (unknown keys are an error).
        A path alone means ``{"table": [path]}``.
    progress : callable, optional
        ``progress(step, done, total)`` as each step starts; an exception it raises cancels
        the run and is re-raised.
    **settings
        Further configuration fields (override ``config``).

    Returns
    -------
    dict
        The results, as ``results.json`` holds them.

    Examples
    --------
    >>> res = gutjoint.analyze({"table": "examples/data/gmhi/validation_abundance.csv",
    ...                         "metadata": "examples/demo/gmhi_arthritis_metadata.tsv",
    ...                         "group": "group", "drugs": ["sulfasalazine"]})  # doctest: +SKIP
    """
    return json.loads(_gutjoint.analyze(_config_json(config, **settings), None, progress))


def write_report(config: Any, out_dir: PathLike, *,
                 progress: Optional[Callable[[str, int, int], Any]] = None,
                 **settings: Any) -> Dict[str, Any]:
    """Run the analysis (as :func:`analyze`) and write ``results.json``, the offline
    ``report.html`` and ``tables/*.tsv`` into ``out_dir`` (each file written whole or not at
    all). Returns the results.

    Examples
    --------
    >>> res = gutjoint.write_report({"table": "examples/data/gespic/gespic_genus.tsv",
    ...                              "metadata": "examples/data/gespic/gespic_metadata.tsv",
    ...                              "group": "group"}, "gespic-report")  # doctest: +SKIP
    >>> sorted(p.name for p in Path("gespic-report").iterdir())          # doctest: +SKIP
    ['report.html', 'results.json', 'tables']
    """
    return json.loads(_gutjoint.analyze(_config_json(config, **settings), os.fspath(out_dir),
                                        progress))
