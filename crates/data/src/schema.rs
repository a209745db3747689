//! The tables of the data contract (docs/data-contract.md): their columns, types, aliases and value rules.

use crate::codes::{self, CodeList};

/// The type a column's text is parsed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text (identifiers, names), trimmed.
    Text,
    /// One of a code list, stored in the list's own spelling.
    Code(&'static CodeList),
    /// A date: `YYYY-MM-DD` or `DD/MM/YYYY`, stored as a polars `Date`.
    Date,
    /// A decimal number, stored as `Float64`.
    Number,
    /// `true` / `false` (also `1`/`0`, `yes`/`no`), stored as `Boolean`.
    Bool,
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    /// Canonical (contract) name.
    pub name: &'static str,
    /// Other accepted header names (SSDA903), matched case-insensitively like the name.
    pub aliases: &'static [&'static str],
    /// How the text is typed.
    pub kind: Kind,
    /// Whether the column must be present in the file.
    pub required_column: bool,
    /// Whether every row needs a value.
    pub required_value: bool,
}

/// One table of the data contract.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    /// The table's name, which is also its file stem (`episodes` for `episodes.csv`).
    pub name: &'static str,
    /// Whether the dataset must have this table (when no raw 903 folder supplies it).
    pub required: bool,
    /// The contract's columns, in output order.
    pub columns: &'static [ColumnSpec],
}

impl TableSpec {
    /// The spec of column `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The spec a header cell names, matching name and aliases ignoring ASCII case.
    pub fn resolve(&self, header: &str) -> Option<&ColumnSpec> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(header) || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(header)))
    }
}

const fn col(name: &'static str, kind: Kind) -> ColumnSpec {
    ColumnSpec { name, aliases: &[], kind, required_column: true, required_value: true }
}

const fn alias(spec: ColumnSpec, aliases: &'static [&'static str]) -> ColumnSpec {
    ColumnSpec { aliases, ..spec }
}

/// Column present, value may be empty.
const fn blank_ok(spec: ColumnSpec) -> ColumnSpec {
    ColumnSpec { required_value: false, ..spec }
}

/// Column may be absent, value may be empty.
const fn optional(spec: ColumnSpec) -> ColumnSpec {
    ColumnSpec { required_column: false, required_value: false, ..spec }
}

/// sites
pub const SITES: TableSpec = TableSpec {
    name: "sites",
    required: true,
    columns: &[
        col("site_id", Kind::Text),
        blank_ok(col("name", Kind::Text)),
        col("arm", Kind::Code(&codes::ARM)),
        optional(col("swp_model", Kind::Code(&codes::SWP_MODEL))),
        optional(col("go_live", Kind::Date)),
    ],
};

/// children (903 header)
pub const CHILDREN: TableSpec = TableSpec {
    name: "children",
    required: true,
    columns: &[
        alias(col("child_id", Kind::Text), &["CHILD"]),
        optional(col("site_id", Kind::Text)),
        alias(col("sex", Kind::Code(&codes::SEX)), &["SEX"]),
        alias(col("dob", Kind::Date), &["DOB"]),
        alias(col("ethnic", Kind::Code(&codes::ETHNIC)), &["ETHNIC"]),
        optional(col("transfer_date", Kind::Date)),
    ],
};

/// episodes (903 episodes)
pub const EPISODES: TableSpec = TableSpec {
    name: "episodes",
    required: true,
    columns: &[
        alias(col("child_id", Kind::Text), &["CHILD"]),
        optional(col("site_id", Kind::Text)),
        alias(col("decom", Kind::Date), &["DECOM"]),
        alias(col("rne", Kind::Code(&codes::RNE)), &["RNE"]),
        alias(col("ls", Kind::Code(&codes::LEGAL_STATUS)), &["LS"]),
        alias(col("cin", Kind::Code(&codes::CIN)), &["CIN"]),
        alias(col("place", Kind::Code(&codes::PLACE)), &["PLACE"]),
        optional(alias(col("place_provider", Kind::Code(&codes::PLACE_PROVIDER)), &["PLACE_PROVIDER"])),
        blank_ok(alias(col("dec", Kind::Date), &["DEC"])),
        optional(alias(col("rec", Kind::Code(&codes::REC)), &["REC"])),
        optional(alias(col("reason_place_change", Kind::Code(&codes::REASON_PLACE_CHANGE)), &["REASON_PLACE_CHANGE"])),
    ],
};

/// workers
pub const WORKERS: TableSpec = TableSpec {
    name: "workers",
    required: true,
    columns: &[
        col("worker_id", Kind::Text),
        col("site_id", Kind::Text),
        col("role", Kind::Code(&codes::ROLE)),
        col("fte", Kind::Number),
        col("agency", Kind::Bool),
        col("start_date", Kind::Date),
        blank_ok(col("end_date", Kind::Date)),
        optional(col("leave_reason", Kind::Text)),
    ],
};

/// allocations (903 social-worker episodes)
pub const ALLOCATIONS: TableSpec = TableSpec {
    name: "allocations",
    required: true,
    columns: &[
        alias(col("child_id", Kind::Text), &["CHILD"]),
        optional(col("site_id", Kind::Text)),
        alias(col("worker_id", Kind::Text), &["SW_ID"]),
        alias(col("start_date", Kind::Date), &["SW_DECOM"]),
        blank_ok(alias(col("end_date", Kind::Date), &["SW_DEC"])),
    ],
};

/// absences
pub const ABSENCES: TableSpec = TableSpec {
    name: "absences",
    required: false,
    columns: &[
        col("worker_id", Kind::Text),
        col("start_date", Kind::Date),
        col("end_date", Kind::Date),
        col("kind", Kind::Code(&codes::ABSENCE_KIND)),
    ],
};

/// contacts
pub const CONTACTS: TableSpec = TableSpec {
    name: "contacts",
    required: false,
    columns: &[
        col("child_id", Kind::Text),
        optional(col("site_id", Kind::Text)),
        col("worker_id", Kind::Text),
        col("date", Kind::Date),
        col("kind", Kind::Code(&codes::CONTACT_KIND)),
        col("minutes", Kind::Number),
    ],
};

/// outcomes (long format)
pub const OUTCOMES: TableSpec = TableSpec {
    name: "outcomes",
    required: false,
    columns: &[
        col("child_id", Kind::Text),
        optional(col("site_id", Kind::Text)),
        col("wave", Kind::Code(&codes::WAVE)),
        col("measure", Kind::Text),
        col("value", Kind::Number),
    ],
};

/// costs (docs/data-contract.md v1.1): what a site spent, by financial year and category
pub const COSTS: TableSpec = TableSpec {
    name: "costs",
    required: false,
    columns: &[
        col("site_id", Kind::Text),
        col("financial_year", Kind::Text),
        col("category", Kind::Code(&codes::COST_CATEGORY)),
        col("amount", Kind::Number),
    ],
};

/// Every table, in the order they are read and reported.
pub const TABLES: [&TableSpec; 9] =
    [&SITES, &CHILDREN, &EPISODES, &WORKERS, &ALLOCATIONS, &ABSENCES, &CONTACTS, &OUTCOMES, &COSTS];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_resolve_by_name_or_903_alias_ignoring_case() {
        assert_eq!(EPISODES.resolve("DECOM").unwrap().name, "decom");
        assert_eq!(EPISODES.resolve("Decom").unwrap().name, "decom");
        assert_eq!(ALLOCATIONS.resolve("sw_decom").unwrap().name, "start_date");
        assert_eq!(CHILDREN.resolve("Child_ID").unwrap().name, "child_id");
        assert!(CHILDREN.resolve("UPN").is_none());
    }
}
