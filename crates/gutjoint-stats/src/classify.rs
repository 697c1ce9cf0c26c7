/*!
Can the microbiome tell cases from controls in this cohort? Classifiers on CLR features with
honest, out-of-fold evaluation: a random forest (Breiman 2001, Mach Learn 45:5; CART trees with
Gini impurity, bootstrap samples, √p features tried per split, grown until pure, as
scikit-learn's `RandomForestClassifier` defaults) and L1-regularised logistic regression (the
objective of liblinear as scikit-learn calls it: ‖β‖₁ + C Σ log(1 + e^(−yᵢ xᵢ·β)), the
intercept a penalised constant feature; solved by Newton steps with coordinate descent, the
newGLMNET method liblinear itself uses, but run to convergence).

Evaluation: stratified k-fold cross-validation, repeated with different seeded splits; each
sample's out-of-fold probability is averaged over repeats (the SIAMCAT convention) and the
ROC AUC of those is reported with DeLong's 95% confidence interval (DeLong et al. 1988,
Biometrics 44:837; the midrank algorithm of Sun & Xu 2014, IEEE SPL 21:1389, as R's pROC).

Leave-one-group-out validation ([`leave_group_out`]) holds out one study, batch or country at
a time and trains on the rest, as SIAMCAT's cross-study validation (Wirbel et al. 2021, Genome
Biol 22:93): one AUC per held-out group, plus the pooled AUC of all held-out predictions. A
classifier that only learned the batch scores well within a cohort and poorly here.

Everything is seeded: the same data, model and seed give the same numbers on any thread count.
*/

use crate::correlation::ranks;
use crate::error::{Error, Result};
use gutjoint_numeric::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Samples × features, row-major, with binary labels.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub n: usize,
    pub p: usize,
    pub x: Vec<f64>,
    pub y: Vec<bool>,
}

impl Dataset {
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }

    /// The rows `rows`, in that order.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(rows.len() * self.p);
        for &r in rows {
            x.extend_from_slice(self.row(r));
        }
        Dataset {
            n: rows.len(),
            p: self.p,
            x,
            y: rows.iter().map(|&r| self.y[r]).collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "model")]
pub enum Model {
    RandomForest { trees: usize, seed: u64 },
    L1Logistic { c: f64 },
}

impl Model {
    pub fn name(&self) -> &'static str {
        match self {
            Model::RandomForest { .. } => "random_forest",
            Model::L1Logistic { .. } => "l1_logistic",
        }
    }
}

/// A fitted model's probabilities for the test rows and its per-feature importances (mean
/// decrease in Gini impurity for forests, coefficients for the logistic model).
#[derive(Debug, Clone)]
pub struct Fitted {
    pub probabilities: Vec<f64>,
    pub importances: Vec<f64>,
}

/// Fits `model` on `train` and predicts `test`.
pub fn fit_predict(model: Model, train: &Dataset, test: &Dataset) -> Result<Fitted> {
    let positives = train.y.iter().filter(|&&b| b).count();
    if positives == 0 || positives == train.n {
        return Err(Error::Invalid(format!(
            "a training set has only one class ({} samples, {positives} positive)",
            train.n
        )));
    }
    Ok(match model {
        Model::RandomForest { trees, seed } => forest(train, test, trees, seed),
        Model::L1Logistic { c } => l1_logistic(train, test, c),
    })
}

// ------------------------------------------------------------------------- random forest

/// One node of a CART tree; a leaf has `left == right == LEAF`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Node {
    feature: usize,
    threshold: f64,
    left: usize,
    right: usize,
    /// Weighted share of positives; used at leaves.
    value: f64,
}

/// A node not yet split or valued (a leaf until proven otherwise).
const UNGROWN: Node = Node {
    feature: 0,
    threshold: 0.0,
    left: LEAF,
    right: LEAF,
    value: 0.0,
};

const LEAF: usize = usize::MAX;

fn gini(pos: f64, total: f64) -> f64 {
    if total <= 0.0 {
        return 0.0;
    }
    let q = pos / total;
    2.0 * q * (1.0 - q)
}

/// One CART tree on the bootstrap weights `w`; adds its impurity decreases to `importance`.
fn grow_tree(data: &Dataset, w: &[f64], rng: &mut Rng, importance: &mut [f64]) -> Vec<Node> {
    let max_features = ((data.p as f64).sqrt() as usize).max(1);
    let total_w: f64 = w.iter().sum();
    let mut nodes: Vec<Node> = Vec::new();
    let rows: Vec<usize> = (0..data.n).filter(|&i| w[i] > 0.0).collect();
    // Work stack of (node index, rows of the node).
    nodes.push(UNGROWN);
    let mut stack = vec![(0usize, rows)];
    let mut features: Vec<usize> = (0..data.p).collect();
    let mut order: Vec<(f64, usize)> = Vec::new();
    while let Some((id, rows)) = stack.pop() {
        let (nw, npos) = rows.iter().fold((0.0, 0.0), |(a, b), &i| {
            (a + w[i], b + if data.y[i] { w[i] } else { 0.0 })
        });
        nodes[id].value = npos / nw;
        let impurity = gini(npos, nw);
        if rows.len() < 2 || impurity <= 1e-12 {
            continue;
        }
        // Try features in a random order until `max_features` non-constant ones were seen.
        let mut best: Option<(f64, usize, f64)> = None; // (child impurity sum, feature, threshold)
        let mut tried = 0;
        let mut k = 0;
        while k < data.p && tried < max_features {
            let j = k + rng.below((data.p - k) as u64) as usize;
            features.swap(k, j);
            let f = features[k];
            k += 1;
            order.clear();
            order.extend(rows.iter().map(|&i| (data.x[i * data.p + f], i)));
            order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            if order[0].0 == order[order.len() - 1].0 {
                continue;
            }
            tried += 1;
            let (mut lw, mut lpos) = (0.0, 0.0);
            for s in 0..order.len() - 1 {
                let i = order[s].1;
                lw += w[i];
                if data.y[i] {
                    lpos += w[i];
                }
                if order[s].0 == order[s + 1].0 {
                    continue;
                }
                let (rw, rpos) = (nw - lw, npos - lpos);
                let child = lw * gini(lpos, lw) + rw * gini(rpos, rw);
                if best.is_none_or(|b| child < b.0 - 1e-12) {
                    let t = order[s].0 / 2.0 + order[s + 1].0 / 2.0;
                    // Guard against a midpoint that rounds onto the upper value.
                    let t = if t >= order[s + 1].0 { order[s].0 } else { t };
                    best = Some((child, f, t));
                }
            }
        }
        let Some((child, f, t)) = best else { continue };
        importance[f] += (nw * impurity - child) / total_w;
        let (l, r): (Vec<usize>, Vec<usize>) =
            rows.iter().partition(|&&i| data.x[i * data.p + f] <= t);
        let (li, ri) = (nodes.len(), nodes.len() + 1);
        nodes.extend([UNGROWN, UNGROWN]);
        nodes[id].feature = f;
        nodes[id].threshold = t;
        nodes[id].left = li;
        nodes[id].right = ri;
        stack.push((ri, r));
        stack.push((li, l));
    }
    nodes
}

fn predict_tree(nodes: &[Node], row: &[f64]) -> f64 {
    let mut id = 0;
    while nodes[id].left != LEAF {
        id = if row[nodes[id].feature] <= nodes[id].threshold {
            nodes[id].left
        } else {
            nodes[id].right
        };
    }
    nodes[id].value
}

/// A grown random forest, kept so that a saved model can score new samples with the very trees
/// that were fitted (`gutjoint predict --save-model`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    /// Columns of the rows it was grown on (and must be given to score).
    pub features: usize,
    trees: Vec<Vec<Node>>,
}

impl Forest {
    /// Grows `trees` trees on `train`; returns the forest and each feature's mean decrease in
    /// impurity, normalised to sum to 1 (scikit-learn's `feature_importances_`).
    pub fn grow(train: &Dataset, trees: usize, seed: u64) -> (Forest, Vec<f64>) {
        let per_tree: Vec<(Vec<Node>, Vec<f64>)> = (0..trees)
            .into_par_iter()
            .map(|t| {
                // Each tree has its own stream, so results do not depend on scheduling.
                let mut rng = Rng::new(seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let mut w = vec![0.0; train.n];
                for _ in 0..train.n {
                    w[rng.below(train.n as u64) as usize] += 1.0;
                }
                let mut imp = vec![0.0; train.p];
                let nodes = grow_tree(train, &w, &mut rng, &mut imp);
                let total: f64 = imp.iter().sum();
                if total > 0.0 {
                    imp.iter_mut().for_each(|v| *v /= total);
                }
                (nodes, imp)
            })
            .collect();
        let mut importances = vec![0.0; train.p];
        for (_, imp) in &per_tree {
            importances.iter_mut().zip(imp).for_each(|(a, b)| *a += b);
        }
        let total: f64 = importances.iter().sum();
        if total > 0.0 {
            importances.iter_mut().for_each(|v| *v /= total);
        }
        let forest = Forest {
            features: train.p,
            trees: per_tree.into_iter().map(|(nodes, _)| nodes).collect(),
        };
        (forest, importances)
    }

    /// Mean of the trees' leaf values for one row of `features` columns (trees summed in order,
    /// so the same bytes as during cross-validation).
    pub fn probability(&self, row: &[f64]) -> f64 {
        let sum: f64 = self.trees.iter().map(|t| predict_tree(t, row)).sum();
        sum / self.trees.len() as f64
    }

    /// Whether any split uses each column (a column no tree uses can be absent when scoring).
    pub fn used_features(&self) -> Vec<bool> {
        let mut used = vec![false; self.features];
        for node in self.trees.iter().flatten() {
            if node.left != LEAF {
                used[node.feature] = true;
            }
        }
        used
    }

    /// Checks a forest read from a file: every child index inside its tree, every split column
    /// below `features`, so that scoring cannot index out of bounds or loop.
    pub fn check(&self) -> Result<()> {
        if self.trees.is_empty() {
            return Err(Error::Invalid("the forest has no trees".into()));
        }
        for (t, nodes) in self.trees.iter().enumerate() {
            if nodes.is_empty() {
                return Err(Error::Invalid(format!("tree {t} has no nodes")));
            }
            for (i, node) in nodes.iter().enumerate() {
                let leaf = node.left == LEAF && node.right == LEAF;
                // Children come after their parent (grown that way), so no path can cycle.
                let inside = |c: usize| c > i && c < nodes.len();
                let split_fits =
                    inside(node.left) && inside(node.right) && node.feature < self.features;
                if !leaf && !split_fits {
                    return Err(Error::Invalid(format!(
                        "tree {t}, node {i}: a split on column {} to nodes {} and {} does not fit \
                         a tree of {} nodes over {} columns",
                        node.feature,
                        node.left,
                        node.right,
                        nodes.len(),
                        self.features
                    )));
                }
                if leaf && !(0.0..=1.0).contains(&node.value) {
                    return Err(Error::Invalid(format!(
                        "tree {t}, node {i}: leaf value {} is not a probability",
                        node.value
                    )));
                }
            }
        }
        Ok(())
    }
}

fn forest(train: &Dataset, test: &Dataset, trees: usize, seed: u64) -> Fitted {
    let (forest, importances) = Forest::grow(train, trees, seed);
    Fitted {
        probabilities: (0..test.n)
            .map(|i| forest.probability(test.row(i)))
            .collect(),
        importances,
    }
}

// ------------------------------------------------------------------- L1 logistic model

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// log(1 + e^(−m)) without overflow.
fn logistic_loss(m: f64) -> f64 {
    if m > 0.0 {
        (-m).exp().ln_1p()
    } else {
        -m + m.exp().ln_1p()
    }
}

fn l1_logistic(train: &Dataset, test: &Dataset, c: f64) -> Fitted {
    let (n, p) = (train.n, train.p);
    let q = p + 1; // coefficients then the (penalised) intercept
    let s: Vec<f64> = train
        .y
        .iter()
        .map(|&b| if b { 1.0 } else { -1.0 })
        .collect();
    // Column-major copy, the intercept's column of ones last: coordinate descent walks columns.
    let mut columns = vec![1.0; q * n];
    for i in 0..n {
        for (j, v) in train.row(i).iter().enumerate() {
            columns[j * n + i] = *v;
        }
    }
    let column = |j: usize| &columns[j * n..(j + 1) * n];
    // Objective from the linear predictor xᵢ·β (`eta`).
    let objective = |beta: &[f64], eta: &[f64]| -> f64 {
        c * eta
            .iter()
            .zip(&s)
            .map(|(e, si)| logistic_loss(si * e))
            .sum::<f64>()
            + beta.iter().map(|b| b.abs()).sum::<f64>()
    };
    // Newton steps on the smooth part with coordinate descent on the penalised quadratic model
    // and a backtracking line search (newGLMNET; Yuan, Ho & Lin 2012, JMLR 13:1999 — the
    // method liblinear uses for this objective), run until the objective stops moving.
    let mut beta = vec![0.0; q];
    let mut eta = vec![0.0; n];
    let mut value = objective(&beta, &eta);
    let mut gradient = vec![0.0; q];
    let mut weights = vec![0.0; n];
    let mut residual = vec![0.0; n];
    for _ in 0..500 {
        for i in 0..n {
            let tail = sigmoid(-s[i] * eta[i]);
            residual[i] = -c * s[i] * tail;
            weights[i] = c * tail * (1.0 - tail) + 1e-12;
        }
        for (j, g) in gradient.iter_mut().enumerate() {
            *g = column(j).iter().zip(&residual).map(|(x, r)| x * r).sum();
        }
        let curvature: Vec<f64> = (0..q)
            .map(|j| {
                column(j)
                    .iter()
                    .zip(&weights)
                    .map(|(x, w)| w * x * x)
                    .sum::<f64>()
                    + 1e-12
            })
            .collect();
        // Coordinate descent on gᵀd + ½ dᵀXᵀWXd + ‖β + d‖₁.
        let mut d = vec![0.0; q];
        let mut xd = vec![0.0; n];
        for _ in 0..100 {
            let mut moved = 0.0f64;
            for j in 0..q {
                let xj = column(j);
                let b = gradient[j]
                    + xj.iter()
                        .zip(&weights)
                        .zip(&xd)
                        .map(|((x, w), v)| x * w * v)
                        .sum::<f64>();
                let a = curvature[j];
                let u = beta[j] + d[j];
                let z = if b + 1.0 <= a * u {
                    -(b + 1.0) / a
                } else if b - 1.0 >= a * u {
                    -(b - 1.0) / a
                } else {
                    -u
                };
                if z != 0.0 {
                    d[j] += z;
                    xd.iter_mut().zip(xj).for_each(|(v, x)| *v += z * x);
                    moved = moved.max(z.abs() * a.sqrt());
                }
            }
            if moved <= 1e-12 {
                break;
            }
        }
        let predicted = gradient.iter().zip(&d).map(|(g, d)| g * d).sum::<f64>()
            + beta
                .iter()
                .zip(&d)
                .map(|(b, d)| (b + d).abs() - b.abs())
                .sum::<f64>();
        if predicted >= 0.0 {
            break; // no descent direction left: at the optimum to rounding
        }
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            let trial: Vec<f64> = beta.iter().zip(&d).map(|(b, d)| b + step * d).collect();
            let trial_eta: Vec<f64> = eta.iter().zip(&xd).map(|(e, v)| e + step * v).collect();
            let trial_value = objective(&trial, &trial_eta);
            if trial_value - value <= 0.01 * step * predicted {
                accepted = Some((trial, trial_eta, trial_value));
                break;
            }
            step *= 0.5;
        }
        let Some((next, next_eta, next_value)) = accepted else {
            break;
        };
        let change = value - next_value;
        beta = next;
        eta = next_eta;
        value = next_value;
        if change <= 1e-15 * value.abs().max(1.0) {
            break;
        }
    }
    let probabilities = (0..test.n)
        .map(|i| {
            let row = test.row(i);
            sigmoid(row.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>() + beta[p])
        })
        .collect();
    beta.truncate(p);
    Fitted {
        probabilities,
        importances: beta,
    }
}

// ------------------------------------------------------------------------ evaluation

/// ROC AUC with DeLong's variance and a 95% confidence interval clipped to [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Auc {
    pub auc: f64,
    pub se: f64,
    pub ci: [f64; 2],
}

pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Result<Auc> {
    let c = delong_components(scores, labels)?;
    let (auc, m, n) = (c.auc, c.v10.len(), c.v01.len());
    let var = |v: &[f64]| -> f64 {
        if v.len() < 2 {
            return 0.0;
        }
        v.iter().map(|x| (x - auc).powi(2)).sum::<f64>() / (v.len() - 1) as f64
    };
    let se = (var(&c.v10) / m as f64 + var(&c.v01) / n as f64).sqrt();
    // 97.5th percentile of the standard normal.
    let z = 1.959_963_984_540_054;
    Ok(Auc {
        auc,
        se,
        ci: [(auc - z * se).max(0.0), (auc + z * se).min(1.0)],
    })
}

/// DeLong's structural components of an AUC: `v10[i]`, the share of negatives each positive
/// outscores (ties ½), and `v01[j]`, the share of positives that outscore each negative, in the
/// order the classes appear in `labels`. Their (co)variances give the AUC's variance and, for
/// two scores of the same samples, the paired test of DeLong et al. (1988).
#[derive(Debug, Clone, PartialEq)]
pub struct DelongComponents {
    pub auc: f64,
    pub v10: Vec<f64>,
    pub v01: Vec<f64>,
}

pub fn delong_components(scores: &[f64], labels: &[bool]) -> Result<DelongComponents> {
    let pos: Vec<f64> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l)
        .map(|(s, _)| *s)
        .collect();
    let neg: Vec<f64> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| !**l)
        .map(|(s, _)| *s)
        .collect();
    let (m, n) = (pos.len(), neg.len());
    if m == 0 || n == 0 {
        return Err(Error::Invalid(format!(
            "ROC AUC needs both classes ({m} positive, {n} negative)"
        )));
    }
    let all: Vec<f64> = pos.iter().chain(&neg).copied().collect();
    let r_all = ranks(&all);
    let r_pos = ranks(&pos);
    let r_neg = ranks(&neg);
    let v10: Vec<f64> = (0..m).map(|i| (r_all[i] - r_pos[i]) / n as f64).collect();
    let v01: Vec<f64> = (0..n)
        .map(|j| 1.0 - (r_all[m + j] - r_neg[j]) / m as f64)
        .collect();
    let auc = v10.iter().sum::<f64>() / m as f64;
    Ok(DelongComponents { auc, v10, v01 })
}

/// Stratified assignment of samples to `k` folds: each class shuffled with the seed and dealt
/// round-robin, so every fold holds the class proportions to within one sample.
pub fn stratified_folds(labels: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut fold = vec![0; labels.len()];
    let mut dealt = 0;
    for class in [true, false] {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rng.shuffle(&mut members);
        for i in members {
            fold[i] = dealt % k;
            dealt += 1;
        }
    }
    fold
}

#[derive(Debug, Clone, Serialize)]
pub struct CrossValidation {
    /// Out-of-fold probability per sample, averaged over repeats.
    pub probabilities: Vec<f64>,
    /// Fold of each sample in each repeat (`folds[r][i]`).
    pub folds: Vec<Vec<usize>>,
    /// AUC of the averaged out-of-fold probabilities, with DeLong's CI.
    pub auc: Auc,
    /// Pooled out-of-fold AUC of each repeat.
    pub repeat_auc: Vec<f64>,
    /// Importance of each feature averaged over all fits.
    pub importances: Vec<f64>,
    /// Share of fits in which a feature had a nonzero coefficient (logistic) or was used
    /// (forest).
    pub selected: Vec<f64>,
}

/// Leave-one-group-out folds: each sample's fold is the index of its group among the distinct
/// groups in sorted order, so the numbering does not depend on the samples' order. Returns the
/// fold of each sample and the group of each fold. The one group-fold assignment of the crate:
/// [`leave_group_out`] and [`crate::predict`]'s outer and inner folds both use it.
pub fn group_folds(groups: &[String]) -> (Vec<usize>, Vec<String>) {
    let mut names: Vec<String> = groups.to_vec();
    names.sort();
    names.dedup();
    let folds = groups
        .iter()
        .map(|g| names.binary_search(g).unwrap_or_default())
        .collect();
    (folds, names)
}

/// One held-out group of a leave-one-group-out validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldOutGroup {
    pub group: String,
    pub n: usize,
    pub n_positive: usize,
    /// AUC within the held-out group; `None` when it holds a single class (nothing to rank)
    /// or could not be predicted (see `note`).
    pub auc: Option<f64>,
    /// Why a group has no AUC or no predictions.
    pub note: Option<String>,
}

/// Leave-one-group-out validation (SIAMCAT's cross-study validation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupCrossValidation {
    /// Held-out probability per sample; `None` for a group that could not be held out.
    pub probabilities: Vec<Option<f64>>,
    pub groups: Vec<HeldOutGroup>,
    /// AUC of all held-out predictions together, with DeLong's 95% CI.
    pub pooled_auc: f64,
    pub pooled_auc_se: f64,
    pub pooled_auc_ci: [f64; 2],
    /// Samples that received a held-out prediction.
    pub n_predicted: usize,
    /// Importance of each feature averaged over the fits.
    pub importances: Vec<f64>,
    /// Share of the fits in which a feature had a nonzero importance.
    pub selected: Vec<f64>,
}

/// Trains on every group but one and predicts the one left out, for each group in turn.
/// `groups` holds one label per sample. A group whose complement lacks a class cannot be held
/// out (the model would see one class only): it is reported with a note and no predictions.
pub fn leave_group_out(
    data: &Dataset,
    model: Model,
    groups: &[String],
) -> Result<GroupCrossValidation> {
    if groups.len() != data.n {
        return Err(Error::Invalid(format!(
            "{} group labels for {} samples",
            groups.len(),
            data.n
        )));
    }
    let (folds, names) = group_folds(groups);
    if names.len() < 2 {
        return Err(Error::Invalid(format!(
            "leave-one-group-out needs at least two groups; every sample is in '{}'",
            names.first().map_or("", String::as_str)
        )));
    }
    /// A held-out group with its test rows and fit, when it could be held out.
    type HeldOutFit = (HeldOutGroup, Option<(Vec<usize>, Fitted)>);
    let fits: Vec<HeldOutFit> = names
        .par_iter()
        .enumerate()
        .map(|(k, name)| -> Result<_> {
            let test: Vec<usize> = (0..data.n).filter(|&i| folds[i] == k).collect();
            let train: Vec<usize> = (0..data.n).filter(|&i| folds[i] != k).collect();
            let n_positive = test.iter().filter(|&&i| data.y[i]).count();
            let train_positive = train.iter().filter(|&&i| data.y[i]).count();
            let mut held = HeldOutGroup {
                group: name.clone(),
                n: test.len(),
                n_positive,
                auc: None,
                note: None,
            };
            if train_positive == 0 || train_positive == train.len() {
                held.note = Some(format!(
                    "not held out: the other groups hold only {} samples, so a model trained on them sees one class",
                    if train_positive == 0 { "negative" } else { "positive" }
                ));
                return Ok((held, None));
            }
            let model = match model {
                Model::RandomForest { trees, seed } => Model::RandomForest {
                    trees,
                    seed: seed.wrapping_add(k as u64),
                },
                other => other,
            };
            let fit = fit_predict(model, &data.subset(&train), &data.subset(&test))
                .map_err(|e| Error::Invalid(format!("holding out '{name}': {e}")))?;
            if n_positive == 0 || n_positive == test.len() {
                held.note = Some("one class only in this group: no AUC within it (its predictions count in the pooled AUC)".into());
            } else {
                let labels: Vec<bool> = test.iter().map(|&i| data.y[i]).collect();
                held.auc = Some(roc_auc(&fit.probabilities, &labels)?.auc);
            }
            Ok((held, Some((test, fit))))
        })
        .collect::<Result<_>>()?;
    let mut probabilities = vec![None; data.n];
    let mut importances = vec![0.0; data.p];
    let mut selected = vec![0.0; data.p];
    let mut fitted = 0usize;
    let mut held_out = Vec::new();
    for (held, fit) in fits {
        if let Some((test, fit)) = fit {
            for (&i, p) in test.iter().zip(&fit.probabilities) {
                probabilities[i] = Some(*p);
            }
            for (j, v) in fit.importances.iter().enumerate() {
                importances[j] += v;
                selected[j] += f64::from(u8::from(*v != 0.0));
            }
            fitted += 1;
        }
        held_out.push(held);
    }
    let predicted: Vec<usize> = (0..data.n)
        .filter(|&i| probabilities[i].is_some())
        .collect();
    let scores: Vec<f64> = predicted.iter().filter_map(|&i| probabilities[i]).collect();
    let labels: Vec<bool> = predicted.iter().map(|&i| data.y[i]).collect();
    let pooled = roc_auc(&scores, &labels).map_err(|e| {
        Error::Invalid(format!(
            "no pooled AUC over the held-out groups: {e} (is the class fully explained by the grouping?)"
        ))
    })?;
    importances
        .iter_mut()
        .for_each(|v| *v /= fitted.max(1) as f64);
    Ok(GroupCrossValidation {
        probabilities,
        groups: held_out,
        pooled_auc: pooled.auc,
        pooled_auc_se: pooled.se,
        pooled_auc_ci: pooled.ci,
        n_predicted: predicted.len(),
        importances,
        selected,
    })
}

/// Cross-validates `model` over the given fold assignments (one per repeat).
pub fn cross_validate(
    data: &Dataset,
    model: Model,
    folds: Vec<Vec<usize>>,
) -> Result<CrossValidation> {
    // Every (repeat, fold) fit is independent: fit them in parallel, then combine in order, so
    // the sums are the same bytes on any thread count.
    let jobs: Vec<(usize, usize)> = folds
        .iter()
        .enumerate()
        .flat_map(|(r, assignment)| {
            let k = assignment.iter().copied().max().map_or(0, |m| m + 1);
            (0..k).map(move |f| (r, f))
        })
        .collect();
    let fitted: Vec<Option<(Vec<usize>, Fitted)>> = jobs
        .par_iter()
        .map(|&(r, f)| -> Result<Option<(Vec<usize>, Fitted)>> {
            let assignment = &folds[r];
            let test: Vec<usize> = (0..data.n).filter(|&i| assignment[i] == f).collect();
            if test.is_empty() {
                return Ok(None);
            }
            let train: Vec<usize> = (0..data.n).filter(|&i| assignment[i] != f).collect();
            let model = match model {
                Model::RandomForest { trees, seed } => Model::RandomForest {
                    trees,
                    seed: seed.wrapping_add((r * 1000 + f) as u64),
                },
                other => other,
            };
            let fit = fit_predict(model, &data.subset(&train), &data.subset(&test))
                .map_err(|e| Error::Invalid(format!("repeat {}, fold {}: {e}", r + 1, f)))?;
            Ok(Some((test, fit)))
        })
        .collect::<Result<_>>()?;
    let mut sum = vec![0.0; data.n];
    let mut importances = vec![0.0; data.p];
    let mut selected = vec![0.0; data.p];
    let mut repeat_auc = Vec::new();
    let mut fits = 0usize;
    let mut oof = vec![f64::NAN; data.n];
    for (index, (&(r, _), result)) in jobs.iter().zip(&fitted).enumerate() {
        if let Some((test, fit)) = result {
            for (&i, p) in test.iter().zip(&fit.probabilities) {
                oof[i] = *p;
            }
            for j in 0..data.p {
                importances[j] += fit.importances[j];
                if fit.importances[j] != 0.0 {
                    selected[j] += 1.0;
                }
            }
            fits += 1;
        }
        let repeat_done = jobs.get(index + 1).is_none_or(|next| next.0 != r);
        if repeat_done {
            repeat_auc.push(roc_auc(&oof, &data.y)?.auc);
            sum.iter_mut().zip(&oof).for_each(|(a, b)| *a += b);
            oof = vec![f64::NAN; data.n];
        }
    }
    let probabilities: Vec<f64> = sum.iter().map(|v| v / folds.len() as f64).collect();
    let auc = roc_auc(&probabilities, &data.y)?;
    importances.iter_mut().for_each(|v| *v /= fits as f64);
    selected.iter_mut().for_each(|v| *v /= fits as f64);
    Ok(CrossValidation {
        probabilities,
        folds,
        auc,
        repeat_auc,
        importances,
        selected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-derived: positives {0.9, 0.8, 0.4}, negatives {0.5, 0.3, 0.4}. Pairs won: 0.9 and
    /// 0.8 beat all three (6), 0.4 beats 0.3 (1) and ties 0.4 (0.5): AUC = 7.5 / 9.
    /// DeLong components: V10 = (1, 1, 0.5) ; V01 (share of positives above each negative) =
    /// (2/3, 1, 2.5/3). S10 = Σ(V10 − A)²/2, S01 likewise; var = S10/3 + S01/3.
    #[test]
    fn auc_and_delong_by_hand() {
        let scores = [0.9, 0.8, 0.4, 0.5, 0.3, 0.4];
        let labels = [true, true, true, false, false, false];
        let a = roc_auc(&scores, &labels).unwrap();
        let auc = 7.5 / 9.0;
        assert!((a.auc - auc).abs() < 1e-15);
        let v10 = [1.0, 1.0, 0.5];
        let v01 = [2.0 / 3.0, 1.0, 2.5 / 3.0];
        let s = |v: &[f64]| v.iter().map(|x| (x - auc) * (x - auc)).sum::<f64>() / 2.0;
        let se = (s(&v10) / 3.0 + s(&v01) / 3.0).sqrt();
        assert!((a.se - se).abs() < 1e-15, "{} vs {se}", a.se);
        assert!((a.ci[0] - (auc - 1.959963984540054 * se)).abs() < 1e-12);
        assert_eq!(a.ci[1], 1.0);
    }

    #[test]
    fn leave_group_out_scores_each_held_out_group() {
        // Feature 0 carries the label in every study; study "c" holds positives only. Each
        // study's AUC must equal the AUC of its own held-out probabilities, and the pooled AUC
        // that of all of them.
        let mut rng = Rng::new(5);
        let n = 60;
        let p = 4;
        let groups: Vec<String> = (0..n)
            .map(|i| {
                ["a", "b", "c"][if i < 24 {
                    0
                } else if i < 48 {
                    1
                } else {
                    2
                }]
                .to_string()
            })
            .collect();
        let y: Vec<bool> = (0..n)
            .map(|i| if i >= 48 { true } else { i % 2 == 0 })
            .collect();
        let x: Vec<f64> = (0..n * p)
            .map(|k| {
                let noise = rng.below(1000) as f64 / 1000.0;
                if k % p == 0 && y[k / p] {
                    noise + 0.7
                } else {
                    noise
                }
            })
            .collect();
        let data = Dataset { n, p, x, y };
        let cv = leave_group_out(&data, Model::L1Logistic { c: 1.0 }, &groups).unwrap();
        assert_eq!(cv.groups.len(), 3);
        for g in &cv.groups[..2] {
            let rows: Vec<usize> = (0..n).filter(|&i| groups[i] == g.group).collect();
            let scores: Vec<f64> = rows.iter().map(|&i| cv.probabilities[i].unwrap()).collect();
            let labels: Vec<bool> = rows.iter().map(|&i| data.y[i]).collect();
            assert_eq!(g.auc, Some(roc_auc(&scores, &labels).unwrap().auc));
            assert!(g.auc.unwrap() > 0.9, "{g:?}");
        }
        assert_eq!(cv.groups[2].auc, None);
        assert!(
            cv.groups[2]
                .note
                .as_deref()
                .unwrap()
                .contains("one class only")
        );
        let all: Vec<f64> = cv.probabilities.iter().map(|p| p.unwrap()).collect();
        assert_eq!(cv.pooled_auc, roc_auc(&all, &data.y).unwrap().auc);
        // Study "x" holds positives only: holding out "y" leaves a one-class training set, and
        // the only held-out predictions (of "x") are all positive, so there is no pooled AUC.
        let two: Vec<String> = (0..n)
            .map(|i| if i % 2 == 0 && i < 48 { "x" } else { "y" }.to_string())
            .collect();
        let y2: Vec<bool> = (0..n).map(|i| !(i % 2 == 1 && i < 48)).collect();
        let data2 = Dataset {
            y: y2,
            ..data.clone()
        };
        let e = leave_group_out(&data2, Model::L1Logistic { c: 1.0 }, &two)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no pooled AUC"), "{e}");
    }

    #[test]
    fn folds_are_stratified_and_seeded() {
        let labels: Vec<bool> = (0..23).map(|i| i % 3 == 0).collect();
        let f = stratified_folds(&labels, 5, 7);
        assert_eq!(f, stratified_folds(&labels, 5, 7));
        for k in 0..5 {
            let pos = (0..23).filter(|&i| f[i] == k && labels[i]).count();
            assert!((1..=2).contains(&pos), "fold {k}: {pos} positives of 8");
        }
    }

    #[test]
    fn forest_separates_a_clean_signal() {
        // Feature 0 is the label plus noise; features 1..9 are noise.
        let mut rng = Rng::new(3);
        let n = 80;
        let p = 10;
        let y: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
        let x: Vec<f64> = (0..n * p)
            .map(|k| {
                let noise = rng.below(1000) as f64 / 1000.0;
                if k % p == 0 && y[k / p] {
                    noise + 0.8
                } else {
                    noise
                }
            })
            .collect();
        let data = Dataset { n, p, x, y };
        let folds = vec![stratified_folds(&data.y, 5, 1)];
        let cv = cross_validate(
            &data,
            Model::RandomForest {
                trees: 100,
                seed: 1,
            },
            folds.clone(),
        )
        .unwrap();
        assert!(cv.auc.auc > 0.9, "{}", cv.auc.auc);
        let top = (0..p).max_by(|&a, &b| cv.importances[a].total_cmp(&cv.importances[b]));
        assert_eq!(top, Some(0));
        let lr = cross_validate(&data, Model::L1Logistic { c: 1.0 }, folds).unwrap();
        assert!(lr.auc.auc > 0.9, "{}", lr.auc.auc);
    }

    /// The optimum of the L1 problem satisfies its optimality conditions: for each coordinate,
    /// |∂smooth/∂βⱼ| ≤ 1 where βⱼ = 0 and ∂smooth/∂βⱼ = −sign(βⱼ) elsewhere.
    #[test]
    fn l1_logistic_reaches_the_optimum() {
        let mut rng = Rng::new(11);
        let (n, p) = (60, 8);
        let x: Vec<f64> = (0..n * p)
            .map(|_| rng.below(2000) as f64 / 1000.0 - 1.0)
            .collect();
        let y: Vec<bool> = (0..n)
            .map(|i| x[i * p] + 0.5 * x[i * p + 1] > 0.1)
            .collect();
        let data = Dataset { n, p, x, y };
        let c = 0.5;
        let fitted = l1_logistic(&data, &data, c);
        // Recover the intercept from a probability: logit(p0) − x0·β.
        let beta = &fitted.importances;
        let z0 = (fitted.probabilities[0] / (1.0 - fitted.probabilities[0])).ln();
        let b0 = z0
            - data
                .row(0)
                .iter()
                .zip(beta)
                .map(|(a, b)| a * b)
                .sum::<f64>();
        let mut full = beta.clone();
        full.push(b0);
        for (j, fj) in full.iter().enumerate() {
            let mut g = 0.0;
            for i in 0..n {
                let s = if data.y[i] { 1.0 } else { -1.0 };
                let xij = if j == p { 1.0 } else { data.row(i)[j] };
                let m = s
                    * (data
                        .row(i)
                        .iter()
                        .zip(beta)
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        + b0);
                g += -c * s * xij * sigmoid(-m);
            }
            if *fj == 0.0 {
                assert!(g.abs() <= 1.0 + 1e-6, "coordinate {j}: |g| = {}", g.abs());
            } else {
                assert!((g + fj.signum()).abs() < 1e-5, "coordinate {j}: g = {g}");
            }
        }
        assert!(beta[0] > 0.0);
    }
}
