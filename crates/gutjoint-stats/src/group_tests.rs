/*!
Tests of one variable against a grouping, for asking "what else differs between patients and
controls?": Pearson's chi-square (no continuity correction) and Fisher's exact test for a
categorical variable, with Cramér's V; the Mann–Whitney U test (normal approximation with tie
and continuity corrections) and the Kruskal–Wallis H test (tie-corrected) for a numeric one,
with the ROC AUC of the variable between two groups. Each matches scipy.stats'
`chi2_contingency(correction=False)`, `fisher_exact`, `mannwhitneyu(method="asymptotic")` and
`kruskal`. Also the likelihood-ratio test of two nested linear models (statsmodels'
`compare_lr_test`), used to ask whether a group effect survives adding a covariate.
*/

use crate::correlation::ranks;
use crate::design::Design;
use crate::distributions::{ln_gamma, normal_two_sided, upper_incomplete_gamma};
use crate::error::{Error, Result};
use crate::ols::Ols;
use serde::{Deserialize, Serialize};

/// Upper tail of the chi-square distribution.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    upper_incomplete_gamma(df / 2.0, x / 2.0)
}

/// Pearson's chi-square test of independence of an r × c table of counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    pub statistic: f64,
    pub df: usize,
    pub p_value: f64,
    pub cramers_v: f64,
    /// The smallest expected count (Fisher's test is preferred for a 2 × 2 table below 5).
    pub min_expected: f64,
}

/// `table[i][j]`: count of level i of the variable in group j. Rows or columns that are all
/// zero are left out (scipy refuses them; they carry no information).
pub fn chi_square(table: &[Vec<f64>]) -> Result<ChiSquare> {
    let cols = table.first().map_or(0, Vec::len);
    let col_sums: Vec<f64> = (0..cols)
        .map(|j| table.iter().map(|r| r[j]).sum())
        .collect();
    let rows: Vec<&Vec<f64>> = table
        .iter()
        .filter(|r| r.iter().sum::<f64>() > 0.0)
        .collect();
    let keep: Vec<usize> = (0..cols).filter(|&j| col_sums[j] > 0.0).collect();
    if rows.len() < 2 || keep.len() < 2 {
        return Err(Error::Invalid(format!(
            "a contingency table needs two non-empty rows and columns, got {} × {}",
            rows.len(),
            keep.len()
        )));
    }
    let n: f64 = rows.iter().flat_map(|r| r.iter()).sum();
    let row_sums: Vec<f64> = rows.iter().map(|r| r.iter().sum()).collect();
    let mut statistic = 0.0;
    let mut min_expected = f64::INFINITY;
    for (r, row) in rows.iter().enumerate() {
        for &j in &keep {
            let expected = row_sums[r] * col_sums[j] / n;
            min_expected = min_expected.min(expected);
            statistic += (row[j] - expected).powi(2) / expected;
        }
    }
    let df = (rows.len() - 1) * (keep.len() - 1);
    let k = (rows.len().min(keep.len()) - 1) as f64;
    Ok(ChiSquare {
        statistic,
        df,
        p_value: chi2_sf(statistic, df as f64),
        cramers_v: (statistic / (n * k)).sqrt(),
        min_expected,
    })
}

/// Fisher's exact test of a 2 × 2 table `[[a, b], [c, d]]`, two-sided as scipy: the summed
/// probability of every table with the same margins that is no more likely than the observed
/// one (within a relative 1e-7, scipy's tolerance for ties).
pub fn fisher_exact(table: [[u64; 2]; 2]) -> f64 {
    let [[a, b], [c, d]] = table;
    let (row1, col1, n) = (a + b, a + c, a + b + c + d);
    let ln_choose = |n: u64, k: u64| {
        ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
    };
    let ln_total = ln_choose(n, col1);
    let pmf = |x: u64| (ln_choose(row1, x) + ln_choose(n - row1, col1 - x) - ln_total).exp();
    let low = col1.saturating_sub(n - row1);
    let high = row1.min(col1);
    let observed = pmf(a);
    let p: f64 = (low..=high)
        .map(pmf)
        .filter(|p| *p <= observed * (1.0 + 1e-7))
        .sum();
    p.min(1.0)
}

/// The Mann–Whitney U test of `x` between two groups, with the AUC of `x` for telling the
/// first group from the second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U of the first group (scipy's `statistic`).
    pub u: f64,
    pub p_value: f64,
    /// `U / (n₁ n₂)`: the probability that a value of the first group exceeds one of the
    /// second (ties count half).
    pub auc: f64,
}

pub fn mann_whitney(first: &[f64], second: &[f64]) -> Result<MannWhitney> {
    let (n1, n2) = (first.len(), second.len());
    if n1 == 0 || n2 == 0 {
        return Err(Error::Invalid(format!(
            "the Mann–Whitney test needs values in both groups ({n1} and {n2})"
        )));
    }
    let all: Vec<f64> = first.iter().chain(second).copied().collect();
    let r = ranks(&all);
    let r1: f64 = r[..n1].iter().sum();
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let u = r1 - n1f * (n1f + 1.0) / 2.0;
    let n = n1f + n2f;
    let tie_sum = tie_term(&all);
    let mean = n1f * n2f / 2.0;
    let sd = (n1f * n2f / 12.0 * ((n + 1.0) - tie_sum / (n * (n - 1.0)))).sqrt();
    let z = ((u - mean).abs() - 0.5) / sd;
    let p_value = if sd == 0.0 || z.is_nan() || z <= 0.0 {
        1.0
    } else {
        normal_two_sided(z).min(1.0)
    };
    Ok(MannWhitney {
        u,
        p_value,
        auc: u / (n1f * n2f),
    })
}

/// `Σ (t³ − t)` over groups of tied values.
fn tie_term(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut sum = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[i] {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        sum += t * t * t - t;
        i = j + 1;
    }
    sum
}

/// The Kruskal–Wallis H test (tie-corrected) of values in several groups.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KruskalWallis {
    pub statistic: f64,
    pub df: usize,
    pub p_value: f64,
}

pub fn kruskal_wallis(groups: &[Vec<f64>]) -> Result<KruskalWallis> {
    let used: Vec<&Vec<f64>> = groups.iter().filter(|g| !g.is_empty()).collect();
    if used.len() < 2 {
        return Err(Error::Invalid(
            "the Kruskal–Wallis test needs values in at least two groups".into(),
        ));
    }
    let all: Vec<f64> = used.iter().flat_map(|g| g.iter()).copied().collect();
    let n = all.len() as f64;
    let r = ranks(&all);
    let mut start = 0;
    let mut sum = 0.0;
    for g in &used {
        let rs: f64 = r[start..start + g.len()].iter().sum();
        sum += rs * rs / g.len() as f64;
        start += g.len();
    }
    let h = 12.0 / (n * (n + 1.0)) * sum - 3.0 * (n + 1.0);
    let correction = 1.0 - tie_term(&all) / (n * n * n - n);
    let df = used.len() - 1;
    let statistic = if correction > 0.0 {
        h / correction
    } else {
        f64::NAN
    };
    Ok(KruskalWallis {
        statistic,
        df,
        p_value: chi2_sf(statistic, df as f64),
    })
}

/// A likelihood-ratio test of a linear model against one nested in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LikelihoodRatio {
    /// `2 (llf_full − llf_reduced) = n ln(RSS_reduced / RSS_full)`.
    pub statistic: f64,
    pub df: usize,
    pub p_value: f64,
}

/// Likelihood-ratio test of Gaussian linear models of `y`, `reduced` nested in `full` (same
/// samples in the same order), as statsmodels' `OLSResults.compare_lr_test`.
pub fn lr_test(full: &Design, reduced: &Design, y: &[f64]) -> Result<LikelihoodRatio> {
    if full.n != reduced.n || full.n != y.len() || full.sample_ids != reduced.sample_ids {
        return Err(Error::Invalid(
            "nested models must be fitted to the same samples".into(),
        ));
    }
    if reduced.p >= full.p {
        return Err(Error::Invalid(format!(
            "the reduced model has {} coefficients, the full one {}; it must have fewer",
            reduced.p, full.p
        )));
    }
    let rss_full = Ols::new(full)?.rss(y);
    let rss_reduced = Ols::new(reduced)?.rss(y);
    let statistic = full.n as f64 * (rss_reduced / rss_full).ln();
    let df = full.p - reduced.p;
    Ok(LikelihoodRatio {
        statistic,
        df,
        p_value: chi2_sf(statistic.max(0.0), df as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Printed by tests/data/golden/stats/make_group_tests_golden.py (scipy 1.17.1,
    /// statsmodels 0.15.0).
    #[test]
    fn matches_scipy_and_statsmodels() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
        let c = chi_square(&[vec![12.0, 5.0, 9.0], vec![3.0, 14.0, 8.0]]).expect("ok");
        assert!(close(c.statistic, 9.706105263157893), "{c:?}");
        assert!(close(c.p_value, 0.007804516834222103), "{c:?}");
        assert_eq!(c.df, 2);
        assert!(close(fisher_exact([[7, 2], [1, 9]]), 0.005477494641581328));
        let m = mann_whitney(
            &[1.5, 2.0, 2.0, 3.1, 4.0, 4.0, 5.2],
            &[2.0, 3.5, 4.0, 6.0, 7.1, 8.0],
        )
        .expect("ok");
        assert_eq!(m.u, 10.0);
        assert!(close(m.p_value, 0.12932721455310425), "{m:?}");
        let k = kruskal_wallis(&[
            vec![1.0, 2.0, 2.0, 5.0],
            vec![3.0, 3.0, 6.0, 7.0, 9.0],
            vec![4.0, 8.0, 10.0],
        ])
        .expect("ok");
        assert!(close(k.statistic, 5.4522300469483564), "{k:?}");
        assert!(close(k.p_value, 0.06547315789426499), "{k:?}");
        let group = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0];
        let cov = [1.0, 2.0, 0.5, 3.0, 2.5, 1.0, 4.0, 3.5, 2.0, 1.5];
        let y = [0.3, 0.9, 0.1, 1.4, 2.0, 1.1, 2.9, 2.4, 1.7, 0.4];
        let ids: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let make = |cols: &[&[f64]]| Design {
            names: (0..cols.len()).map(|j| format!("x{j}")).collect(),
            x: (0..10)
                .flat_map(|i| cols.iter().map(move |c| c[i]))
                .collect(),
            n: 10,
            p: cols.len(),
            sample_ids: ids.clone(),
            dropped: vec![],
            references: Default::default(),
        };
        let ones = [1.0; 10];
        let full = make(&[&ones, &group, &cov]);
        let reduced = make(&[&ones, &cov]);
        let lr = lr_test(&full, &reduced, &y).expect("ok");
        assert!(close(lr.statistic, 31.026484651526367), "{lr:?}");
        assert!(close(lr.p_value, 2.5453144254230907e-08), "{lr:?}");
        assert_eq!(lr.df, 1);
    }

    #[test]
    fn chi_square_and_cramers_v_by_hand() {
        // [[10, 20], [30, 40]]: expected [[12, 18], [28, 42]];
        // X² = 4/12 + 4/18 + 4/28 + 4/42 = 0.7936507936507936…, V = sqrt(X²/100).
        let t = vec![vec![10.0, 20.0], vec![30.0, 40.0]];
        let c = chi_square(&t).expect("ok");
        let x2 = 4.0 / 12.0 + 4.0 / 18.0 + 4.0 / 28.0 + 4.0 / 42.0;
        assert!((c.statistic - x2).abs() < 1e-12);
        assert_eq!(c.df, 1);
        assert!((c.cramers_v - (x2 / 100.0).sqrt()).abs() < 1e-12);
        assert_eq!(c.min_expected, 12.0);
    }

    #[test]
    fn fisher_exact_by_hand() {
        // [[3, 1], [1, 3]]: hypergeometric probabilities of a = 0..4 with margins 4/4 of 8 are
        // 1/70, 16/70, 36/70, 16/70, 1/70; the observed a = 3 (16/70) and everything no more
        // likely: (1 + 16 + 16 + 1) / 70.
        let p = fisher_exact([[3, 1], [1, 3]]);
        assert!((p - 34.0 / 70.0).abs() < 1e-12, "{p}");
        assert!((fisher_exact([[4, 0], [0, 4]]) - 2.0 / 70.0).abs() < 1e-12);
    }

    #[test]
    fn mann_whitney_by_hand() {
        // first = 1, 2, 3; second = 4, 5: U = 0, AUC = 0; n1 n2 = 6, mean 3,
        // sd = sqrt(6/12 × 6) = sqrt(3); z = (3 − 0.5)/sqrt(3).
        let m = mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0]).expect("ok");
        assert_eq!(m.u, 0.0);
        assert_eq!(m.auc, 0.0);
        let z: f64 = 2.5 / 3f64.sqrt();
        assert!((m.p_value - normal_two_sided(z)).abs() < 1e-15);
        // All tied: nothing to tell apart.
        assert_eq!(mann_whitney(&[1.0, 1.0], &[1.0]).expect("ok").p_value, 1.0);
    }

    #[test]
    fn kruskal_wallis_by_hand() {
        // Groups {1, 2}, {3, 4}, {5, 6}: rank sums 3, 7, 11 over 2 each;
        // H = 12/(6·7) (9/2 + 49/2 + 121/2) − 21 = 12/42 × 89.5 − 21 = 4.571428…
        let k = kruskal_wallis(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]]).expect("ok");
        let h = 12.0 / 42.0 * 89.5 - 21.0;
        assert!((k.statistic - h).abs() < 1e-12);
        assert_eq!(k.df, 2);
        // The chi-square tail with 2 df is exp(−x/2).
        assert!((k.p_value - (-h / 2.0).exp()).abs() < 1e-13);
    }
}
