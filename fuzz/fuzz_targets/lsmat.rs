//! scikit-bio lsmat distance matrices.
#![no_main]
use gutjoint_table::Location;
use gutjoint_table::distance::read_lsmat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_lsmat(data, &Location::named("fuzz"));
});
