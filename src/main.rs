//! The `carecast` binary: everything lives in the library.

fn main() {
    std::process::exit(carecast::cli::main());
}
