//! Episodes → periods of care as the model sees them.
//!
//! A child's episodes that follow each other without a gap (the next starts
//! on the day the last ceased) are one spell in care. Within a spell,
//! episodes whose placement codes map to the same placement type are one
//! period: a change of legal status, of carer or of code within the type is
//! not a move for the model. A spell ends with an exit (the last episode has
//! a DEC), or is censored at the end of the latest return that shows it open.

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
    while i < eps.len() {
        let child = &eps[i].child;
        let Some(&dob) = data.dob.get(child) else {
            i += 1;
            continue;
        };
        let mut segments: Vec<Segment> = Vec::new();
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
                });
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
            out.push(Spell { dob, segments });
        }
        i = j;
    }
    out
}
