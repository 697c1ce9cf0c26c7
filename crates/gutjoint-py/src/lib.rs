/*!
The native half of the `gutjoint` Python package (`gutjoint._gutjoint`): a thin layer of PyO3
functions over the engine crates. The Python half (`python/gutjoint/`) turns what users hold —
pandas DataFrames, NumPy arrays, `biom.Table`, `skbio.TreeNode`, `skbio.DistanceMatrix` — into
the plain arrays these functions take, and wraps what they return into pandas and scikit-bio
objects.

Rules this room keeps:
- Nothing is computed here that an engine crate computes: every function reads its arguments,
  calls the library, and hands the result back (numbers as NumPy arrays that own Rust's buffer,
  structured results as their serde JSON).
- Dense input is read in place through a read-only NumPy view (no dense copy); only the sparse
  table the engine works on is built.
- The GIL is released while the engine runs. With a progress callback, the work runs on a scoped
  thread and the calling thread polls the engine's progress counter, taking the GIL only to call
  the callback.
- Errors carry the library's message: file errors become `OSError` (`FileNotFoundError`,
  `PermissionError`), everything about the input's content `ValueError`.
*/

use gutjoint_axis::KeyedProfiles;
use gutjoint_ecology::{AlphaMetric, BetaMetric, Grouping, PhyloTable};
use gutjoint_table::{DistanceMatrix, FeatureTable, Lineage, Location, Rank, Tree};
use numpy::ndarray::{Array2, ArrayView2};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{
    PyFileNotFoundError, PyOSError, PyPermissionError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::time::Duration;

mod domain;
mod pipeline;

// ---------------------------------------------------------------------------------------------
// Errors

/// A reader's error: the operating system's refusals are `OSError`s, content errors `ValueError`.
fn table_error(e: gutjoint_table::Error) -> PyErr {
    match &e {
        gutjoint_table::Error::Io { source, .. } => match source.kind() {
            std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(e.to_string()),
            std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(e.to_string()),
            _ => PyOSError::new_err(e.to_string()),
        },
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// A pipeline error: file errors as the reader's, the rest `ValueError`.
pub(crate) fn pipeline_error(e: gutjoint_pipeline::PipelineError) -> PyErr {
    match e {
        gutjoint_pipeline::PipelineError::Table(t) => table_error(t),
        gutjoint_pipeline::PipelineError::Io { .. } => PyOSError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// Any other library error: the input was not what the analysis needs.
fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Running engine work without the GIL, with optional progress

/// Runs `work` with the GIL released. With a `callback`, calls `callback(done, total)` from the
/// calling thread about every 100 ms (and once at the end) with the engine's progress counter;
/// an exception raised by the callback is re-raised after the work finishes (the engine cannot
/// be interrupted half-way).
fn run<T, F>(py: Python<'_>, callback: Option<&Bound<'_, PyAny>>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    let Some(callback) = callback else {
        return Ok(py.detach(work));
    };
    let callback: Py<PyAny> = callback.clone().unbind();
    // This call's own counters, so two calls on two Python threads report apart.
    let progress = gutjoint_ecology::progress::Progress::new();
    let (result, callback_error) = py.detach(|| {
        std::thread::scope(|scope| {
            let handle = scope.spawn(|| progress.watch(work));
            let mut error: Option<PyErr> = None;
            let report = |error: &mut Option<PyErr>| {
                if error.is_some() {
                    return;
                }
                let (done, total) = progress.get();
                Python::attach(|py| {
                    if let Err(e) = callback.call1(py, (done.min(total), total)) {
                        *error = Some(e);
                    }
                });
            };
            while !handle.is_finished() {
                std::thread::sleep(Duration::from_millis(100));
                if !handle.is_finished() {
                    report(&mut error);
                }
            }
            let result = handle.join();
            if result.is_ok() {
                report(&mut error);
            }
            (result, error)
        })
    });
    let result = result.map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        PyRuntimeError::new_err(format!("gutjoint engine panicked: {message}"))
    })?;
    match callback_error {
        Some(e) => Err(e),
        None => Ok(result),
    }
}

// ---------------------------------------------------------------------------------------------
// Tables

/// A validated samples × features table held by the engine (sparse, sample-major). Every
/// function takes one where it takes a DataFrame; it saves converting the same table twice.
///
/// Examples
/// --------
/// >>> t = gutjoint.read_table("examples/data/gespic/gespic_genus.tsv", as_table=True)
/// >>> t.shape == gutjoint.read_table("examples/data/gespic/gespic_genus.tsv").shape
/// True
/// >>> dm = gutjoint.beta_diversity(t, "braycurtis")
#[pyclass(name = "Table", module = "gutjoint._gutjoint", frozen)]
pub struct PyTable {
    pub(crate) inner: FeatureTable,
    format: Option<String>,
    notes: Vec<String>,
}

fn lineages_from(texts: Option<Vec<Option<String>>>, n: usize) -> PyResult<Option<Vec<Lineage>>> {
    let Some(texts) = texts else { return Ok(None) };
    if texts.len() != n {
        return Err(PyValueError::new_err(format!(
            "{} lineages for {n} features",
            texts.len()
        )));
    }
    Ok(Some(
        texts
            .iter()
            .map(|t| t.as_deref().map_or_else(Lineage::empty, Lineage::parse))
            .collect(),
    ))
}

fn with_lineages(table: FeatureTable, lineages: Option<Vec<Lineage>>) -> PyResult<FeatureTable> {
    match lineages {
        Some(l) => table.with_lineages(l).map_err(table_error),
        None => Ok(table),
    }
}

/// Sparse rows of a dense view: `major` rows of `minor` columns, nonzero cells kept (negative
/// and non-finite ones too, so that the table's own validation names them).
fn sparse_rows(view: ArrayView2<'_, f64>) -> (Vec<usize>, Vec<u32>, Vec<f64>) {
    let mut indptr = Vec::with_capacity(view.nrows() + 1);
    let (mut indices, mut values) = (Vec::new(), Vec::new());
    indptr.push(0);
    for row in view.rows() {
        match row.as_slice() {
            Some(slice) => {
                for (j, &v) in slice.iter().enumerate() {
                    if v != 0.0 {
                        indices.push(j as u32);
                        values.push(v);
                    }
                }
            }
            None => {
                for (j, &v) in row.iter().enumerate() {
                    if v != 0.0 {
                        indices.push(j as u32);
                        values.push(v);
                    }
                }
            }
        }
        indptr.push(values.len());
    }
    (indptr, indices, values)
}

#[pymethods]
impl PyTable {
    /// Builds a table from a dense samples × features array (read in place, any memory order).
    #[staticmethod]
    #[pyo3(signature = (data, sample_ids, feature_ids, lineages=None, origin="array"))]
    fn from_dense(
        py: Python<'_>,
        data: PyReadonlyArray2<'_, f64>,
        sample_ids: Vec<String>,
        feature_ids: Vec<String>,
        lineages: Option<Vec<Option<String>>>,
        origin: &str,
    ) -> PyResult<PyTable> {
        let view = data.as_array();
        let (n, d) = view.dim();
        if n != sample_ids.len() || d != feature_ids.len() {
            return Err(PyValueError::new_err(format!(
                "{origin}: the array is {n} × {d} but {} sample ids and {} feature ids were given",
                sample_ids.len(),
                feature_ids.len()
            )));
        }
        let lineages = lineages_from(lineages, d)?;
        let location = Location::named(origin);
        // pandas keeps a float DataFrame as one features × samples block, so its values are
        // usually column-major: walk whichever way is contiguous.
        let column_major = view.t().is_standard_layout() && !view.is_standard_layout();
        let table = py.detach(move || {
            if column_major {
                let (indptr, indices, values) = sparse_rows(view.t());
                FeatureTable::from_feature_rows(
                    sample_ids,
                    feature_ids,
                    &indptr,
                    &indices,
                    &values,
                    &location,
                )
            } else {
                let (indptr, indices, values) = sparse_rows(view);
                FeatureTable::from_csr(sample_ids, feature_ids, indptr, indices, values, &location)
            }
        });
        let table = with_lineages(table.map_err(table_error)?, lineages)?;
        Ok(PyTable {
            inner: table,
            format: None,
            notes: Vec::new(),
        })
    }

    /// Builds a table from sample-major CSR arrays (a SciPy CSR matrix of samples × features,
    /// or the CSC matrix of a features × samples `biom.Table`).
    #[staticmethod]
    #[pyo3(signature = (indptr, indices, data, sample_ids, feature_ids, lineages=None, origin="sparse matrix"))]
    #[allow(clippy::too_many_arguments)]
    fn from_csr(
        indptr: PyReadonlyArray1<'_, i64>,
        indices: PyReadonlyArray1<'_, i64>,
        data: PyReadonlyArray1<'_, f64>,
        sample_ids: Vec<String>,
        feature_ids: Vec<String>,
        lineages: Option<Vec<Option<String>>>,
        origin: &str,
    ) -> PyResult<PyTable> {
        let location = Location::named(origin);
        let negative = || PyValueError::new_err(format!("{origin}: negative sparse index"));
        let indptr: Vec<usize> = indptr
            .as_array()
            .iter()
            .map(|&i| usize::try_from(i).map_err(|_| negative()))
            .collect::<PyResult<_>>()?;
        let indices: Vec<u32> = indices
            .as_array()
            .iter()
            .map(|&i| u32::try_from(i).map_err(|_| negative()))
            .collect::<PyResult<_>>()?;
        let values: Vec<f64> = data.as_array().iter().copied().collect();
        let lineages = lineages_from(lineages, feature_ids.len())?;
        let table =
            FeatureTable::from_csr(sample_ids, feature_ids, indptr, indices, values, &location)
                .map_err(table_error)?;
        Ok(PyTable {
            inner: with_lineages(table, lineages)?,
            format: None,
            notes: Vec::new(),
        })
    }

    /// Reads a table file in any format gutjoint reads (sniffed unless `format` is given), or
    /// several single-sample MetaPhlAn profiles.
    #[staticmethod]
    #[pyo3(signature = (paths, format=None, samples_as_rows=false, rank=None, taxonomy=None))]
    fn read(
        py: Python<'_>,
        paths: Vec<PathBuf>,
        format: Option<&str>,
        samples_as_rows: bool,
        rank: Option<&str>,
        taxonomy: Option<PathBuf>,
    ) -> PyResult<PyTable> {
        let input = gutjoint_pipeline::TableInput {
            table: paths,
            format: format.map(str::to_string),
            samples_as_rows,
            rank: rank.map(str::to_string),
            taxonomy,
        };
        let read = py
            .detach(|| gutjoint_pipeline::read_input_table(&input))
            .map_err(pipeline_error)?;
        Ok(PyTable {
            inner: read.table,
            format: Some(read.format.name().to_string()),
            notes: read.notes,
        })
    }

    #[getter]
    fn sample_ids(&self) -> Vec<String> {
        self.inner.sample_ids().to_vec()
    }
    #[getter]
    fn feature_ids(&self) -> Vec<String> {
        self.inner.feature_ids().to_vec()
    }
    /// One lineage string per feature (`k__…|p__…`), or None when the table carries none.
    #[getter]
    fn lineages(&self) -> Option<Vec<String>> {
        self.inner
            .lineages()
            .map(|l| l.iter().map(|l| l.to_string()).collect())
    }
    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.inner.n_samples(), self.inner.n_features())
    }
    #[getter]
    fn nnz(&self) -> usize {
        self.inner.nnz()
    }
    /// `counts` or `relative`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind().name()
    }
    /// The format the table was read from (None when built from arrays).
    #[getter]
    fn format(&self) -> Option<String> {
        self.format.clone()
    }
    /// What the reader set aside or assumed.
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }
    /// The sample-major CSR arrays `(indptr, indices, data)`.
    #[allow(clippy::type_complexity)]
    fn csr<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<f64>>,
    ) {
        let indptr: Vec<i64> = self.inner.indptr().iter().map(|&i| i as i64).collect();
        let indices: Vec<i64> = self.inner.indices().iter().map(|&i| i64::from(i)).collect();
        (
            PyArray1::from_vec(py, indptr),
            PyArray1::from_vec(py, indices),
            PyArray1::from_vec(py, self.inner.values().to_vec()),
        )
    }
    /// The dense samples × features matrix.
    fn dense<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (n, d) = (self.inner.n_samples(), self.inner.n_features());
        let table = &self.inner;
        let cells = py.detach(|| {
            let mut cells = vec![0.0; n * d];
            for s in 0..n {
                let (idx, vals) = table.sample(s);
                for (f, v) in idx.iter().zip(vals) {
                    cells[s * d + *f as usize] = *v;
                }
            }
            cells
        });
        matrix(py, cells, n, d)
    }
    fn __repr__(&self) -> String {
        format!(
            "<gutjoint Table: {} samples × {} features, {} nonzero, {}>",
            self.inner.n_samples(),
            self.inner.n_features(),
            self.inner.nnz(),
            self.inner.kind().name()
        )
    }
}

/// A row-major `rows × cols` NumPy array that owns `cells` (no copy).
fn matrix(
    py: Python<'_>,
    cells: Vec<f64>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'_, PyArray2<f64>>> {
    let array = Array2::from_shape_vec((rows, cols), cells).map_err(value_error)?;
    Ok(PyArray2::from_owned_array(py, array))
}

pub(crate) fn parse_rank(rank: Option<&str>) -> PyResult<Option<Rank>> {
    match rank {
        None => Ok(None),
        Some(r) => Rank::parse(r).map(Some).ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown rank '{r}', expected domain, phylum, class, order, family, genus, species or strain"
            ))
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Trees

/// A rooted phylogeny (Newick), ready for UniFrac and Faith's PD. Functions also take a
/// `skbio.TreeNode`, Newick text or a file path; a `Tree` saves parsing the same tree twice.
///
/// Examples
/// --------
/// >>> tree = gutjoint.Tree.from_newick("((a:1,b:2):0.5,c:1);")
/// >>> len(tree)
/// 5
#[pyclass(name = "Tree", module = "gutjoint._gutjoint", frozen)]
pub struct PyTree {
    inner: Tree,
}

#[pymethods]
impl PyTree {
    /// Parses Newick text.
    #[staticmethod]
    #[pyo3(signature = (text, origin="newick"))]
    fn from_newick(text: &str, origin: &str) -> PyResult<PyTree> {
        let inner = gutjoint_table::newick::parse_newick(text, &Location::named(origin))
            .map_err(table_error)?;
        Ok(PyTree { inner })
    }
    /// Reads a Newick file (gzip undone).
    #[staticmethod]
    fn read(path: PathBuf) -> PyResult<PyTree> {
        let inner = gutjoint_table::read_tree_file(&path).map_err(table_error)?;
        Ok(PyTree { inner })
    }
    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

// ---------------------------------------------------------------------------------------------
// Ecology

/// Alpha diversity: a `len(metrics) × n_samples` array.
#[pyfunction]
#[pyo3(signature = (table, metrics, tree=None, drop_missing=false))]
fn alpha<'py>(
    py: Python<'py>,
    table: &PyTable,
    metrics: Vec<String>,
    tree: Option<&PyTree>,
    drop_missing: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let metrics: Vec<AlphaMetric> = metrics
        .iter()
        .map(|m| AlphaMetric::parse(m))
        .collect::<Result<_, _>>()
        .map_err(value_error)?;
    let t = &table.inner;
    let result = py.detach(|| {
        let phylo = match tree {
            Some(tree) if metrics.contains(&AlphaMetric::FaithPd) => {
                Some(PhyloTable::new(t, &tree.inner, drop_missing)?)
            }
            _ => None,
        };
        gutjoint_ecology::alpha(t, &metrics, phylo.as_ref())
    });
    let result = result.map_err(value_error)?;
    let n = result.sample_ids.len();
    let cells: Vec<f64> = result.values.into_iter().flatten().collect();
    matrix(py, cells, metrics.len(), n)
}

fn beta_metric(metric: &str, alpha: f64, pseudocount: f64) -> PyResult<BetaMetric> {
    BetaMetric::parse(metric, alpha, pseudocount).map_err(value_error)
}

/// Beta diversity, as NumPy owns it: the full `n × n` matrix (`square`, what scikit-bio's
/// `DistanceMatrix` stores by default) or the condensed upper triangle (row-major, i < j, the
/// engine's own buffer, no copy). The square form is filled here in parallel, without the GIL,
/// into memory NumPy allocated (which it backs with huge pages): letting scikit-bio expand the
/// condensed vector (SciPy's single-threaded `squareform`) took longer than the Bray–Curtis
/// kernel itself at 2,000 samples (bench/README.md, `python_beta.py`).
#[pyfunction]
#[pyo3(signature = (table, metric, tree=None, drop_missing=false, alpha=1.0, pseudocount=1.0, progress=None, square=false))]
#[allow(clippy::too_many_arguments)]
fn beta<'py>(
    py: Python<'py>,
    table: &PyTable,
    metric: &str,
    tree: Option<&PyTree>,
    drop_missing: bool,
    alpha: f64,
    pseudocount: f64,
    progress: Option<&Bound<'py, PyAny>>,
    square: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let metric = beta_metric(metric, alpha, pseudocount)?;
    let t = &table.inner;
    let tree = tree.map(|t| &t.inner);
    let dm = run(py, progress, move || -> Result<DistanceMatrix, String> {
        let phylo = match (metric.is_phylogenetic(), tree) {
            (true, Some(tree)) => {
                Some(PhyloTable::new(t, tree, drop_missing).map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        gutjoint_ecology::beta(t, metric, phylo.as_ref()).map_err(|e| e.to_string())
    })?
    .map_err(PyValueError::new_err)?;
    if !square {
        return Ok(PyArray1::from_vec(py, dm.into_parts().1).into_any());
    }
    let n = dm.len();
    // SAFETY: `write_square` writes every one of the n × n values before NumPy or Python can
    // read the array, and nothing else holds it meanwhile.
    let full = unsafe { PyArray2::<f64>::new(py, [n, n], false) };
    {
        let mut writable = full.readwrite();
        let out = writable
            .as_slice_mut()
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        py.detach(|| dm.write_square(out));
    }
    Ok(full.into_any())
}

fn distance_matrix(
    ids: Vec<String>,
    condensed: PyReadonlyArray1<'_, f64>,
) -> PyResult<DistanceMatrix> {
    let values = condensed.as_array().iter().copied().collect();
    DistanceMatrix::from_condensed(ids, values).map_err(value_error)
}

/// Principal coordinates: `(eigenvalues, proportion_explained, coordinates)` with coordinates
/// `n × axes`. `method` is `eigh` (all axes, exact) or `fsvd` (the leading `dimensions`).
#[pyfunction]
#[pyo3(signature = (ids, condensed, method="eigh", dimensions=None, seed=0))]
#[allow(clippy::type_complexity)]
fn pcoa<'py>(
    py: Python<'py>,
    ids: Vec<String>,
    condensed: PyReadonlyArray1<'py, f64>,
    method: &str,
    dimensions: Option<usize>,
    seed: u64,
) -> PyResult<(
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray2<f64>>,
)> {
    let dm = distance_matrix(ids, condensed)?;
    let n = dm.len();
    let result = match method {
        "eigh" => py.detach(|| gutjoint_ecology::pcoa_eigh(&dm, dimensions)),
        "fsvd" => {
            let k = dimensions.unwrap_or(n.min(10));
            py.detach(|| gutjoint_ecology::pcoa_fsvd(&dm, k, seed))
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown PCoA method '{other}', expected eigh or fsvd"
            )));
        }
    }
    .map_err(value_error)?;
    let axes = result.n_axes();
    let keep = dimensions.unwrap_or(axes).min(axes);
    let mut coordinates = Vec::with_capacity(n * keep);
    for s in 0..n {
        coordinates.extend((0..keep).map(|k| result.coordinate(s, k)));
    }
    Ok((
        PyArray1::from_vec(py, result.eigenvalues[..keep].to_vec()),
        PyArray1::from_vec(py, result.proportion_explained[..keep].to_vec()),
        matrix(py, coordinates, n, keep)?,
    ))
}

/// PERMANOVA or PERMDISP on a condensed matrix with one group label per id; the result as JSON
/// (scikit-bio's keys).
#[pyfunction]
#[pyo3(signature = (ids, condensed, groups, permutations=999, seed=0, test="permanova", dimensions=10, progress=None))]
#[allow(clippy::too_many_arguments)]
fn permutation_test<'py>(
    py: Python<'py>,
    ids: Vec<String>,
    condensed: PyReadonlyArray1<'py, f64>,
    groups: Vec<String>,
    permutations: usize,
    seed: u64,
    test: &str,
    dimensions: usize,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<String> {
    let dm = distance_matrix(ids, condensed)?;
    let grouping = Grouping::from_values(&groups);
    let result = match test {
        "permanova" => run(py, progress, || {
            gutjoint_ecology::permanova(&dm, &grouping, permutations, seed)
        })?,
        "permdisp" => run(py, progress, || {
            gutjoint_ecology::permdisp(
                &dm,
                &grouping,
                permutations,
                seed,
                gutjoint_ecology::DispersionCentre::Median,
                dimensions,
            )
        })?,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown test '{other}', expected permanova or permdisp"
            )));
        }
    }
    .map_err(value_error)?;
    serde_json::to_string(&result).map_err(value_error)
}

/// Profiles keyed by taxon at `rank` (None: by feature id), as the domain analyses use them.
pub(crate) fn profiles(table: &FeatureTable, rank: Option<Rank>) -> PyResult<KeyedProfiles> {
    KeyedProfiles::from_table(table, rank).map_err(value_error)
}

/// The engine's version, for results that record the software that made them.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _gutjoint(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTable>()?;
    m.add_class::<PyTree>()?;
    m.add_function(wrap_pyfunction!(alpha, m)?)?;
    m.add_function(wrap_pyfunction!(beta, m)?)?;
    m.add_function(wrap_pyfunction!(pcoa, m)?)?;
    m.add_function(wrap_pyfunction!(permutation_test, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    domain::register(m)?;
    pipeline::register(m)?;
    Ok(())
}
