//! One module per command.
pub mod synth;
pub mod validate;
