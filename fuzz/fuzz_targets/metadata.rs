//! QIIME 2 sample metadata.
#![no_main]
use gutjoint_table::Location;
use gutjoint_table::metadata::read_metadata;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_metadata(data, &Location::named("fuzz"));
});
