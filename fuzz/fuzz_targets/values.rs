//! Date, number, boolean and code parsing: arbitrary text through the contract's value typer
//! and the date and financial-year parsers. Must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = swp_data::date::parse_date(text);
    let _ = swp_data::validate::financial_year_start(text);
    for list in [swp_data::codes::ETHNIC, swp_data::codes::PLACE, swp_data::codes::ARM, swp_data::codes::COST_CATEGORY] {
        let _ = list.canonical(text);
    }
    let _ = swp_data::codes::ethnic_group_index(text);
    if let Ok(d) = swp_data::date::parse_date(text) {
        // a parsed date prints and parses back to itself
        assert_eq!(swp_data::date::parse_date(&swp_data::date::format_date(d)).ok(), Some(d));
    }
});
