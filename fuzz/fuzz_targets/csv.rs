//! The CSV reader on arbitrary bytes, as data and as labels: an error is fine, a panic, a hang
//! or an allocation the file cannot back is a bug. Streamed in blocks of 3 samples, the file
//! must give the values `load` gives, or an error where `load` gives one.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let p = common::file("input.csv", bytes);
    let whole = drlim::data::load(&p);
    let _ = drlim::data::load_labels(&p);
    let streamed = drlim::data::CsvStream::open(&p).and_then(|mut s| {
        let (mut all, mut block) = (Vec::new(), Vec::new());
        while s.next_block(3, &mut block)? > 0 {
            all.extend_from_slice(&block);
        }
        Ok(all)
    });
    match (whole, streamed) {
        (Ok(d), Ok(v)) => assert_eq!(
            d.values.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        ),
        (Err(_), Err(_)) => {}
        (w, s) => panic!(
            "load and CsvStream disagree: {:?} / {:?}",
            w.map(|d| d.n),
            s.map(|v| v.len())
        ),
    }
});
