//! BIOM 1.0 JSON (dense and sparse).
#![no_main]
use gutjoint_table::Location;
use gutjoint_table::biom_json::read_biom_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_biom_json(data, &Location::named("fuzz"));
});
