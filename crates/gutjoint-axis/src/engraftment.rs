/*!
Faecal microbiota transplantation (FMT): how much of the donor's community a recipient took up,
and how far the recipient moved from their own starting point.

* **PEDS**, proportional engraftment of donor strains, as the QIIME 2 plugin q2-fmt computes it
  (`sample_peds`; Herman et al. 2024, doi:10.1128/msystems.00969-23 and the plugin's test data):
  for a recipient sample, the number of features present (> 0) in both the sample and its donor
  sample, over the number present in the donor sample. Despite the name this is feature-level:
  an ASV or species shared with the donor, not a tracked strain (which needs strain-resolved
  metagenomics such as StrainPhlAn).
* **Distances**: Bray–Curtis (on proportions) to the donor sample and to the recipient's own
  baseline sample.
* **Feature fate** in each post-baseline sample, by where each present feature was at the start:
  `donor_only` (in the donor, not in the recipient's baseline: taken up from the donor),
  `recipient_only` (in the baseline, not in the donor: the recipient's own that persisted),
  `shared` (in both), `new` (in neither — from elsewhere, or below detection before). Again
  feature-level, not strain-level: a shared species may be a different strain.

A recipient's baseline is the sample at the chosen baseline time, or, when none is chosen, the
subject's earliest sample (said in the result). Duplicate (subject, time) pairs, a donor id that
is not a sample, and a non-finite time are refused; a subject without a sample at the chosen
baseline is kept for PEDS and the donor distance and listed as excluded from the baseline
measures.
*/

use crate::error::{Error, Result};
use crate::profile::{KeyedProfiles, braycurtis_sparse};
use crate::trajectory::{NamedColumn, timed_samples};
use gutjoint_table::FeatureTable;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One recipient sample: whose, when, and which donor sample they received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecipientSample {
    pub sample: String,
    pub subject: String,
    pub time: f64,
    pub donor: String,
}

/// Where a feature present after the transplant was at the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    DonorOnly,
    RecipientOnly,
    Shared,
    New,
}

impl Fate {
    /// The fate of a feature present in a post-baseline sample.
    pub fn of(in_baseline: bool, in_donor: bool) -> Fate {
        match (in_baseline, in_donor) {
            (false, true) => Fate::DonorOnly,
            (true, false) => Fate::RecipientOnly,
            (true, true) => Fate::Shared,
            (false, false) => Fate::New,
        }
    }
}

/// Counts of present features by fate (feature-level, not strain-level).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FateCounts {
    pub donor_only: usize,
    pub recipient_only: usize,
    pub shared: usize,
    pub new: usize,
    /// Features of the baseline sample no longer present.
    pub lost_from_baseline: usize,
}

/// How each subject's baseline sample was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule", content = "time")]
pub enum BaselineRule {
    /// The sample at this time.
    AtTime(f64),
    /// Each subject's earliest sample (no baseline time was given).
    Earliest,
}

/// Engraftment of one recipient sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleEngraftment {
    pub sample: String,
    pub subject: String,
    pub time: f64,
    pub donor: String,
    /// PEDS = transferred / total donor features (NaN for a donor sample with no feature).
    pub peds: f64,
    pub transferred_donor_features: usize,
    pub total_donor_features: usize,
    pub braycurtis_to_donor: f64,
    /// The subject's baseline sample, if it has one.
    pub baseline_sample: Option<String>,
    pub is_baseline: bool,
    pub braycurtis_to_baseline: Option<f64>,
    /// Fates of the present features (post-baseline samples only).
    pub fates: Option<FateCounts>,
}

/// A subject left out of a measure, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exclusion {
    pub subject: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngraftmentResult {
    pub baseline: BaselineRule,
    pub samples: Vec<SampleEngraftment>,
    pub excluded_from_baseline_measures: Vec<Exclusion>,
    /// Said with every result: these are feature-level, not strain-level, measures.
    pub resolution_note: String,
}

pub const RESOLUTION_NOTE: &str = "PEDS and feature fates count features (ASVs or species) shared with the donor; they do not track strains, which needs strain-resolved metagenomics";

/// The set of features present (> 0) in a sample, as sorted feature indices.
fn present(table: &FeatureTable, s: usize) -> Vec<u32> {
    let (idx, vals) = table.sample(s);
    idx.iter()
        .zip(vals)
        .filter(|(_, v)| **v > 0.0)
        .map(|(i, _)| *i)
        .collect()
}

fn count_common(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    n
}

/// The fate of every feature present in `sample` given the recipient's `baseline` and the
/// `donor` (all sets of present feature indices, sorted).
pub fn fates(sample: &[u32], baseline: &[u32], donor: &[u32]) -> Vec<(u32, Fate)> {
    sample
        .iter()
        .map(|f| {
            (
                *f,
                Fate::of(
                    baseline.binary_search(f).is_ok(),
                    donor.binary_search(f).is_ok(),
                ),
            )
        })
        .collect()
}

/// Recipient samples from the metadata: the samples of `sample_ids` with a subject value, their
/// time and the donor sample they received (an error when a recipient has no numeric time or
/// no donor, or when no sample has a subject).
pub fn recipients(
    md: &gutjoint_table::Metadata,
    sample_ids: &[String],
    subject: NamedColumn,
    time: NamedColumn,
    donor: NamedColumn,
) -> Result<Vec<RecipientSample>> {
    let (timed, _) = timed_samples(md, sample_ids, subject, time, Some(donor))?;
    Ok(timed
        .into_iter()
        .map(|t| RecipientSample {
            sample: t.sample,
            subject: t.subject,
            time: t.time,
            donor: t.group.unwrap_or_default(),
        })
        .collect())
}

/// Engraftment of every recipient sample of `table`.
pub fn engraftment(
    table: &FeatureTable,
    recipients: &[RecipientSample],
    baseline: Option<f64>,
) -> Result<EngraftmentResult> {
    crate::trajectory::check_subject_times(
        recipients
            .iter()
            .map(|r| (r.sample.as_str(), r.subject.as_str(), r.time)),
    )?;
    let index = table.sample_index();
    for r in recipients {
        if !index.contains_key(r.sample.as_str()) {
            return Err(Error::Invalid(format!(
                "recipient sample '{}' is not in the table",
                r.sample
            )));
        }
        if !index.contains_key(r.donor.as_str()) {
            return Err(Error::Invalid(format!(
                "donor '{}' of sample '{}' is not a sample of the table",
                r.donor, r.sample
            )));
        }
    }
    let profiles = KeyedProfiles::from_table(table, None)?;
    // Each subject's baseline sample.
    let mut by_subject: BTreeMap<&str, Vec<&RecipientSample>> = BTreeMap::new();
    for r in recipients {
        by_subject.entry(r.subject.as_str()).or_default().push(r);
    }
    let mut baselines: HashMap<&str, &str> = HashMap::new();
    let mut excluded = Vec::new();
    for (subject, rows) in &by_subject {
        let chosen = match baseline {
            Some(t) => rows.iter().find(|r| r.time == t),
            None => rows.iter().min_by(|a, b| a.time.total_cmp(&b.time)),
        };
        match chosen {
            Some(r) => {
                baselines.insert(subject, r.sample.as_str());
            }
            None => excluded.push(Exclusion {
                subject: subject.to_string(),
                reason: format!(
                    "no sample at the baseline time {}",
                    baseline.unwrap_or(f64::NAN)
                ),
            }),
        }
    }
    let mut present_cache: HashMap<usize, Vec<u32>> = HashMap::new();
    let mut presence = |s: usize| -> Vec<u32> {
        present_cache
            .entry(s)
            .or_insert_with(|| present(table, s))
            .clone()
    };
    let mut samples = Vec::with_capacity(recipients.len());
    for r in recipients {
        let s = index[r.sample.as_str()];
        let d = index[r.donor.as_str()];
        let here = presence(s);
        let donor = presence(d);
        let transferred = count_common(&here, &donor);
        let base = baselines.get(r.subject.as_str()).copied();
        let is_baseline = base == Some(r.sample.as_str());
        let (to_baseline, fate_counts) = match base {
            Some(b) => {
                let bi = index[b];
                let distance = braycurtis_sparse(&profiles.rows[s], &profiles.rows[bi]);
                let counts = if is_baseline {
                    None
                } else {
                    let start = presence(bi);
                    let mut c = FateCounts::default();
                    for (_, fate) in fates(&here, &start, &donor) {
                        match fate {
                            Fate::DonorOnly => c.donor_only += 1,
                            Fate::RecipientOnly => c.recipient_only += 1,
                            Fate::Shared => c.shared += 1,
                            Fate::New => c.new += 1,
                        }
                    }
                    c.lost_from_baseline = start.len() - count_common(&start, &here);
                    Some(c)
                };
                (Some(distance), counts)
            }
            None => (None, None),
        };
        samples.push(SampleEngraftment {
            sample: r.sample.clone(),
            subject: r.subject.clone(),
            time: r.time,
            donor: r.donor.clone(),
            peds: transferred as f64 / donor.len() as f64,
            transferred_donor_features: transferred,
            total_donor_features: donor.len(),
            braycurtis_to_donor: braycurtis_sparse(&profiles.rows[s], &profiles.rows[d]),
            baseline_sample: base.map(str::to_string),
            is_baseline,
            braycurtis_to_baseline: to_baseline,
            fates: fate_counts,
        });
    }
    Ok(EngraftmentResult {
        baseline: baseline.map_or(BaselineRule::Earliest, BaselineRule::AtTime),
        samples,
        excluded_from_baseline_measures: excluded,
        resolution_note: RESOLUTION_NOTE.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five features (f1…f5) × four samples, written out so every count is checked by hand:
    ///   donor D:      f1 f2 f3
    ///   baseline B:   f3 f4
    ///   after A1:     f1 f3 f4 f5   → f1 donor only, f3 shared, f4 recipient only, f5 new
    ///   after A2:     f2 f5         → f2 donor only, f5 new; f3 and f4 lost from baseline
    fn small() -> FeatureTable {
        let rows = [
            [2.0, 0.0, 3.0, 0.0], // f1: D, A1
            [1.0, 0.0, 0.0, 4.0], // f2: D, A2
            [1.0, 5.0, 1.0, 0.0], // f3: D, B, A1
            [0.0, 5.0, 2.0, 0.0], // f4: B, A1
            [0.0, 0.0, 4.0, 6.0], // f5: A1, A2
        ];
        let triplets = rows
            .iter()
            .enumerate()
            .flat_map(|(f, row)| {
                row.iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 0.0)
                    .map(move |(s, v)| (s as u32, f as u32, *v))
            })
            .collect();
        FeatureTable::from_triplets(
            ["D", "B", "A1", "A2"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ["f1", "f2", "f3", "f4", "f5"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            triplets,
            &gutjoint_table::Location::named("hand-made"),
        )
        .expect("table")
    }

    fn recipient(sample: &str, time: f64) -> RecipientSample {
        RecipientSample {
            sample: sample.into(),
            subject: "r1".into(),
            time,
            donor: "D".into(),
        }
    }

    #[test]
    fn peds_and_fates_by_hand() {
        let table = small();
        let recipients = [
            recipient("B", 0.0),
            recipient("A1", 1.0),
            recipient("A2", 2.0),
        ];
        let result = engraftment(&table, &recipients, Some(0.0)).expect("engraftment");
        let [b, a1, a2] = &result.samples[..] else {
            panic!("three samples")
        };
        // PEDS: the donor has 3 features; B shares f3 (1/3), A1 f1 f3 (2/3), A2 f2 (1/3).
        assert_eq!(
            (b.transferred_donor_features, b.total_donor_features),
            (1, 3)
        );
        assert_eq!(a1.transferred_donor_features, 2);
        assert!((a1.peds - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(a2.transferred_donor_features, 1);
        assert!(b.is_baseline && b.fates.is_none());
        assert_eq!(
            a1.fates,
            Some(FateCounts {
                donor_only: 1,
                recipient_only: 1,
                shared: 1,
                new: 1,
                lost_from_baseline: 0
            })
        );
        assert_eq!(
            a2.fates,
            Some(FateCounts {
                donor_only: 1,
                recipient_only: 0,
                shared: 0,
                new: 1,
                lost_from_baseline: 2
            })
        );
        // Bray–Curtis on proportions, A2 (f2 0.4, f5 0.6) vs D (f1 0.5, f2 0.25, f3 0.25):
        // Σ|a − b| = 0.5 + 0.15 + 0.25 + 0.6 = 1.5 over Σ(a + b) = 2 → 0.75.
        assert!((a2.braycurtis_to_donor - 0.75).abs() < 1e-15);
        // A2 and B share nothing: distance 1.
        assert_eq!(a2.braycurtis_to_baseline, Some(1.0));
    }

    #[test]
    fn bad_input_is_refused_or_reported() {
        let table = small();
        let mut dup = [recipient("B", 0.0), recipient("A1", 0.0)];
        let e = engraftment(&table, &dup, None).unwrap_err().to_string();
        assert!(e.contains("two samples at time 0"), "{e}");
        dup[1].time = f64::NAN;
        let e = engraftment(&table, &dup, None).unwrap_err().to_string();
        assert!(e.contains("no numeric time"), "{e}");
        let mut missing_donor = [recipient("B", 0.0)];
        missing_donor[0].donor = "X".into();
        let e = engraftment(&table, &missing_donor, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("donor 'X'"), "{e}");
        // No sample at baseline time 5: kept for PEDS, listed as excluded from the rest.
        let r = engraftment(&table, &[recipient("A1", 1.0)], Some(5.0)).expect("runs");
        assert_eq!(r.excluded_from_baseline_measures.len(), 1);
        assert!(r.samples[0].braycurtis_to_baseline.is_none());
        assert!((r.samples[0].peds - 2.0 / 3.0).abs() < 1e-15);
    }
}
