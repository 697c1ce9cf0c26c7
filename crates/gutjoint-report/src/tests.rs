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
        text.starts_with("old/results.json: results schema version 0.1, but this gutjoint (gutjoint 9.9.9) reads schema version 1.0"),
        "{text}"
    );
    let e = read_results::<serde_json::Value>(r#"{"title": "x"}"#, "r.json", "gutjoint")
        .expect_err("no version");
    assert!(e.to_string().contains("no schema_version"), "{e}");
    let e = read_results::<serde_json::Value>("{", "r.json", "gutjoint").expect_err("not JSON");
    assert!(e.to_string().starts_with("r.json: not JSON"), "{e}");
    // The same major version with a missing section is a layout error naming the field.
    let e = read_results::<serde_json::Value>(r#"{"schema_version": "1.7"}"#, "r.json", "g")
        .expect_err("incomplete");
    assert!(
        e.to_string().contains("does not follow results schema 1.7")
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
