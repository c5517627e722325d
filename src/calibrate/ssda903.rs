//! Reads a folder of SSDA903 returns: one sub-folder per collection year,
//! each with the header and episodes tables as CSV. A folder may be named
//! by the year the return ends (`2024` for 2023-24, as the DfE does), by the
//! year it starts (`2023`, as some councils and tools do), or by both
//! (`2023-24`, `2023_2024`). A four-digit name is read by the dates inside:
//! every DEC of a return falls in its collection year, so the year holding
//! more of the folder's DECs (or, with none, whether any DECOM falls after
//! 31 March of the named year) says which end the name gives.
//!
//! The same episode appears in consecutive returns (an episode open at one
//! year end is sent again the next year, closed or still open): episodes
//! are keyed by (CHILD, DECOM) and the latest return's copy is kept; an
//! episode overlapping one of a later return (a DECOM corrected there) gives
//! way to it. An
//! episode still open in the latest return that mentions it is in care at
//! that return's end, and nothing is known about it after that.
//!
//! Rows that cannot be used (a date that does not parse, DEC before DECOM,
//! DECOM before the date of birth, an unknown code, an episode overlapping
//! another of the same child, a child with no date of birth) are skipped and reported with file, row and
//! reason; so are episodes that start after the child's 18th birthday
//! (a date of birth that cannot be right). A missing column, an unreadable
//! file, a plain file named like a year folder, two folders for the same
//! year, a year missing between the first return and the last, a quoted
//! field running past the end of its line, a table with its dates month
//! first (mm/dd/yyyy) or more than 5% of its rows skipped, a table with
//! rows of which not one can be read (every date in a
//! format not read, say), and a year (or a whole folder) without one usable
//! episode are errors. Fields are decoded as UTF-8, or as Latin-1 (Windows exports)
//! when they are not valid UTF-8, so a stray byte in a column that is not
//! read cannot stop the reading. Short breaks
//! (legal status V3, V4) are not periods of care for the model and are left
//! out unless asked for.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::calibrate::date::Day;
use crate::error::Error;

/// Legal status codes of the SSDA903 specification.
pub const LEGAL_STATUSES: [&str; 13] = [
    "C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4",
];
/// Legal statuses of short breaks (respite), not care periods for the model.
pub const RESPITE: [&str; 2] = ["V3", "V4"];
/// Placement codes of the SSDA903 specification (2015 onwards, with K3 for
/// supported accommodation from 2023).
pub const PLACEMENTS: [&str; 28] = [
    "A3", "A4", "A5", "A6", "H5", "K1", "K2", "K3", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1",
    "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1",
];
/// Placement provider codes: PR0 parent, PR1 own authority, PR2 other
/// authority, PR3 other public, PR4 private, PR5 voluntary.
pub const PROVIDERS: [&str; 6] = ["PR0", "PR1", "PR2", "PR3", "PR4", "PR5"];

/// Columns read from each table; others are ignored.
const HEADER_COLUMNS: [&str; 2] = ["CHILD", "DOB"];
const EPISODE_COLUMNS: [&str; 8] = [
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
];
/// The columns an episode cannot do without: a row that ends before one of
/// them is short. The others may be empty (an open episode has no DEC or
/// REC), and an export may leave out empty fields at the end of a row.
const EPISODE_REQUIRED: [&str; 4] = ["CHILD", "DECOM", "LS", "PLACE"];

/// One episode of care, as the latest return that holds it gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    pub child: String,
    pub start: Day,
    /// Day the episode ceased; `None` while open.
    pub end: Option<Day>,
    /// Last day of the return the episode comes from (31 March of its
    /// collection year): an open episode is known to last until then.
    pub return_end: Day,
    pub legal_status: String,
    pub place: String,
    pub provider: String,
    /// Reason the episode ceased (`X1`: a new episode starts the same day).
    pub reason_ceased: String,
    /// Reason for the new episode (`S`: the start of a period of care).
    pub reason_new: String,
    /// Line of the row in its episodes file.
    pub row: usize,
}

impl Episode {
    /// The last day the child is known to be in care in this episode, plus
    /// one: the day it ceased, or the day after the return's end.
    pub fn known_until(&self) -> Day {
        self.end.unwrap_or(Day(self.return_end.0 + 1))
    }
}

/// A row that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// Line in the file (the column names are line 1).
    pub row: usize,
    pub reason: String,
}

/// Everything read from the returns.
#[derive(Clone, Debug, Default)]
pub struct Data {
    /// Date of birth by child.
    pub dob: HashMap<String, Day>,
    /// Episodes in order of child and start, de-duplicated.
    pub episodes: Vec<Episode>,
    pub problems: Vec<Problem>,
    /// Collection years read, in order.
    pub years: Vec<i32>,
    /// Copies of an episode already read from an earlier return.
    pub duplicates: usize,
    /// Short-break episodes left out.
    pub respite: usize,
    /// Things read that are used but may be wrong (a child given two
    /// dates of birth), for stderr.
    pub warnings: Vec<String>,
    /// Episodes replaced by an overlapping one of the same child from a
    /// later return (its correction: a DECOM moved, say).
    pub corrected: usize,
    /// The folder read.
    pub folder: PathBuf,
}

impl Data {
    /// First day covered by the returns (1 April before the first year).
    pub fn first_day(&self) -> Option<Day> {
        self.years.first().and_then(|y| Day::from_ymd(y - 1, 4, 1))
    }

    /// Last day covered by the returns (31 March of the last year).
    pub fn last_day(&self) -> Option<Day> {
        self.years.last().and_then(|y| Day::from_ymd(*y, 3, 31))
    }
}

/// Which files of a year folder hold the two tables.
#[derive(Clone, Debug, Default)]
pub struct FileNames {
    /// File name of the header table; found by name when `None`.
    pub header: Option<String>,
    pub episodes: Option<String>,
}

/// Options for reading.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    pub files: FileNames,
    /// Keep short breaks (LS V3, V4) as periods of care.
    pub include_respite: bool,
}

fn data_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads every collection-year folder of `dir`.
pub fn read_dir(dir: &Path, options: &ReadOptions) -> Result<Data, Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| data_error(dir, format!("cannot read the SSDA903 folder: {e}")))?;
    let mut years: BTreeMap<i32, PathBuf> = BTreeMap::new();
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| data_error(dir, format!("cannot read the folder: {e}")))?;
        names.push((
            entry.file_name().to_string_lossy().to_string(),
            entry.path(),
        ));
    }
    names.sort();
    for (name, path) in names {
        let Some(named) = year_of_name(&name) else {
            continue;
        };
        if !path.is_dir() {
            return Err(data_error(
                &path,
                "a file named like a collection year: each year's return must be a folder holding its header and episodes tables",
            ));
        }
        if !NAMED_YEARS.contains(&named.first()) {
            return Err(data_error(
                &path,
                format!(
                    "a folder named like a collection year outside those carecast reads ({} to {}): rename it, or move it out of {}",
                    NAMED_YEARS.start(),
                    NAMED_YEARS.end(),
                    dir.display()
                ),
            ));
        }
        let year = match named {
            Named::Both(end) => end,
            Named::One(y) => {
                let episode_file = find_file(&path, options.files.episodes.as_deref(), "episode")?;
                year_from_dates(&episode_file, y)?
            }
        };
        if let Some(other) = years.insert(year, path.clone()) {
            return Err(data_error(
                dir,
                format!(
                    "two folders hold the return for {}: {} and {} (a folder may be named by the year the return starts or ends; the dates inside decide which)",
                    collection_year(year),
                    other.display(),
                    path.display()
                ),
            ));
        }
    }
    if years.is_empty() {
        return Err(data_error(
            dir,
            "no collection-year folders: expected sub-folders named by the year each return ends or starts (e.g. 2024 or 2023 for 2023-24)",
        ));
    }
    check_contiguous(dir, &years)?;
    let mut data = Data {
        folder: dir.to_path_buf(),
        ..Data::default()
    };
    // (child, start) → index in `episodes`, and the year it came from.
    let mut seen: HashMap<(String, Day), (usize, i32)> = HashMap::new();
    let mut episodes: Vec<Episode> = Vec::new();
    let mut files: HashMap<i32, PathBuf> = HashMap::new();
    // The header file that gave each child's date of birth.
    let mut dob_files: HashMap<String, (PathBuf, usize)> = HashMap::new();
    for (&year, folder) in &years {
        data.years.push(year);
        let header = find_file(folder, options.files.header.as_deref(), "header")?;
        let episode_file = find_file(folder, options.files.episodes.as_deref(), "episode")?;
        files.insert(year, episode_file.clone());
        let children = read_header(&header, &mut data, &mut dob_files)?;
        let return_end = Day::from_ymd(year, 3, 31).unwrap_or(Day(0));
        let return_start = Day::from_ymd(year - 1, 4, 1).unwrap_or(Day(0));
        let table = Table::open(&episode_file, &EPISODE_COLUMNS, &EPISODE_REQUIRED)?;
        let mut count = Counts::default();
        for row in table.rows()? {
            let (line, f, short) = row?;
            count.row(line, &f, &["DECOM", "DEC"]);
            let problem = |reason: String| Problem {
                file: episode_file.clone(),
                row: line,
                reason,
            };
            if let Some((n, m)) = short {
                data.problems.push(problem(short_row(n, m)));
                continue;
            }
            let episode = match parse_episode(&f, return_start, return_end) {
                Ok(e) => {
                    count.usable += 1;
                    Episode { row: line, ..e }
                }
                Err(reason) => {
                    data.problems.push(problem(reason));
                    continue;
                }
            };
            if !options.include_respite && RESPITE.contains(&episode.legal_status.as_str()) {
                data.respite += 1;
                continue;
            }
            let key = (episode.child.clone(), episode.start);
            match seen.get(&key) {
                Some(&(_, y)) if y == year => {
                    data.problems.push(problem(format!(
                        "child {} has two episodes starting {} in this return",
                        episode.child, episode.start
                    )));
                }
                Some(&(i, _)) => {
                    // An earlier return's copy: the later one knows more.
                    data.duplicates += 1;
                    episodes[i] = episode;
                    seen.insert(key, (i, year));
                }
                None => {
                    seen.insert(key, (episodes.len(), year));
                    episodes.push(episode);
                }
            }
        }
        if count.rows == 0 {
            return Err(data_error(
                &episode_file,
                format!("the return for {} lists no episodes", collection_year(year)),
            ));
        }
        if children.rows == 0 {
            return Err(data_error(
                &header,
                format!(
                    "the return for {} lists no children: the header table holds only its column names",
                    collection_year(year)
                ),
            ));
        }
        check_table(&episode_file, year, &count, &data.problems)?;
        check_table(&header, year, &children, &data.problems)?;
    }
    episodes.sort_by(|a, b| (&a.child, a.start).cmp(&(&b.child, b.start)));
    // Where the rows came from, for reporting overlaps and missing births.
    let origin = |e: &Episode| {
        let (y, _, _) = e.return_end.ymd();
        files.get(&y).cloned().unwrap_or_default()
    };
    let mut kept: Vec<Episode> = Vec::with_capacity(episodes.len());
    for e in episodes {
        let dob_problem = match data.dob.get(&e.child) {
            None => Some(format!(
                "child {}: no header row with a valid DOB, episode starting {} skipped",
                e.child, e.start
            )),
            Some(dob) if e.start < *dob => Some(format!(
                "child {}: DECOM {} is before the child's DOB {dob}, episode skipped",
                e.child, e.start
            )),
            Some(dob) if e.start > dob.plus_years(18) => Some(format!(
                "child {}: DECOM {} is after the 18th birthday (DOB {dob}): the DOB cannot be right, episode skipped",
                e.child, e.start
            )),
            _ => None,
        };
        if let Some(reason) = dob_problem {
            data.problems.push(Problem {
                file: origin(&e),
                row: e.row,
                reason,
            });
            continue;
        }
        // An episode of a later return overlapping one of an earlier
        // return is the council's correction. The same episode sent again
        // with its DECOM moved (an open episode with the same legal status,
        // placement and provider) is replaced by it. Otherwise the later
        // return has an episode the earlier one lacked (a move recorded
        // late, say): the earlier episode ends where it begins, keeping the
        // time in care before it. An earlier episode that begins no earlier
        // is replaced whole.
        while let Some(prev) = kept.last_mut()
            && prev.child == e.child
            && e.start < prev.known_until()
            && e.return_end > prev.return_end
        {
            data.corrected += 1;
            let resent = prev.end.is_none()
                && prev.legal_status == e.legal_status
                && prev.place == e.place
                && prev.provider == e.provider;
            if e.start > prev.start && !resent {
                prev.end = Some(e.start);
                break;
            }
            if let Some(stale) = kept.pop() {
                let (y, _, _) = e.return_end.ymd();
                data.problems.push(Problem {
                    file: origin(&stale),
                    row: stale.row,
                    reason: format!(
                        "child {}: episode starting {} is replaced by the episode starting {} of the later return for {} (a correction), skipped",
                        stale.child,
                        stale.start,
                        e.start,
                        collection_year(y)
                    ),
                });
            }
        }
        if let Some(prev) = kept.last()
            && prev.child == e.child
            && e.start < prev.known_until()
        {
            data.problems.push(Problem {
                file: origin(&e),
                row: e.row,
                reason: format!(
                    "child {}: episode starting {} overlaps the episode {}–{}, skipped",
                    e.child,
                    e.start,
                    prev.start,
                    prev.end.map(|d| d.to_string()).unwrap_or_default()
                ),
            });
            continue;
        }
        kept.push(e);
    }
    data.episodes = kept;
    data.problems
        .sort_by(|a, b| (&a.file, a.row).cmp(&(&b.file, b.row)));
    if data.episodes.is_empty() {
        let first = data
            .problems
            .first()
            .map(|p| format!("; the first: {}:{}: {}", p.file.display(), p.row, p.reason))
            .unwrap_or_default();
        return Err(data_error(
            dir,
            format!(
                "no usable episode in the returns ({} rows skipped, {} short breaks left out): nothing to calibrate on{first}",
                data.problems.len(),
                data.respite
            ),
        ));
    }
    Ok(data)
}

/// Refuses returns with a year missing between the first and the last:
/// an episode open at the end of the year before the gap would be cut off
/// there, and the same child counted again as a new entrant in the year
/// after it, halving the exits and inflating the entries.
fn check_contiguous(dir: &Path, years: &BTreeMap<i32, PathBuf>) -> Result<(), Error> {
    let read: Vec<i32> = years.keys().copied().collect();
    let missing: Vec<String> = read
        .windows(2)
        .flat_map(|w| (w[0] + 1)..w[1])
        .map(collection_year)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let (first, last) = (read[0], read[read.len() - 1]);
    Err(data_error(
        dir,
        format!(
            "the returns from {} to {} have no folder for {}: every year between the first and the last is needed (episodes open at the end of the year before a gap would be cut off and counted again as new entries after it); add the missing return(s), or move the years before the gap out of the folder",
            collection_year(first),
            collection_year(last),
            missing.join(", ")
        ),
    ))
}

/// What a folder's name says about its collection year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
    /// `2023`: the start or the end year, to be read from the dates.
    One(i32),
    /// `2023-24`, `2023_2024`: the year the return ends.
    Both(i32),
}

/// The years a year folder's name may give (its first year, for
/// `2022-23`): a four-digit name outside them is an error, not a folder
/// left out.
const NAMED_YEARS: std::ops::RangeInclusive<i32> = 1990..=2200;

impl Named {
    /// The first year the name gives: the one it states, or the year the
    /// return starts.
    fn first(self) -> i32 {
        match self {
            Named::One(y) => y,
            Named::Both(end) => end - 1,
        }
    }
}

fn year_of_name(name: &str) -> Option<Named> {
    let year = |t: &str| {
        (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<i32>().ok())
            .flatten()
    };
    if let Some(y) = year(name) {
        return Some(Named::One(y));
    }
    let (a, b) = name.split_once(['-', '_'])?;
    let start = year(a)?;
    let end = match b.len() {
        2 => start / 100 * 100 + b.parse::<i32>().ok()?,
        4 => b.parse::<i32>().ok()?,
        _ => return None,
    };
    (end == start + 1 || (b.len() == 2 && end == start + 1 - 100)).then_some(Named::Both(start + 1))
}

/// The collection year (the year it ends) of a return in a folder named
/// `named`: `named` when its dates lie in April named−1 to March named,
/// `named + 1` when they lie a year later.
fn year_from_dates(episode_file: &Path, named: i32) -> Result<i32, Error> {
    let table = Table::open(episode_file, &["DECOM", "DEC"], &[])?;
    let in_year = |d: Day, end_year: i32| {
        Day::from_ymd(end_year - 1, 4, 1).is_some_and(|a| a <= d)
            && Day::from_ymd(end_year, 3, 31).is_some_and(|b| d <= b)
    };
    let (mut ends_named, mut ends_later, mut starts_later) = (0usize, 0usize, false);
    for row in table.rows()? {
        let (_, f, _) = row?;
        if let Some(d) = f.get("DEC").and_then(|t| Day::parse(t)) {
            ends_named += in_year(d, named) as usize;
            ends_later += in_year(d, named + 1) as usize;
        }
        if let Some(d) = f.get("DECOM").and_then(|t| Day::parse(t)) {
            starts_later |= in_year(d, named + 1);
        }
    }
    Ok(
        if ends_later > ends_named || (ends_named == 0 && ends_later == 0 && starts_later) {
            named + 1
        } else {
            named
        },
    )
}

fn parse_episode(
    f: &HashMap<&str, String>,
    return_start: Day,
    return_end: Day,
) -> Result<Episode, String> {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let child = get("CHILD");
    if child.is_empty() {
        return Err("CHILD is empty".into());
    }
    let date = |k: &str| -> Result<Option<Day>, String> {
        let text = get(k);
        if text.is_empty() {
            return Ok(None);
        }
        Day::parse(&text)
            .map(Some)
            .ok_or_else(|| format!("{k} {text:?} is not a date (dd/mm/yyyy or yyyy-mm-dd)"))
    };
    let start = date("DECOM")?.ok_or("DECOM is empty")?;
    let end = date("DEC")?;
    if let Some(end) = end {
        if end < start {
            return Err(format!("DEC {end} is before DECOM {start}"));
        }
        if end > return_end {
            return Err(format!(
                "DEC {end} is after the return's end ({return_end})"
            ));
        }
    }
    if start > return_end {
        return Err(format!(
            "DECOM {start} is after the return's end ({return_end})"
        ));
    }
    if end.is_some_and(|e| e < return_start) {
        return Err(format!(
            "the episode ended before the return's year began ({return_start})"
        ));
    }
    let code = |k: &str, allowed: &[&str], may_be_empty: bool| -> Result<String, String> {
        let v = get(k).to_ascii_uppercase();
        if (v.is_empty() && may_be_empty) || allowed.contains(&v.as_str()) {
            Ok(v)
        } else {
            Err(format!("unknown {k} code {v:?}"))
        }
    };
    Ok(Episode {
        legal_status: code("LS", &LEGAL_STATUSES, false)?,
        place: code("PLACE", &PLACEMENTS, false)?,
        provider: code("PLACE_PROVIDER", &PROVIDERS, true)?,
        reason_ceased: get("REC").to_ascii_uppercase(),
        reason_new: get("RNE").to_ascii_uppercase(),
        row: 0,
        child,
        start,
        end,
        return_end,
    })
}

/// Why a row with `n` fields in a table of `m` columns is skipped.
fn short_row(n: usize, m: usize) -> String {
    format!("the row has {n} fields, expected {m} (one for each column name): a field is missing")
}

/// Reads a header table into `data.dob`; returns its rows and how many of
/// them gave a child a date of birth.
fn read_header(
    path: &Path,
    data: &mut Data,
    dob_files: &mut HashMap<String, (PathBuf, usize)>,
) -> Result<Counts, Error> {
    let table = Table::open(path, &HEADER_COLUMNS, &HEADER_COLUMNS)?;
    let mut count = Counts::default();
    for row in table.rows()? {
        let (line, f, short) = row?;
        count.row(line, &f, &["DOB"]);
        let child = f.get("CHILD").map(|s| s.trim()).unwrap_or("");
        let dob = f.get("DOB").map(|s| s.trim()).unwrap_or("");
        let problem = |reason: String| Problem {
            file: path.to_path_buf(),
            row: line,
            reason,
        };
        if let Some((n, m)) = short {
            data.problems.push(problem(short_row(n, m)));
            continue;
        }
        if child.is_empty() {
            data.problems.push(problem("CHILD is empty".into()));
            continue;
        }
        match Day::parse(dob) {
            Some(d) => {
                count.usable += 1;
                if let Some(before) = data.dob.insert(child.to_string(), d)
                    && before != d
                    && let Some((file, row)) = dob_files.get(child)
                {
                    data.warnings.push(format!(
                        "child {child} has two dates of birth: {before} in {}:{row} and {d} in {}:{line}; the later return's ({d}) is used",
                        file.display(),
                        path.display()
                    ));
                }
                dob_files.insert(child.to_string(), (path.to_path_buf(), line));
            }
            None => data.problems.push(problem(format!(
                "DOB {dob:?} of child {child} is not a date (dd/mm/yyyy or yyyy-mm-dd)"
            ))),
        }
    }
    Ok(count)
}

/// The largest share of a table's rows that may be skipped as unusable
/// before the table is refused: returns that pass the DfE's validation
/// have next to none, and a year in which more than one row in twenty
/// cannot be read has been exported wrongly, not mistyped.
pub const MAX_SKIPPED_SHARE: f64 = 0.05;
/// Skipped rows below this many never refuse a table, however small.
pub const MIN_SKIPPED_REFUSED: usize = 10;
/// Rows with a date read as month/day/year before a table is refused (and
/// at least 1% of its rows): one such date is a typo, many an export in
/// the American order.
const MIN_SWAPPED_REFUSED: usize = 3;

/// What was read of one table.
#[derive(Clone, Debug, Default)]
struct Counts {
    rows: usize,
    /// Rows that gave an episode (or a date of birth).
    usable: usize,
    /// Rows with a date that is no dd/mm/yyyy date but reads as
    /// mm/dd/yyyy, and the first of them (line, text).
    swapped: usize,
    swapped_example: Option<(usize, String)>,
}

impl Counts {
    fn row(&mut self, line: usize, f: &HashMap<&str, String>, dates: &[&str]) {
        self.rows += 1;
        if let Some(text) = dates
            .iter()
            .filter_map(|k| f.get(k))
            .find(|t| reads_month_first(t))
        {
            self.swapped += 1;
            if self.swapped_example.is_none() {
                self.swapped_example = Some((line, text.trim().to_string()));
            }
        }
    }
}

/// Whether `text` is no dd/mm/yyyy date because its month is above 12,
/// while read as mm/dd/yyyy it is a valid day.
fn reads_month_first(text: &str) -> bool {
    let parts: Vec<&str> = text.trim().split('/').collect();
    let [a, b, y] = parts[..] else {
        return false;
    };
    let (Ok(a), Ok(b), Ok(y)) = (a.parse::<u32>(), b.parse::<u32>(), y.parse::<i32>()) else {
        return false;
    };
    b > 12 && Day::from_ymd(y, a, b).is_some()
}

/// The collection year ending in March of `year`, as returns are named:
/// `2021-22`.
fn collection_year(year: i32) -> String {
    format!("{}-{:02}", year - 1, year.rem_euclid(100))
}

/// Refuses a table exported with its dates month first, one with rows of
/// which not one could be read, and one with more than
/// [`MAX_SKIPPED_SHARE`] of its rows skipped: skipping them row by row
/// would calibrate on the other years as if this one had lost its
/// children (and, with dates month first, read the rest with day and
/// month swapped), and say so only on stderr.
fn check_table(path: &Path, year: i32, count: &Counts, problems: &[Problem]) -> Result<(), Error> {
    let the_return = format!("the return for {}", collection_year(year));
    if let Some((line, text)) = &count.swapped_example
        && count.swapped >= MIN_SWAPPED_REFUSED
        && count.swapped * 100 >= count.rows
    {
        return Err(data_error(
            path,
            format!(
                "{} of the {} rows of {the_return} have a date written month first (mm/dd/yyyy), e.g. row {line}: {text:?}; the dates of this table cannot be trusted (those with a day up to 12 would be read with day and month swapped): export it again with dates as dd/mm/yyyy or yyyy-mm-dd",
                count.swapped, count.rows
            ),
        ));
    }
    let skipped = count.rows - count.usable;
    if count.rows == 0 || skipped == 0 {
        return Ok(());
    }
    let first = problems
        .iter()
        .filter(|p| p.file == path)
        .min_by_key(|p| p.row)
        .map(|p| format!("; the first: {}:{}: {}", p.file.display(), p.row, p.reason))
        .unwrap_or_default();
    if count.usable == 0 {
        return Err(data_error(
            path,
            format!(
                "no usable row in {the_return}: all {} rows skipped{first}",
                count.rows
            ),
        ));
    }
    if skipped >= MIN_SKIPPED_REFUSED && skipped as f64 > MAX_SKIPPED_SHARE * count.rows as f64 {
        return Err(data_error(
            path,
            format!(
                "{skipped} of the {} rows of {the_return} cannot be used, more than the {}% carecast accepts in one table: calibrating on the rest would lose that year's children without a word{first}",
                count.rows,
                MAX_SKIPPED_SHARE * 100.0
            ),
        ));
    }
    Ok(())
}

/// The file of a year folder holding a table: the name given, or a `.csv`
/// whose name contains `what` (`header`, `episode`), ignoring case.
fn find_file(folder: &Path, given: Option<&str>, what: &str) -> Result<PathBuf, Error> {
    let unusable_table = |path: &Path, problem: String| {
        data_error(
            path,
            format!("{problem}; the {what} table must be a regular CSV file"),
        )
    };
    if let Some(name) = given {
        let path = folder.join(name);
        if let Some(problem) = not_a_table(&path) {
            return Err(unusable_table(&path, problem));
        }
        return Ok(path);
    }
    let entries = std::fs::read_dir(folder)
        .map_err(|e| data_error(folder, format!("cannot read the folder: {e}")))?;
    // Every entry named like the table, whatever it is: one that cannot be
    // read is reported as such rather than as no table at all.
    let mut named: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            name.ends_with(".csv") && name.contains(what)
        })
        .collect();
    named.sort();
    let (mut found, unusable): (Vec<PathBuf>, Vec<PathBuf>) =
        named.into_iter().partition(|p| not_a_table(p).is_none());
    if found.is_empty()
        && let Some(path) = unusable.first()
        && let Some(problem) = not_a_table(path)
    {
        return Err(unusable_table(path, problem));
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(data_error(
            folder,
            format!(
                "no {what} table: expected a CSV file such as {what}{}.csv",
                if what == "episode" { "s" } else { "" }
            ),
        )),
        _ => Err(data_error(
            folder,
            format!(
                "several files could be the {what} table ({}); name one with --{what}{}-file",
                found
                    .iter()
                    .map(|p| p
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if what == "episode" { "s" } else { "" }
            ),
        )),
    }
}

/// Why `path` cannot be read as a table, if it cannot: no such file, not
/// a regular file (a directory, a named pipe, a device), or unreadable (a symbolic
/// link that loops or leads nowhere, no permission), with the OS error.
fn not_a_table(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => None,
        Ok(meta) => Some(format!(
            "{}, not a regular file",
            crate::input::file_kind(&meta.file_type())
        )),
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && std::fs::symlink_metadata(path).is_err() =>
        {
            Some("no such file".to_string())
        }
        Err(e) => Some(format!("cannot be read: {e}")),
    }
}

/// A field as text: UTF-8, or Latin-1 (each byte one character) when it is
/// not valid UTF-8, as files exported on Windows often are.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// Refuses a file that starts with a UTF-16 byte-order mark (Excel's
/// "Unicode Text"): read as bytes, its column names came out with a NUL
/// between letters and the error listed them so. Leaves the file at its
/// start.
fn check_not_utf16(path: &Path, file: &mut std::fs::File) -> Result<(), Error> {
    use std::io::{Read, Seek};
    let unreadable = |e: std::io::Error| data_error(path, format!("cannot read the file: {e}"));
    let mut start = [0u8; 2];
    let n = file.read(&mut start).map_err(unreadable)?;
    file.rewind().map_err(unreadable)?;
    if n == 2 && (start == [0xFF, 0xFE] || start == [0xFE, 0xFF]) {
        return Err(data_error(
            path,
            "the file is UTF-16 text (as Excel's \"Unicode Text\" saves it): save it as CSV (comma delimited) or CSV UTF-8",
        ));
    }
    Ok(())
}

/// A CSV table with the columns we need located by name.
struct Table {
    path: PathBuf,
    reader: csv::Reader<std::fs::File>,
    columns: Vec<(&'static str, usize)>,
    /// The columns a row must reach (see [`EPISODE_REQUIRED`]).
    required: Vec<&'static str>,
    /// Number of column names.
    width: usize,
}

/// A row: its line, the fields read by column name, and, when the row
/// is too short to hold every column needed, (its fields, the columns).
type Row = (usize, HashMap<&'static str, String>, Option<(usize, usize)>);

impl Table {
    fn open(
        path: &Path,
        needed: &[&'static str],
        required: &[&'static str],
    ) -> Result<Table, Error> {
        let (mut file, _) = crate::input::open(path)
            .map_err(|e| data_error(path, e.message("the file", "an SSDA903 table (CSV)")))?;
        check_not_utf16(path, &mut file)?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(file);
        let names: Vec<String> = reader
            .byte_headers()
            .map_err(|e| data_error(path, format!("cannot read the column names: {e}")))?
            .iter()
            .map(decode)
            .collect();
        if names
            .iter()
            .all(|n| n.trim_start_matches('\u{feff}').trim().is_empty())
        {
            return Err(data_error(
                path,
                format!(
                    "the file is empty: expected a first line of column names with {}",
                    needed.join(", ")
                ),
            ));
        }
        let mut columns = Vec::new();
        for want in needed {
            let Some(i) = names
                .iter()
                .position(|n| n.trim_start_matches('\u{feff}').eq_ignore_ascii_case(want))
            else {
                return Err(data_error(
                    path,
                    format!(
                        "missing column {want} (the columns are: {})",
                        names.join(", ")
                    ),
                ));
            };
            columns.push((*want, i));
        }
        Ok(Table {
            path: path.to_path_buf(),
            reader,
            columns,
            required: required.to_vec(),
            width: names.len(),
        })
    }

    fn rows(self) -> Result<impl Iterator<Item = Result<Row, Error>>, Error> {
        let Table {
            path,
            reader,
            columns,
            required,
            width,
        } = self;
        Ok(reader.into_byte_records().map(move |r| {
            let record = r.map_err(|e| data_error(&path, format!("cannot read the CSV: {e}")))?;
            let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
            // SSDA903 fields never span lines: a field that does is a
            // stray or unterminated double quote, which would otherwise
            // swallow the rows after it into one field without a word.
            if record
                .iter()
                .any(|f| f.contains(&b'\n') || f.contains(&b'\r'))
            {
                return Err(data_error(
                    &path,
                    format!(
                        "row {line}: a double quote opens a field that runs past the end of the line (a stray or unterminated quote); SSDA903 fields never span lines: remove the quote or close it on the same line"
                    ),
                ));
            }
            let fields = columns
                .iter()
                .map(|(name, i)| (*name, record.get(*i).map(decode).unwrap_or_default()))
                .collect();
            // A row that stops before a required column is short; one
            // that leaves out only optional fields at its end (an export
            // may drop trailing empty fields) is read with them empty.
            let short = columns
                .iter()
                .any(|(name, i)| required.contains(name) && *i >= record.len())
                .then_some((record.len(), width));
            Ok((line, fields, short))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_give_one_year_or_both() {
        assert_eq!(year_of_name("2023"), Some(Named::One(2023)));
        assert_eq!(year_of_name("2022-23"), Some(Named::Both(2023)));
        assert_eq!(year_of_name("2022_2023"), Some(Named::Both(2023)));
        assert_eq!(year_of_name("1999-00"), Some(Named::Both(2000)));
        // Named like a year even outside the years read: an error for the
        // caller, not a folder skipped.
        assert_eq!(year_of_name("0000"), Some(Named::One(0)));
        assert_eq!(year_of_name("0000").map(Named::first), Some(0));
        assert_eq!(year_of_name("2022-23").map(Named::first), Some(2022));
        for other in ["2022-24", "202", "20231", "2023.csv", "notes", "2023-2"] {
            assert_eq!(year_of_name(other), None, "{other}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_read_as_latin1() {
        assert_eq!(decode(b"Caf\xe9"), "Café");
        assert_eq!(decode("Café".as_bytes()), "Café");
    }
}
