//! Opening the files a command reads: configs, results and sensitivity
//! files, SSDA903 tables, partial files.
//!
//! Only a regular file is accepted. A named pipe would leave the command
//! waiting for a writer, a device such as `/dev/zero` never ends (reading it
//! grows until memory runs out), and a folder holds no bytes. Each is refused
//! at once, in words that name what the path is ("a named pipe (FIFO), not a
//! regular file"), so that the caller can report it as the user's mistake.

use std::fs::{File, FileType};
use std::io::Read;
use std::path::Path;

use crate::output::table::thousands;

/// Why an input file could not be opened or read.
#[derive(Debug)]
pub enum InputError {
    /// The path exists but is not a regular file: what it is, in words
    /// (see [`file_kind`]).
    NotRegular(&'static str),
    /// The file holds more bytes than carecast reads for its kind.
    TooLarge { size: u64, limit: u64 },
    /// The system's refusal: no such file, permission denied, a read error.
    Io(std::io::Error),
}

impl InputError {
    /// The problem in words, for a message about a file that should have
    /// held `expected` ("a config file (TOML)"). A system error reads
    /// `cannot read {noun}: …`.
    pub fn message(&self, noun: &str, expected: &str) -> String {
        match self {
            InputError::NotRegular(kind) => {
                format!("{kind}, not a regular file: expected {expected}")
            }
            InputError::TooLarge { size, limit } => format!(
                "the file is {} bytes, more than the {} bytes carecast reads for {expected}",
                thousands(*size),
                thousands(*limit)
            ),
            InputError::Io(e) => format!("cannot read {noun}: {e}"),
        }
    }
}

/// Opens the file at `path` for reading, with its size, if it is a regular
/// file. The type is checked on the path first, so that nothing else is ever
/// opened, and again on the open file, in case the path was replaced in
/// between (a pipe is opened without waiting for a writer, so that second
/// check is reached too).
pub fn open(path: &Path) -> Result<(File, u64), InputError> {
    let meta = std::fs::metadata(path).map_err(InputError::Io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular(file_kind(&meta.file_type())));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(InputError::Io)?;
    let meta = file.metadata().map_err(InputError::Io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular(file_kind(&meta.file_type())));
    }
    Ok((file, meta.len()))
}

/// Reads the whole regular file at `path`, refusing one of more than `limit`
/// bytes (checked on its size first, then on the bytes read, in case it is
/// growing).
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let (file, size) = open(path)?;
    if size > limit {
        return Err(InputError::TooLarge { size, limit });
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(InputError::Io)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(InputError::TooLarge { size: read, limit });
    }
    Ok(bytes)
}

/// What a path that is not a regular file is, in words.
pub fn file_kind(t: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_whole_within_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "name = \"x\"\n").unwrap();
        assert_eq!(read(&path, 11).unwrap(), b"name = \"x\"\n");
        let err = read(&path, 10).unwrap_err();
        assert!(matches!(
            err,
            InputError::TooLarge {
                size: 11,
                limit: 10
            }
        ));
        assert_eq!(
            err.message("the config", "a config file (TOML)"),
            "the file is 11 bytes, more than the 10 bytes carecast reads for a config file (TOML)"
        );
    }

    #[test]
    fn sizes_are_written_with_separators() {
        let err = InputError::TooLarge {
            size: 104_857_600,
            limit: 67_108_864,
        };
        assert_eq!(
            err.message("the config", "a config file (TOML)"),
            "the file is 104,857,600 bytes, more than the 67,108,864 bytes carecast reads for a \
             config file (TOML)"
        );
    }

    #[test]
    fn a_folder_and_a_device_are_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), 100).unwrap_err();
        assert_eq!(
            err.message("the file", "a results file"),
            "a directory, not a regular file: expected a results file"
        );
        #[cfg(unix)]
        assert!(matches!(
            read(Path::new("/dev/zero"), 100),
            Err(InputError::NotRegular("a character device"))
        ));
        let missing = read(&dir.path().join("none"), 100).unwrap_err();
        assert!(
            missing
                .message("the file", "x")
                .starts_with("cannot read the file: "),
            "{missing:?}"
        );
    }
}
