//! Partial results (`carecast run --shard K/N --partial FILE`) and their
//! merge (`carecast merge`).
//!
//! A shard runs a contiguous range of the runs with exactly the streams a
//! single run gives them, and writes its tallies ([`crate::results`]) with
//! everything a merge needs and checks, so that `merge` needs no config.
//!
//! # Format (version 2)
//! All integers are little-endian; `varint` is LEB128, `zigzag` a signed
//! varint.
//! 1. The first line: the magic bytes `carecast partial`, then ` v2` (the
//!    format version) and a line feed. A reader checks these two before
//!    anything else, so a file of another version is named as such instead
//!    of failing on whatever follows. (Version 1 wrote the bare line
//!    `carecast partial\n` and kept its version in the header.)
//! 2. A header: a u32 length, then that many bytes of JSON ([`Header`]):
//!    the carecast version, the seed, the total runs, the shard, its run
//!    range, the SHA-256 of the config text and the text itself.
//! 3. The body: the tallies of every scenario's row, their driver sums and
//!    the tallies of every comparison, in the order of the config (see
//!    [`encode`]). Every tally is in its canonical form, so a shard gives
//!    the same bytes on any number of threads.
//! 4. The SHA-256 of everything before it (32 bytes): a truncated or damaged
//!    file is refused, never half read.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::drivers::DriverSums;
use crate::error::Error;
use crate::results::{Plan, Results, ScenarioResults};
use crate::tally::{Tally, Threshold, Wide};

/// The bytes every partial file starts with.
const MAGIC: &[u8] = b"carecast partial";
/// The version of the format written, the only one read.
pub const FORMAT: u32 = 2;
/// The length of the checksum that ends a partial file.
const SUM: u64 = 32;

/// What a partial file says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub carecast_version: String,
    pub seed: u64,
    /// Runs of the whole simulation (R), of which this file holds a range.
    pub runs: u64,
    /// `[K, N]`: shard K of N.
    pub shard: [u64; 2],
    /// The runs held: `from` to `to − 1`.
    pub from: u64,
    pub to: u64,
    /// SHA-256 of `config`, in hex.
    pub config_sha256: String,
    /// Where the config was read from (for messages).
    pub config_origin: String,
    pub config: String,
    /// Whether every initiative's cost avoided was measured
    /// (`--attribution`), whatever their number.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attribution: bool,
    /// Whether no initiative's cost avoided was measured
    /// (`--no-attribution`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_attribution: bool,
}

impl Header {
    /// The `--attribution` / `--no-attribution` setting the shard ran with.
    pub fn attribution(&self) -> crate::engine::Attribution {
        use crate::engine::Attribution;
        match (self.attribution, self.no_attribution) {
            (true, _) => Attribution::All,
            (false, true) => Attribution::Off,
            (false, false) => Attribution::Auto,
        }
    }
}

/// The runs shard `k` of `n` holds out of `runs`: ⌊k·R/n⌋ to ⌊(k+1)·R/n⌋ − 1.
pub fn shard_range(k: u64, n: u64, runs: u64) -> std::ops::Range<u64> {
    let at = |k: u64| (k as u128 * runs as u128 / n as u128) as u64;
    at(k)..at(k + 1)
}

/// Parses `--shard K/N`.
pub fn parse_shard(text: &str) -> Result<(u64, u64), Error> {
    let bad = |why: &str| {
        Error::Usage(format!(
            "--shard {text:?}: {why}; expected K/N with K from 0 to N − 1, e.g. 0/4"
        ))
    };
    let (k, n) = text.split_once('/').ok_or_else(|| bad("no '/'"))?;
    let k: u64 = k
        .trim()
        .parse()
        .map_err(|_| bad("K is not a whole number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| bad("N is not a whole number"))?;
    if n == 0 {
        return Err(bad("N must be at least 1"));
    }
    if k >= n {
        return Err(bad("K must be below N"));
    }
    Ok((k, n))
}

/// SHA-256 of a text, in hex.
pub fn sha256_hex(text: &[u8]) -> String {
    Sha256::digest(text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The bytes of a partial file.
pub fn write(header: &Header, results: &Results) -> Result<Vec<u8>, Error> {
    let json = serde_json::to_vec(header)
        .map_err(|e| Error::Runtime(format!("cannot encode the partial header: {e}")))?;
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(format!(" v{FORMAT}\n").as_bytes());
    let len = u32::try_from(json.len())
        .map_err(|_| Error::Runtime("the partial header is over 4 GiB".into()))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&json);
    encode(results, &mut out);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    Ok(out)
}

/// A partial file read back: where it is, its header and its checksum.
pub struct Partial {
    pub path: PathBuf,
    pub header: Header,
    /// The SHA-256 the file ends with (it matched the file's content).
    pub sum: [u8; 32],
}

/// Opens a partial file for reading: only a regular file is accepted (see
/// [`crate::input::open`]), so a named pipe or a device is refused at once.
fn open(path: &Path) -> Result<(std::fs::File, u64), Error> {
    crate::input::open(path).map_err(|e| Error::Results {
        path: path.to_path_buf(),
        message: e.message(
            "the file",
            "a partial file written by `carecast run --shard K/N --partial FILE`",
        ),
    })
}

/// Reads the partial file at `path` and checks it on its own: its magic
/// bytes, then its format version, then its checksum, then its header. The
/// body comes back only when `keep_body` is true; otherwise it is read
/// through the checksum and dropped, so that the memory taken does not grow
/// with the file.
pub fn read(path: &Path, keep_body: bool) -> Result<(Partial, Option<Vec<u8>>), Error> {
    let fail = |message: String| Error::Results {
        path: path.to_path_buf(),
        message,
    };
    let (file, size) = open(path)?;
    let read = read_from(std::io::BufReader::new(file), size, keep_body).map_err(fail)?;
    check_header(&read.header).map_err(fail)?;
    Ok((
        Partial {
            path: path.to_path_buf(),
            header: read.header,
            sum: read.sum,
        },
        read.body,
    ))
}

/// The checks of a header on its own, once the checksum has matched.
fn check_header(header: &Header) -> Result<(), String> {
    if sha256_hex(header.config.as_bytes()) != header.config_sha256 {
        return Err("the embedded config does not match its hash".into());
    }
    let [k, n] = header.shard;
    if k >= n {
        return Err(format!(
            "it calls itself shard {k}/{n}, but K of --shard K/N must be below N"
        ));
    }
    let expected = shard_range(k, n, header.runs);
    if (header.from..header.to) != expected {
        return Err(format!(
            "it holds runs {}..{}, but shard {k}/{n} of {} runs is {}..{}",
            header.from, header.to, header.runs, expected.start, expected.end
        ));
    }
    Ok(())
}

/// A partial file's content, its checksum matched.
struct Contents {
    header: Header,
    body: Option<Vec<u8>>,
    sum: [u8; 32],
}

const NOT_PARTIAL: &str = "not a carecast partial result: expected a file written by \
    `carecast run --shard K/N --partial FILE`, which starts `carecast partial`";

/// Reads the `size` bytes of a partial file from `r`, in order.
fn read_from(mut r: impl Read, size: u64, keep_body: bool) -> Result<Contents, String> {
    let mut magic = [0u8; MAGIC.len()];
    if read_up_to(&mut r, &mut magic)? < MAGIC.len() || magic != MAGIC {
        return Err(NOT_PARTIAL.into());
    }
    let (version, line) = read_version(&mut r)?;
    if version != FORMAT {
        return Err(format!(
            "partial format version {version}, but this carecast reads version {FORMAT} only: \
             run the shards again with this carecast"
        ));
    }
    let mut hash = Sha256::new();
    hash.update(MAGIC);
    hash.update(&line);
    let start = (MAGIC.len() + line.len()) as u64;
    // What lies between the header's length and the checksum.
    let Some(content) = size.checked_sub(start + 4 + SUM) else {
        return Err(format!(
            "the file is truncated: {size} bytes, and a partial file has at least {}",
            start + 4 + SUM
        ));
    };
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(read_error)?;
    hash.update(len);
    let len = u64::from(u32::from_le_bytes(len));
    let head = take(&mut r, &mut hash, len.min(content))?;
    let rest = content - len.min(content);
    let body = if keep_body {
        Some(take(&mut r, &mut hash, rest)?)
    } else {
        skip(&mut r, &mut hash, rest)?;
        None
    };
    let mut sum = [0u8; SUM as usize];
    r.read_exact(&mut sum).map_err(read_error)?;
    if read_up_to(&mut r, &mut [0u8; 1])? != 0 {
        return Err("the file grew while it was read: is it still being written?".into());
    }
    if hash.finalize().as_slice() != sum {
        return Err("the file is truncated or damaged (its checksum does not match)".into());
    }
    if len > content {
        return Err(format!(
            "the header is truncated: {len} bytes announced, {content} in the file"
        ));
    }
    let header: Header =
        serde_json::from_slice(&head).map_err(|e| format!("the header is not valid: {e}"))?;
    Ok(Contents { header, body, sum })
}

/// The format version on the rest of the first line, and the line's bytes
/// (with its line feed). Version 1 files have nothing more on it.
fn read_version(r: &mut impl Read) -> Result<(u32, Vec<u8>), String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    // " v" and the ten digits of a u32, and the line feed.
    while line.len() < 13 {
        if read_up_to(r, &mut byte)? == 0 {
            break;
        }
        line.push(byte[0]);
        if byte[0] == b'\n' {
            let text = &line[..line.len() - 1];
            if text.is_empty() {
                return Ok((1, line));
            }
            let version = text
                .strip_prefix(b" v")
                .filter(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit))
                .and_then(|d| std::str::from_utf8(d).ok()?.parse().ok());
            if let Some(v) = version {
                return Ok((v, line));
            }
            break;
        }
    }
    Err(format!(
        "the first line is {:?}, not `carecast partial vN` with the format version N",
        format!("carecast partial{}", String::from_utf8_lossy(&line))
    ))
}

/// Reads into `buf` until it is full or the input ends; the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, String> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e)),
        }
    }
    Ok(got)
}

/// `n` bytes, added to the checksum.
fn take(r: &mut impl Read, hash: &mut Sha256, n: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    r.take(n).read_to_end(&mut out).map_err(read_error)?;
    if (out.len() as u64) < n {
        return Err(shrunk());
    }
    hash.update(&out);
    Ok(out)
}

/// `n` bytes added to the checksum and dropped.
fn skip(r: &mut impl Read, hash: &mut Sha256, mut n: u64) -> Result<(), String> {
    let mut buf = vec![0u8; 64 * 1024];
    while n > 0 {
        let want = n.min(buf.len() as u64) as usize;
        let got = read_up_to(r, &mut buf[..want])?;
        if got < want {
            return Err(shrunk());
        }
        hash.update(&buf[..got]);
        n -= got as u64;
    }
    Ok(())
}

fn read_error(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        shrunk()
    } else {
        format!("cannot read the file: {e}")
    }
}

fn shrunk() -> String {
    "the file ended before its size said it would: is it still being written?".into()
}

/// The merged partial files: the config they were run from, the settings
/// and the results of all the runs.
pub struct Merged {
    pub config: Config,
    pub plan: Plan,
    pub results: Results,
    pub seed: u64,
    pub runs: u64,
}

/// Reads and merges partial files: they must come from the same config,
/// seed, number of runs, number of shards and carecast version, and hold
/// every shard exactly once (see the module docs).
///
/// Memory holds one file's body at a time, whatever the number of files:
/// every file is first read through and checked (checksum, header) without
/// keeping its body, then the files that agree are read again one by one,
/// in shard order, each body decoded and added to the results before the
/// next is read. A file whose checksum differs on the second reading has
/// changed in between and is refused.
pub fn merge(paths: &[PathBuf]) -> Result<Merged, Error> {
    let mut parts = Vec::with_capacity(paths.len());
    for path in paths {
        let (mut part, _) = read(path, false)?;
        if !parts.is_empty() {
            // Its hash is checked and agree() compares hashes: only the
            // first file's config text is needed.
            part.header.config = String::new();
        }
        parts.push(part);
    }
    agree(&parts)?;
    let order = in_shard_order(&parts)?;
    let h0 = &parts[0].header;
    let config = crate::config::parse_config(&h0.config, &h0.config_origin)?;
    let plan = Plan::with_attribution(&config, h0.attribution());
    let mut results = plan.empty();
    for i in order {
        let p = &parts[i];
        let (again, body) = read(&p.path, true)?;
        if again.sum != p.sum {
            return Err(Error::Results {
                path: p.path.clone(),
                message: "the file changed while the merge was reading it: \
                          merge again once nothing writes to it"
                    .into(),
            });
        }
        let part = decode(&plan, &body.unwrap_or_default()).map_err(|message| Error::Results {
            path: p.path.clone(),
            message: format!("the results are not valid: {message}"),
        })?;
        if part.runs != p.header.to - p.header.from {
            return Err(Error::Results {
                path: p.path.clone(),
                message: format!(
                    "holds {} runs but its range {}..{} has {}",
                    part.runs,
                    p.header.from,
                    p.header.to,
                    p.header.to - p.header.from
                ),
            });
        }
        results.absorb(part);
    }
    results.normalize();
    Ok(Merged {
        config,
        plan,
        results,
        seed: h0.seed,
        runs: h0.runs,
    })
}

/// The command-line flag a shard's cost-avoided setting came from.
fn flag_of(attribution: crate::engine::Attribution) -> String {
    use crate::engine::Attribution;
    match attribution {
        Attribution::All => "--attribution",
        Attribution::Off => "--no-attribution",
        Attribution::Auto => "the default (neither flag)",
    }
    .to_string()
}

/// Checks that every partial file comes from the same simulation as the
/// first one, split the same way, and that this carecast can merge them.
fn agree(parts: &[Partial]) -> Result<(), Error> {
    let first = &parts[0];
    let h0 = &first.header;
    for p in &parts[1..] {
        let h = &p.header;
        let mismatch = |what: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            Error::Usage(format!(
                "cannot merge {} with {}: {what} differ ({a} and {b})",
                first.path.display(),
                p.path.display()
            ))
        };
        if h.carecast_version != h0.carecast_version {
            return Err(mismatch(
                "carecast versions",
                &h0.carecast_version,
                &h.carecast_version,
            ));
        }
        if h.config_sha256 != h0.config_sha256 {
            return Err(mismatch(
                "configs",
                &format!("sha256 {}…", &h0.config_sha256[..12]),
                &format!("sha256 {}…", &h.config_sha256[..12]),
            ));
        }
        if h.seed != h0.seed {
            return Err(mismatch("seeds", &h0.seed, &h.seed));
        }
        if h.runs != h0.runs {
            return Err(mismatch("total runs", &h0.runs, &h.runs));
        }
        if h.shard[1] != h0.shard[1] {
            return Err(mismatch(
                "shard counts (N of --shard K/N)",
                &h0.shard[1],
                &h.shard[1],
            ));
        }
        if h.attribution() != h0.attribution() {
            return Err(mismatch(
                "the cost-avoided settings",
                &flag_of(h0.attribution()),
                &flag_of(h.attribution()),
            ));
        }
    }
    if h0.carecast_version != env!("CARGO_PKG_VERSION") {
        return Err(Error::Usage(format!(
            "{}: written by carecast {}, this is carecast {}: merge with the version that ran the shards",
            first.path.display(),
            h0.carecast_version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(())
}

/// The order in which to merge `parts` (shard 0 first), once they agree:
/// every shard 0 to N − 1 must be there exactly once. Each file's run
/// range was checked against its shard, so the ranges then tile the runs.
fn in_shard_order(parts: &[Partial]) -> Result<Vec<usize>, Error> {
    let h0 = &parts[0].header;
    let (n, runs) = (h0.shard[1], h0.runs);
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| parts[i].header.shard[0]);
    for pair in order.windows(2) {
        let (a, b) = (&parts[pair[0]], &parts[pair[1]]);
        let k = a.header.shard[0];
        if b.header.shard[0] == k {
            let what = format!(
                "shard {k}/{n} ({}): its runs would be counted twice",
                runs_in(shard_range(k, n, runs))
            );
            return Err(Error::Usage(if a.path == b.path {
                format!("{} is given twice; it holds {what}", a.path.display())
            } else {
                format!(
                    "{} and {} both hold {what}",
                    a.path.display(),
                    b.path.display()
                )
            }));
        }
    }
    // Distinct indices below N: as many as N only when none is missing.
    if order.len() as u64 != n {
        let missing = (0..n)
            .zip(order.iter().map(|&i| parts[i].header.shard[0]))
            .find(|(k, held)| k != held)
            .map_or(order.len() as u64, |(k, _)| k);
        let others = n - order.len() as u64 - 1;
        return Err(Error::Usage(format!(
            "shard {missing}/{n} ({}) is missing: no partial file given holds it{}",
            runs_in(shard_range(missing, n, runs)),
            match others {
                0 => String::new(),
                1 => ", nor one other shard".to_string(),
                m => format!(", nor {m} other shards"),
            }
        )));
    }
    Ok(order)
}

/// A range of runs in words, numbered from 0 as `--shard` counts them.
fn runs_in(range: std::ops::Range<u64>) -> String {
    match range.end - range.start {
        0 => "no runs".to_string(),
        1 => format!("run {}", range.start),
        _ => format!("runs {} to {}", range.start, range.end - 1),
    }
}

// ---- encoding ----

fn put_u(out: &mut Vec<u8>, mut x: u128) {
    loop {
        let b = (x & 0x7f) as u8;
        x >>= 7;
        if x == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_i(out: &mut Vec<u8>, x: i128) {
    put_u(out, ((x << 1) ^ (x >> 127)) as u128);
}

fn put_tally(out: &mut Vec<u8>, t: &Tally) {
    put_u(out, t.n as u128);
    put_i(out, t.sum);
    put_u(out, t.squares.lo);
    put_u(out, t.squares.hi as u128);
    out.push(t.sketched as u8);
    match &t.threshold {
        None => out.push(0),
        Some(th) => {
            out.push(1);
            put_i(out, th.at as i128);
            put_i(out, th.tolerance as i128);
            put_u(out, th.above as u128);
            put_i(out, th.sum);
            put_u(out, th.squares.lo);
            put_u(out, th.squares.hi as u128);
        }
    }
    put_u(out, t.bins.len() as u128);
    let mut last: Option<i64> = None;
    for &(k, c) in &t.bins {
        match last {
            None => put_i(out, k as i128),
            Some(l) => put_u(out, (k as i128 - l as i128) as u128),
        }
        put_u(out, c as u128);
        last = Some(k);
    }
}

fn put_vec(out: &mut Vec<u8>, v: &[i128]) {
    put_u(out, v.len() as u128);
    for &x in v {
        put_i(out, x);
    }
}

/// Appends the body of a partial file (tallies in canonical form).
pub fn encode(results: &Results, out: &mut Vec<u8>) {
    put_u(out, results.runs as u128);
    put_u(out, results.scenarios.len() as u128);
    for s in &results.scenarios {
        out.push(s.approximate as u8);
        put_u(out, s.columns.len() as u128);
        for t in &s.columns {
            put_tally(out, t);
        }
        let d = &s.drivers;
        put_u(out, d.n as u128);
        put_vec(out, &d.s);
        put_vec(out, &d.ss);
        put_vec(out, &d.y);
        put_u(out, d.yy.len() as u128);
        for w in &d.yy {
            put_u(out, w.lo);
            put_u(out, w.hi as u128);
        }
        put_vec(out, &d.sy);
        put_vec(out, &d.pairs);
    }
    put_u(out, results.comparisons.len() as u128);
    for c in &results.comparisons {
        put_u(out, c.len() as u128);
        for t in c {
            put_tally(out, t);
        }
    }
}

/// Reads the body back, checking it against the shape `plan` expects.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn u(&mut self) -> Result<u128, String> {
        let mut x: u128 = 0;
        let mut shift = 0;
        loop {
            if shift > 126 {
                return Err(format!("a number too long at byte {}", self.at));
            }
            let b = *self
                .bytes
                .get(self.at)
                .ok_or_else(|| "the results end too soon".to_string())?;
            self.at += 1;
            x |= ((b & 0x7f) as u128) << shift;
            if b & 0x80 == 0 {
                return Ok(x);
            }
            shift += 7;
        }
    }

    fn i(&mut self) -> Result<i128, String> {
        let z = self.u()?;
        Ok(((z >> 1) as i128) ^ -((z & 1) as i128))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        u64::try_from(self.u()?).map_err(|_| format!("{what}: out of range"))
    }

    fn i64(&mut self, what: &str) -> Result<i64, String> {
        i64::try_from(self.i()?).map_err(|_| format!("{what}: out of range"))
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| "the results end too soon".to_string())?;
        self.at += 1;
        Ok(b)
    }

    fn flag(&mut self, what: &str) -> Result<bool, String> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("{what}: expected 0 or 1, got {b}")),
        }
    }

    /// A length, which must be `expected` (and fit in what is left).
    fn len(&mut self, what: &str, expected: usize) -> Result<usize, String> {
        let n = self.u()?;
        if n != expected as u128 {
            return Err(format!("{what}: expected {expected}, got {n}"));
        }
        Ok(expected)
    }

    fn wide(&mut self) -> Result<Wide, String> {
        Ok(Wide {
            lo: self.u()?,
            hi: self.u64("a sum of squares")?,
        })
    }

    fn vec(&mut self, what: &str, expected: usize) -> Result<Vec<i128>, String> {
        let n = self.len(what, expected)?;
        (0..n).map(|_| self.i()).collect()
    }

    fn tally(&mut self, like: &Tally, what: &str) -> Result<Tally, String> {
        let n = self.u64("runs")?;
        let sum = self.i()?;
        let squares = self.wide()?;
        let sketched = self.flag("sketched")?;
        let threshold = if self.flag("threshold")? {
            Some(Threshold {
                at: self.i64("threshold")?,
                tolerance: self.i64("tolerance")?,
                above: self.u64("runs above")?,
                sum: self.i()?,
                squares: self.wide()?,
            })
        } else {
            None
        };
        let same = match (&threshold, &like.threshold) {
            (None, None) => true,
            (Some(a), Some(b)) => a.at == b.at && a.tolerance == b.tolerance,
            _ => false,
        };
        if !same {
            return Err(format!("{what}: its budget is not the config's"));
        }
        let len = self.u()?;
        // Every bin takes at least two bytes.
        if len > ((self.bytes.len() - self.at) / 2) as u128 {
            return Err(format!("{what}: {len} values cannot fit in the file"));
        }
        let mut bins = Vec::with_capacity(len as usize);
        let mut total = 0u64;
        let mut last: Option<i64> = None;
        for _ in 0..len {
            let k = match last {
                None => self.i64("a value")?,
                Some(l) => {
                    let d = self.u()?;
                    if d == 0 {
                        return Err(format!("{what}: values out of order"));
                    }
                    i64::try_from(l as i128 + d as i128)
                        .map_err(|_| format!("{what}: a value out of range"))?
                }
            };
            if sketched && k.unsigned_abs() > crate::tally::bucket(i64::MAX) as u64 {
                return Err(format!("{what}: a bucket out of range"));
            }
            let c = self.u64("a count")?;
            if c == 0 {
                return Err(format!("{what}: a value counted zero times"));
            }
            total = total
                .checked_add(c)
                .ok_or_else(|| format!("{what}: counts overflow"))?;
            bins.push((k, c));
            last = Some(k);
        }
        if total != n {
            return Err(format!("{what}: {total} values for {n} runs"));
        }
        if let Some(t) = &threshold
            && t.above > n
        {
            return Err(format!("{what}: more runs over budget than runs"));
        }
        let mut t = Tally::new();
        t.n = n;
        t.sum = sum;
        t.squares = squares;
        t.sketched = sketched;
        t.bins = bins;
        t.threshold = threshold;
        Ok(t)
    }
}

/// Reads a partial file's body for `plan` (see [`encode`]).
pub fn decode(plan: &Plan, bytes: &[u8]) -> Result<Results, String> {
    let like = plan.empty();
    let mut r = Reader { bytes, at: 0 };
    let runs = r.u64("runs")?;
    r.len("scenarios", like.scenarios.len())?;
    let mut scenarios = Vec::new();
    for (i, s) in like.scenarios.iter().enumerate() {
        let id = &plan.scenarios[i].id;
        let approximate = r.flag("approximate")?;
        r.len(&format!("scenario {id}: values of a run"), s.columns.len())?;
        let columns = s
            .columns
            .iter()
            .enumerate()
            .map(|(c, like)| {
                let t = r.tally(like, &format!("scenario {id}, value {c}"))?;
                if t.n != runs {
                    return Err(format!(
                        "scenario {id}, value {c}: {} runs, not {runs}",
                        t.n
                    ));
                }
                Ok(t)
            })
            .collect::<Result<Vec<_>, String>>()?;
        let d = &s.drivers;
        let n = r.u64("driver runs")?;
        let s_ = r.vec("driver sums", d.s.len())?;
        let ss = r.vec("driver sums", d.ss.len())?;
        let y = r.vec("driver sums", d.y.len())?;
        let k = r.len("driver sums", d.yy.len())?;
        let yy = (0..k).map(|_| r.wide()).collect::<Result<Vec<_>, _>>()?;
        let sy = r.vec("driver sums", d.sy.len())?;
        let pairs = r.vec("driver sums", d.pairs.len())?;
        scenarios.push(ScenarioResults {
            columns,
            drivers: DriverSums {
                n,
                s: s_,
                ss,
                y,
                yy,
                sy,
                pairs,
            },
            approximate,
        });
    }
    r.len("comparisons", like.comparisons.len())?;
    let mut comparisons = Vec::new();
    for like in &like.comparisons {
        r.len("values of a comparison", like.len())?;
        let c = like
            .iter()
            .map(|l| r.tally(l, "a comparison"))
            .collect::<Result<Vec<_>, String>>()?;
        comparisons.push(c);
    }
    if r.at != bytes.len() {
        return Err(format!("{} bytes left over", bytes.len() - r.at));
    }
    Ok(Results {
        runs,
        scenarios,
        comparisons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_tile_the_runs() {
        // ⌊k·10/3⌋: 0..3, 3..6, 6..10.
        assert_eq!(shard_range(0, 3, 10), 0..3);
        assert_eq!(shard_range(1, 3, 10), 3..6);
        assert_eq!(shard_range(2, 3, 10), 6..10);
        // More shards than runs: some are empty, none overlaps.
        let ranges: Vec<_> = (0..5).map(|k| shard_range(k, 5, 2)).collect();
        assert_eq!(ranges.iter().map(|r| r.end - r.start).sum::<u64>(), 2);
        for w in ranges.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
    }

    #[test]
    fn shard_flags_are_checked() {
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        for bad in ["4/4", "1", "a/2", "0/0", "-1/3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn varints_round_trip() {
        let mut out = Vec::new();
        let values = [
            0i128,
            1,
            -1,
            63,
            -64,
            1 << 40,
            -(1 << 100),
            i64::MAX as i128,
        ];
        for &v in &values {
            put_i(&mut out, v);
        }
        let mut r = Reader { bytes: &out, at: 0 };
        for &v in &values {
            assert_eq!(r.i().unwrap(), v);
        }
        assert!(r.i().is_err());
    }

    /// A small config: one placement type, a budget (so tallies carry a
    /// threshold) and a year.
    const SMALL: &str = r#"
name = "small"
[horizon]
start = "2025-04"
years = 1
[budget]
per_year = ["800k"]
[exits]
annual_probability = { a = 0.3 }
[[placement]]
id = "a"
weekly_cost = { dist = "lognormal", median = 1500, p90 = 2500 }
initial = 3
"#;

    /// The bytes of shard 1/2 of 6 runs of [`SMALL`], and its plan.
    fn small_partial() -> (Vec<u8>, Plan) {
        let config = crate::config::parse_config(SMALL, "small.toml").unwrap();
        let plan = Plan::new(&config);
        let results = crate::engine::tally(&config, &plan, 7, 3..6, &|_| {}).unwrap();
        let header = Header {
            carecast_version: env!("CARGO_PKG_VERSION").to_string(),
            seed: 7,
            runs: 6,
            shard: [1, 2],
            from: 3,
            to: 6,
            config_sha256: sha256_hex(SMALL.as_bytes()),
            config_origin: "small.toml".to_string(),
            config: SMALL.to_string(),
            attribution: false,
            no_attribution: false,
        };
        (write(&header, &results).unwrap(), plan)
    }

    fn read_bytes(bytes: &[u8]) -> Result<Contents, String> {
        read_from(std::io::Cursor::new(bytes), bytes.len() as u64, true)
    }

    #[test]
    fn a_partial_reads_back_as_written() {
        let (bytes, plan) = small_partial();
        let read = read_bytes(&bytes).unwrap();
        assert_eq!(read.header.shard, [1, 2]);
        assert_eq!(read.sum.as_slice(), &bytes[bytes.len() - 32..]);
        check_header(&read.header).unwrap();
        let body = read.body.unwrap();
        let results = decode(&plan, &body).unwrap();
        assert_eq!(results.runs, 3);
        let mut again = Vec::new();
        encode(&results, &mut again);
        assert_eq!(again, body);
        // Without the body, the same header and checksum.
        let lean = read_from(std::io::Cursor::new(&bytes), bytes.len() as u64, false).unwrap();
        assert!(lean.body.is_none());
        assert_eq!((lean.header, lean.sum), (read.header, read.sum));
    }

    /// Every byte of a partial file, changed in any of three ways, makes it
    /// unreadable with a one-line message: on the first line the magic bytes
    /// or the version are wrong, anywhere after it the checksum no longer
    /// matches. Cutting the file short anywhere is refused too.
    #[test]
    fn any_one_byte_changed_or_the_file_cut_short_is_refused() {
        let (bytes, _) = small_partial();
        let line = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        assert!(bytes.len() > 500, "{} bytes", bytes.len());
        for at in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[at] ^= mask;
                let err = match read_bytes(&b) {
                    Ok(_) => panic!("byte {at} ^ {mask:#04x} went unnoticed"),
                    Err(e) => e,
                };
                assert_eq!(err.lines().count(), 1, "{err}");
                if at >= line {
                    assert!(
                        err.contains("its checksum does not match"),
                        "byte {at} ^ {mask:#04x}: {err}"
                    );
                } else {
                    assert!(
                        err.contains("not a carecast partial")
                            || err.contains("format version")
                            || err.contains("not `carecast partial vN`"),
                        "byte {at} ^ {mask:#04x}: {err}"
                    );
                }
            }
        }
        for len in 0..bytes.len() {
            assert!(read_bytes(&bytes[..len]).is_err(), "cut to {len} bytes");
        }
    }
}
