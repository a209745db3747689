//! One site's synthetic data, as a sequence of named steps: the workforce (spells, and the case
//! holders in post month by month), then child by child the episodes of care, the allocations
//! and contacts over them and the outcome measures, then sickness and other absences, and last
//! the workers renumbered densely. Every step draws from the site's one random stream in a
//! fixed order, so a seed gives the same bytes.

use crate::{
    place_for, Absence, Allocation, Child, Contact, Context, Episode, Outcome, Site, SiteOut, Spell, ETHNIC,
    MEAN_STAY_YEARS, REASONS, TARGET_CASELOAD,
};
use std::collections::BTreeMap;
use swp_stats::rng::Rng;

/// What every step needs to know about the site.
struct Frame<'a> {
    ctx: &'a Context,
    site_index: u32,
    site: &'a Site,
    is_pilot: bool,
    /// The site's go-live (i32::MAX when it has none).
    go_live: i32,
    /// The first pilot go-live of the dataset (outcomes are measured around it).
    first_go_live: i32,
}

impl Frame<'_> {
    /// Whether the pilot's effects apply on day `d` (a pilot site, from go-live).
    fn after(&self, d: i32) -> bool {
        self.is_pilot && d >= self.go_live
    }

    /// The multiplier of a pilot child's rate on day `d`: `effect` from go-live, the
    /// pre-existing difference `pre_trend` before it (1 at other sites).
    fn factor(&self, d: i32, effect: f64) -> f64 {
        if self.after(d) {
            effect
        } else if self.is_pilot {
            self.ctx.effects.pre_trend
        } else {
            1.0
        }
    }
}

/// The site's workers and the case holders in post month by month, for fast draws.
struct Workforce {
    spells: Vec<Spell>,
    by_month: Vec<Vec<u32>>,
    history_start: i32,
    n_months: usize,
    workers_before: usize,
    workers_after: usize,
}

impl Workforce {
    fn month_of(&self, d: i32) -> usize {
        ((d - self.history_start).max(0) / 30) as usize
    }

    /// Case holders in post in `day`'s month (at least 1).
    fn in_post(&self, day: i32) -> f64 {
        self.by_month[self.month_of(day).min(self.n_months - 1)].len().max(1) as f64
    }

    /// A case holder in post on `day`, other than `not` (20 tries in its month's bucket).
    fn draw(&self, rng: &mut Rng, day: i32, not: Option<usize>) -> Option<usize> {
        let bucket = &self.by_month[self.month_of(day).min(self.n_months - 1)];
        for _ in 0..20 {
            if bucket.is_empty() {
                return None;
            }
            let i = bucket[rng.range(0, bucket.len() as i64 - 1) as usize] as usize;
            let s = &self.spells[i];
            if s.start <= day && s.end.is_none_or(|e| e > day) && Some(i) != not {
                return Some(i);
            }
        }
        None
    }
}

/// Generates one site's children, episodes, workers, allocations and the rest. Indices are
/// site-local (renumbered by the caller).
pub(crate) fn generate_site(ctx: &Context, site_index: u32, site: &Site, first_go_live: i32, rng: &mut Rng) -> SiteOut {
    let frame = Frame {
        ctx,
        site_index,
        site,
        is_pilot: site.arm == "pilot",
        go_live: site.go_live.unwrap_or(i32::MAX),
        first_go_live,
    };
    let workforce = workforce(&frame, rng);
    let mut out = SiteOut::default();
    children(&frame, &workforce, rng, &mut out);
    out.absences = absences(ctx, &workforce.spells, rng);
    out.spells = workforce.spells;
    renumber_workers(&mut out);
    out
}

/// Worker spells from two years before the window: case holders (the posts the caseload
/// needs, more after a pilot's go-live when its caseloads fall), then managers and an
/// assistant; each leaves at an exponential time (the pilot's turnover effect from go-live)
/// and is replaced after a gap.
fn workforce(f: &Frame<'_>, rng: &mut Rng) -> Workforce {
    let (ctx, site, is_pilot, go_live) = (f.ctx, f.site, f.is_pilot, f.go_live);
    let history_start = ctx.window_start - 730;
    let workers_before = (f64::from(site.stock) / TARGET_CASELOAD).ceil().max(3.0) as usize;
    let workers_after = if is_pilot {
        (f64::from(site.stock) / (TARGET_CASELOAD * ctx.effects.caseload)).ceil().max(3.0) as usize
    } else {
        workers_before
    };
    let mut spells: Vec<Spell> = Vec::new();
    let mut next_worker = 0u32;
    let mut slots: Vec<i32> = (0..workers_before).map(|_| history_start - rng.range(0, 3650) as i32).collect();
    if is_pilot && workers_after > workers_before {
        slots.extend((workers_before..workers_after).map(|_| go_live));
    }
    // Non-case-holding staff: managers and assistants.
    let managers = (workers_before / 6).max(1);
    for (k, first_start) in slots.iter().copied().chain((0..managers + 1).map(|_| history_start - 365)).enumerate() {
        let case_holder = k < slots.len();
        let mut start = first_start;
        loop {
            let agency = case_holder && rng.chance(0.12);
            let role = if case_holder {
                if rng.chance(0.25) {
                    "senior_practitioner"
                } else {
                    "social_worker"
                }
            } else if k == slots.len() + managers {
                "assistant"
            } else {
                "team_manager"
            };
            let fte = if agency { 1.0 } else { *rng.pick(&[(1.0, 80.0), (0.8, 10.0), (0.5, 10.0)]) };
            let base_rate = if agency { 0.45 } else { 0.17 };
            // piecewise hazard: the pilot effect applies from go-live
            let mut end = start as f64 + rng.exponential(365.25 / base_rate);
            if is_pilot && end >= go_live as f64 {
                let from = f64::from(start.max(go_live));
                end = from + rng.exponential(365.25 / (base_rate * ctx.effects.turnover));
            }
            let end = end.max(f64::from(start)) as i32;
            let worker = next_worker;
            next_worker += 1;
            let open = end > ctx.extract_date;
            spells.push(Spell {
                worker,
                site: f.site_index,
                role,
                fte,
                agency,
                start,
                end: if open { None } else { Some(end) },
            });
            if open {
                break;
            }
            start = end + rng.range(1, 60) as i32;
            if start > ctx.extract_date {
                break;
            }
        }
    }
    let case_holders: Vec<usize> =
        (0..spells.len()).filter(|&i| matches!(spells[i].role, "social_worker" | "senior_practitioner")).collect();
    let mut workforce =
        Workforce { spells, by_month: Vec::new(), history_start, n_months: 0, workers_before, workers_after };
    workforce.n_months = workforce.month_of(ctx.extract_date) + 2;
    let mut by_month: Vec<Vec<u32>> = vec![Vec::new(); workforce.n_months];
    for &i in &case_holders {
        let s = &workforce.spells[i];
        let last = s.end.unwrap_or(ctx.extract_date);
        for bucket in by_month.iter_mut().take(workforce.month_of(last) + 1).skip(workforce.month_of(s.start)) {
            bucket.push(i as u32);
        }
    }
    workforce.by_month = by_month;
    workforce
}

/// Children entering care over the window and four years before it, each with their episodes,
/// allocations, contacts and outcomes; a child never looked after inside the window is dropped.
fn children(f: &Frame<'_>, workforce: &Workforce, rng: &mut Rng, out: &mut SiteOut) {
    let ctx = f.ctx;
    let years_before = 4.0;
    let span_years = f64::from(ctx.extract_date - ctx.window_start) / 365.25 + years_before;
    let entry_rate = f64::from(f.site.stock) / MEAN_STAY_YEARS; // entries per year
    let n_candidates = rng.poisson_large(entry_rate * span_years);
    let window_first = ctx.window_start - (years_before * 365.25) as i32;
    for _ in 0..n_candidates {
        let entry = window_first + rng.range(0, (span_years * 365.25) as i64) as i32;
        let age_years = (*rng.pick(&[(0.0, 22.0), (2.5, 18.0), (7.0, 20.0), (12.5, 32.0), (16.0, 8.0)])
            + rng.uniform() * 2.0)
            .min(17.5);
        let dob = entry - (age_years * 365.25) as i32;
        let child = out.children.len() as u32;
        let short_breaks = rng.chance(0.03);
        let cin = *rng.pick(&[
            ("N1", 60.0),
            ("N2", 4.0),
            ("N3", 3.0),
            ("N4", 15.0),
            ("N5", 5.0),
            ("N6", 4.0),
            ("N7", 2.0),
            ("N8", 7.0),
        ]);
        let care = Care { child, dob, entry, cin };
        let (mut child_episodes, mut periods) =
            if short_breaks { short_break_episodes(f, &care, rng) } else { care_episodes(f, &care, rng) };
        // Cut at the extract date: later episodes are unknown, the one spanning it is open.
        child_episodes.retain(|e| e.decom <= ctx.extract_date);
        for e in child_episodes.iter_mut() {
            if e.dec.is_some_and(|d| d > ctx.extract_date) {
                e.dec = None;
                e.rec = None;
            }
        }
        // Keep children looked after at some point of the window.
        if !child_episodes.iter().any(|e| e.dec.is_none_or(|d| d >= ctx.window_start)) {
            continue;
        }
        // allocations over each period (also before the window, so changes have history); a
        // series of short breaks is one allocation
        if short_breaks && !periods.is_empty() {
            periods = vec![(periods[0].0, periods[periods.len() - 1].1)];
        }
        allocations(f, workforce, child, &periods, short_breaks, rng, out);
        let in_care_on = |d: i32| {
            child_episodes.iter().any(|e| e.decom <= d && e.dec.is_none_or(|x| x >= d) && !matches!(e.ls, "V3" | "V4"))
        };
        let transfer_date = if f.is_pilot && in_care_on(f.go_live) { Some(f.go_live) } else { None };
        if ctx.with_extras && in_care_on(f.first_go_live) && !short_breaks {
            out.outcomes.extend(outcomes(f, child, rng));
        }
        out.children.push(Child {
            child_id: String::new(),
            site: f.site_index,
            sex: if rng.chance(0.55) { 1 } else { 2 },
            dob,
            ethnic: rng.pick::<&str>(&ETHNIC),
            transfer_date,
        });
        out.episodes.extend(child_episodes);
    }
}

/// Who a child is, for the episode steps.
struct Care {
    child: u32,
    dob: i32,
    entry: i32,
    cin: &'static str,
}

/// A child in respite care only: short breaks (V3 one at a time, V4 a planned series) of one
/// to four days, every two to eight weeks, for up to three years or until 18.
fn short_break_episodes(f: &Frame<'_>, c: &Care, rng: &mut Rng) -> (Vec<Episode>, Vec<(i32, i32)>) {
    let eighteen = c.dob + (18.0 * 365.25) as i32;
    let mut child_episodes = Vec::new();
    let mut periods = Vec::new();
    // V3: a single short break each time; V4: a pre-planned series (903 legal statuses)
    let ls = if rng.chance(0.3) { "V4" } else { "V3" };
    let mut day = c.entry;
    while day < eighteen.min(f.ctx.extract_date) && day < c.entry + 3 * 365 {
        let len = rng.range(1, 4) as i32;
        let end = day + len;
        child_episodes.push(Episode {
            child: c.child,
            decom: day,
            rne: "S",
            ls,
            cin: "N1",
            place: "U1",
            provider: "PR1",
            dec: Some(end),
            rec: Some("E13"),
            reason: None,
        });
        periods.push((day, end));
        day = end + rng.range(14, 60) as i32;
    }
    (child_episodes, periods)
}

/// A child's periods of care: each a run of episodes (placement moves at a rate the pilot's
/// effect lowers from go-live, changes of legal status, temporary placements that return to
/// the same one), ending at 18, in adoption or in a return home; a child may come back into
/// care later.
fn care_episodes(f: &Frame<'_>, c: &Care, rng: &mut Rng) -> (Vec<Episode>, Vec<(i32, i32)>) {
    let eighteen = c.dob + (18.0 * 365.25) as i32;
    let mut episodes = Vec::new();
    let mut periods = Vec::new();
    let mut start = c.entry;
    loop {
        let end = period_of_care(f, c, start, eighteen, rng, &mut episodes);
        periods.push((start, end));
        // one child in seven returns to care after some months, unless nearly 18
        if end >= eighteen - 60 || !rng.chance(0.15) {
            break;
        }
        start = end + rng.range(30, 400) as i32;
        if start >= eighteen || start > f.ctx.extract_date {
            break;
        }
    }
    (episodes, periods)
}

/// The placement in force: what the child's next episode records from `day`.
struct Placement {
    day: i32,
    rne: &'static str,
    ls: &'static str,
    place: &'static str,
    provider: &'static str,
    reason: Option<&'static str>,
}

impl Placement {
    /// The episode of this placement, from its day to `dec`, ended for `rec`.
    fn episode(&self, c: &Care, dec: i32, rec: &'static str) -> Episode {
        Episode {
            child: c.child,
            decom: self.day,
            rne: self.rne,
            ls: self.ls,
            cin: c.cin,
            place: self.place,
            provider: self.provider,
            dec: Some(dec),
            rec: Some(rec),
            reason: self.reason,
        }
    }
}

/// One period of care from `start`: a planned length (until 18 at most), a first legal status
/// and placement, the changes of placement and status until the period ends, and its end (an
/// adoption for some young children, else leaving care). Returns the day the period ends.
fn period_of_care(f: &Frame<'_>, c: &Care, start: i32, eighteen: i32, rng: &mut Rng, out: &mut Vec<Episode>) -> i32 {
    let young = (start - c.dob) < 5 * 365;
    let adopt = young && rng.chance(0.35);
    let stay = rng.exponential(MEAN_STAY_YEARS * 365.25) as i32 + 1;
    let end_planned = (start + stay).min(eighteen);
    let ls = *rng.pick(&[
        ("C2", 40.0),
        ("V2", 45.0),
        ("C1", 8.0),
        ("E1", 2.0),
        ("J2", 1.0),
        ("L2", 2.0),
        ("D1", 1.0),
        ("J1", 1.0),
    ]);
    let (place, provider) = place_for(rng);
    let adoption_from = if adopt { start + ((end_planned - start) as f64 * 0.6) as i32 } else { i32::MAX };
    let mut now = Placement { day: start, rne: "S", ls, place, provider, reason: None };
    placement_changes(f, c, &mut now, end_planned.min(adoption_from), rng, out);
    if adopt && adoption_from < end_planned {
        adoption(c, &now, adoption_from, rng, out)
    } else {
        let rec = if end_planned >= eighteen {
            "E5"
        } else {
            *rng.pick(&[("E13", 5.0), ("E41", 2.0), ("E45", 1.0), ("E8", 1.0), ("E4A", 1.0)])
        };
        out.push(now.episode(c, end_planned, rec));
        end_planned
    }
}

/// Changes during a period until `stop`: events arrive at the summed rates of a placement move
/// (lowered by the pilot's effect from go-live), a change of legal status and a temporary
/// placement; each closes the current episode. `now` is left holding the last placement.
fn placement_changes(f: &Frame<'_>, c: &Care, now: &mut Placement, stop: i32, rng: &mut Rng, out: &mut Vec<Episode>) {
    let (legal_rate, temp_rate) = (0.3, 0.08);
    let move_rate_at = |d: i32| 0.45 * f.factor(d, f.ctx.effects.placement_moves);
    loop {
        let mut next =
            now.day + rng.exponential(365.25 / (move_rate_at(now.day) + legal_rate + temp_rate)).ceil() as i32;
        // piecewise hazard: a wait that reaches go-live restarts there at the pilot's
        // rate (memoryless), so the effect applies from go-live, not from the next event
        if f.is_pilot && now.day < f.go_live && next >= f.go_live {
            next =
                f.go_live + rng.exponential(365.25 / (move_rate_at(f.go_live) + legal_rate + temp_rate)).ceil() as i32;
        }
        let move_rate = move_rate_at(next);
        let total = move_rate + legal_rate + temp_rate;
        if next >= stop {
            return;
        }
        out.push(now.episode(c, next, "X1"));
        let u = rng.uniform() * total;
        if u < move_rate {
            (now.place, now.provider) = place_for(rng);
            now.rne = *rng.pick(&[("P", 80.0), ("T", 10.0), ("B", 10.0)]);
            if now.rne == "B" {
                now.ls = *rng.pick(&[("C1", 5.0), ("C2", 2.0), ("V2", 2.0)]);
            }
            now.reason = Some(*rng.pick(&REASONS));
            now.day = next;
        } else if u < move_rate + legal_rate {
            now.ls = *rng.pick(&[("C1", 6.0), ("C2", 2.0), ("V2", 1.0), ("E1", 1.0)]);
            (now.rne, now.reason, now.day) = ("L", None, next);
        } else {
            temporary_placement(c, now, next, stop, rng, out);
        }
    }
}

/// A temporary placement of up to three weeks from `next`, then back to the same placement (a
/// legal-status episode instead when the period ends first).
fn temporary_placement(c: &Care, now: &mut Placement, next: i32, stop: i32, rng: &mut Rng, out: &mut Vec<Episode>) {
    let temp_end = next + rng.range(1, 21) as i32;
    if temp_end >= stop {
        (now.rne, now.reason, now.day) = ("L", None, next);
        return;
    }
    let place = *rng.pick(&[("T0", 1.0), ("T1", 2.0), ("T2", 1.0), ("T3", 3.0), ("T4", 2.0)]);
    let temporary = Placement { day: next, rne: "P", ls: now.ls, place, provider: now.provider, reason: Some("OTHER") };
    out.push(temporary.episode(c, temp_end, "X1"));
    (now.rne, now.reason, now.day) = ("P", Some("OTHER"), temp_end);
}

/// A young child's adoption: placed for adoption on `from`, adopted 5 to 13 months later.
/// Returns the day of the adoption order (the period's end).
fn adoption(c: &Care, now: &Placement, from: i32, rng: &mut Rng, out: &mut Vec<Episode>) -> i32 {
    out.push(now.episode(c, from, "X1"));
    let adopted = from + rng.range(150, 400) as i32;
    let place = *rng.pick(&[("A5", 1.0), ("A6", 1.0), ("A3", 0.3), ("A4", 0.3)]);
    let placed = Placement { day: from, rne: "B", ls: "E1", place, provider: "PR1", reason: Some("CARPL") };
    let rec = *rng.pick(&[("E11", 1.0), ("E12", 1.0)]);
    out.push(placed.episode(c, adopted, rec));
    adopted
}

/// The allocated social workers over a child's periods of care: a worker in post is drawn, the
/// case is reallocated at a rate that rises when posts are vacant (the pilot's effect lowers it
/// from go-live) or when the worker leaves; with the extra tables, visits and other contacts by
/// the allocated worker every six weeks or so (more often at a pilot after go-live).
fn allocations(
    f: &Frame<'_>,
    w: &Workforce,
    child: u32,
    periods: &[(i32, i32)],
    short_breaks: bool,
    rng: &mut Rng,
    out: &mut SiteOut,
) {
    let (ctx, is_pilot, go_live) = (f.ctx, f.is_pilot, f.go_live);
    let (change_effect, visits_effect, minutes_effect) =
        (ctx.effects.sw_changes, ctx.effects.visits, ctx.effects.contact_minutes);
    for &(p_start, p_end) in periods {
        if p_start > ctx.extract_date {
            break;
        }
        if p_end <= w.history_start + 1 {
            continue;
        }
        let p_end_cut = p_end.min(ctx.extract_date + 1);
        let mut day = p_start.max(w.history_start + 1);
        let Some(mut worker) = w.draw(rng, day, None) else { continue };
        loop {
            // caseload pressure: with posts vacant, cases are handed around more
            let in_post = w.in_post(day);
            let planned = if f.after(day) { w.workers_after } else { w.workers_before } as f64;
            let pressure = (planned / in_post).clamp(0.5, 2.0);
            let realloc_rate = 0.55 * pressure * f.factor(day, change_effect);
            let mut realloc = day + rng.exponential(365.25 / realloc_rate).ceil() as i32;
            // piecewise hazard, as for moves: from go-live the pilot's rate applies
            if is_pilot && day < go_live && realloc >= go_live {
                let in_post = w.in_post(go_live);
                let pressure = (w.workers_after as f64 / in_post).clamp(0.5, 2.0);
                realloc = go_live + rng.exponential(365.25 / (0.55 * pressure * change_effect)).ceil() as i32;
            }
            let worker_end = w.spells[worker].end.unwrap_or(i32::MAX);
            let end = realloc.min(worker_end).min(p_end_cut).max(day + 1);
            let open = end > ctx.extract_date;
            out.allocations.push(Allocation {
                child,
                worker: w.spells[worker].worker,
                start: day,
                end: if open { None } else { Some(end) },
            });
            if ctx.with_extras && !short_breaks {
                let mut visit = day + rng.range(3, 30) as i32;
                let gap = if f.after(visit) { (42.0 / visits_effect).round() as i32 } else { 42 };
                while visit < end.min(ctx.extract_date) {
                    if visit < ctx.window_start {
                        visit += 42;
                        continue;
                    }
                    let kind = *rng.pick(&[("visit", 55.0), ("seen_alone", 30.0), ("phone", 12.0), ("other", 3.0)]);
                    out.contacts.push(Contact {
                        child,
                        worker: w.spells[worker].worker,
                        date: visit,
                        kind,
                        minutes: (rng.range(15, 90) as f64 * if f.after(visit) { minutes_effect } else { 1.0 }).round()
                            as u32,
                    });
                    visit += gap + rng.range(-7, 7) as i32;
                }
            }
            if open || end >= p_end_cut {
                break;
            }
            day = end;
            match w.draw(rng, day, Some(worker)) {
                Some(next) => worker = next,
                None => break,
            }
        }
    }
}

/// The outcome measures of a child in care at the first go-live: SDQ total difficulties at
/// baseline and follow-up (the pilot's shift at follow-up), school attendance, and satisfaction.
fn outcomes(f: &Frame<'_>, child: u32, rng: &mut Rng) -> Vec<Outcome> {
    let base = (rng.normal() * 6.0 + 16.0).clamp(0.0, 40.0).round();
    let shift = if f.is_pilot { f.ctx.effects.sdq } else { 0.0 };
    let follow = (0.7 * base + 4.5 + shift + rng.normal() * 3.5).clamp(0.0, 40.0).round();
    let attendance = (0.9 + rng.normal() * 0.06).clamp(0.3, 1.0);
    vec![
        Outcome { child, wave: "baseline", measure: "sdq_total", value: base },
        Outcome { child, wave: "follow_up", measure: "sdq_total", value: follow },
        Outcome { child, wave: "baseline", measure: "attendance", value: (attendance * 1000.0).round() / 1000.0 },
        Outcome {
            child,
            wave: "follow_up",
            measure: "attendance",
            value: ((attendance + rng.normal() * 0.03).clamp(0.3, 1.0) * 1000.0).round() / 1000.0,
        },
        Outcome {
            child,
            wave: "follow_up",
            measure: "satisfaction",
            value: rng.range(if f.is_pilot { 2 } else { 1 }, 5) as f64,
        },
    ]
}

/// Sickness and other absences of non-agency workers over the window.
fn absences(ctx: &Context, spells: &[Spell], rng: &mut Rng) -> Vec<Absence> {
    let mut absences = Vec::new();
    for s in spells.iter().filter(|s| !s.agency) {
        let from = s.start.max(ctx.window_start);
        let to = s.end.unwrap_or(ctx.extract_date).min(ctx.extract_date);
        if to <= from {
            continue;
        }
        let years = f64::from(to - from) / 365.25;
        for (kind, rate, max_len) in [("sickness", 1.3, 12), ("other", 0.4, 5)] {
            for _ in 0..rng.poisson(rate * years) {
                let start = from + rng.range(0, i64::from(to - from)) as i32;
                let end = (start + rng.range(0, max_len) as i32).min(to);
                absences.push(Absence { worker: s.worker, start, end, kind });
            }
        }
    }
    absences.sort_by_key(|a| (a.worker, a.start));
    absences
}

/// Renumbers workers densely in spell order (site-local), in every table that names them.
fn renumber_workers(out: &mut SiteOut) {
    let mut map: BTreeMap<u32, u32> = BTreeMap::new();
    for s in &out.spells {
        let n = map.len() as u32;
        map.entry(s.worker).or_insert(n);
    }
    for s in out.spells.iter_mut() {
        s.worker = map[&s.worker];
    }
    for a in out.allocations.iter_mut() {
        a.worker = map[&a.worker];
    }
    for a in out.absences.iter_mut() {
        a.worker = map[&a.worker];
    }
    for c in out.contacts.iter_mut() {
        c.worker = map[&c.worker];
    }
}
