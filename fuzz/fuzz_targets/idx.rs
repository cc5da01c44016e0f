//! The IDX reader on arbitrary bytes, as data, as labels and streamed a few samples at a time:
//! an error is fine, a panic, a hang or an allocation the file cannot back is a bug.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let p = common::file("input.gz", bytes);
    let _ = drlim::data::load(&p);
    let _ = drlim::data::load_labels(&p);
    if let Ok(mut s) = drlim::data::IdxStream::open(&p) {
        let mut block = Vec::new();
        while let Ok(rows) = s.next_block(3, &mut block) {
            if rows == 0 {
                break;
            }
        }
    }
});
