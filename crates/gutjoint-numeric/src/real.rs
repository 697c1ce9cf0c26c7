/*!
Reading back numbers JSON cannot hold. serde_json writes a NaN or an infinity as `null`
(JSON has no such numbers); these readers turn `null` back into NaN, so a results file with
a non-finite statistic still reads and re-renders as it was shown ("NaN"). It lives here, below
ecology, stats and the report, so the domain result types themselves can be read back (the
report reuses them instead of mirroring them).
*/

use serde::{Deserialize, Deserializer};

fn nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(nan(Option::deserialize(d)?))
}

pub fn de_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(Vec::<Option<f64>>::deserialize(d)?
        .into_iter()
        .map(nan)
        .collect())
}

pub fn de_matrix<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
    Ok(Vec::<Vec<Option<f64>>>::deserialize(d)?
        .into_iter()
        .map(|row| row.into_iter().map(nan).collect())
        .collect())
}

pub fn de_pair<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
    let [a, b] = <[Option<f64>; 2]>::deserialize(d)?;
    Ok([nan(a), nan(b)])
}
