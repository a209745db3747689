//! Code lists of the data contract: SSDA903 codes (old and new collection years) and the
//! contract's own enumerations.
//!
//! The 903 lists follow the DfE SSDA903 guidance. Where a code list changed between collection
//! years both the old and the new codes are accepted: placement types Q1/Q2 (foster, before
//! 2015) became U1..U6, adoption placements A1/A2 became A3..A6, and reasons episode ceased
//! E43/E44 became E45..E48.

/// A named set of accepted codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeList {
    /// What the codes are, as a user would say it ("903 legal status").
    pub name: &'static str,
    /// The accepted codes, compared exactly after trimming surrounding spaces.
    pub codes: &'static [&'static str],
    /// Whether codes are compared ignoring ASCII case (true for the contract's own words such
    /// as `pilot`, false for 903 codes).
    pub ignore_case: bool,
}

impl CodeList {
    /// Whether `value` (already trimmed) is in the list.
    pub fn contains(&self, value: &str) -> bool {
        if self.ignore_case {
            self.codes.iter().any(|c| c.eq_ignore_ascii_case(value))
        } else {
            self.codes.contains(&value)
        }
    }

    /// The canonical spelling of `value` (the list's own), if it is in the list.
    pub fn canonical(&self, value: &str) -> Option<&'static str> {
        if self.ignore_case {
            self.codes.iter().copied().find(|c| c.eq_ignore_ascii_case(value))
        } else {
            self.codes.iter().copied().find(|c| *c == value)
        }
    }

    /// A short human list of the codes for messages ("S, L, P, T, U or B").
    pub fn describe(&self) -> String {
        let n = self.codes.len();
        if n > 16 {
            return format!("a {} code such as {}, {} or {}", self.name, self.codes[0], self.codes[1], self.codes[2]);
        }
        match n {
            0 => String::new(),
            1 => self.codes[0].to_string(),
            _ => format!("{} or {}", self.codes[..n - 1].join(", "), self.codes[n - 1]),
        }
    }
}

/// A fast matcher for one code list: codes of up to 8 bytes packed into integers and looked up
/// in a small open-addressing table, with a linear fallback for longer words.
#[derive(Debug, Clone)]
pub struct CodeMatcher {
    list: CodeList,
    slots: Vec<Option<(u64, u8)>>,
    shift: u32,
}

fn pack(value: &str, lower: bool) -> Option<u64> {
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > 8 {
        return None;
    }
    Some(le_word(bytes, |b| if lower { b.to_ascii_lowercase() } else { b }))
}

/// Up to 8 bytes, each passed through `map`, as one little-endian integer (the first byte
/// lowest, missing bytes zero). Shifted into a register byte by byte: writing the bytes to an
/// array and reading it back as one integer stalls on store-to-load forwarding, which showed as
/// the costliest instruction of reading the national episodes (code keys, child-id hashes and
/// Arrow string views are built with it).
#[inline]
pub(crate) fn le_word(bytes: &[u8], map: impl Fn(u8) -> u8) -> u64 {
    debug_assert!(bytes.len() <= 8);
    bytes.iter().enumerate().fold(0, |word, (i, &b)| word | (u64::from(map(b)) << (8 * i)))
}

const SLOT_BITS: u32 = 7;

impl CodeMatcher {
    /// A matcher for `list`.
    pub fn new(list: CodeList) -> Self {
        let mut slots = vec![None; 1 << SLOT_BITS];
        let shift = 64 - SLOT_BITS;
        assert!(list.codes.len() < 255, "code lists are indexed by u8");
        for (index, code) in list.codes.iter().enumerate() {
            if let Some(key) = pack(code, list.ignore_case) {
                let mut i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize;
                while slots[i].is_some() {
                    i = (i + 1) & ((1 << SLOT_BITS) - 1);
                }
                slots[i] = Some((key, index as u8));
            }
        }
        CodeMatcher { list, slots, shift }
    }

    /// The canonical spelling of `value`, as [`CodeList::canonical`].
    #[inline]
    pub fn canonical(&self, value: &str) -> Option<&'static str> {
        self.index(value).map(|i| self.list.codes[i as usize])
    }

    /// The position of `value` in the list.
    #[inline]
    pub fn index(&self, value: &str) -> Option<u8> {
        let Some(key) = pack(value, self.list.ignore_case) else {
            let canonical = self.list.canonical(value)?;
            return self.list.codes.iter().position(|c| *c == canonical).map(|i| i as u8);
        };
        let mut i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        loop {
            match self.slots[i] {
                None => return None,
                Some((k, index)) if k == key => return Some(index),
                Some(_) => i = (i + 1) & ((1 << SLOT_BITS) - 1),
            }
        }
    }

    /// The list matched.
    pub fn list(&self) -> &CodeList {
        &self.list
    }
}

macro_rules! code_list {
    ($(#[$doc:meta])* $ident:ident, $name:literal, $ignore_case:literal, [$($code:literal),* $(,)?]) => {
        $(#[$doc])*
        pub const $ident: CodeList = CodeList { name: $name, codes: &[$($code),*], ignore_case: $ignore_case };
    };
}

code_list!(
    /// sites.arm
    ARM, "arm", true, ["pilot", "host", "comparison"]
);
code_list!(
    /// sites.swp_model
    SWP_MODEL, "SWP model", true,
    ["professional", "social_enterprise", "third_sector", "private", "in_house", "none"]
);
code_list!(
    /// children.sex (903 SEX)
    SEX, "903 sex", false, ["1", "2"]
);
code_list!(
    /// children.ethnic (903 ETHNIC)
    ETHNIC, "903 ethnicity", false,
    ["WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN",
     "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"]
);
/// The five ethnic groups of docs/evaluation.md (`ethnic_group`), each with its codes; a code not
/// listed falls to the last group. The evaluation's default grouping and the anonymiser's
/// ethnicity hierarchy both read this.
pub const ETHNIC_GROUPS: [(&str, &[&str]); 5] = [
    ("White", &["WBRI", "WIRI", "WIRT", "WOTH", "WROM"]),
    ("Mixed", &["MWBC", "MWBA", "MWAS", "MOTH"]),
    ("Asian", &["AIND", "APKN", "ABAN", "AOTH"]),
    ("Black", &["BCRB", "BAFR", "BOTH"]),
    ("Other", &["CHNE", "OOTH", "REFU", "NOBT"]),
];

/// The index in [`ETHNIC_GROUPS`] of an ethnicity code's group (codes not listed: the last).
pub fn ethnic_group_index(code: &str) -> usize {
    ETHNIC_GROUPS.iter().position(|(_, codes)| codes.contains(&code)).unwrap_or(ETHNIC_GROUPS.len() - 1)
}

code_list!(
    /// costs.category (docs/data-contract.md v1.1)
    COST_CATEGORY, "cost category", true,
    ["staff", "agency_staff", "placements", "overheads", "contract", "outcome_payment", "other"]
);
code_list!(
    /// episodes.rne (903 reason for new episode)
    RNE, "903 reason for new episode", false, ["S", "L", "P", "T", "U", "B"]
);
code_list!(
    /// episodes.ls (903 legal status)
    LEGAL_STATUS, "903 legal status", false,
    ["C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"]
);
code_list!(
    /// episodes.cin (903 category of need)
    CIN, "903 category of need", false, ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"]
);
code_list!(
    /// episodes.place (903 placement type), current and retired codes
    PLACE, "903 placement type", false,
    ["A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1",
     "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1",
     // retired codes of earlier collection years
     "A1", "A2", "Q1", "Q2"]
);
code_list!(
    /// episodes.place_provider (903 placement provider)
    PLACE_PROVIDER, "903 placement provider", false, ["PR0", "PR1", "PR2", "PR3", "PR4", "PR5"]
);
code_list!(
    /// episodes.rec (903 reason episode ceased), current and retired codes
    REC, "903 reason episode ceased", false,
    ["E11", "E12", "E13", "E14", "E15", "E16", "E17", "E2", "E3", "E41", "E45", "E46", "E47",
     "E48", "E4A", "E4B", "E5", "E6", "E7", "E8", "E9", "X1",
     // retired codes of earlier collection years
     "E43", "E44"]
);
code_list!(
    /// episodes.reason_place_change (903 reason for placement change)
    REASON_PLACE_CHANGE, "903 reason for placement change", false,
    ["ALLEG", "APPRR", "CARPL", "CHILD", "CLOSE", "CREQB", "CREQO", "CUSTOD", "LAREQ", "OTHER",
     "PLACE", "STAND"]
);
code_list!(
    /// workers.role
    ROLE, "role", true,
    ["social_worker", "senior_practitioner", "team_manager", "assistant", "other"]
);
code_list!(
    /// absences.kind
    ABSENCE_KIND, "absence kind", true, ["sickness", "other"]
);
code_list!(
    /// contacts.kind
    CONTACT_KIND, "contact kind", true, ["visit", "seen_alone", "phone", "other"]
);
code_list!(
    /// outcomes.wave
    WAVE, "wave", true, ["baseline", "follow_up"]
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_and_new_codes_are_accepted() {
        for code in ["Q1", "Q2", "U1", "U6"] {
            assert!(PLACE.contains(code), "{code}");
        }
        for code in ["E43", "E44", "E45", "E48"] {
            assert!(REC.contains(code), "{code}");
        }
        assert!(!PLACE.contains("u1"), "903 codes are case-sensitive");
        assert!(ARM.contains("Pilot"));
        assert_eq!(ARM.canonical("PILOT"), Some("pilot"));
    }

    #[test]
    fn the_fast_matcher_agrees_with_the_list() {
        for list in [PLACE, REC, REASON_PLACE_CHANGE, ARM, SWP_MODEL, ROLE, ETHNIC] {
            let m = CodeMatcher::new(list);
            for code in list.codes {
                assert_eq!(m.canonical(code), Some(*code));
                assert_eq!(m.canonical(&code.to_ascii_uppercase()), list.canonical(&code.to_ascii_uppercase()));
            }
            for other in ["", "X", "U7", "social_enterprise_x", "Pilot", "e43"] {
                assert_eq!(m.canonical(other), list.canonical(other), "{other}");
            }
        }
    }

    #[test]
    fn describe_lists_short_sets_and_samples_long_ones() {
        assert_eq!(RNE.describe(), "S, L, P, T, U or B");
        assert!(PLACE.describe().starts_with("a 903 placement type code such as A3"));
    }
}
