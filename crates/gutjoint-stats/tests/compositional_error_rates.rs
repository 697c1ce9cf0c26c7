/*!
Honest error rates of every differential-abundance method on count tables shaped like a therapy
study (docs/longitudinal.md, "Error rates of the differential-abundance methods"). Not a unit
test: it prints the table the docs quote. Run it with

    cargo test -p gutjoint-stats --test compositional_error_rates -- --ignored --nocapture

Simulation (seeded): subjects half treated, visits at time 0, 1, 2; 200 features whose log mean
abundance is N(0, 1.5²); per subject and feature a random level N(0, 0.5²) (the same gut sampled
again), per sample and feature noise N(0, 0.5²); counts Poisson around a library size drawn
uniformly in [5,000, 50,000]. Null: no feature differs. Power: 20 features (10%) get a
time × treated effect of +0.5 or −0.5 (natural log) per visit. Share of p < 0.05 over
features × data sets, per term, for lm and lmm (log10, the pseudocount of `da`), ANCOM-BC,
ANCOM-BC2 (both ignore the subjects: scikit-bio has no random effect for them) and
dirmult-lme (16 draws per data set to keep the run short; its p is the mean over draws, as in
scikit-bio).
*/

use gutjoint_numeric::Rng;
use gutjoint_stats::da::{Transform, default_pseudocount, linear_models};
use gutjoint_stats::dirmult::dirmult_lme;
use gutjoint_stats::lmm::{MixedModel, mixed_models};
use gutjoint_stats::{Adjust, Design, ancombc, ancombc2};
use gutjoint_table::{FeatureTable, Location};
use std::collections::BTreeMap;

struct Draws(Rng);

impl Draws {
    fn uniform(&mut self) -> f64 {
        ((self.0.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    /// Poisson(λ): by inversion below 30, normal approximation (rounded, ≥ 0) above.
    fn poisson(&mut self, lambda: f64) -> f64 {
        if lambda < 30.0 {
            let (limit, mut k, mut p) = ((-lambda).exp(), 0.0, 1.0);
            loop {
                p *= self.uniform();
                if p <= limit {
                    return k;
                }
                k += 1.0;
            }
        }
        (lambda + lambda.sqrt() * self.normal()).round().max(0.0)
    }
}

struct Study {
    table: FeatureTable,
    counts: Vec<Vec<f64>>,
    design: Design,
    subjects: Vec<String>,
    /// Features with a real time × treated effect.
    affected: Vec<bool>,
}

fn simulate(subjects: usize, effect: f64, seed: u64) -> Study {
    let (visits, m) = (3usize, 200usize);
    let mut rng = Draws(Rng::new(seed));
    let base: Vec<f64> = (0..m).map(|_| 1.5 * rng.normal()).collect();
    let affected: Vec<bool> = (0..m).map(|f| effect != 0.0 && f % 10 == 0).collect();
    let (mut counts, mut x, mut ids, mut subject_of) = (vec![], vec![], vec![], vec![]);
    for s in 0..subjects {
        let treated = if s % 2 == 0 { 1.0 } else { 0.0 };
        let level: Vec<f64> = (0..m).map(|_| 0.5 * rng.normal()).collect();
        for t in 0..visits {
            let t = t as f64;
            let log_mu: Vec<f64> = (0..m)
                .map(|f| {
                    let sign = if f % 20 == 0 { 1.0 } else { -1.0 };
                    let shift = if affected[f] {
                        sign * effect * t * treated
                    } else {
                        0.0
                    };
                    base[f] + level[f] + 0.5 * rng.normal() + shift
                })
                .collect();
            let top = log_mu.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let weights: Vec<f64> = log_mu.iter().map(|l| (l - top).exp()).collect();
            let total: f64 = weights.iter().sum();
            let depth = 5_000.0 + 45_000.0 * rng.uniform();
            counts.push(
                weights
                    .iter()
                    .map(|w| rng.poisson(depth * w / total))
                    .collect::<Vec<f64>>(),
            );
            x.extend([1.0, treated, t, t * treated]);
            ids.push(format!("s{s}t{t}"));
            subject_of.push(format!("s{s}"));
        }
    }
    let n = ids.len();
    let mut triplets = Vec::new();
    for (i, row) in counts.iter().enumerate() {
        for (f, &c) in row.iter().enumerate() {
            if c > 0.0 {
                triplets.push((i as u32, f as u32, c));
            }
        }
    }
    let table = FeatureTable::from_triplets(
        ids.clone(),
        (0..m).map(|f| format!("f{f}")).collect(),
        triplets,
        &Location::named("simulated"),
    )
    .expect("table");
    let design = Design {
        names: [
            "Intercept",
            "group[T.treated]",
            "time",
            "time:group[T.treated]",
        ]
        .map(String::from)
        .to_vec(),
        x,
        n,
        p: 4,
        sample_ids: ids,
        dropped: vec![],
        references: BTreeMap::new(),
    };
    Study {
        table,
        counts,
        design,
        subjects: subject_of,
        affected,
    }
}

/// (method, term) → (tests, p < 0.05) for null features, and (tests, hits) for affected ones.
type Tally = BTreeMap<(String, String), [usize; 4]>;

fn record(tally: &mut Tally, method: &str, rows: &[(String, String, f64)], study: &Study) {
    for (feature, term, p) in rows {
        if term == "Intercept" || !p.is_finite() {
            continue;
        }
        let f: usize = feature[1..].parse().expect("feature");
        let cell = tally
            .entry((method.to_string(), term.clone()))
            .or_insert([0; 4]);
        let k = if study.affected[f] { 2 } else { 0 };
        cell[k] += 1;
        cell[k + 1] += usize::from(*p < 0.05);
    }
}

fn run_all(study: &Study, tally: &mut Tally, seed: u64) {
    let pc = default_pseudocount(&study.table);
    let t = Transform::Log10 { pseudocount: pc };
    let rows = |c: &[gutjoint_stats::da::Coefficient]| -> Vec<(String, String, f64)> {
        c.iter()
            .map(|c| (c.feature.clone(), c.term.clone(), c.p))
            .collect()
    };
    let lm = linear_models(&study.table, &study.design, t, Adjust::Bh).expect("lm");
    record(tally, "lm", &rows(&lm), study);
    let lmm = mixed_models(
        &study.table,
        &study.design,
        &study.subjects,
        None,
        t,
        Adjust::Bh,
    )
    .expect("lmm");
    let lmm_rows: Vec<(String, String, f64)> = lmm
        .coefficients
        .iter()
        .map(|c| (c.feature.clone(), c.term.clone(), c.p))
        .collect();
    record(tally, "lmm", &lmm_rows, study);
    let a = ancombc::ancombc(
        &study.table,
        &study.design,
        1.0,
        ancombc::Options::default(),
    )
    .expect("ancombc");
    record(tally, "ancombc", &rows(&a.coefficients), study);
    let a2 = ancombc2::ancombc2(
        &study.table,
        &study.design,
        1.0,
        ancombc2::Options::default(),
    )
    .expect("ancombc2");
    record(tally, "ancombc2", &rows(&a2.coefficients), study);
    let model = MixedModel::new(&study.design, &study.subjects, None).expect("model");
    let d = dirmult_lme(
        &study.counts,
        study.table.feature_ids(),
        &model,
        0.5,
        16,
        seed,
        Adjust::Holm,
    )
    .expect("dirmult_lme");
    let d_rows: Vec<(String, String, f64)> = d
        .iter()
        .map(|r| (r.feature.clone(), r.term.clone(), r.p))
        .collect();
    record(tally, "dirmult-lme", &d_rows, study);
}

#[test]
#[ignore = "a simulation that prints the error-rate table of docs/longitudinal.md"]
fn error_rate_table() {
    let sets = 5u64;
    println!(
        "| subjects | effect | method | term | share p < 0.05 (null features) | power (affected) |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for subjects in [20usize, 40] {
        for effect in [0.0, 0.5] {
            let mut tally = Tally::new();
            for k in 0..sets {
                let seed = 1_000 * subjects as u64 + k + if effect > 0.0 { 500 } else { 0 };
                let study = simulate(subjects, effect, seed);
                run_all(&study, &mut tally, seed);
            }
            for ((method, term), [n0, h0, n1, h1]) in &tally {
                if effect > 0.0 && term != "time:group[T.treated]" {
                    continue;
                }
                let power = if *n1 > 0 {
                    format!("{:.3} ({h1}/{n1})", *h1 as f64 / *n1 as f64)
                } else {
                    "—".into()
                };
                println!(
                    "| {subjects} | {effect} | {method} | {term} | {:.4} ({h0}/{n0}) | {power} |",
                    *h0 as f64 / *n0 as f64
                );
            }
        }
    }
}
