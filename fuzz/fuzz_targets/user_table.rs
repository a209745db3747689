//! The table reader of `match --table` and `effect --table`: arbitrary bytes as CSV or Parquet.
//! Must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(if pick % 2 == 0 { "t.csv" } else { "t.parquet" });
    std::fs::write(&path, bytes).unwrap();
    let _ = swp_data::read::user_table(&path);
});
