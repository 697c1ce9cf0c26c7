//! The results model reads back what it writes, and refuses what it cannot read.

use super::*;

#[test]
fn quartiles_as_numpy() {
    // numpy.percentile([1, 2, 3, 4], [25, 50, 75]) = 1.75, 2.5, 3.25
    assert_eq!(
        five_numbers(&[4.0, 1.0, 3.0, 2.0]),
        Some([1.0, 1.75, 2.5, 3.25, 4.0])
    );
    assert_eq!(five_numbers(&[f64::NAN]), None);
}

/// serde_json writes NaN as null; the model reads null back as NaN, so a statistic that is
/// not a number survives a round trip (and renders as "NaN" again).
#[test]
fn a_nan_statistic_reads_back_as_nan() {
    let c = DaCoefficient {
        feature: "g__Blautia".into(),
        term: "group[T.AS]".into(),
        estimate: 0.5,
        p: f64::NAN,
        q: f64::INFINITY,
    };
    let text = serde_json::to_string(&c).expect("serialises");
    assert_eq!(
        text,
        r#"{"feature":"g__Blautia","term":"group[T.AS]","estimate":0.5,"p":null,"q":null}"#
    );
    let back: DaCoefficient = serde_json::from_str(&text).expect("reads back");
    assert_eq!(back.estimate, 0.5);
    assert!(back.p.is_nan() && back.q.is_nan());
}

#[test]
fn another_major_version_is_refused_with_both_versions_named() {
    let e = read_results::<serde_json::Value>(
        r#"{"schema_version": "0.1", "software": "gutjoint 0.0.9"}"#,
        "old/results.json",
        "gutjoint 9.9.9",
    )
    .expect_err("0.1 is another major version");
    let text = e.to_string();
    assert!(
        text.starts_with("old/results.json: results schema version 0.1, but this gutjoint (gutjoint 9.9.9) reads schema version 2.0"),
        "{text}"
    );
    let e = read_results::<serde_json::Value>(r#"{"title": "x"}"#, "r.json", "gutjoint")
        .expect_err("no version");
    assert!(e.to_string().contains("no schema_version"), "{e}");
    let e = read_results::<serde_json::Value>("{", "r.json", "gutjoint").expect_err("not JSON");
    assert!(e.to_string().starts_with("r.json: not JSON"), "{e}");
    // The same major version with a missing section is a layout error naming the field.
    // 1.x files had the outcome section's mirrored layout: refused by version, not misread.
    let e = read_results::<serde_json::Value>(r#"{"schema_version": "1.0"}"#, "r.json", "g")
        .expect_err("1.0 is another major version");
    assert!(e.to_string().contains("results schema version 1.0"), "{e}");
    let e = read_results::<serde_json::Value>(r#"{"schema_version": "2.7"}"#, "r.json", "g")
        .expect_err("incomplete");
    assert!(
        e.to_string().contains("does not follow results schema 2.7")
            && e.to_string().contains("missing field"),
        "{e}"
    );
}

#[test]
fn the_schema_names_every_section_and_allows_null_for_non_finite_numbers() {
    let schema: serde_json::Value =
        serde_json::from_str(&results_schema::<serde_json::Value>()).expect("schema is JSON");
    let required: Vec<&str> = schema["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for field in [
        "schema_version",
        "provenance",
        "groups",
        "alpha",
        "ordination",
    ] {
        assert!(required.contains(&field), "{field} not required");
    }
    let pattern = schema["properties"]["schema_version"]["pattern"]
        .as_str()
        .expect("a version pattern");
    assert_eq!(
        pattern,
        format!(r"^{}\.[0-9]+$", major(SCHEMA_VERSION)),
        "the schema accepts exactly the major version read_results accepts"
    );
    let coefficient = &schema["$defs"]["DaCoefficient"]["properties"]["p"]["type"];
    assert_eq!(coefficient, &serde_json::json!(["number", "null"]));
}

/// The results model reuses ecology's PERMANOVA type (no mirror): it writes scikit-bio's keys,
/// the same JSON `gutjoint permanova --json` prints, and reads back, a NaN statistic included.
#[test]
fn permutation_tests_are_ecologys_type_and_read_back() {
    use gutjoint_ecology::{Grouping, permanova};
    use gutjoint_table::DistanceMatrix;
    // Two groups of two at distance 1 within and 3 between (squared: 1 and 9):
    // s_T = (2·1 + 4·9)/4 = 9.5, s_W = 1/2 + 1/2 = 1, F = (9.5 − 1)/1 / (1/2) = 17.
    let dm = DistanceMatrix::from_condensed(
        ["a", "b", "c", "d"].map(String::from).to_vec(),
        vec![1.0, 3.0, 3.0, 3.0, 3.0, 1.0],
    )
    .expect("matrix");
    let grouping = Grouping::from_values(&["x", "x", "y", "y"].map(String::from));
    let t: crate::PermutationTest = permanova(&dm, &grouping, 0, 0).expect("test");
    assert_eq!(t.method, crate::PermutationMethod::Permanova);
    assert!(
        (t.test_statistic - 17.0).abs() < 1e-12,
        "{}",
        t.test_statistic
    );
    let text = serde_json::to_string(&t).expect("json");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).expect("json"),
        serde_json::json!({
            "method": "PERMANOVA",
            "test_statistic_name": "pseudo-F",
            "sample_size": 4,
            "number_of_groups": 2,
            "test_statistic": t.test_statistic,
            "p_value": null,
            "permutations": 0
        })
    );
    let back: crate::PermutationTest = serde_json::from_str(&text).expect("reads back");
    assert_eq!(back, t);
    let nan = crate::PermutationTest {
        test_statistic: f64::NAN,
        ..t
    };
    let back: crate::PermutationTest =
        serde_json::from_str(&serde_json::to_string(&nan).expect("json")).expect("null reads");
    assert!(back.test_statistic.is_nan());
}
