//! The domain analyses for Python: GMHI, healthy references and dysbiosis, arthritis
//! signatures, differential abundance. Each function calls the engine's analysis and returns its
//! serde result as JSON text, which the Python side turns into pandas objects.

use crate::{PyTable, parse_rank, profiles, value_error};
use gutjoint_axis::reference::{Reference, build_reference};
use gutjoint_knowledge::KnowledgeBase;
use gutjoint_stats::ancombc;
use gutjoint_stats::da::{Transform, linear_models};
use gutjoint_stats::{Adjust, design, parse_formula};
use gutjoint_table::{FeatureTable, Location, Metadata};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::collections::BTreeMap;

fn json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(value_error)
}

/// Gut Microbiome Health Index (Gupta et al. 2020) of every sample, as JSON.
#[pyfunction]
fn gmhi(py: Python<'_>, table: &PyTable) -> PyResult<String> {
    let result = py.detach(|| gutjoint_axis::gmhi::gmhi(&table.inner));
    if result.mh_species_in_table + result.mn_species_in_table == 0 {
        return Err(PyValueError::new_err(
            "none of GMHI's 50 marker species is in the table; GMHI needs MetaPhlAn species-level profiles (s__Genus_species names or lineages)",
        ));
    }
    json(&result)
}

/// A healthy reference (JSON) built from `table`'s samples, one population label per sample.
#[pyfunction]
#[pyo3(signature = (table, labels, name, description="", source="a table given from Python", rank=None))]
fn reference_build(
    py: Python<'_>,
    table: &PyTable,
    labels: Vec<String>,
    name: &str,
    description: &str,
    source: &str,
    rank: Option<&str>,
) -> PyResult<String> {
    if labels.len() != table.inner.n_samples() {
        return Err(PyValueError::new_err(format!(
            "{} population labels for {} samples",
            labels.len(),
            table.inner.n_samples()
        )));
    }
    let rank = match parse_rank(rank)? {
        Some(r) => Some(r),
        None => table.inner.ranks_present().last().copied(),
    };
    let keyed = profiles(&table.inner, rank)?;
    let software = format!("gutjoint {} (Python)", env!("CARGO_PKG_VERSION"));
    let reference = py
        .detach(|| build_reference(name, description, source, &software, &keyed, &labels))
        .map_err(value_error)?;
    json(&reference)
}

fn reference_from(text: &str) -> PyResult<Reference> {
    let reference: Reference = serde_json::from_str(text)
        .map_err(|e| PyValueError::new_err(format!("not a gutjoint reference (JSON): {e}")))?;
    reference.check().map_err(value_error)?;
    Ok(reference)
}

/// Dysbiosis of every sample against a reference (JSON), as JSON.
#[pyfunction]
#[pyo3(signature = (table, reference, population=None, top=5, metric="braycurtis"))]
fn dysbiosis(
    py: Python<'_>,
    table: &PyTable,
    reference: &str,
    population: Option<&str>,
    top: usize,
    metric: &str,
) -> PyResult<String> {
    let reference = reference_from(reference)?;
    let metric = match metric {
        "braycurtis" => gutjoint_axis::dysbiosis::DysbiosisMetric::BrayCurtis,
        "aitchison" => gutjoint_axis::dysbiosis::DysbiosisMetric::Aitchison,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown dysbiosis metric '{other}'; expected braycurtis or aitchison"
            )));
        }
    };
    let keyed = profiles(&table.inner, reference.rank())?;
    let result = py
        .detach(|| {
            gutjoint_axis::dysbiosis::dysbiosis_with(&keyed, &reference, population, top, metric)
        })
        .map_err(value_error)?;
    json(&result)
}

/// Arthritis signatures of every sample (rows as JSON), optionally against a reference.
#[pyfunction]
#[pyo3(signature = (table, diseases=Vec::new(), reference=None, population=None, sample_population=None))]
fn signatures(
    py: Python<'_>,
    table: &PyTable,
    diseases: Vec<String>,
    reference: Option<&str>,
    population: Option<&str>,
    sample_population: Option<&str>,
) -> PyResult<String> {
    let kb = KnowledgeBase::embedded().map_err(value_error)?;
    let mut codes = Vec::new();
    for d in &diseases {
        let answer = kb.disease(d);
        match answer.disease {
            Some(code) => codes.push(code.to_string()),
            None => {
                return Err(PyValueError::new_err(match answer.suggestion {
                    Some(s) => format!("unknown disease '{d}'; did you mean '{s}'?"),
                    None => format!("unknown disease '{d}'"),
                }));
            }
        }
    }
    let reference = reference.map(reference_from).transpose()?;
    if let Some(r) = &reference {
        r.population(population).map_err(value_error)?;
    }
    let rows = py.detach(|| {
        gutjoint_axis::signatures::signatures(
            &kb,
            &table.inner,
            &codes,
            reference.as_ref().map(|r| (r, population)),
            sample_population,
        )
    });
    json(&rows)
}

/// Metadata parsed by the engine's QIIME 2 metadata reader from TSV text (how the Python side
/// passes a DataFrame, so that column types follow the same rules as files).
fn metadata_from(text: &str) -> PyResult<Metadata> {
    gutjoint_table::metadata::read_metadata(text.as_bytes(), &Location::named("metadata"))
        .map_err(value_error)
}

/// Differential abundance, per feature and term, as JSON rows: `lm` (linear models of
/// transformed relative abundances) or `ancombc`.
#[pyfunction]
#[pyo3(signature = (table, metadata_tsv, formula, references=BTreeMap::new(), method="lm", transform="log10", pseudocount=None, p_adjust=None, min_prevalence=0.0, max_iter=100, tol=1e-5))]
#[allow(clippy::too_many_arguments)]
fn da(
    py: Python<'_>,
    table: &PyTable,
    metadata_tsv: &str,
    formula: &str,
    references: BTreeMap<String, String>,
    method: &str,
    transform: &str,
    pseudocount: Option<f64>,
    p_adjust: Option<&str>,
    min_prevalence: f64,
    max_iter: usize,
    tol: f64,
) -> PyResult<String> {
    let use_ancombc = match method {
        "lm" => false,
        "ancombc" | "ancom-bc" => true,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown method '{other}'; expected lm or ancombc"
            )));
        }
    };
    let adjust_name = p_adjust.unwrap_or(if use_ancombc { "holm" } else { "bh" });
    let adjust = Adjust::parse(adjust_name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown p_adjust '{adjust_name}'; expected bh, holm, bonferroni or none"
        ))
    })?;
    let terms = parse_formula(formula).map_err(value_error)?;
    let md = metadata_from(metadata_tsv)?;
    let d = design(&md, table.inner.sample_ids(), &terms, &references).map_err(value_error)?;
    let t = &table.inner;
    let result = py.detach(|| -> Result<serde_json::Value, String> {
        let used = analysed(t, &d.sample_ids, min_prevalence);
        if use_ancombc {
            let pseudocount = pseudocount.unwrap_or_else(|| ancombc::default_pseudocount(&used));
            let options = ancombc::Options {
                max_iter,
                tol,
                adjust,
            };
            let result =
                ancombc::ancombc(&used, &d, pseudocount, options).map_err(|e| e.to_string())?;
            serde_json::to_value(&result).map_err(|e| e.to_string())
        } else {
            let transform = match transform {
                "log10" | "log" => Transform::Log10 {
                    pseudocount: pseudocount
                        .unwrap_or_else(|| gutjoint_stats::da::default_pseudocount(&used)),
                },
                "asin-sqrt" | "arcsine" => Transform::ArcsineSqrt,
                other => {
                    return Err(format!(
                        "unknown transform '{other}'; expected log10 or asin-sqrt"
                    ));
                }
            };
            let coefficients =
                linear_models(&used, &d, transform, adjust).map_err(|e| e.to_string())?;
            Ok(serde_json::json!({ "coefficients": coefficients, "bias": [] }))
        }
    });
    let mut value = result.map_err(PyValueError::new_err)?;
    value["design"] = serde_json::to_value(&d).map_err(value_error)?;
    json(&value)
}

/// The samples the design kept, and the features present in at least `min_prevalence` of them
/// (and in at least one), as `gutjoint da` analyses them.
fn analysed(table: &FeatureTable, sample_ids: &[String], min_prevalence: f64) -> FeatureTable {
    let index = table.sample_index();
    let keep: Vec<usize> = sample_ids.iter().map(|id| index[id.as_str()]).collect();
    let used = table.select_samples(&keep);
    let present = used.feature_prevalence();
    let features: Vec<usize> = (0..used.n_features())
        .filter(|&f| {
            present[f] > 0 && present[f] as f64 >= min_prevalence * used.n_samples() as f64
        })
        .collect();
    used.select_features(&features)
}

/// Drug–microbe interactions per sample (rows as JSON, with the names that did not resolve):
/// `drugs` are scored for every sample, `per_sample` adds each sample's own medication list.
/// Capacities are called low/typical/high against `reference` (JSON) when it is species-level.
#[pyfunction]
#[pyo3(signature = (table, drugs, per_sample=None, reference=None, knowledge=None))]
fn drugs(
    py: Python<'_>,
    table: &PyTable,
    drugs: Vec<String>,
    per_sample: Option<Vec<Vec<String>>>,
    reference: Option<&str>,
    knowledge: Option<std::path::PathBuf>,
) -> PyResult<String> {
    use gutjoint_axis::pharmaco::{CarriageIndex, DrugInputs, reference_bands, score_drugs};
    let kb = KnowledgeBase::embedded().map_err(value_error)?;
    let data = match knowledge {
        Some(dir) => std::sync::Arc::new(KnowledgeBase::load_pharmaco_dir(&dir).map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!(
                "cannot read the AGORA2/Maier tables in {}: {e}",
                dir.display()
            ))
        })?),
        None => crate::pipeline::assets()?
            .pharmaco()
            .map_err(crate::pipeline_error)?,
    };
    if !table
        .inner
        .ranks_present()
        .contains(&gutjoint_table::Rank::Species)
    {
        return Err(PyValueError::new_err(
            "drug–microbe capacity needs species-level profiles (MetaPhlAn species or a table with species lineages); this table names no species",
        ));
    }
    let keyed = profiles(&table.inner, Some(gutjoint_table::Rank::Species))?;
    let n = keyed.sample_ids.len();
    let mut unknown: BTreeMap<String, String> = BTreeMap::new();
    let mut resolve = |name: &str| -> Option<String> {
        match kb.resolve_drug(name.trim()) {
            Ok(d) => Some(d.drug.clone()),
            Err(s) => {
                let message = match s.suggestion {
                    Some(x) => format!("unknown drug '{name}'; did you mean '{x}'?"),
                    None => format!("unknown drug '{name}'"),
                };
                unknown.insert(name.to_string(), message);
                None
            }
        }
    };
    let mut common = Vec::new();
    for d in &drugs {
        match resolve(d) {
            Some(canonical) => common.push(canonical),
            None => return Err(PyValueError::new_err(unknown[d.as_str()].clone())),
        }
    }
    let mut lists: Vec<Vec<String>> = vec![common; n];
    if let Some(per_sample) = per_sample {
        if per_sample.len() != n {
            return Err(PyValueError::new_err(format!(
                "{} medication lists for {n} samples",
                per_sample.len()
            )));
        }
        for (list, names) in lists.iter_mut().zip(per_sample) {
            for name in names {
                if let Some(d) = resolve(&name)
                    && !list.contains(&d)
                {
                    list.push(d);
                }
            }
        }
    }
    if lists.iter().all(Vec::is_empty) {
        return Err(PyValueError::new_err(
            "no drug to score: give drugs, or each sample's medications",
        ));
    }
    let reference = reference.map(reference_from).transpose()?;
    let index = CarriageIndex::new(&kb, &data);
    let bands = match &reference {
        Some(r) => reference_bands(&kb, &index, r, None).map_err(value_error)?,
        None => BTreeMap::new(),
    };
    let calls = py.detach(|| {
        score_drugs(&DrugInputs {
            kb: &kb,
            data: &data,
            index: &index,
            profiles: &keyed,
            drugs: &lists,
            bands: &bands,
            measured: None,
        })
    });
    json(
        &serde_json::json!({ "calls": calls, "unknown": unknown.into_values().collect::<Vec<_>>() }),
    )
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gmhi, m)?)?;
    m.add_function(wrap_pyfunction!(reference_build, m)?)?;
    m.add_function(wrap_pyfunction!(dysbiosis, m)?)?;
    m.add_function(wrap_pyfunction!(signatures, m)?)?;
    m.add_function(wrap_pyfunction!(da, m)?)?;
    m.add_function(wrap_pyfunction!(drugs, m)?)?;
    Ok(())
}
