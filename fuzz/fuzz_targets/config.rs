//! The evaluation config: arbitrary text as TOML, parsed and checked. Must never panic; a
//! config that checks must survive a round trip through TOML.
#![no_main]
use libfuzzer_sys::fuzz_target;
use swp_evaluation::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = Config::from_toml(text) {
        let _ = config.clone().check();
        let _ = swp_evaluation::Evaluation::new(config);
    }
});
