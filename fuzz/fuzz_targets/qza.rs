//! QIIME 2 artifacts (zip holding a BIOM table).
#![no_main]
use gutjoint_table::Location;
use gutjoint_table::qza::read_qza;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_qza(data.to_vec(), &Location::named("fuzz"));
});
