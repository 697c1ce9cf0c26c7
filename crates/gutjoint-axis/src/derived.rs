/*!
Derived microbiome features for `gutjoint predict`: the domain scores of this crate as extra
columns of a response model, through [`gutjoint_stats::predict::Derived`]. Each one calls the
function that computes it everywhere else in gutjoint (no second implementation):

- [`Enterotype`] — indicators of the enterotype call against the published centroids
  ([`crate::enterotype::assign`]);
- [`Gmhi`] — the Gut Microbiome Health Index ([`crate::gmhi::gmhi`]);
- [`OwnControlsDysbiosis`] — dysbiosis against the cohort's own controls
  ([`crate::reference::build_reference`] and [`crate::dysbiosis::dysbiosis_with`]);
- [`DrugCapacity`] — the capacity of the community for each AGORA2 enzyme the knowledge base
  ties to one drug ([`crate::pharmaco::enzyme_capacity`]);
- [`Guilds`] — guild abundances ([`crate::guilds::guild_profile`]).

Only the dysbiosis learns from the data: its reference is built from the controls among a
fold's *training* samples (plus controls that are never predicted), so a held-out control is
never part of the reference it is scored against. The others depend on each sample alone and
on fixed published data, so they are computed once.
*/

use crate::dysbiosis::{DysbiosisMetric, dysbiosis_with};
use crate::enterotype::{Centroids, NAMES, assign};
use crate::pharmaco::{CarriageIndex, enzyme_capacity};
use crate::profile::KeyedProfiles;
use crate::reference::{Reference, build_reference};
use gutjoint_knowledge::{GuildMember, KnowledgeBase};
use gutjoint_stats::predict::Derived;
use gutjoint_stats::{Error, Result};
use gutjoint_table::{FeatureTable, Rank};
use serde_json::Value;

fn axis_error(what: &str, e: crate::Error) -> Error {
    Error::Invalid(format!("{what}: {e}"))
}

/// Enterotype indicators (one column per enterotype, 1 for the call), by Jensen–Shannon
/// distance to fixed centroids (the published samples').
#[derive(Debug)]
pub struct Enterotype<'a> {
    pub centroids: &'a Centroids,
}

impl Derived for Enterotype<'_> {
    fn name(&self) -> String {
        "enterotype".into()
    }
    fn columns(&self) -> Vec<String> {
        NAMES.iter().map(|n| format!("enterotype={n}")).collect()
    }
    fn data_dependent(&self) -> bool {
        false
    }
    fn fit(&self, _: &FeatureTable, _: &[usize]) -> Result<Value> {
        Ok(Value::Null)
    }
    fn apply(&self, _: &Value, table: &FeatureTable, rows: &[usize]) -> Result<Vec<f64>> {
        let profiles = KeyedProfiles::from_table(&table.select_samples(rows), Some(Rank::Genus))
            .map_err(|e| axis_error("enterotype needs genus names in the lineages", e))?;
        Ok(assign(&profiles, self.centroids, None)
            .iter()
            .flat_map(|call| NAMES.map(|n| f64::from(u8::from(call.enterotype == n))))
            .collect())
    }
}

/// The Gut Microbiome Health Index of each sample (species-level profiles).
#[derive(Debug)]
pub struct Gmhi;

impl Derived for Gmhi {
    fn name(&self) -> String {
        "gmhi".into()
    }
    fn columns(&self) -> Vec<String> {
        vec!["gmhi".into()]
    }
    fn data_dependent(&self) -> bool {
        false
    }
    fn fit(&self, _: &FeatureTable, _: &[usize]) -> Result<Value> {
        Ok(Value::Null)
    }
    fn apply(&self, _: &Value, table: &FeatureTable, rows: &[usize]) -> Result<Vec<f64>> {
        Ok(crate::gmhi::gmhi(&table.select_samples(rows))
            .scores
            .iter()
            .map(|s| s.gmhi)
            .collect())
    }
}

/// Guild abundances (share of each sample in each curated guild's members).
#[derive(Debug)]
pub struct Guilds<'a> {
    pub kb: &'a KnowledgeBase,
    pub guilds: &'a [GuildMember],
}

impl Guilds<'_> {
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for g in self.guilds {
            if !names.contains(&g.guild) {
                names.push(g.guild.clone());
            }
        }
        names
    }
}

impl Derived for Guilds<'_> {
    fn name(&self) -> String {
        "guilds".into()
    }
    fn columns(&self) -> Vec<String> {
        self.names().iter().map(|g| format!("guild:{g}")).collect()
    }
    fn data_dependent(&self) -> bool {
        false
    }
    fn fit(&self, _: &FeatureTable, _: &[usize]) -> Result<Value> {
        Ok(Value::Null)
    }
    fn apply(&self, _: &Value, table: &FeatureTable, rows: &[usize]) -> Result<Vec<f64>> {
        let profile =
            crate::guilds::guild_profile(self.kb, self.guilds, &table.select_samples(rows));
        if profile.guilds != self.names() {
            return Err(Error::Invalid(format!(
                "guild profile columns {:?} differ from the curated guilds {:?}",
                profile.guilds,
                self.names()
            )));
        }
        Ok(profile.abundance.into_iter().flatten().collect())
    }
}

/// A drug's metabolism capacities: one column per AGORA2 enzyme column that the knowledge
/// base's drug–microbe rows give for the drug (Σ species share × carriage).
#[derive(Debug)]
pub struct DrugCapacity<'a> {
    pub kb: &'a KnowledgeBase,
    pub index: &'a CarriageIndex,
    pub drug: String,
    pub enzyme_columns: Vec<String>,
}

impl<'a> DrugCapacity<'a> {
    /// The capacity features of `drug` (matched case-insensitively against the knowledge
    /// base's drug names); an error when the knowledge base has no AGORA2 column for it.
    pub fn new(kb: &'a KnowledgeBase, index: &'a CarriageIndex, drug: &str) -> Result<Self> {
        let mut columns: Vec<String> = kb
            .drug_microbe()
            .iter()
            .filter(|m| m.drug.eq_ignore_ascii_case(drug))
            .filter_map(|m| m.agora2_column.clone())
            .collect();
        columns.sort();
        columns.dedup();
        if columns.is_empty() {
            let mut with: Vec<&str> = kb
                .drug_microbe()
                .iter()
                .filter(|m| m.agora2_column.is_some())
                .map(|m| m.drug.as_str())
                .collect();
            with.sort_unstable();
            with.dedup();
            return Err(Error::Invalid(format!(
                "no AGORA2 enzyme column is curated for the drug '{drug}'; drugs with one: {}",
                with.join(", ")
            )));
        }
        Ok(DrugCapacity {
            kb,
            index,
            drug: drug.to_lowercase(),
            enzyme_columns: columns,
        })
    }
}

impl Derived for DrugCapacity<'_> {
    fn name(&self) -> String {
        format!("drug:{}", self.drug)
    }
    fn columns(&self) -> Vec<String> {
        self.enzyme_columns
            .iter()
            .map(|c| format!("drug:{}:{c}", self.drug))
            .collect()
    }
    fn data_dependent(&self) -> bool {
        false
    }
    fn fit(&self, _: &FeatureTable, _: &[usize]) -> Result<Value> {
        Ok(Value::Null)
    }
    fn apply(&self, _: &Value, table: &FeatureTable, rows: &[usize]) -> Result<Vec<f64>> {
        let profiles = KeyedProfiles::from_table(&table.select_samples(rows), Some(Rank::Species))
            .map_err(|e| axis_error("drug capacities need species names in the lineages", e))?;
        let per_column: Vec<Vec<f64>> = self
            .enzyme_columns
            .iter()
            .map(|c| {
                enzyme_capacity(self.kb, self.index, &profiles, c)
                    .iter()
                    .map(|cap| cap.capacity)
                    .collect()
            })
            .collect();
        Ok((0..rows.len())
            .flat_map(|i| per_column.iter().map(move |c| c[i]))
            .collect())
    }
}

/// Dysbiosis (median Bray–Curtis distance, HMP2's definition) against the cohort's own
/// controls: the reference is rebuilt inside every fold from the controls among its training
/// samples, together with `external` controls that are never predicted (healthy controls
/// without an outcome). A control in the reference is scored leave-one-out (by sample id), as
/// [`crate::dysbiosis::dysbiosis_against_controls`] does for a whole cohort.
#[derive(Debug)]
pub struct OwnControlsDysbiosis<'a> {
    /// Whether each sample of the prediction table is a control.
    pub is_control: Vec<bool>,
    /// Controls outside the prediction table (same feature ids), always in the reference.
    pub external: Option<&'a FeatureTable>,
    pub software: String,
}

impl OwnControlsDysbiosis<'_> {
    fn profiles(table: &FeatureTable) -> Result<KeyedProfiles> {
        KeyedProfiles::from_table(table, None).map_err(|e| axis_error("dysbiosis", e))
    }
}

impl Derived for OwnControlsDysbiosis<'_> {
    fn name(&self) -> String {
        "dysbiosis_own_controls".into()
    }
    fn columns(&self) -> Vec<String> {
        vec!["dysbiosis_own_controls".into()]
    }
    fn data_dependent(&self) -> bool {
        self.is_control.iter().any(|c| *c)
    }
    fn fit(&self, table: &FeatureTable, train: &[usize]) -> Result<Value> {
        let controls: Vec<usize> = train
            .iter()
            .copied()
            .filter(|&r| self.is_control.get(r).copied().unwrap_or(false))
            .collect();
        let mut profiles = Self::profiles(&table.select_samples(&controls))?;
        if let Some(external) = self.external {
            let more = Self::profiles(external)?;
            let rows = more.reindexed(&mut profiles.keys);
            profiles.rows.extend(rows);
            profiles.sample_ids.extend(more.sample_ids);
        }
        let labels = vec!["controls".to_string(); profiles.rows.len()];
        let reference = build_reference(
            "own controls (training samples)",
            &format!(
                "{} controls: those among the training samples, and {} never predicted",
                profiles.rows.len(),
                self.external.map_or(0, FeatureTable::n_samples)
            ),
            "the analysed table",
            &self.software,
            &profiles,
            &labels,
        )
        .map_err(|e| axis_error("dysbiosis against the training samples' controls", e))?;
        serde_json::to_value(&reference).map_err(|e| Error::Invalid(e.to_string()))
    }
    fn apply(&self, state: &Value, table: &FeatureTable, rows: &[usize]) -> Result<Vec<f64>> {
        let reference: Reference = serde_json::from_value(state.clone())
            .map_err(|e| Error::Invalid(format!("stored dysbiosis reference: {e}")))?;
        let profiles = Self::profiles(&table.select_samples(rows))?;
        let result = dysbiosis_with(&profiles, &reference, None, 0, DysbiosisMetric::BrayCurtis)
            .map_err(|e| axis_error("dysbiosis against the training samples' controls", e))?;
        Ok(result.scores.iter().map(|s| s.dysbiosis).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_table::Location;

    /// Six samples over four taxa; samples 0–3 are controls.
    fn cohort() -> FeatureTable {
        let rows: [[f64; 4]; 6] = [
            [10.0, 5.0, 1.0, 0.0],
            [8.0, 6.0, 2.0, 1.0],
            [2.0, 9.0, 0.0, 3.0],
            [5.0, 5.0, 5.0, 5.0],
            [0.0, 1.0, 9.0, 4.0],
            [1.0, 0.0, 3.0, 12.0],
        ];
        let mut triplets = Vec::new();
        for (s, row) in rows.iter().enumerate() {
            for (f, v) in row.iter().enumerate() {
                if *v > 0.0 {
                    triplets.push((s as u32, f as u32, *v));
                }
            }
        }
        FeatureTable::from_triplets(
            (0..6).map(|s| format!("S{s}")).collect(),
            (0..4).map(|f| format!("t{f}")).collect(),
            triplets,
            &Location::named("cohort"),
        )
        .unwrap()
    }

    fn braycurtis(table: &FeatureTable, a: usize, b: usize) -> f64 {
        let (ta, tb) = (table.sample_total(a), table.sample_total(b));
        let (mut diff, mut sum) = (0.0, 0.0);
        for f in 0..table.n_features() {
            let (x, y) = (table.get(a, f) / ta, table.get(b, f) / tb);
            diff += (x - y).abs();
            sum += x + y;
        }
        diff / sum
    }

    fn median(mut v: Vec<f64>) -> f64 {
        crate::reference::median(&mut v)
    }

    /// Fitted on a fold whose training rows hold controls 0, 1, 2 (control 3 held out), a
    /// held-out sample's score is its median Bray–Curtis distance to those three controls, and
    /// a training control's is leave-one-out among them: control 0 against {1, 2}. Fitted on the
    /// whole table, control 0 is scored against {1, 2, 3}. All four values are derived here by
    /// hand, and the fold's differs from the whole table's.
    #[test]
    fn dysbiosis_reference_comes_from_the_training_controls_only() {
        let table = cohort();
        let d = OwnControlsDysbiosis {
            is_control: vec![true, true, true, true, false, false],
            external: None,
            software: "test".into(),
        };
        assert!(d.data_dependent());
        let train = [0, 1, 2, 4];
        let fold = d.fit(&table, &train).unwrap();
        let whole = d.fit(&table, &[0, 1, 2, 3, 4, 5]).unwrap();
        let held_out = d.apply(&fold, &table, &[3, 5]).unwrap();
        let bc = |a, b| braycurtis(&table, a, b);
        assert!((held_out[0] - median(vec![bc(3, 0), bc(3, 1), bc(3, 2)])).abs() < 1e-12);
        assert!((held_out[1] - median(vec![bc(5, 0), bc(5, 1), bc(5, 2)])).abs() < 1e-12);
        let in_fold = d.apply(&fold, &table, &[0]).unwrap()[0];
        let in_whole = d.apply(&whole, &table, &[0]).unwrap()[0];
        assert!((in_fold - median(vec![bc(0, 1), bc(0, 2)])).abs() < 1e-12);
        assert!((in_whole - median(vec![bc(0, 1), bc(0, 2), bc(0, 3)])).abs() < 1e-12);
        assert!((in_fold - in_whole).abs() > 1e-3, "{in_fold} vs {in_whole}");
        // Fewer than three training controls: a clear error, not a score.
        let e = d.fit(&table, &[0, 1, 4]).unwrap_err();
        assert!(e.to_string().contains("at least 3"), "{e}");
        // External controls are always in the reference.
        let external = table.select_samples(&[3]);
        let with = OwnControlsDysbiosis {
            external: Some(&external),
            ..d
        };
        let state = with.fit(&table, &[0, 1, 4]).unwrap();
        let v = with.apply(&state, &table, &[5]).unwrap()[0];
        assert!((v - median(vec![bc(5, 0), bc(5, 1), bc(5, 3)])).abs() < 1e-12);
    }

    /// The data-independent features depend on each sample alone: asked for some rows, GMHI
    /// gives exactly the values [`crate::gmhi::gmhi`] gives those samples in the whole table
    /// (the GMHI authors' validation profiles, where the index is not trivially zero).
    #[test]
    fn gmhi_feature_is_the_gmhi_of_each_sample() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/data/gmhi/validation_abundance.csv");
        let table = gutjoint_table::read_table(&path, Default::default())
            .unwrap()
            .table;
        let whole = crate::gmhi::gmhi(&table);
        let v = Gmhi.apply(&Value::Null, &table, &[4, 1, 30]).unwrap();
        let expected: Vec<f64> = [4, 1, 30].iter().map(|&s| whole.scores[s].gmhi).collect();
        assert_eq!(v, expected);
        assert!(v.iter().all(|g| *g != 0.0));
    }
}
