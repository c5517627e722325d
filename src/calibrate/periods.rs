//! Episodes → periods of care as the model sees them.
//!
//! A child's episodes that follow each other without a gap (the next starts
//! on the day the last ceased) are one spell in care. Within a spell,
//! episodes whose placement codes map to the same placement type are one
//! period: a change of legal status, of carer or of code within the type is
//! not a move for the model. A spell ends with an exit (the last episode has
//! a DEC), or is censored at the end of the latest return that shows it open.
//!
//! The start of a spell is the start of the child's period of care when
//! its first episode began within the returns or is marked as one (RNE
//! `S`); otherwise the period began earlier, before the first return, and
//! the time in care is only known to be at least the time since that
//! episode began.

use crate::calibrate::date::Day;
use crate::calibrate::ssda903::{Data, Episode};

/// How a period in one placement type ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The child left care.
    Exit,
    /// The child moved to another placement type (the next segment's).
    Move,
    /// Still in care when the data stop saying anything about the child.
    Censored,
}

/// A period in one placement type: in care from `start` up to but not
/// including `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub placement: usize,
    pub start: Day,
    pub end: Day,
    pub how: End,
}

/// One spell in care of one child.
#[derive(Clone, Debug, PartialEq)]
pub struct Spell {
    pub dob: Day,
    pub segments: Vec<Segment>,
    /// Whether the first segment starts the period of care (see the module
    /// docs); otherwise the period began earlier.
    pub start_known: bool,
}

impl Spell {
    pub fn start(&self) -> Day {
        self.segments[0].start
    }

    /// The segment the child is in on `day`, if in care.
    pub fn on(&self, day: Day) -> Option<&Segment> {
        self.segments.iter().find(|s| s.start <= day && day < s.end)
    }
}

/// Builds the spells of every child. `placement_of` gives an episode's
/// placement type (every episode passed in must have one).
pub fn spells(data: &Data, placement_of: impl Fn(&Episode) -> usize) -> Vec<Spell> {
    let mut out = Vec::new();
    let mut i = 0;
    let eps = &data.episodes;
    let first_day = data.first_day().unwrap_or(Day(i32::MIN));
    let known = |e: &Episode| e.start >= first_day || e.reason_new == "S";
    while i < eps.len() {
        let child = &eps[i].child;
        let Some(&dob) = data.dob.get(child) else {
            i += 1;
            continue;
        };
        let mut segments: Vec<Segment> = Vec::new();
        let mut start_known = known(&eps[i]);
        let mut j = i;
        while j < eps.len() && eps[j].child == *child {
            let e = &eps[j];
            let p = placement_of(e);
            let continues = segments
                .last()
                .is_some_and(|last| last.how == End::Exit && last.end == e.start);
            if !continues && !segments.is_empty() {
                out.push(Spell {
                    dob,
                    segments: std::mem::take(&mut segments),
                    start_known,
                });
                start_known = known(e);
            }
            let (end, how) = match e.end {
                Some(d) => (d, End::Exit),
                None => (e.known_until(), End::Censored),
            };
            match segments.last_mut() {
                Some(last) if last.placement == p => {
                    last.end = end;
                    last.how = how;
                }
                Some(last) => {
                    last.how = End::Move;
                    segments.push(Segment {
                        placement: p,
                        start: e.start,
                        end,
                        how,
                    });
                }
                None => segments.push(Segment {
                    placement: p,
                    start: e.start,
                    end,
                    how,
                }),
            }
            j += 1;
        }
        if !segments.is_empty() {
            out.push(Spell {
                dob,
                segments,
                start_known,
            });
        }
        i = j;
    }
    out
}
