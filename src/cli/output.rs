//! Output streams of the commands. A failed write names what was being written.
//!
//! NOTE: a standard output closed at start (`>&-`) is not detected. On Unix the Rust
//! runtime replaces it with /dev/null before `main` runs, so the output is discarded.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

/// A writer whose errors name the destination: `writing standard output failed: …`. The
/// error keeps its kind, so a broken pipe is still recognised.
pub struct Labelled<W> {
    inner: W,
    label: String,
    terminal: bool,
}

impl<W: Write> Labelled<W> {
    /// Tells whether the destination is a terminal.
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    fn wrap(&self, error: io::Error) -> io::Error {
        io::Error::new(
            error.kind(),
            format!("writing {} failed: {error}", self.label),
        )
    }
}

impl<W: Write> Write for Labelled<W> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        self.inner.write(buffer).map_err(|error| self.wrap(error))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|error| self.wrap(error))
    }
}

/// Opens standard output.
pub fn stdout() -> io::Result<Labelled<io::StdoutLock<'static>>> {
    let stdout = io::stdout();
    Ok(Labelled {
        terminal: stdout.is_terminal(),
        inner: stdout.lock(),
        label: "standard output".to_string(),
    })
}

/// Creates the output file `path`.
pub fn create_file(path: &Path) -> Result<Labelled<std::fs::File>, String> {
    let file = std::fs::File::create(path).map_err(|error| {
        format!(
            "cannot create output file {}: {error}; check that its folder exists and is writable",
            path.display()
        )
    })?;
    Ok(Labelled {
        terminal: file.is_terminal(),
        inner: file,
        label: path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails every write with `kind`.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_error_names_destination_and_keeps_kind() {
        let mut output = Labelled {
            inner: Failing(io::ErrorKind::BrokenPipe),
            label: "report.csv".to_string(),
            terminal: false,
        };
        let error = writeln!(output, "x").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        assert!(
            error.to_string().starts_with("writing report.csv failed: "),
            "{error}"
        );
    }
}
