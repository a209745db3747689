//! One module per command.
pub mod anonymise;
pub mod choice;
pub mod did;
pub mod effect;
pub mod matching;
pub mod metrics;
pub mod report;
pub mod synth;
pub mod table;
pub mod validate;
pub mod weight;
