//! How numbers read in prose, figures and tables: one p-value formatter for every renderer.

/// Where a p-value is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PStyle {
    /// In sentences: `< 0.001`, and `not available` when there is none.
    Prose,
    /// On a figure: `<0.001` (no space, labels are tight), and `-` when there is none.
    Figure,
}

/// A p-value to three decimals; below 0.001 as `< 0.001` (the third decimal cannot say more).
pub fn p_value(p: Option<f64>, style: PStyle) -> String {
    match (p, style) {
        (None, PStyle::Prose) => "not available".into(),
        (None, PStyle::Figure) => "-".into(),
        (Some(p), PStyle::Prose) if p < 0.001 => "< 0.001".into(),
        (Some(p), PStyle::Figure) if p < 0.001 => "<0.001".into(),
        (Some(p), _) => format!("{p:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_read_to_three_decimals_with_a_floor() {
        assert_eq!(p_value(Some(0.04567), PStyle::Prose), "0.046");
        assert_eq!(p_value(Some(0.0004), PStyle::Prose), "< 0.001");
        assert_eq!(p_value(Some(0.0004), PStyle::Figure), "<0.001");
        assert_eq!(p_value(Some(0.001), PStyle::Figure), "0.001");
        assert_eq!(p_value(None, PStyle::Prose), "not available");
        assert_eq!(p_value(None, PStyle::Figure), "-");
    }
}
