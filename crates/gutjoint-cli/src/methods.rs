/*!
One set of method names for every command that takes one, as clap `ValueEnum`s: `da --method`
and `analyze --da-method` read the same differential-abundance names, `classify --model` and
`analyze --classifier` the same classifier names, with the same aliases. Before, each command
matched its own strings and the lists had drifted (`da --method ancom-bc` worked while
`analyze --da-method ancom-bc` was refused). Every spelling that worked in any command is kept
as an alias; clap lists the names in `--help` and in the error for an unknown one.
*/

use anyhow::{Result, bail};
use clap::ValueEnum;
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
}
