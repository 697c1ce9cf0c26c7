/*!
One set of method names for every command that takes one, as clap `ValueEnum`s: `da --method`
and `analyze --da-method` read the same differential-abundance names, `classify --model` and
`analyze --classifier` the same classifier names, with the same aliases; `alpha`, `beta`,
`analyze`, `dysbiosis` and `confounders` read their metrics, `replicate` its model, `da` and
`associate` their p-value adjustment, `da` its transform and `classify` its validation scheme
the same way. Before, each command
matched its own strings and the lists had drifted (`da --method ancom-bc` worked while
`analyze --da-method ancom-bc` was refused). Every spelling that worked in any command is kept
as an alias; clap lists the names in `--help` and in the error for an unknown one.
*/

use anyhow::{Result, bail};
use clap::ValueEnum;
use gutjoint_axis::dysbiosis::DysbiosisMetric;
use gutjoint_ecology::AlphaMetric;
use gutjoint_pipeline::{ClassifierModel, DaMethod};

/// Differential-abundance methods (`da --method`, `analyze --da-method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DaMethodName {
    /// Per-feature linear models.
    Lm,
    /// Linear mixed models (repeated measures; needs --subject).
    Lmm,
    /// ANCOM-BC (Lin & Peddada 2020).
    #[value(alias = "ancom-bc", alias = "ancom_bc")]
    Ancombc,
    /// ANCOM-BC2 (Lin & Peddada 2024).
    #[value(alias = "ancom-bc2", alias = "ancom_bc2")]
    Ancombc2,
    /// Dirichlet-multinomial mixed model (needs --subject).
    #[value(alias = "dirmult_lme")]
    DirmultLme,
    /// Dirichlet-multinomial t-test.
    #[value(alias = "dirmult_ttest")]
    DirmultTtest,
    /// Every method, with a consensus.
    All,
}

impl DaMethodName {
    /// The canonical spelling.
    pub fn name(self) -> &'static str {
        match self {
            DaMethodName::Lm => "lm",
            DaMethodName::Lmm => "lmm",
            DaMethodName::Ancombc => "ancombc",
            DaMethodName::Ancombc2 => "ancombc2",
            DaMethodName::DirmultLme => "dirmult-lme",
            DaMethodName::DirmultTtest => "dirmult-ttest",
            DaMethodName::All => "all",
        }
    }

    /// The analysis pipeline's model for this name; the pipeline runs lm and ancombc only.
    pub fn for_analysis(self) -> Result<DaMethod> {
        Ok(match self {
            DaMethodName::Lm => DaMethod::Lm,
            DaMethodName::Ancombc => DaMethod::Ancombc,
            other => bail!(
                "--da-method {} is not part of analyze's report; it runs lm or ancombc (use `gutjoint da --method {}` for the others)",
                other.name(),
                other.name()
            ),
        })
    }
}

/// Classifiers (`classify --model`, `analyze --classifier`; `none` only in analyze).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassifierName {
    /// L1-regularised logistic regression.
    #[value(alias = "l1", alias = "lasso", alias = "l1_logistic")]
    L1Logistic,
    /// Random forest.
    #[value(alias = "random-forest", alias = "random_forest")]
    Rf,
    /// No classifier (analyze only).
    None,
}

impl ClassifierName {
    /// The analysis pipeline's model for this name.
    pub fn for_analysis(self) -> ClassifierModel {
        match self {
            ClassifierName::L1Logistic => ClassifierModel::L1Logistic,
            ClassifierName::Rf => ClassifierModel::RandomForest,
            ClassifierName::None => ClassifierModel::None,
        }
    }
}

/// Alpha-diversity metrics (`alpha --metric`), scikit-bio's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlphaMetricName {
    /// Number of features present.
    #[value(name = "observed_features", alias = "observed-features")]
    ObservedFeatures,
    /// Shannon entropy (natural logarithm).
    #[value(name = "shannon")]
    Shannon,
    /// Gini–Simpson, 1 − Σp².
    #[value(name = "simpson")]
    Simpson,
    /// Simpson's dominance, Σp².
    #[value(name = "dominance")]
    Dominance,
    /// Berger–Parker dominance.
    #[value(name = "berger_parker_d", alias = "berger-parker-d")]
    BergerParkerD,
    /// Pielou's evenness.
    #[value(name = "pielou_e", alias = "pielou-e")]
    PielouE,
    /// Chao1 richness (counts only).
    #[value(name = "chao1")]
    Chao1,
    /// Faith's phylogenetic diversity (needs --tree).
    #[value(name = "faith_pd", alias = "faith-pd")]
    FaithPd,
}

impl AlphaMetricName {
    pub fn metric(self) -> AlphaMetric {
        match self {
            AlphaMetricName::ObservedFeatures => AlphaMetric::ObservedFeatures,
            AlphaMetricName::Shannon => AlphaMetric::Shannon,
            AlphaMetricName::Simpson => AlphaMetric::Simpson,
            AlphaMetricName::Dominance => AlphaMetric::Dominance,
            AlphaMetricName::BergerParkerD => AlphaMetric::BergerParkerD,
            AlphaMetricName::PielouE => AlphaMetric::PielouE,
            AlphaMetricName::Chao1 => AlphaMetric::Chao1,
            AlphaMetricName::FaithPd => AlphaMetric::FaithPd,
        }
    }
}

/// Beta-diversity metrics (`beta --metric`, `analyze --metric`), scikit-bio's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BetaMetricName {
    /// Bray–Curtis dissimilarity.
    #[value(name = "braycurtis", alias = "bray_curtis")]
    Braycurtis,
    /// Jaccard distance (presence/absence).
    #[value(name = "jaccard")]
    Jaccard,
    /// Aitchison distance (Euclidean on CLR, with --pseudocount).
    #[value(name = "aitchison")]
    Aitchison,
    /// Unweighted UniFrac (needs --tree).
    #[value(name = "unweighted_unifrac")]
    UnweightedUnifrac,
    /// Weighted UniFrac (needs --tree).
    #[value(name = "weighted_unifrac")]
    WeightedUnifrac,
    /// Weighted normalised UniFrac (needs --tree).
    #[value(name = "weighted_normalized_unifrac")]
    WeightedNormalizedUnifrac,
    /// Generalized UniFrac (needs --tree; --alpha).
    #[value(name = "generalized_unifrac")]
    GeneralizedUnifrac,
}

impl BetaMetricName {
    /// The canonical name, as the ecology library and the analysis configuration read it.
    pub fn name(self) -> &'static str {
        match self {
            BetaMetricName::Braycurtis => "braycurtis",
            BetaMetricName::Jaccard => "jaccard",
            BetaMetricName::Aitchison => "aitchison",
            BetaMetricName::UnweightedUnifrac => "unweighted_unifrac",
            BetaMetricName::WeightedUnifrac => "weighted_unifrac",
            BetaMetricName::WeightedNormalizedUnifrac => "weighted_normalized_unifrac",
            BetaMetricName::GeneralizedUnifrac => "generalized_unifrac",
        }
    }
}

/// The marginal PERMANOVA's metric in `confounders --metric` (no tree there), or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfounderMetricName {
    /// Bray–Curtis dissimilarity.
    #[value(name = "braycurtis", alias = "bray_curtis")]
    Braycurtis,
    /// Jaccard distance.
    #[value(name = "jaccard")]
    Jaccard,
    /// Aitchison distance.
    #[value(name = "aitchison")]
    Aitchison,
    /// No PERMANOVA.
    #[value(name = "none")]
    None,
}

impl ConfounderMetricName {
    /// The beta metric's canonical name; `None` for `none`.
    pub fn beta(self) -> Option<&'static str> {
        match self {
            ConfounderMetricName::Braycurtis => Some("braycurtis"),
            ConfounderMetricName::Jaccard => Some("jaccard"),
            ConfounderMetricName::Aitchison => Some("aitchison"),
            ConfounderMetricName::None => None,
        }
    }
}

/// Distances to the healthy reference (`dysbiosis --metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DysbiosisMetricName {
    /// Bray–Curtis (HMP2's definition).
    #[value(name = "braycurtis", alias = "bray_curtis")]
    Braycurtis,
    /// Aitchison (CLR over the reference's taxa).
    #[value(name = "aitchison")]
    Aitchison,
}

impl DysbiosisMetricName {
    pub fn metric(self) -> DysbiosisMetric {
        match self {
            DysbiosisMetricName::Braycurtis => DysbiosisMetric::BrayCurtis,
            DysbiosisMetricName::Aitchison => DysbiosisMetric::Aitchison,
        }
    }
}

/// The models `replicate --method` re-tests the literature with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReplicateMethodName {
    /// Per-feature linear models.
    Lm,
    /// ANCOM-BC.
    #[value(alias = "ancom-bc", alias = "ancom_bc")]
    Ancombc,
}

/// Multiple-testing adjustments (`da --p-adjust`, `associate --p-adjust`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PAdjustName {
    /// Benjamini–Hochberg false discovery rate.
    #[value(alias = "fdr_bh", alias = "benjamini-hochberg")]
    Bh,
    /// Holm's step-down family-wise error rate.
    Holm,
    /// Bonferroni.
    Bonferroni,
    /// No adjustment.
    None,
}

impl PAdjustName {
    pub fn adjust(self) -> gutjoint_stats::Adjust {
        match self {
            PAdjustName::Bh => gutjoint_stats::Adjust::Bh,
            PAdjustName::Holm => gutjoint_stats::Adjust::Holm,
            PAdjustName::Bonferroni => gutjoint_stats::Adjust::Bonferroni,
            PAdjustName::None => gutjoint_stats::Adjust::None,
        }
    }
}

/// Transforms of `da --method lm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransformName {
    /// log10(relative abundance + pseudocount).
    #[value(alias = "log")]
    Log10,
    /// Arcsine square root of the relative abundance.
    #[value(name = "asin-sqrt", alias = "arcsine")]
    AsinSqrt,
}

/// Validation schemes of `classify --cv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CvName {
    /// Stratified k-fold, repeated.
    #[value(alias = "k-fold")]
    Kfold,
    /// Hold out one level of --groups at a time.
    #[value(name = "leave-group-out", alias = "logo")]
    LeaveGroupOut,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spelling any command accepted before stays accepted, and the two commands that
    /// take a DA method read the same names.
    #[test]
    fn old_spellings_are_aliases() {
        let da = |s: &str| DaMethodName::from_str(s, false).expect(s);
        for (s, want) in [
            ("lm", DaMethodName::Lm),
            ("lmm", DaMethodName::Lmm),
            ("ancombc", DaMethodName::Ancombc),
            ("ancom-bc", DaMethodName::Ancombc),
            ("ancombc2", DaMethodName::Ancombc2),
            ("ancom-bc2", DaMethodName::Ancombc2),
            ("dirmult-lme", DaMethodName::DirmultLme),
            ("dirmult-ttest", DaMethodName::DirmultTtest),
            ("all", DaMethodName::All),
        ] {
            assert_eq!(da(s), want, "{s}");
        }
        assert_eq!(
            da("ancom-bc").for_analysis().expect("analyze runs it"),
            DaMethod::Ancombc
        );
        assert!(da("lmm").for_analysis().is_err());
        let model = |s: &str| ClassifierName::from_str(s, false).expect(s);
        for (s, want) in [
            ("rf", ClassifierName::Rf),
            ("random-forest", ClassifierName::Rf),
            ("l1-logistic", ClassifierName::L1Logistic),
            ("l1", ClassifierName::L1Logistic),
            ("lasso", ClassifierName::L1Logistic),
            ("none", ClassifierName::None),
        ] {
            assert_eq!(model(s), want, "{s}");
        }
    }

    /// Every metric name the commands parsed by hand before is accepted, and names the same
    /// metric the ecology library parses it as.
    #[test]
    fn metric_names_are_the_librarys() {
        for m in AlphaMetric::ALL {
            let name = AlphaMetricName::from_str(m.name(), false)
                .unwrap_or_else(|e| panic!("{}: {e}", m.name()));
            assert_eq!(name.metric(), m);
        }
        for name in gutjoint_ecology::BetaMetric::NAMES.split(", ") {
            let parsed = BetaMetricName::from_str(name, false).expect(name);
            assert_eq!(parsed.name(), name);
            gutjoint_ecology::BetaMetric::parse(parsed.name(), 1.0, 1.0).expect(name);
        }
        assert_eq!(
            BetaMetricName::from_str("bray_curtis", false),
            Ok(BetaMetricName::Braycurtis)
        );
        assert!(BetaMetricName::from_str("bray", false).is_err());
        assert_eq!(
            DysbiosisMetricName::from_str("aitchison", false).map(|m| m.metric()),
            Ok(DysbiosisMetric::Aitchison)
        );
        assert_eq!(
            ConfounderMetricName::from_str("none", false).map(|m| m.beta()),
            Ok(None)
        );
        assert_eq!(
            ReplicateMethodName::from_str("ancom-bc", false),
            Ok(ReplicateMethodName::Ancombc)
        );
        for name in [
            "bh",
            "fdr_bh",
            "benjamini-hochberg",
            "holm",
            "bonferroni",
            "none",
        ] {
            let parsed = PAdjustName::from_str(name, false).expect(name);
            assert_eq!(
                Some(parsed.adjust()),
                gutjoint_stats::Adjust::parse(name),
                "{name}"
            );
        }
        assert_eq!(
            TransformName::from_str("log", false),
            Ok(TransformName::Log10)
        );
        assert_eq!(
            TransformName::from_str("arcsine", false),
            Ok(TransformName::AsinSqrt)
        );
        assert_eq!(CvName::from_str("logo", false), Ok(CvName::LeaveGroupOut));
        assert_eq!(CvName::from_str("k-fold", false), Ok(CvName::Kfold));
    }
}
