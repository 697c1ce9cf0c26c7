//! What Python reaches through `gutjoint-pipeline`: the whole analysis (`analyze`, the report
//! writer), the installation's assets (built-in references, the AGORA2/Maier tables) and the
//! classifiers' feature matrix.

use crate::{PyTable, pipeline_error, value_error};
use gutjoint_pipeline::{AnalysisConfig, Assets, Observer};
use gutjoint_stats::classify::{Model, cross_validate, stratified_folds};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

static ASSETS: OnceLock<Result<Assets, String>> = OnceLock::new();

/// The embedded assets, loaded once per process.
pub(crate) fn assets() -> PyResult<&'static Assets> {
    ASSETS
        .get_or_init(|| Assets::embedded().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| PyValueError::new_err(e.clone()))
}

/// A built-in reference by name (`gmhi-healthy`, `gespic-healthy`) or a reference file, as JSON.
#[pyfunction]
fn reference_named(py: Python<'_>, spec: &str) -> PyResult<String> {
    let assets = assets()?;
    let reference = py
        .detach(|| assets.reference(spec))
        .map_err(pipeline_error)?;
    serde_json::to_string(&*reference).map_err(value_error)
}

/// The names of the built-in references with their descriptions.
#[pyfunction]
fn built_in_references() -> Vec<(String, String, String)> {
    gutjoint_pipeline::BUILT_IN_REFERENCES
        .iter()
        .map(|b| {
            (
                b.name.to_string(),
                b.rank.name().to_string(),
                b.description.to_string(),
            )
        })
        .collect()
}

/// Forwards a run's progress to a Python callable `callback(step, done, total)`; an exception
/// raised by the callback cancels the run at the next step and is re-raised.
struct PyObserver {
    callback: Option<Py<PyAny>>,
    error: Mutex<Option<PyErr>>,
    notes: Mutex<Vec<String>>,
}

impl Observer for PyObserver {
    fn progress(&self, step: &str, done: u64, total: u64) {
        let Some(callback) = &self.callback else {
            return;
        };
        let Ok(mut error) = self.error.lock() else {
            return;
        };
        if error.is_some() {
            return;
        }
        Python::attach(|py| {
            if let Err(e) = callback.call1(py, (step, done, total)) {
                *error = Some(e);
            }
        });
    }
    fn note(&self, message: &str) {
        if let Ok(mut notes) = self.notes.lock() {
            notes.push(message.to_string());
        }
    }
    fn is_cancelled(&self) -> bool {
        self.error.lock().map(|e| e.is_some()).unwrap_or(true)
    }
}

/// Runs the whole analysis for a configuration (JSON of `AnalysisConfig`); writes
/// `results.json`, `report.html` and `tables/` into `out_dir` when given. Returns the results
/// JSON.
#[pyfunction]
#[pyo3(signature = (config, out_dir=None, progress=None))]
fn analyze(
    py: Python<'_>,
    config: &str,
    out_dir: Option<PathBuf>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let config: AnalysisConfig = serde_json::from_str(config)
        .map_err(|e| PyValueError::new_err(format!("analysis configuration: {e}")))?;
    let assets = assets()?;
    let observer = PyObserver {
        callback: progress,
        error: Mutex::new(None),
        notes: Mutex::new(Vec::new()),
    };
    let result = py.detach(|| -> Result<String, gutjoint_pipeline::PipelineError> {
        let analysis = gutjoint_pipeline::run(&config, assets, &observer)?;
        if let Some(dir) = &out_dir {
            gutjoint_pipeline::write_outputs(&analysis, dir)?;
        }
        serde_json::to_string(&analysis.results).map_err(|source| {
            gutjoint_pipeline::PipelineError::Json {
                what: "results".into(),
                source,
            }
        })
    });
    if let Some(e) = observer.error.lock().ok().and_then(|mut e| e.take()) {
        return Err(e);
    }
    result.map_err(pipeline_error)
}

/// Cross-validated classifier of `labels` (true = positive, None = left out) from CLR features
/// of the table; the cross-validation (with feature names) as JSON.
#[pyfunction]
#[pyo3(signature = (table, labels, model="l1-logistic", trees=500, c=1.0, folds=5, repeats=5, seed=0, min_prevalence=0.1, pseudocount=None))]
#[allow(clippy::too_many_arguments)]
fn classify(
    py: Python<'_>,
    table: &PyTable,
    labels: Vec<Option<bool>>,
    model: &str,
    trees: usize,
    c: f64,
    folds: usize,
    repeats: usize,
    seed: u64,
    min_prevalence: f64,
    pseudocount: Option<f64>,
) -> PyResult<String> {
    let model = match model {
        "rf" | "random-forest" if trees > 0 => Model::RandomForest { trees, seed },
        "rf" | "random-forest" => return Err(PyValueError::new_err("trees must be at least 1")),
        "l1-logistic" | "lasso" if c > 0.0 => Model::L1Logistic { c },
        "l1-logistic" | "lasso" => {
            return Err(PyValueError::new_err(format!(
                "c must be positive, got {c}"
            )));
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown model '{other}'; expected rf or l1-logistic"
            )));
        }
    };
    let t = &table.inner;
    if labels.len() != t.n_samples() {
        return Err(PyValueError::new_err(format!(
            "{} labels for {} samples",
            labels.len(),
            t.n_samples()
        )));
    }
    let rows: Vec<usize> = (0..labels.len()).filter(|&s| labels[s].is_some()).collect();
    let y: Vec<bool> = rows.iter().map(|&s| labels[s] == Some(true)).collect();
    let positives = y.iter().filter(|&&b| b).count();
    let smaller = positives.min(y.len() - positives);
    if folds < 2 || repeats == 0 {
        return Err(PyValueError::new_err(
            "folds must be at least 2 and repeats at least 1",
        ));
    }
    if smaller < folds {
        return Err(PyValueError::new_err(format!(
            "{folds} folds need at least {folds} samples of each class; the smaller class has {smaller}"
        )));
    }
    let result = py.detach(|| -> Result<serde_json::Value, String> {
        let (data, features, pseudocount) =
            gutjoint_stats::features::clr_dataset(t, &rows, y, min_prevalence, pseudocount)
                .map_err(|e| e.to_string())?;
        let assignments = (0..repeats)
            .map(|r| stratified_folds(&data.y, folds, seed.wrapping_add(r as u64)))
            .collect();
        let cv = cross_validate(&data, model, assignments).map_err(|e| e.to_string())?;
        let ids: Vec<&str> = rows.iter().map(|&s| t.sample_ids()[s].as_str()).collect();
        Ok(serde_json::json!({
            "model": model,
            "sample_ids": ids,
            "labels": data.y,
            "features": features.iter().map(|f| &f.id).collect::<Vec<_>>(),
            "pseudocount": pseudocount,
            "cross_validation": cv,
        }))
    });
    let value = result.map_err(PyValueError::new_err)?;
    serde_json::to_string(&value).map_err(value_error)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(reference_named, m)?)?;
    m.add_function(wrap_pyfunction!(built_in_references, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(classify, m)?)?;
    Ok(())
}
