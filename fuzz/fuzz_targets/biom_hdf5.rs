//! BIOM 2.1 HDF5.
#![no_main]
use gutjoint_table::Location;
use gutjoint_table::biom_hdf5::read_biom_hdf5;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_biom_hdf5(data.to_vec(), &Location::named("fuzz"));
});
