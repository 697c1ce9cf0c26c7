/*!
PERMANOVA with several terms, each tested by its marginal contribution: vegan's
`adonis2(d ~ a + b + c, by = "margin")` (Anderson 2001; McArdle & Anderson 2001, Ecology
82:290). A term's marginal sum of squares is what it adds to a model that already holds every
other term, so "does the disease still explain community differences once the sequencing run
is in the model?" is answered by the disease term's marginal R² and F.

With `G = −½ (I − 11ᵀ/n) D² (I − 11ᵀ/n)` (Gower's centred matrix) and `H_X` the hat matrix of
a design `X` (intercept plus term columns), the model sum of squares is `tr(H_X G)`, the total
`tr(G)`; term k's marginal sum of squares is `tr(H_X G) − tr(H_Z G)` with `Z` the design
without term k, its `F = (SS_k / df_k) / (SS_res / df_res)` and `R² = SS_k / tr(G)`. Traces are
taken as `Σ qᵀ G q` over an orthonormal basis of the design's column space, so negative
eigenvalues of a non-Euclidean distance (Bray–Curtis) are kept, as vegan does.

Permutations follow vegan's `permutest` for a partial model under the reduced model: the
residual matrix `G_r = (I − H_Z) G (I − H_Z)` is permuted (rows and columns together, within
strata when given), residualised on `Z` again, and the term's F recomputed from it. The p-value
is `(hits + 1) / (permutations + 1)`; the permutations themselves are this crate's seeded
generator's, so p-values agree with vegan's only in distribution, while SS, R² and F agree to
rounding (checked against vegan in tests/data/golden/ecology/vegan_adonis2/).
*/

use crate::error::{Error, Result};
use crate::permanova::{Strata, check_strata, permuted_orders, tie_tolerance};
use gutjoint_table::DistanceMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// One model term: its name and its design columns (one value per sample each), e.g. the
/// treatment-coded dummies of a categorical column or a numeric column as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelTerm {
    pub name: String,
    pub columns: Vec<Vec<f64>>,
}

/// A term's marginal test, with adonis2's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarginalTerm {
    pub term: String,
    pub df: usize,
    pub sum_of_squares: f64,
    pub r2: f64,
    pub f: f64,
    /// `None` when no permutations were run.
    pub p_value: Option<f64>,
}

/// `adonis2(..., by = "margin")`: one row per term, then the residual and total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarginalPermanova {
    pub terms: Vec<MarginalTerm>,
    pub residual_df: usize,
    pub residual_sum_of_squares: f64,
    pub total_df: usize,
    pub total_sum_of_squares: f64,
    pub sample_size: usize,
    pub permutations: usize,
    pub seed: u64,
    /// Names of the strata permutations were restricted to, if any.
    pub strata: Option<Vec<String>>,
}

/// Relative size under which a design column counts as a combination of the columns before it.
const ALIASED: f64 = 1e-10;

/// Gower's centred matrix, row-major n × n.
fn gower(dm: &DistanceMatrix) -> Vec<f64> {
    let n = dm.len();
    let mut g = vec![0.0; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let v = -0.5 * dm.get(i, j) * dm.get(i, j);
            g[i * n + j] = v;
            g[j * n + i] = v;
        }
    }
    let row_means: Vec<f64> = (0..n)
        .map(|i| g[i * n..(i + 1) * n].iter().sum::<f64>() / n as f64)
        .collect();
    let grand = row_means.iter().sum::<f64>() / n as f64;
    for i in 0..n {
        for j in 0..n {
            g[i * n + j] += grand - row_means[i] - row_means[j];
        }
    }
    g
}

/// Extends the orthonormal `basis` by the columns (modified Gram–Schmidt, twice for accuracy);
/// returns how many columns added a new direction.
fn extend_basis(basis: &mut Vec<Vec<f64>>, columns: &[Vec<f64>]) -> usize {
    let mut added = 0;
    for c in columns {
        let norm0 = c.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm0 == 0.0 {
            continue;
        }
        let mut v = c.clone();
        for _ in 0..2 {
            for q in basis.iter() {
                let dot: f64 = q.iter().zip(&v).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(q).for_each(|(x, qi)| *x -= dot * qi);
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > ALIASED * norm0 {
            v.iter_mut().for_each(|x| *x /= norm);
            basis.push(v);
            added += 1;
        }
    }
    added
}

/// `qᵀ M q` for a symmetric row-major n × n matrix.
fn quadratic(m: &[f64], q: &[f64]) -> f64 {
    let n = q.len();
    (0..n)
        .map(|i| {
            let row = &m[i * n..(i + 1) * n];
            q[i] * row.iter().zip(q).map(|(a, b)| a * b).sum::<f64>()
        })
        .sum()
}

/// `(I − H_Z) G (I − H_Z)` for an orthonormal basis of Z.
fn residualised(g: &[f64], z: &[Vec<f64>], n: usize) -> Vec<f64> {
    // Right then left: M G M = G − Σ (G z) zᵀ − Σ z (zᵀ G) + Σ z (zᵀ G z') z'ᵀ, done column-wise
    // by projecting each column, then each row.
    let mut m = g.to_vec();
    let project = |v: &mut [f64]| {
        for q in z {
            let dot: f64 = q.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(q).for_each(|(x, qi)| *x -= dot * qi);
        }
    };
    for i in 0..n {
        project(&mut m[i * n..(i + 1) * n]);
    }
    let mut column = vec![0.0; n];
    for j in 0..n {
        for i in 0..n {
            column[i] = m[i * n + j];
        }
        project(&mut column);
        for i in 0..n {
            m[i * n + j] = column[i];
        }
    }
    m
}

/// Marginal PERMANOVA of every term (vegan's `adonis2(..., by = "margin")`), permutations
/// restricted to `strata` when given.
pub fn permanova_margin(
    dm: &DistanceMatrix,
    terms: &[ModelTerm],
    permutations: usize,
    seed: u64,
    strata: Option<&Strata>,
) -> Result<MarginalPermanova> {
    let n = dm.len();
    if terms.is_empty() {
        return Err(Error::Invalid("a model needs at least one term".into()));
    }
    for t in terms {
        if t.columns.is_empty() {
            return Err(Error::Invalid(format!("term '{}' has no columns", t.name)));
        }
        if let Some(c) = t.columns.iter().find(|c| c.len() != n) {
            return Err(Error::Invalid(format!(
                "term '{}' has {} values for {n} samples",
                t.name,
                c.len()
            )));
        }
        if t.columns.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "term '{}' has a missing or non-finite value",
                t.name
            )));
        }
    }
    if let Some(s) = strata {
        check_strata(s, n)?;
    }
    let g = gower(dm);
    let total: f64 = (0..n).map(|i| g[i * n + i]).sum();
    let intercept = vec![vec![1.0; n]];
    let mut full = Vec::new();
    extend_basis(&mut full, &intercept);
    for t in terms {
        extend_basis(&mut full, &t.columns);
    }
    let rank_full = full.len();
    if rank_full >= n {
        return Err(Error::Invalid(format!(
            "{n} samples for {rank_full} model coefficients; the residual has no degrees of freedom"
        )));
    }
    let ss_full: f64 = full.iter().map(|q| quadratic(&g, q)).sum();
    let residual = total - ss_full;
    let df_res = n - rank_full;
    let mut out = Vec::with_capacity(terms.len());
    for (k, term) in terms.iter().enumerate() {
        let mut z = Vec::new();
        extend_basis(&mut z, &intercept);
        for (j, t) in terms.iter().enumerate() {
            if j != k {
                extend_basis(&mut z, &t.columns);
            }
        }
        let mut u = z.clone();
        let df = extend_basis(&mut u, &term.columns);
        if df == 0 {
            return Err(Error::Invalid(format!(
                "term '{}' is a combination of the other terms (aliased); it adds nothing to the model",
                term.name
            )));
        }
        let u = u.split_off(z.len());
        let ss: f64 = u.iter().map(|q| quadratic(&g, q)).sum();
        let f = (ss / df as f64) / (residual / df_res as f64);
        let p_value = (permutations > 0).then(|| {
            let g_r = residualised(&g, &z, n);
            let tr_r: f64 = (0..n).map(|i| g_r[i * n + i]).sum();
            // The intercept is orthogonal to G_r's rows, so only Z's other directions matter.
            let z_rest = &z[1..];
            let orders = permuted_orders(n, permutations, seed, strata);
            let threshold = f - tie_tolerance(0) * f.abs();
            let hits = orders
                .par_iter()
                .filter(|order| {
                    let permute =
                        |q: &Vec<f64>| -> Vec<f64> { order.iter().map(|&i| q[i]).collect() };
                    let explained: f64 = u.iter().map(|q| quadratic(&g_r, &permute(q))).sum();
                    let on_z: f64 = z_rest.iter().map(|q| quadratic(&g_r, &permute(q))).sum();
                    let rest = tr_r - on_z - explained;
                    let fp = (explained / df as f64) / (rest / df_res as f64);
                    fp >= threshold
                })
                .count();
            (hits + 1) as f64 / (permutations + 1) as f64
        });
        out.push(MarginalTerm {
            term: term.name.clone(),
            df,
            sum_of_squares: ss,
            r2: ss / total,
            f,
            p_value,
        });
    }
    Ok(MarginalPermanova {
        terms: out,
        residual_df: df_res,
        residual_sum_of_squares: residual,
        total_df: n - 1,
        total_sum_of_squares: total,
        sample_size: n,
        permutations,
        seed,
        strata: strata.map(|s| s.names.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permanova::{Grouping, permanova};

    fn line(xs: &[f64]) -> DistanceMatrix {
        let mut condensed = Vec::new();
        for i in 0..xs.len() {
            for j in (i + 1)..xs.len() {
                condensed.push((xs[i] - xs[j]).abs());
            }
        }
        DistanceMatrix::from_condensed((0..xs.len()).map(|i| format!("s{i}")).collect(), condensed)
            .expect("valid")
    }

    #[test]
    fn one_term_equals_one_way_permanova() {
        // With one categorical term the marginal F is the one-way pseudo-F, and R² is
        // SS_between / SS_total: for points 0, 1 | 5, 6 that is 25 / 26 (see permanova.rs).
        let dm = line(&[0.0, 1.0, 5.0, 6.0]);
        let term = ModelTerm {
            name: "group".into(),
            columns: vec![vec![0.0, 0.0, 1.0, 1.0]],
        };
        let m = permanova_margin(&dm, &[term], 0, 1, None).expect("ok");
        let one_way = permanova(
            &dm,
            &Grouping::from_values(&["a".into(), "a".into(), "b".into(), "b".into()]),
            0,
            1,
        )
        .expect("ok");
        assert!((m.terms[0].f - one_way.test_statistic).abs() < 1e-12);
        assert!((m.terms[0].r2 - 25.0 / 26.0).abs() < 1e-12);
        assert!((m.total_sum_of_squares - 26.0).abs() < 1e-12);
        assert_eq!((m.terms[0].df, m.residual_df, m.total_df), (1, 2, 3));
    }

    #[test]
    fn euclidean_margins_are_regression_sums_of_squares() {
        // On one-dimensional Euclidean distances, G = x̃ x̃ᵀ (x̃ centred), so a term's marginal
        // SS is the drop in the residual sum of squares of the linear regression of x on the
        // terms — computed here by hand from the normal equations of two small models.
        let x = [1.0, 2.0, 4.0, 3.0, 7.0, 8.0];
        let a = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let b = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0];
        let dm = line(&x);
        let terms = [
            ModelTerm {
                name: "a".into(),
                columns: vec![a.to_vec()],
            },
            ModelTerm {
                name: "b".into(),
                columns: vec![b.to_vec()],
            },
        ];
        let m = permanova_margin(&dm, &terms, 0, 0, None).expect("ok");
        // RSS of x ~ 1 + v for one regressor v.
        let rss1 = |v: &[f64]| {
            let (mv, mx) = (v.iter().sum::<f64>() / 6.0, x.iter().sum::<f64>() / 6.0);
            let sxy: f64 = v.iter().zip(&x).map(|(p, q)| (p - mv) * (q - mx)).sum();
            let sxx: f64 = v.iter().map(|p| (p - mv).powi(2)).sum();
            let syy: f64 = x.iter().map(|q| (q - mx).powi(2)).sum();
            syy - sxy * sxy / sxx
        };
        // a and b are orthogonal after centring (b repeats 1, 2, 3 in both halves), so the full
        // RSS is the total minus both single-regressor explained sums.
        let syy: f64 = {
            let mx = x.iter().sum::<f64>() / 6.0;
            x.iter().map(|q| (q - mx).powi(2)).sum()
        };
        let full_rss = syy - (syy - rss1(&a)) - (syy - rss1(&b));
        assert!((m.residual_sum_of_squares - full_rss).abs() < 1e-9);
        assert!((m.terms[0].sum_of_squares - (rss1(&b) - full_rss)).abs() < 1e-9);
        assert!((m.terms[1].sum_of_squares - (rss1(&a) - full_rss)).abs() < 1e-9);
        let f_a = (rss1(&b) - full_rss) / (full_rss / 3.0);
        assert!((m.terms[0].f - f_a).abs() < 1e-9 * f_a);
    }

    #[test]
    fn an_aliased_term_is_refused_by_name() {
        let dm = line(&[0.0, 1.0, 5.0, 6.0, 2.0]);
        let t = |name: &str| ModelTerm {
            name: name.into(),
            columns: vec![vec![0.0, 0.0, 1.0, 1.0, 0.0]],
        };
        let e = permanova_margin(&dm, &[t("group"), t("run")], 0, 0, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'group' is a combination"), "{e}");
    }

    #[test]
    fn permutations_are_seeded_and_a_strong_term_is_significant() {
        let xs: Vec<f64> = (0..24)
            .map(|i| {
                if i < 12 {
                    i as f64 * 0.1
                } else {
                    5.0 + i as f64 * 0.1
                }
            })
            .collect();
        let dm = line(&xs);
        let group: Vec<f64> = (0..24).map(|i| if i < 12 { 0.0 } else { 1.0 }).collect();
        let noise: Vec<f64> = (0..24).map(|i| ((i * 7) % 5) as f64).collect();
        let terms = [
            ModelTerm {
                name: "group".into(),
                columns: vec![group],
            },
            ModelTerm {
                name: "noise".into(),
                columns: vec![noise],
            },
        ];
        let a = permanova_margin(&dm, &terms, 199, 4, None).expect("ok");
        let b = permanova_margin(&dm, &terms, 199, 4, None).expect("ok");
        assert_eq!(a, b);
        assert_eq!(a.terms[0].p_value, Some(1.0 / 200.0));
        assert!(a.terms[1].p_value.expect("p") > 0.05);
    }
}

/// vegan 2.6-4's `adonis2(by = "margin")` on GESPIC's Bray–Curtis distances
/// (tests/data/golden/ecology/vegan_adonis2/, made by make_adonis2.R there).
#[cfg(test)]
mod vegan {
    use super::*;
    use gutjoint_table::{read_distance_file, read_metadata_file};
    use std::path::PathBuf;

    fn repo(path: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path)
    }

    #[test]
    fn four_term_margins_match_vegan_adonis2() {
        let dir = "tests/data/golden/ecology/vegan_adonis2";
        let dm = read_distance_file(&repo(&format!(
            "{dir}/gespic_axspa_healthy_braycurtis.lsmat.tsv"
        )))
        .expect("lsmat");
        let md = read_metadata_file(&repo("examples/data/gespic/gespic_metadata.tsv")).expect("md");
        let index = md.index();
        let value = |col: &str, id: &str| md.column(col).and_then(|c| c.text(index[id]));
        // Complete cases of group, SeqExp, age, sex, in matrix order.
        let keep: Vec<usize> = (0..dm.len())
            .filter(|&i| {
                ["group", "SeqExp", "age", "sex"]
                    .iter()
                    .all(|c| value(c, &dm.ids()[i]).is_some())
            })
            .collect();
        let dm = dm.select(&keep);
        let ids = dm.ids().to_vec();
        let column = |col: &str, f: &dyn Fn(&str) -> f64| -> Vec<f64> {
            ids.iter()
                .map(|id| f(&value(col, id).expect("value")))
                .collect()
        };
        let terms = [
            ModelTerm {
                name: "group".into(),
                columns: vec![column("group", &|v| f64::from(u8::from(v == "axSpA")))],
            },
            ModelTerm {
                name: "SeqExp".into(),
                columns: vec![column("SeqExp", &|v| f64::from(u8::from(v == "1")))],
            },
            ModelTerm {
                name: "age".into(),
                columns: vec![column("age", &|v| v.parse().expect("age"))],
            },
            ModelTerm {
                name: "sex".into(),
                columns: vec![column("sex", &|v| f64::from(u8::from(v == "2")))],
            },
        ];
        let ours = permanova_margin(&dm, &terms, 0, 0, None).expect("margins");
        let golden =
            std::fs::read_to_string(repo(&format!("{dir}/adonis2_margin.tsv"))).expect("golden");
        let rows: Vec<Vec<&str>> = golden
            .lines()
            .skip(1)
            .map(|l| l.split('\t').map(str::trim).collect())
            .filter(|r: &Vec<&str>| r[0] == "group + C(SeqExp) + age + C(sex)")
            .collect();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
        let num = |s: &str| s.parse::<f64>().expect("number");
        assert_eq!(rows.len(), 6);
        assert_eq!(num(rows[0][6]) as usize, ours.sample_size);
        for (row, t) in rows.iter().zip(&ours.terms) {
            assert_eq!(row[1], t.term);
            assert_eq!(num(row[2]) as usize, t.df);
            assert!(
                close(t.sum_of_squares, num(row[3])),
                "{} SS {} vs {}",
                t.term,
                t.sum_of_squares,
                row[3]
            );
            assert!(
                close(t.r2, num(row[4])),
                "{} R2 {} vs {}",
                t.term,
                t.r2,
                row[4]
            );
            assert!(
                close(t.f, num(row[5])),
                "{} F {} vs {}",
                t.term,
                t.f,
                row[5]
            );
        }
        assert!(close(ours.residual_sum_of_squares, num(rows[4][3])));
        assert_eq!(ours.residual_df, num(rows[4][2]) as usize);
        assert!(close(ours.total_sum_of_squares, num(rows[5][3])));
    }
}
