//! The records the metrics read: episodes (with their flags), allocations, contacts and workers'
//! spells.

/// Flag bits of an episode (from its codes and its place among the child's episodes).
pub mod flag {
    /// RNE says the child moved to a new carer.
    pub const NEW_CARER: u8 = 1;
    /// A temporary placement (PLACE T0..T4 by default).
    pub const TEMPORARY: u8 = 2;
    /// A short break (LS V3/V4 by default).
    pub const SHORT_BREAK: u8 = 4;
    /// An adoption placement (PLACE A3..A6 by default).
    pub const ADOPTION: u8 = 8;
    /// The episode starts a placement (docs/metrics.md: a new carer, not temporary, not a short
    /// break, not the return from a temporary placement).
    pub const STARTS_PLACEMENT: u8 = 16;
}

/// One episode of care, as the metrics need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    /// DECOM.
    pub start: i32,
    /// DEC (None while open).
    pub end: Option<i32>,
    /// [`flag`] bits.
    pub flags: u8,
    /// Index (among the child's episodes) of the first episode of this period of care.
    pub period_start: u32,
    /// Row of the episode in the dataset's episodes table ([`NO_ROW`] when built by hand), for
    /// the codes the metrics do not keep (legal status, category of need, placement type).
    pub row: u32,
}

/// [`Episode::row`] of an episode not read from a dataset table.
pub const NO_ROW: u32 = u32::MAX;

impl Episode {
    /// Whether the child is in this episode on `day`.
    pub fn in_force(&self, day: i32) -> bool {
        self.start <= day && self.end.is_none_or(|e| day <= e)
    }

    /// Whether flag `bit` is set.
    pub fn is(&self, bit: u8) -> bool {
        self.flags & bit != 0
    }
}

/// A child's allocation to a worker, the last day in force adjusted for same-day handovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    /// Worker index.
    pub worker: u32,
    /// First day.
    pub start: i32,
    /// Last day in force (None while open).
    pub last: Option<i32>,
}

impl Allocation {
    /// Whether the allocation is in force on `day`.
    pub fn open_on(&self, day: i32) -> bool {
        self.start <= day && self.last.is_none_or(|l| day <= l)
    }
}

/// Kind of a contact, as the contact metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    /// A visit, child not seen alone.
    Visit,
    /// A visit with the child seen alone.
    SeenAlone,
    /// Any other contact (phone, meeting...).
    Other,
}

/// A contact with a child.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contact {
    /// Day of the contact.
    pub date: i32,
    /// Kind.
    pub kind: ContactKind,
    /// Minutes (0 when not recorded).
    pub minutes: f64,
}

/// A worker's spell in post at one site.
#[derive(Debug, Clone, PartialEq)]
pub struct Spell {
    /// Worker index.
    pub worker: u32,
    /// Site index.
    pub site: usize,
    /// A counted role (social worker, senior practitioner, team manager).
    pub counted: bool,
    /// FTE.
    pub fte: f64,
    /// Agency (not the authority's own staff).
    pub agency: bool,
    /// First day in post.
    pub start: i32,
    /// Last day in post (None while in post).
    pub end: Option<i32>,
}

impl Spell {
    /// Whether the worker is in post on `day`.
    pub fn in_post(&self, day: i32) -> bool {
        self.start <= day && self.end.is_none_or(|e| day <= e)
    }
}
