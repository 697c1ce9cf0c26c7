"""Type stubs of gutjoint's native module (PyO3). Use the functions of ``gutjoint`` itself:
these take the engine's own Table and Tree and plain arrays."""

from os import PathLike
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

_Progress = Optional[Callable[[int, int], object]]

class Table:
    """A validated samples × features table held by the engine (sparse, sample-major)."""

    @staticmethod
    def from_dense(
        data: npt.NDArray[np.float64],
        sample_ids: Sequence[str],
        feature_ids: Sequence[str],
        lineages: Optional[Sequence[Optional[str]]] = None,
        origin: str = "array",
    ) -> Table: ...
    @staticmethod
    def from_csr(
        indptr: npt.NDArray[np.int64],
        indices: npt.NDArray[np.int64],
        data: npt.NDArray[np.float64],
        sample_ids: Sequence[str],
        feature_ids: Sequence[str],
        lineages: Optional[Sequence[Optional[str]]] = None,
        origin: str = "sparse matrix",
    ) -> Table: ...
    @staticmethod
    def read(
        paths: Sequence[Union[str, PathLike[str]]],
        format: Optional[str] = None,
        samples_as_rows: bool = False,
        rank: Optional[str] = None,
        taxonomy: Optional[Union[str, PathLike[str]]] = None,
    ) -> Table: ...
    @property
    def sample_ids(self) -> List[str]: ...
    @property
    def feature_ids(self) -> List[str]: ...
    @property
    def lineages(self) -> Optional[List[str]]: ...
    @property
    def shape(self) -> Tuple[int, int]: ...
    @property
    def nnz(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def format(self) -> Optional[str]: ...
    @property
    def notes(self) -> List[str]: ...
    def csr(
        self,
    ) -> Tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
    def dense(self) -> npt.NDArray[np.float64]: ...

class Tree:
    """A rooted phylogeny (Newick)."""

    @staticmethod
    def from_newick(text: str, origin: str = "newick") -> Tree: ...
    @staticmethod
    def read(path: Union[str, PathLike[str]]) -> Tree: ...
    def __len__(self) -> int: ...

def version() -> str: ...
def alpha(
    table: Table, metrics: Sequence[str], tree: Optional[Tree] = None, drop_missing: bool = False
) -> npt.NDArray[np.float64]: ...
def beta(
    table: Table,
    metric: str,
    tree: Optional[Tree] = None,
    drop_missing: bool = False,
    alpha: float = 1.0,
    pseudocount: float = 1.0,
    progress: _Progress = None,
    square: bool = False,
) -> npt.NDArray[np.float64]: ...
def pcoa(
    ids: Sequence[str],
    condensed: npt.NDArray[np.float64],
    method: str = "eigh",
    dimensions: Optional[int] = None,
    seed: int = 0,
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def permutation_test(
    ids: Sequence[str],
    condensed: npt.NDArray[np.float64],
    groups: Sequence[str],
    permutations: int = 999,
    seed: int = 0,
    test: str = "permanova",
    dimensions: int = 10,
    progress: _Progress = None,
) -> str: ...
def gmhi(table: Table) -> str: ...
def reference_build(
    table: Table,
    labels: Sequence[str],
    name: str,
    description: str = "",
    source: str = "a table given from Python",
    rank: Optional[str] = None,
) -> str: ...
def dysbiosis(
    table: Table,
    reference: str,
    population: Optional[str] = None,
    top: int = 5,
    metric: str = "braycurtis",
) -> str: ...
def signatures(
    table: Table,
    diseases: Sequence[str] = ...,
    reference: Optional[str] = None,
    population: Optional[str] = None,
    sample_population: Optional[str] = None,
) -> str: ...
def da(
    table: Table,
    metadata_tsv: str,
    formula: str,
    references: Dict[str, str] = ...,
    method: str = "lm",
    transform: str = "log10",
    pseudocount: Optional[float] = None,
    p_adjust: Optional[str] = None,
    min_prevalence: float = 0.0,
    max_iter: int = 100,
    tol: float = 1e-5,
) -> str: ...
def drugs(
    table: Table,
    drugs: Sequence[str],
    per_sample: Optional[Sequence[Sequence[str]]] = None,
    reference: Optional[str] = None,
    knowledge: Optional[Union[str, PathLike[str]]] = None,
) -> str: ...
def reference_named(spec: str) -> str: ...
def built_in_references() -> List[Tuple[str, str, str]]: ...
def analyze(
    config: str,
    out_dir: Optional[Union[str, PathLike[str]]] = None,
    progress: Optional[Callable[[str, int, int], object]] = None,
) -> str: ...
def classify(
    table: Table,
    labels: Sequence[Optional[bool]],
    model: str = "l1-logistic",
    trees: int = 500,
    c: float = 1.0,
    folds: int = 5,
    repeats: int = 5,
    seed: int = 0,
    min_prevalence: float = 0.1,
    pseudocount: Optional[float] = None,
) -> str: ...
