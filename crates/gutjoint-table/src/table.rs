/*!
The feature table: samples × features, sparse, stored sample-major.

Microbiome tables are mostly zeros (95% is common), and almost every analysis walks one
sample at a time (a sample's diversity, the distance between two samples), so the table is
kept as compressed sparse rows by sample (CSR): for sample `i` the nonzero features are
`indices[indptr[i]..indptr[i + 1]]`, sorted ascending, with their `values` beside them.
*/

use crate::error::{Error, Location, Result};
use crate::lineage::{Lineage, Rank};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What the numbers in a table are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    /// Whole-number read or sequence counts: rarefaction and Chao1 are meaningful.
    Counts,
    /// Proportions or percentages (MetaPhlAn, already-normalised tables).
    Relative,
}

impl ValueKind {
    /// Decides from the values: all whole numbers means counts.
    pub fn infer(values: &[f64]) -> ValueKind {
        if values.iter().all(|v| v.fract() == 0.0) {
            ValueKind::Counts
        } else {
            ValueKind::Relative
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Counts => "counts",
            ValueKind::Relative => "relative",
        }
    }
}

/// A validated samples × features table. Construct it with [`FeatureTable::from_triplets`],
/// [`FeatureTable::from_feature_rows`] or [`FeatureTable::from_csr`]; every constructor checks
/// that ids are unique and values are finite and non-negative.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    sample_ids: Vec<String>,
    feature_ids: Vec<String>,
    lineages: Option<Vec<Lineage>>,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
    kind: ValueKind,
}

impl FeatureTable {
    /// Builds from sample-major CSR arrays, checking every invariant.
    pub fn from_csr(
        sample_ids: Vec<String>,
        feature_ids: Vec<String>,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f64>,
        origin: &Location,
    ) -> Result<FeatureTable> {
        check_unique(&sample_ids, "sample", origin)?;
        check_unique(&feature_ids, "feature", origin)?;
        if indptr.len() != sample_ids.len() + 1 {
            return Err(Error::invalid(
                origin,
                format!(
                    "index pointer has {} entries, expected {} (samples + 1)",
                    indptr.len(),
                    sample_ids.len() + 1
                ),
            ));
        }
        if indices.len() != values.len()
            || indptr.last().copied() != Some(values.len())
            || indptr[0] != 0
        {
            return Err(Error::invalid(
                origin,
                "index pointer, indices and values disagree in length",
            ));
        }
        let n_features = feature_ids.len();
        let mut table = FeatureTable {
            sample_ids,
            feature_ids,
            lineages: None,
            indptr,
            indices,
            values,
            kind: ValueKind::Counts,
        };
        for s in 0..table.sample_ids.len() {
            let (lo, hi) = (table.indptr[s], table.indptr[s + 1]);
            if lo > hi || hi > table.values.len() {
                return Err(Error::invalid(
                    origin,
                    format!("index pointer decreases at sample {}", table.sample_ids[s]),
                ));
            }
            let mut previous: Option<u32> = None;
            for k in lo..hi {
                let f = table.indices[k];
                if f as usize >= n_features {
                    return Err(Error::invalid(
                        origin,
                        format!(
                            "feature index {f} out of range (table has {n_features} features) in sample {}",
                            table.sample_ids[s]
                        ),
                    ));
                }
                if previous.is_some_and(|p| p >= f) {
                    return Err(Error::invalid(
                        origin,
                        format!(
                            "feature indices of sample {} are not strictly increasing",
                            table.sample_ids[s]
                        ),
                    ));
                }
                previous = Some(f);
                check_value(table.values[k], origin, || {
                    format!(
                        "sample {}, feature {}",
                        table.sample_ids[s], table.feature_ids[f as usize]
                    )
                })?;
            }
        }
        table.drop_explicit_zeros();
        table.kind = ValueKind::infer(&table.values);
        Ok(table)
    }

    /// Builds from (sample, feature, value) triplets in any order; duplicates are an error.
    pub fn from_triplets(
        sample_ids: Vec<String>,
        feature_ids: Vec<String>,
        mut triplets: Vec<(u32, u32, f64)>,
        origin: &Location,
    ) -> Result<FeatureTable> {
        triplets.sort_unstable_by_key(|t| (t.0, t.1));
        if let Some(w) = triplets
            .windows(2)
            .find(|w| w[0].0 == w[1].0 && w[0].1 == w[1].1)
        {
            let (s, f) = (w[0].0 as usize, w[0].1 as usize);
            return Err(Error::invalid(
                origin,
                format!(
                    "two values for sample {} and feature {}",
                    sample_ids.get(s).map_or("?", String::as_str),
                    feature_ids.get(f).map_or("?", String::as_str)
                ),
            ));
        }
        let n = sample_ids.len();
        if let Some(t) = triplets.iter().find(|t| t.0 as usize >= n) {
            return Err(Error::invalid(
                origin,
                format!("sample index {} out of range (table has {n} samples)", t.0),
            ));
        }
        let mut indptr = vec![0usize; n + 1];
        for t in &triplets {
            indptr[t.0 as usize + 1] += 1;
        }
        for i in 0..n {
            indptr[i + 1] += indptr[i];
        }
        let indices = triplets.iter().map(|t| t.1).collect();
        let values = triplets.iter().map(|t| t.2).collect();
        FeatureTable::from_csr(sample_ids, feature_ids, indptr, indices, values, origin)
    }

    /// Builds from feature-major sparse rows (the layout of text tables and BIOM's
    /// observation matrix): `rows[f]` lists `(sample, value)` pairs, samples ascending.
    pub fn from_feature_rows(
        sample_ids: Vec<String>,
        feature_ids: Vec<String>,
        feature_indptr: &[usize],
        sample_indices: &[u32],
        values: &[f64],
        origin: &Location,
    ) -> Result<FeatureTable> {
        let n_samples = sample_ids.len();
        if feature_indptr.len() != feature_ids.len() + 1
            || feature_indptr.first() != Some(&0)
            || feature_indptr.last() != Some(&values.len())
            || sample_indices.len() != values.len()
        {
            return Err(Error::invalid(
                origin,
                "observation index pointer, indices and values disagree in length",
            ));
        }
        let mut counts = vec![0usize; n_samples + 1];
        for &s in sample_indices {
            if s as usize >= n_samples {
                return Err(Error::invalid(
                    origin,
                    format!("sample index {s} out of range (table has {n_samples} samples)"),
                ));
            }
            counts[s as usize + 1] += 1;
        }
        for i in 0..n_samples {
            counts[i + 1] += counts[i];
        }
        let indptr = counts.clone();
        let mut next = counts;
        let mut indices = vec![0u32; values.len()];
        let mut out_values = vec![0f64; values.len()];
        let mut ascending = true;
        for f in 0..feature_ids.len() {
            let (lo, hi) = (feature_indptr[f], feature_indptr[f + 1]);
            if lo > hi {
                return Err(Error::invalid(
                    origin,
                    format!(
                        "observation index pointer decreases at feature {}",
                        feature_ids[f]
                    ),
                ));
            }
            ascending &= sample_indices[lo..hi].windows(2).all(|w| w[0] < w[1]);
        }
        let mut place = |f: usize, k: usize| {
            let s = sample_indices[k] as usize;
            let slot = next[s];
            next[s] += 1;
            indices[slot] = f as u32;
            out_values[slot] = values[k];
        };
        if ascending {
            // Tile by samples, so that the slots being written (a few thousand samples' rows)
            // stay in cache while every feature adds its entries for those samples; scattering
            // a whole feature row at a time missed the cache on nearly every write (measured:
            // a quarter of reading a dense 100,000-sample table).
            // A tile ends where its rows reach TILE values (~400 kB of slots), at least one
            // sample long.
            const TILE: usize = 32_768;
            let mut cursor: Vec<usize> = feature_indptr[..feature_ids.len()].to_vec();
            let mut tile_end = 0;
            while tile_end < n_samples {
                let start = indptr[tile_end];
                tile_end += 1;
                while tile_end < n_samples && indptr[tile_end + 1] - start <= TILE {
                    tile_end += 1;
                }
                for (f, at) in cursor.iter_mut().enumerate() {
                    let hi = feature_indptr[f + 1];
                    while *at < hi && (sample_indices[*at] as usize) < tile_end {
                        place(f, *at);
                        *at += 1;
                    }
                }
            }
        } else {
            for f in 0..feature_ids.len() {
                for k in feature_indptr[f]..feature_indptr[f + 1] {
                    place(f, k);
                }
            }
        }
        FeatureTable::from_csr(sample_ids, feature_ids, indptr, indices, out_values, origin)
    }

    /// [`from_feature_rows`](FeatureTable::from_feature_rows) taking ownership, transposing in
    /// place: elements are moved to their sample-major slots by following the permutation's
    /// cycles, so the peak memory is the table plus one `u32` per value instead of two tables
    /// (what lets a 1 GB text table be read within 2× of its sparse size).
    pub fn from_feature_rows_owned(
        sample_ids: Vec<String>,
        feature_ids: Vec<String>,
        feature_indptr: &[usize],
        mut sample_indices: Vec<u32>,
        mut values: Vec<f64>,
        origin: &Location,
    ) -> Result<FeatureTable> {
        let nnz = values.len();
        let n_samples = sample_ids.len();
        if nnz > u32::MAX as usize
            || feature_indptr.len() != feature_ids.len() + 1
            || feature_indptr.last() != Some(&nnz)
            || sample_indices.len() != nnz
            || sample_indices.iter().any(|&s| s as usize >= n_samples)
        {
            return FeatureTable::from_feature_rows(
                sample_ids,
                feature_ids,
                feature_indptr,
                &sample_indices,
                &values,
                origin,
            );
        }
        let mut indptr = vec![0usize; n_samples + 1];
        for &s in &sample_indices {
            indptr[s as usize + 1] += 1;
        }
        for i in 0..n_samples {
            indptr[i + 1] += indptr[i];
        }
        let mut next = indptr.clone();
        let mut dest = vec![0u32; nnz];
        for (k, &s) in sample_indices.iter().enumerate() {
            dest[k] = next[s as usize] as u32;
            next[s as usize] += 1;
        }
        drop(next);
        // Reuse the sample-index buffer for each element's feature index.
        for f in 0..feature_ids.len() {
            for slot in &mut sample_indices[feature_indptr[f]..feature_indptr[f + 1]] {
                *slot = f as u32;
            }
        }
        let mut features = sample_indices;
        let mut visited = vec![0u64; nnz.div_ceil(64)];
        for start in 0..nnz {
            if visited[start / 64] >> (start % 64) & 1 == 1 {
                continue;
            }
            let mut carry = (values[start], features[start]);
            let mut at = start;
            loop {
                let to = dest[at] as usize;
                visited[to / 64] |= 1 << (to % 64);
                std::mem::swap(&mut carry.0, &mut values[to]);
                std::mem::swap(&mut carry.1, &mut features[to]);
                at = to;
                if to == start {
                    break;
                }
            }
        }
        drop(dest);
        drop(visited);
        FeatureTable::from_csr(sample_ids, feature_ids, indptr, features, values, origin)
    }

    fn drop_explicit_zeros(&mut self) {
        if !self.values.contains(&0.0) {
            return;
        }
        let mut write = 0;
        let mut new_indptr = Vec::with_capacity(self.indptr.len());
        new_indptr.push(0);
        for s in 0..self.sample_ids.len() {
            for k in self.indptr[s]..self.indptr[s + 1] {
                if self.values[k] != 0.0 {
                    self.values[write] = self.values[k];
                    self.indices[write] = self.indices[k];
                    write += 1;
                }
            }
            new_indptr.push(write);
        }
        self.values.truncate(write);
        self.indices.truncate(write);
        self.indptr = new_indptr;
    }

    /// Attaches one lineage per feature (in feature order).
    pub fn with_lineages(mut self, lineages: Vec<Lineage>) -> Result<FeatureTable> {
        if lineages.len() != self.feature_ids.len() {
            return Err(Error::invalid(
                &Location::named("taxonomy"),
                format!(
                    "{} lineages for {} features",
                    lineages.len(),
                    self.feature_ids.len()
                ),
            ));
        }
        self.lineages = if lineages.iter().all(Lineage::is_empty) {
            None
        } else {
            Some(lineages)
        };
        Ok(self)
    }

    /// Overrides the inferred value kind (e.g. MetaPhlAn percentages that happen to be whole).
    #[must_use]
    pub fn with_kind(mut self, kind: ValueKind) -> FeatureTable {
        self.kind = kind;
        self
    }

    pub fn sample_ids(&self) -> &[String] {
        &self.sample_ids
    }
    pub fn feature_ids(&self) -> &[String] {
        &self.feature_ids
    }
    pub fn n_samples(&self) -> usize {
        self.sample_ids.len()
    }
    pub fn n_features(&self) -> usize {
        self.feature_ids.len()
    }
    pub fn nnz(&self) -> usize {
        self.values.len()
    }
    pub fn kind(&self) -> ValueKind {
        self.kind
    }
    pub fn lineages(&self) -> Option<&[Lineage]> {
        self.lineages.as_deref()
    }
    /// The lineage of feature `f`: the attached one, else one parsed from its id.
    pub fn lineage(&self, f: usize) -> Lineage {
        match &self.lineages {
            Some(l) => l[f].clone(),
            None => Lineage::from_feature_id(&self.feature_ids[f]),
        }
    }
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The nonzero features of sample `s` and their values.
    pub fn sample(&self, s: usize) -> (&[u32], &[f64]) {
        let (lo, hi) = (self.indptr[s], self.indptr[s + 1]);
        (&self.indices[lo..hi], &self.values[lo..hi])
    }

    /// Sum of sample `s`'s values (its depth, for counts).
    pub fn sample_total(&self, s: usize) -> f64 {
        self.sample(s).1.iter().sum()
    }

    /// Sum of all values.
    pub fn total(&self) -> f64 {
        self.values.iter().sum()
    }

    /// Value of one cell (binary search in the sample's row).
    pub fn get(&self, s: usize, f: usize) -> f64 {
        let (idx, vals) = self.sample(s);
        match idx.binary_search(&(f as u32)) {
            Ok(k) => vals[k],
            Err(_) => 0.0,
        }
    }

    /// Number of samples in which each feature is nonzero.
    pub fn feature_prevalence(&self) -> Vec<usize> {
        let mut present = vec![0usize; self.n_features()];
        for &f in &self.indices {
            present[f as usize] += 1;
        }
        present
    }

    /// Dense copy of sample `s` (length = number of features).
    pub fn dense_sample(&self, s: usize) -> Vec<f64> {
        let mut row = vec![0.0; self.n_features()];
        let (idx, vals) = self.sample(s);
        for (f, v) in idx.iter().zip(vals) {
            row[*f as usize] = *v;
        }
        row
    }

    /// Feature-major copy: (indptr by feature, sample indices, values), what BIOM's
    /// observation matrix and text writers want.
    pub fn to_feature_major(&self) -> (Vec<usize>, Vec<u32>, Vec<f64>) {
        let n_f = self.n_features();
        let mut indptr = vec![0usize; n_f + 1];
        for &f in &self.indices {
            indptr[f as usize + 1] += 1;
        }
        for i in 0..n_f {
            indptr[i + 1] += indptr[i];
        }
        let mut next = indptr.clone();
        let mut samples = vec![0u32; self.nnz()];
        let mut values = vec![0f64; self.nnz()];
        for s in 0..self.n_samples() {
            let (idx, vals) = self.sample(s);
            for (f, v) in idx.iter().zip(vals) {
                let slot = next[*f as usize];
                next[*f as usize] += 1;
                samples[slot] = s as u32;
                values[slot] = *v;
            }
        }
        (indptr, samples, values)
    }

    /// Each sample divided by its total (samples summing to zero stay zero).
    #[must_use]
    pub fn to_relative(&self) -> FeatureTable {
        let mut out = self.clone();
        for s in 0..out.n_samples() {
            let total = self.sample_total(s);
            if total > 0.0 {
                for k in out.indptr[s]..out.indptr[s + 1] {
                    out.values[k] /= total;
                }
            }
        }
        out.kind = ValueKind::Relative;
        out
    }

    /// Keeps the given samples, in the given order.
    pub fn select_samples(&self, keep: &[usize]) -> FeatureTable {
        let mut indptr = Vec::with_capacity(keep.len() + 1);
        indptr.push(0);
        let mut indices = Vec::new();
        let mut values = Vec::new();
        for &s in keep {
            let (idx, vals) = self.sample(s);
            indices.extend_from_slice(idx);
            values.extend_from_slice(vals);
            indptr.push(values.len());
        }
        FeatureTable {
            sample_ids: keep.iter().map(|&s| self.sample_ids[s].clone()).collect(),
            feature_ids: self.feature_ids.clone(),
            lineages: self.lineages.clone(),
            indptr,
            indices,
            values,
            kind: self.kind,
        }
    }

    /// Keeps the given features, in the given order (indices must be unique).
    pub fn select_features(&self, keep: &[usize]) -> FeatureTable {
        let mut remap = vec![u32::MAX; self.n_features()];
        for (new, &old) in keep.iter().enumerate() {
            remap[old] = new as u32;
        }
        let mut indptr = Vec::with_capacity(self.n_samples() + 1);
        indptr.push(0);
        let mut row: Vec<(u32, f64)> = Vec::new();
        let mut indices = Vec::new();
        let mut values = Vec::new();
        for s in 0..self.n_samples() {
            row.clear();
            let (idx, vals) = self.sample(s);
            for (f, v) in idx.iter().zip(vals) {
                let n = remap[*f as usize];
                if n != u32::MAX {
                    row.push((n, *v));
                }
            }
            row.sort_unstable_by_key(|p| p.0);
            for (f, v) in &row {
                indices.push(*f);
                values.push(*v);
            }
            indptr.push(values.len());
        }
        FeatureTable {
            sample_ids: self.sample_ids.clone(),
            feature_ids: keep.iter().map(|&f| self.feature_ids[f].clone()).collect(),
            lineages: self
                .lineages
                .as_ref()
                .map(|l| keep.iter().map(|&f| l[f].clone()).collect()),
            indptr,
            indices,
            values,
            kind: self.kind,
        }
    }

    /// Which ranks at least one feature's lineage names.
    pub fn ranks_present(&self) -> Vec<Rank> {
        let mut present = [false; 8];
        for f in 0..self.n_features() {
            for r in self.lineage(f).ranks() {
                present[r.index()] = true;
            }
        }
        Rank::ALL
            .into_iter()
            .filter(|r| present[r.index()])
            .collect()
    }

    /// Sums features that share a lineage down to `rank`. Features whose lineage stops above
    /// `rank` are pooled per their deepest known ancestor, under an id that says so
    /// (e.g. `d__Bacteria; …; f__Lachnospiraceae; g__`). Fails if no feature names `rank`.
    pub fn collapse(&self, rank: Rank) -> Result<FeatureTable> {
        let lineages: Vec<Lineage> = (0..self.n_features()).map(|f| self.lineage(f)).collect();
        if !lineages.iter().any(|l| l.get(rank).is_some()) {
            return Err(Error::invalid(
                &Location::named("table"),
                format!("no feature has a {rank} name, so the table cannot be collapsed to {rank}"),
            ));
        }
        let mut groups: BTreeMap<String, (usize, Lineage)> = BTreeMap::new();
        let mut group_of = Vec::with_capacity(self.n_features());
        for l in &lineages {
            let cut = l.truncated(rank);
            let key = cut.to_qiime_string(rank);
            let next = groups.len();
            let entry = groups.entry(key).or_insert((next, cut));
            group_of.push(entry.0);
        }
        // Order the new features by their key so the output does not depend on input order.
        let mut ordered: Vec<(&String, &(usize, Lineage))> = groups.iter().collect();
        ordered.sort_by(|a, b| a.0.cmp(b.0));
        let mut renumber = vec![0u32; groups.len()];
        for (new, (_, (old, _))) in ordered.iter().enumerate() {
            renumber[*old] = new as u32;
        }
        let mut triplets = Vec::with_capacity(self.nnz());
        for s in 0..self.n_samples() {
            let mut acc: BTreeMap<u32, f64> = BTreeMap::new();
            let (idx, vals) = self.sample(s);
            for (f, v) in idx.iter().zip(vals) {
                *acc.entry(renumber[group_of[*f as usize]]).or_insert(0.0) += *v;
            }
            triplets.extend(acc.into_iter().map(|(f, v)| (s as u32, f, v)));
        }
        let feature_ids: Vec<String> = ordered.iter().map(|(k, _)| (*k).clone()).collect();
        let new_lineages: Vec<Lineage> = ordered.iter().map(|(_, (_, l))| l.clone()).collect();
        let kind = self.kind;
        Ok(FeatureTable::from_triplets(
            self.sample_ids.clone(),
            feature_ids,
            triplets,
            &Location::named("table"),
        )?
        .with_lineages(new_lineages)?
        .with_kind(kind))
    }

    /// This table's features followed by `other`'s, over the same samples in the same order
    /// (e.g. taxa and guild abundances tested together).
    pub fn concat_features(&self, other: &FeatureTable) -> Result<FeatureTable> {
        if self.sample_ids != other.sample_ids {
            return Err(Error::invalid(
                &Location::named("tables"),
                "the two tables do not have the same samples in the same order",
            ));
        }
        let mut triplets = Vec::with_capacity(self.nnz() + other.nnz());
        for s in 0..self.n_samples() {
            let (ia, va) = self.sample(s);
            triplets.extend(ia.iter().zip(va).map(|(f, v)| (s as u32, *f, *v)));
            let (ib, vb) = other.sample(s);
            triplets.extend(
                ib.iter()
                    .zip(vb)
                    .map(|(f, v)| (s as u32, *f + self.n_features() as u32, *v)),
            );
        }
        let ids = self
            .feature_ids
            .iter()
            .chain(&other.feature_ids)
            .cloned()
            .collect();
        let kind = if self.kind == other.kind {
            self.kind
        } else {
            ValueKind::Relative
        };
        Ok(FeatureTable::from_triplets(
            self.sample_ids.clone(),
            ids,
            triplets,
            &Location::named("tables"),
        )?
        .with_kind(kind))
    }

    /// Index of each sample id.
    pub fn sample_index(&self) -> HashMap<&str, usize> {
        self.sample_ids
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect()
    }
}

fn check_unique(ids: &[String], what: &str, origin: &Location) -> Result<()> {
    let mut seen = HashSet::with_capacity(ids.len());
    for id in ids {
        if !seen.insert(id.as_str()) {
            return Err(Error::invalid(
                origin,
                format!("duplicate {what} id '{id}'"),
            ));
        }
    }
    Ok(())
}

/// Abundances must be finite and non-negative.
pub(crate) fn check_value(v: f64, origin: &Location, at: impl Fn() -> String) -> Result<()> {
    if v.is_nan() {
        return Err(Error::invalid(
            origin,
            format!("{}: abundance is NaN, expected a number", at()),
        ));
    }
    if v.is_infinite() {
        return Err(Error::invalid(
            origin,
            format!("{}: abundance is infinite, expected a finite number", at()),
        ));
    }
    if v < 0.0 {
        return Err(Error::invalid(
            origin,
            format!("{}: abundance {v} is negative, expected a value >= 0", at()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiled_transpose_equals_triplets() {
        // 5 features × 30,000 samples, every 7th value zero: ~128,000 values, several tiles of
        // the sample-tiled transpose; the same table built from triplets is the reference.
        let (n, m) = (30_000usize, 5usize);
        let value = |s: usize, f: usize| ((s * 31 + f * 17) % 7) as f64;
        let mut indptr = vec![0usize];
        let (mut samples, mut values, mut triplets) = (Vec::new(), Vec::new(), Vec::new());
        for f in 0..m {
            for s in 0..n {
                let v = value(s, f);
                if v != 0.0 {
                    samples.push(s as u32);
                    values.push(v);
                    triplets.push((s as u32, f as u32, v));
                }
            }
            indptr.push(values.len());
        }
        let ids = |prefix: &str, k: usize| (0..k).map(|i| format!("{prefix}{i}")).collect();
        let origin = Location::named("test");
        let tiled = FeatureTable::from_feature_rows(
            ids("S", n),
            ids("F", m),
            &indptr,
            &samples,
            &values,
            &origin,
        )
        .expect("feature rows");
        let reference = FeatureTable::from_triplets(ids("S", n), ids("F", m), triplets, &origin)
            .expect("triplets");
        assert!(tiled.nnz() > 100_000);
        assert_eq!(tiled, reference);
    }

    fn ids(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    fn toy() -> FeatureTable {
        // Hand-written 3 samples x 4 features:
        // S0: F0=1 F2=3 ; S1: F1=2 ; S2: F0=4 F3=5
        let t = vec![
            (0, 0, 1.0),
            (0, 2, 3.0),
            (1, 1, 2.0),
            (2, 0, 4.0),
            (2, 3, 5.0),
        ];
        FeatureTable::from_triplets(ids("S", 3), ids("F", 4), t, &Location::named("toy"))
            .expect("valid")
    }

    #[test]
    fn csr_layout_and_accessors() {
        let t = toy();
        assert_eq!(t.indptr(), &[0, 2, 3, 5]);
        assert_eq!(t.get(2, 3), 5.0);
        assert_eq!(t.get(1, 0), 0.0);
        assert_eq!(t.sample_total(2), 9.0);
        assert_eq!(t.total(), 15.0);
        assert_eq!(t.kind(), ValueKind::Counts);
        // F0 in S0 and S2, F1 in S1, F2 in S0, F3 in S2.
        assert_eq!(t.feature_prevalence(), vec![2, 1, 1, 1]);
    }

    #[test]
    fn feature_major_round_trip() {
        let t = toy();
        let (ip, s, v) = t.to_feature_major();
        assert_eq!(ip, vec![0, 2, 3, 4, 5]);
        assert_eq!(s, vec![0, 2, 1, 0, 2]);
        let back = FeatureTable::from_feature_rows(
            ids("S", 3),
            ids("F", 4),
            &ip,
            &s,
            &v,
            &Location::named("x"),
        )
        .expect("valid");
        assert_eq!(back, t);
    }

    #[test]
    fn rejects_duplicates_and_bad_values() {
        let loc = Location::named("x");
        let dup =
            FeatureTable::from_triplets(vec!["A".into(), "A".into()], ids("F", 1), vec![], &loc);
        assert!(
            dup.unwrap_err()
                .to_string()
                .contains("duplicate sample id 'A'")
        );
        let neg = FeatureTable::from_triplets(ids("S", 1), ids("F", 1), vec![(0, 0, -1.0)], &loc);
        assert!(neg.unwrap_err().to_string().contains("negative"));
        let nan =
            FeatureTable::from_triplets(ids("S", 1), ids("F", 1), vec![(0, 0, f64::NAN)], &loc);
        assert!(nan.unwrap_err().to_string().contains("NaN"));
        let out = FeatureTable::from_csr(
            ids("S", 1),
            ids("F", 1),
            vec![0, 1],
            vec![3],
            vec![1.0],
            &loc,
        );
        assert!(out.unwrap_err().to_string().contains("out of range"));
    }

    #[test]
    fn collapse_sums_by_genus() {
        let feats = vec![
            "k__Bacteria|g__Prevotella|s__Prevotella_copri".to_string(),
            "k__Bacteria|g__Prevotella|s__Prevotella_stercorea".to_string(),
            "k__Bacteria|g__Bacteroides|s__Bacteroides_vulgatus".to_string(),
        ];
        let t = FeatureTable::from_triplets(
            ids("S", 1),
            feats,
            vec![(0, 0, 0.5), (0, 1, 0.25), (0, 2, 0.25)],
            &Location::named("x"),
        )
        .expect("valid");
        let g = t.collapse(Rank::Genus).expect("has genus");
        assert_eq!(g.n_features(), 2);
        let prev = g
            .feature_ids()
            .iter()
            .position(|f| f.ends_with("g__Prevotella"))
            .expect("present");
        assert_eq!(g.get(0, prev), 0.75);
    }

    #[test]
    fn relative_sums_to_one() {
        let r = toy().to_relative();
        assert!((r.sample_total(2) - 1.0).abs() < 1e-15);
        assert_eq!(r.get(2, 0), 4.0 / 9.0);
    }
}
