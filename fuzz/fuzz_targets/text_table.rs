//! Delimited feature tables (TSV/CSV, both orientations): any bytes end in a table or an error.
#![no_main]
use gutjoint_table::Location;
use gutjoint_table::text::{TextOptions, read_delimited};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, bytes)) = data.split_first() else {
        return;
    };
    let options = TextOptions {
        samples_as_rows: flags & 1 == 1,
    };
    let _ = read_delimited(bytes, &Location::named("fuzz"), options);
});
