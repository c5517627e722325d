//! Writing output files: whole or not at all, never over an input, never
//! replacing a device, a pipe or a symbolic link.
//!
//! Each output path is first resolved to a [`Target`]:
//! - `-` is standard output;
//! - a path that exists and is not a regular file (`/dev/null`, a named pipe)
//!   is written through, in place;
//! - a symbolic link is followed, and the file it points to is replaced;
//! - anything else is a regular file, new or existing: its bytes go to a
//!   temporary file in the same folder, renamed over it once every output of
//!   the command has been written.
//!
//! The renames of one command happen while it holds an exclusive lock on the
//! folders they land in, so two commands writing the same set of outputs at
//! once leave one command's set, never a mixture. Temporary files are
//! registered while they exist: SIGINT, SIGTERM or SIGHUP removes them
//! before the process dies of the signal.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::Error;

/// Where one output's bytes go.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    /// `-`: standard output.
    Stdout,
    /// A device, a pipe or a socket: opened and written in place.
    Through(PathBuf),
    /// A regular file (perhaps not there yet), after following symbolic
    /// links: replaced by rename. `mode` is the existing file's permissions.
    Replace { path: PathBuf, mode: Option<u32> },
}

/// The paths that name standard output: `-`, and the names the system
/// gives it (written to the open descriptor, not reopened).
const STDOUT: [&str; 4] = ["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"];

/// True when `path` is standard output (`-`, `/dev/stdout`).
pub fn is_stdout(path: &Path) -> bool {
    STDOUT.iter().any(|s| path.as_os_str() == *s)
}

/// Refuses, before any work is done, a set of outputs that cannot be written
/// as asked: two outputs to one file, or an output that is one of the
/// command's `inputs` (a config, a results file, a data folder), are usage
/// errors (exit 2), as are a folder, a path in no folder and a loop of
/// symbolic links; a read-only file is a write error (exit 1).
pub fn check(outputs: &[&Path], inputs: &[&Path]) -> Result<(), Error> {
    let mut seen: Vec<(&Path, Identity)> = Vec::new();
    for &out in outputs {
        let id = identity(out)?;
        if let Some((first, _)) = seen.iter().find(|(_, other)| *other == id) {
            return Err(Error::Usage(format!(
                "two outputs go to the same file: {} and {}",
                first.display(),
                out.display()
            )));
        }
        for &input in inputs {
            if is_input(out, &id, input) {
                return Err(Error::Usage(format!(
                    "the output {} would overwrite the input {}",
                    out.display(),
                    input.display()
                )));
            }
        }
        // A folder or a read-only file is refused now, not after the run.
        target(out)?;
        seen.push((out, id));
    }
    Ok(())
}

/// What makes two paths the same output.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Identity {
    Stdout,
    /// An existing file: its device and inode.
    File(u64, u64),
    /// A file not there yet: its folder, canonical, and its name.
    New(PathBuf),
}

fn identity(path: &Path) -> Result<Identity, Error> {
    if is_stdout(path) {
        return Ok(Identity::Stdout);
    }
    if let Ok(m) = std::fs::metadata(path) {
        return Ok(file_identity(&m, path));
    }
    let resolved = follow_links(path)?;
    match std::fs::metadata(&resolved) {
        Ok(m) => Ok(file_identity(&m, &resolved)),
        Err(_) => {
            let folder = folder_of(&resolved);
            let folder = std::fs::canonicalize(&folder).unwrap_or(folder);
            Ok(Identity::New(
                folder.join(resolved.file_name().unwrap_or_default()),
            ))
        }
    }
}

#[cfg(unix)]
fn file_identity(m: &std::fs::Metadata, _: &Path) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity::File(m.dev(), m.ino())
}

#[cfg(not(unix))]
fn file_identity(_: &std::fs::Metadata, path: &Path) -> Identity {
    Identity::New(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// True when the output `out` (identified as `id`) is the input file, or an
/// existing file inside the input folder.
fn is_input(out: &Path, id: &Identity, input: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(input) else {
        return false;
    };
    if meta.is_dir() {
        return match (std::fs::canonicalize(input), std::fs::canonicalize(out)) {
            (Ok(folder), Ok(file)) => file.starts_with(folder),
            _ => false,
        };
    }
    *id == file_identity(&meta, input)
}

/// Refuses, before any work, outputs that collide with each other or with
/// an input (exit 2). True when an output goes to standard output (`-`): the
/// table is then not printed, so the output is all that stdout carries.
pub fn check_outputs(
    outputs: &[&Option<PathBuf>],
    inputs: &[Option<&PathBuf>],
) -> Result<bool, Error> {
    let outputs: Vec<&std::path::Path> = outputs.iter().filter_map(|o| o.as_deref()).collect();
    let inputs: Vec<&std::path::Path> = inputs.iter().flatten().map(|p| p.as_path()).collect();
    check(&outputs, &inputs)?;
    Ok(outputs.iter().any(|p| is_stdout(p)))
}

/// Follows symbolic links (at most 40, as the kernel does) to the path that
/// will really be written. A link to a file not there yet resolves to that
/// file's path.
fn follow_links(path: &Path) -> Result<PathBuf, Error> {
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&at).map_err(|e| fail(path, e))?;
                at = folder_of(&at).join(link);
            }
            _ => return Ok(at),
        }
    }
    Err(unusable(path, LINK_LOOP))
}

/// Why a path whose symbolic links never end cannot be written.
const LINK_LOOP: &str = "too many levels of symbolic links: the links loop, or \
                         form a chain of more than 40";

/// True when `e` is the system's refusal of a path whose symbolic links loop
/// (ELOOP): the path is the user's to mend, like a folder that does not exist.
fn is_link_loop(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn target(path: &Path) -> Result<Target, Error> {
    if is_stdout(path) {
        return Ok(Target::Stdout);
    }
    // The system follows links, including the magic ones of /dev/fd and /proc.
    match std::fs::metadata(path) {
        // A new file, perhaps at the end of a dangling link, in a folder
        // that must exist: a path naming no folder is the user's to mend.
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let real = follow_links(path)?;
            if !std::fs::metadata(folder_of(&real)).is_ok_and(|m| m.is_dir()) {
                return Err(unusable(path, "the folder does not exist"));
            }
            Ok(Target::Replace {
                path: real,
                mode: None,
            })
        }
        Err(e) if is_link_loop(&e) => Err(unusable(path, LINK_LOOP)),
        Err(e) => Err(fail(path, e)),
        Ok(m) if m.is_dir() => Err(unusable(path, "it is a directory")),
        Ok(m) if m.is_file() => {
            if m.permissions().readonly() {
                return Err(fail(
                    path,
                    std::io::Error::new(
                        ErrorKind::PermissionDenied,
                        "the file is read-only, and carecast does not replace a read-only file",
                    ),
                ));
            }
            Ok(Target::Replace {
                path: std::fs::canonicalize(path).map_err(|e| fail(path, e))?,
                mode: mode_of(&m),
            })
        }
        Ok(_) => Ok(Target::Through(path.to_path_buf())),
    }
}

#[cfg(unix)]
fn mode_of(m: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_: &std::fs::Metadata) -> Option<u32> {
    None
}

/// Writes every file or none (as far as files allow: bytes written to a
/// device or a pipe cannot be taken back, so those are written after every
/// regular file has been staged, and before any is renamed into place).
pub fn write_all_or_nothing(files: Vec<(PathBuf, Vec<u8>)>) -> Result<(), Error> {
    let outputs: Vec<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
    check(&outputs, &[])?;
    let mut staged: Vec<Staged> = Vec::new();
    let mut streams: Vec<(&Path, Target, &[u8])> = Vec::new();
    let result = (|| {
        for (path, bytes) in &files {
            match target(path)? {
                Target::Replace { path: real, mode } => {
                    staged.push(stage(path, &real, mode, bytes)?);
                }
                other => streams.push((path, other, bytes)),
            }
        }
        for (path, to, bytes) in &streams {
            write_through(path, to, bytes)?;
        }
        commit(&staged)
    })();
    if result.is_err() {
        discard(&staged);
    }
    result
}

/// A temporary file holding one output, waiting to be renamed over `real`.
struct Staged {
    temp: PathBuf,
    /// The path as the user gave it, for messages.
    given: PathBuf,
    real: PathBuf,
}

fn stage(given: &Path, real: &Path, mode: Option<u32>, bytes: &[u8]) -> Result<Staged, Error> {
    let (mut file, temp) = new_temp(&folder_of(real)).map_err(|e| fail(given, e))?;
    let staged = Staged {
        temp,
        given: given.to_path_buf(),
        real: real.to_path_buf(),
    };
    let written = set_mode(&file, mode)
        .and_then(|_| file.write_all(bytes))
        .and_then(|_| file.sync_all());
    if let Err(e) = written {
        discard(std::slice::from_ref(&staged));
        return Err(fail(given, e));
    }
    Ok(staged)
}

/// An existing file keeps its permissions; a new output gets those of any
/// new file the user creates, 666 less the process's umask (a temporary
/// file is created private).
#[cfg(unix)]
fn set_mode(file: &File, mode: Option<u32>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = mode.unwrap_or_else(|| 0o666 & !umask());
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

/// The process's umask, read from `/proc/self/status` (Linux 4.7 on); the
/// usual 022 where that cannot be read. Reading it this way leaves it
/// unchanged, where `umask(2)` can only be read by setting it.
#[cfg(unix)]
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let value = line.strip_prefix("Umask:")?.trim();
                u32::from_str_radix(value, 8).ok()
            })
        })
        .map_or(0o022, |m| m & 0o777)
}

#[cfg(not(unix))]
fn set_mode(_: &File, _: Option<u32>) -> std::io::Result<()> {
    Ok(())
}

fn write_through(given: &Path, to: &Target, bytes: &[u8]) -> Result<(), Error> {
    match to {
        Target::Stdout => {
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|_| out.flush()) {
                // A closed pipe (`carecast run --csv - | head`) is not an error.
                Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(fail(given, e)),
                _ => Ok(()),
            }
        }
        Target::Through(path) => OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes).and_then(|_| f.flush()))
            .map_err(|e| fail(given, e)),
        Target::Replace { .. } => Ok(()),
    }
}

/// Renames every staged file into place, holding the lock of each folder
/// written to. Should a rename fail after others succeeded, the files
/// already renamed are removed again, so no mixed set of outputs is left.
fn commit(staged: &[Staged]) -> Result<(), Error> {
    let mut folders: Vec<PathBuf> = staged
        .iter()
        .map(|s| {
            let f = folder_of(&s.real);
            std::fs::canonicalize(&f).unwrap_or(f)
        })
        .collect();
    // One order for every process, so two commands cannot deadlock.
    folders.sort();
    folders.dedup();
    let _locks: Vec<File> = folders
        .iter()
        .filter_map(|f| {
            let dir = File::open(f).ok()?;
            // A file system without locks still gets its outputs.
            dir.lock().ok()?;
            Some(dir)
        })
        .collect();
    let mut registry = temps();
    let mut done: Vec<&Path> = Vec::new();
    for s in staged {
        if let Err(e) = std::fs::rename(&s.temp, &s.real) {
            for written in &done {
                let _ = std::fs::remove_file(written);
            }
            return Err(fail(&s.given, e));
        }
        registry.retain(|t| t != &s.temp);
        done.push(&s.real);
    }
    Ok(())
}

/// Removes staged files that will not be renamed.
fn discard(staged: &[Staged]) {
    let mut registry = temps();
    for s in staged {
        let _ = std::fs::remove_file(&s.temp);
        registry.retain(|t| t != &s.temp);
    }
}

/// Temporary files that exist now, for the signal handler to remove.
static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn temps() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    TEMPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates a temporary file in `folder` and registers it, both under the
/// registry's lock: a signal finds every temporary file that exists.
fn new_temp(folder: &Path) -> std::io::Result<(File, PathBuf)> {
    on_signal_remove_temps();
    let mut registry = temps();
    let (file, path) = tempfile::Builder::new()
        .prefix(".carecast-")
        .tempfile_in(folder)?
        .keep()
        .map_err(|e| e.error)?;
    registry.push(path.clone());
    Ok((file, path))
}

/// Installs, once, a thread that waits for SIGINT, SIGTERM or SIGHUP,
/// removes the registered temporary files, then lets the signal take its
/// default course (the process ends, killed by that signal).
fn on_signal_remove_temps() {
    #[cfg(unix)]
    {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            else {
                return;
            };
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    // The lock is kept until the process ends: no new
                    // temporary file can appear after these are removed.
                    let registry = temps();
                    for temp in registry.iter() {
                        let _ = std::fs::remove_file(temp);
                    }
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            });
        });
    }
}

/// An output path that cannot name a file: a usage error (exit 2).
fn unusable(path: &Path, why: &str) -> Error {
    Error::Usage(format!("cannot write {}: {why}", path.display()))
}

/// An I/O failure on `path`, in words that do not mention a temporary file.
fn fail(path: &Path, e: std::io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::new(e.kind(), reason(&e)),
    }
}

/// Why a write failed.
fn reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "the folder does not exist".into(),
        PermissionDenied if e.get_ref().is_some() => e.to_string(),
        PermissionDenied => "permission denied".into(),
        ReadOnlyFilesystem => "the file system is read-only".into(),
        StorageFull => "no space left on the device".into(),
        IsADirectory => "it is a directory".into(),
        NotADirectory => "part of the path is not a folder".into(),
        Other if e.get_ref().is_some() => e.to_string(),
        kind => kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn outputs_get_the_permissions_of_any_new_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // A file made the ordinary way shows what the umask allows.
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"").unwrap();
        let expected = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        let path = dir.path().join("r.json");
        write_all_or_nothing(vec![(path.clone(), b"{}".to_vec())]).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            expected
        );
        assert_eq!(expected, 0o666 & !umask());
    }

    #[test]
    fn nothing_is_written_when_one_file_fails() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.json");
        let bad = dir.path().join("missing-dir").join("b.csv");
        let r = write_all_or_nothing(vec![(good.clone(), b"{}".to_vec()), (bad, b"x".to_vec())]);
        assert!(r.is_err());
        assert!(!good.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no temporary file left behind"
        );
        assert!(
            !temps().iter().any(|t| t.starts_with(dir.path())),
            "no temporary file left registered"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_all_or_nothing(vec![(link.clone(), b"new".to_vec())]).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_through() {
        write_all_or_nothing(vec![(PathBuf::from("/dev/null"), b"x".to_vec())]).unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }

    #[test]
    fn a_read_only_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&path, perms).unwrap();
        let e = write_all_or_nothing(vec![(path.clone(), b"new".to_vec())]).unwrap_err();
        assert!(e.to_string().contains("read-only"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    }

    #[test]
    fn two_outputs_to_one_file_and_an_output_over_an_input_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let again = dir.path().join(".").join("a.json");
        let e = check(&[&a, &again], &[]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let stdout = Path::new("-");
        assert!(check(&[stdout, stdout], &[]).is_err());
        let config = dir.path().join("c.toml");
        std::fs::write(&config, "x").unwrap();
        let e = check(&[&config], &[&config]).unwrap_err();
        assert!(e.to_string().contains("overwrite the input"), "{e}");
        assert!(check(&[&a], &[&config]).is_ok());
    }
}
