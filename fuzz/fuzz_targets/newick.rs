//! Newick trees.
#![no_main]
use gutjoint_table::Location;
use gutjoint_table::newick::parse_newick;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_newick(text, &Location::named("fuzz"));
    }
});
