//! One module per command.
pub mod anonymise;
pub mod synth;
pub mod validate;
