/*!
Inputs the fuzz targets (fuzz/) found to crash a reader, kept so the fix stays fixed. Each must
now end in a clear error.
*/

use gutjoint_table::{ReadOptions, read_table};
use std::path::Path;

/// Reading `file` must fail with an error that names it and contains `phrase`.
fn assert_clear_error(file: &str, phrase: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let err = read_table(&dir.join(file), ReadOptions::default())
        .err()
        .unwrap_or_else(|| panic!("{file} should not read as a table"));
    let text = err.to_string();
    assert!(text.contains(phrase), "{file}: {text}");
    assert!(text.contains(file), "the error names the file: {text}");
}

#[test]
fn hdf5_header_declaring_absurd_shape() {
    // A damaged HDF5 header declaring 1.3e19 ids: the HDF5 reader tried to allocate them and
    // the process aborted (fuzz target biom_hdf5).
    assert_clear_error(
        "biom_hdf5_huge_shape.biom",
        "more than a 110508-byte file can hold",
    );
}
