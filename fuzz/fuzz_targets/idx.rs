//! The IDX reader on arbitrary bytes, as data and as labels: an error is fine, a panic, a hang
//! or an allocation the file cannot back is a bug.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let p = common::file("input.gz", bytes);
    let _ = drlim::data::load(&p);
    let _ = drlim::data::load_labels(&p);
});
