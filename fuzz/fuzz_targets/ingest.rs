//! Dataset ingest and validation: arbitrary bytes as one table of an otherwise valid dataset
//! (the first byte picks the table and CSV or Parquet), loaded and validated. Must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

const BASE: [(&str, &str); 5] = [
    ("sites.csv", "site_id,name,arm,swp_model,go_live\nP1,p,pilot,private,2009-09-01\nC1,c,comparison,none,\n"),
    ("children.csv", "child_id,site_id,sex,dob,ethnic\nA,P1,1,2005-01-01,WBRI\nB,C1,2,2006-01-01,WBRI\n"),
    ("episodes.csv", "child_id,decom,rne,ls,cin,place,dec\nA,2009-01-01,S,C2,N1,U4,\nB,2009-02-01,S,V2,N2,U1,2010-01-01\n"),
    ("workers.csv", "worker_id,site_id,role,fte,agency,start_date,end_date\nW1,P1,social_worker,1,false,2008-01-01,\n"),
    ("allocations.csv", "child_id,worker_id,start_date,end_date\nA,W1,2009-01-01,\n"),
];
const TABLES: [&str; 10] = [
    "sites", "children", "episodes", "workers", "allocations", "absences", "contacts", "outcomes", "costs", "dataset",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in BASE {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let table = TABLES[pick as usize % TABLES.len()];
    let file = if table == "dataset" {
        "dataset.toml".to_string()
    } else if pick >= 128 {
        format!("{table}.parquet")
    } else {
        format!("{table}.csv")
    };
    // a Parquet file replaces the CSV of the same table
    let _ = std::fs::remove_file(dir.path().join(format!("{table}.csv")));
    std::fs::write(dir.path().join(file), bytes).unwrap();
    let _ = swp_data::load(dir.path());
});
