//! Helpers shared by the integration tests: where the shared data lives, and the
//! acceptance inputs that are generated instead of stored.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Returns the shared folder beside the project (`../shared`).
pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// Returns the acceptance suite folder.
pub fn acceptance_dir() -> PathBuf {
    shared_dir().join("acceptance")
}

/// Returns the real-mail corpus folder.
pub fn corpus_dir() -> PathBuf {
    shared_dir().join("corpus")
}

/// Runs the suite's generator once into a temporary folder (the suite folder is read-only
/// in CI) and returns that folder.
pub fn generated_cases() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mailtrace-generated-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary folder for generated cases");
        let status = std::process::Command::new("python3")
            .arg(acceptance_dir().join("generate.py"))
            .arg("--out")
            .arg(&dir)
            .status()
            .expect(
                "run python3 generate.py (python3 is needed for the generated acceptance inputs)",
            );
        assert!(status.success(), "generate.py failed");
        dir
    })
    .clone()
}
