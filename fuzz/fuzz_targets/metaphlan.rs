//! MetaPhlAn 2/3/4 single-sample profiles.
#![no_main]
use gutjoint_table::metaphlan::read_profile;
use gutjoint_table::{Location, Rank};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_profile(data, "fuzz".into(), &Location::named("fuzz"), Rank::Species);
});
