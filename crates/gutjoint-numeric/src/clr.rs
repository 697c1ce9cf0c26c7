/*!
The centred log-ratio (Aitchison 1986): `clr(x)_k = ln x_k - mean_j ln x_j`, after adding a
pseudocount to every cell (zeros included) so that the logarithm exists. Aitchison distances,
the classifiers' features, the host associations and the reference populations all take it;
it is written once here, in three shapes (a dense row, a sparse row, a whole table).

Sums run in feature order, so a row's CLR has the same bits whichever shape it came through.
*/

use gutjoint_table::FeatureTable;
use rayon::prelude::*;

/// Why a CLR could not be taken.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClrError {
    #[error("the CLR transform needs a pseudocount > 0 when the table has zeros (got {0})")]
    Pseudocount(f64),
}

/// Subtracts the row's mean from every value: the last step of the CLR, for a row that already
/// holds logarithms. An empty row stays empty.
pub fn center_logs(row: &mut [f64]) {
    let mean = row.iter().sum::<f64>() / row.len().max(1) as f64;
    row.iter_mut().for_each(|v| *v -= mean);
}

/// CLR of a dense row: `out[k] = ln(values[k] + pseudocount)`, centred.
pub fn clr_dense_into(values: impl Iterator<Item = f64>, pseudocount: f64, out: &mut [f64]) {
    for (o, v) in out.iter_mut().zip(values) {
        *o = (v + pseudocount).ln();
    }
    center_logs(out);
}

/// CLR of a sparse row over `out.len()` features: `(feature, value)` entries, every other
/// feature a zero (so `ln(pseudocount)` before centring). Entries past the end are ignored.
pub fn clr_sparse_into(
    entries: impl IntoIterator<Item = (usize, f64)>,
    pseudocount: f64,
    out: &mut [f64],
) {
    let base = pseudocount.ln();
    out.iter_mut().for_each(|v| *v = base);
    for (k, v) in entries {
        if let Some(o) = out.get_mut(k) {
            *o = (v + pseudocount).ln();
        }
    }
    center_logs(out);
}

/// CLR of each sample of `table` after adding `pseudocount` to every cell, row-major
/// `n_samples × n_features`. A pseudocount ≤ 0 (or NaN) is refused when any cell is zero.
pub fn clr_dense(table: &FeatureTable, pseudocount: f64) -> Result<Vec<f64>, ClrError> {
    if pseudocount.is_nan()
        || pseudocount <= 0.0 && table.nnz() < table.n_samples() * table.n_features()
    {
        return Err(ClrError::Pseudocount(pseudocount));
    }
    let d = table.n_features();
    let mut out = vec![0.0; table.n_samples() * d];
    out.par_chunks_mut(d.max(1))
        .enumerate()
        .for_each(|(s, row)| {
            let (idx, vals) = table.sample(s);
            clr_sparse_into(
                idx.iter().zip(vals).map(|(f, v)| (*f as usize, *v)),
                pseudocount,
                row,
            );
        });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_table::Location;

    #[test]
    fn clr_by_hand() {
        // x = (1, 2, 4) + pseudocount 0 → ln x = (0, ln 2, 2 ln 2), mean ln 2, so the CLR is
        // (-ln 2, 0, ln 2).
        let mut out = [0.0; 3];
        clr_dense_into([1.0, 2.0, 4.0].into_iter(), 0.0, &mut out);
        let l2 = 2f64.ln();
        for (got, want) in out.iter().zip([-l2, 0.0, l2]) {
            assert!((got - want).abs() < 1e-15, "{out:?}");
        }
    }

    #[test]
    fn sparse_dense_and_table_shapes_agree_to_the_bit() {
        // Row (0, 3, 0, 1) with pseudocount 0.5, in all three shapes.
        let mut dense = [0.0; 4];
        clr_dense_into([0.0, 3.0, 0.0, 1.0].into_iter(), 0.5, &mut dense);
        let mut sparse = [0.0; 4];
        clr_sparse_into([(1, 3.0), (3, 1.0), (9, 5.0)], 0.5, &mut sparse);
        assert_eq!(dense, sparse);
        let table = FeatureTable::from_triplets(
            vec!["s".into()],
            (0..4).map(|f| format!("f{f}")).collect(),
            vec![(0, 1, 3.0), (0, 3, 1.0)],
            &Location::named("test"),
        )
        .expect("a valid table");
        assert_eq!(clr_dense(&table, 0.5).expect("pseudocount > 0"), dense);
        // ln 0.5, ln 3.5, ln 0.5, ln 1.5 centred: their sum is zero.
        assert!(dense.iter().sum::<f64>().abs() < 1e-15);
        assert_eq!(
            clr_dense(&table, 0.0),
            Err(ClrError::Pseudocount(0.0)),
            "zeros need a pseudocount"
        );
    }
}
