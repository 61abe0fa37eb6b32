//! Maildir: one message per file in the `cur/` and `new/` folders of a mailbox, with the
//! message flags in the file name (`<unique>:2,<flags>`). Files in `tmp/` are still being
//! delivered and are not messages yet.

use std::path::Path;

/// Returns the Maildir info flags of a file name: the letters after `:2,` (or `!2,`, the
/// separator used where `:` is not allowed in file names). `None` when the name has no
/// info part; `Some("")` when it has one without flags.
pub fn maildir_flags(file_name: &str) -> Option<String> {
    let start = file_name.rfind(":2,").or_else(|| file_name.rfind("!2,"))?;
    file_name.get(start + 3..).map(str::to_string)
}

/// Tells whether `path` is a message file of a Maildir: its folder is `cur` or `new`.
pub fn is_maildir_message(path: &Path) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|name| name == "cur" || name == "new")
}

/// Tells whether `dir` is the `tmp` folder of a Maildir (a `tmp` next to `cur` or `new`).
pub fn is_maildir_tmp(dir: &Path) -> bool {
    let Some(parent) = dir.parent() else {
        return false;
    };
    dir.file_name().is_some_and(|name| name == "tmp")
        && (parent.join("cur").is_dir() || parent.join("new").is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_table() {
        let cases = [
            ("1234.host:2,S", Some("S")),
            ("1234.host:2,FRS", Some("FRS")),
            ("01:2,", Some("")),
            ("1234.host!2,T", Some("T")),
            ("1234.host", None),
            ("a:1,xyz", None),
        ];
        for (name, flags) in cases {
            assert_eq!(maildir_flags(name).as_deref(), flags, "{name}");
        }
    }

    #[test]
    fn message_folders() {
        assert!(is_maildir_message(Path::new("box/cur/1:2,S")));
        assert!(is_maildir_message(Path::new("box/sub/new/2")));
        assert!(!is_maildir_message(Path::new("box/tmp/3")));
        assert!(!is_maildir_message(Path::new("message.eml")));
    }

    #[test]
    fn tmp_needs_a_sibling_cur_or_new() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).expect("tmp folder");
        assert!(!is_maildir_tmp(&tmp));
        std::fs::create_dir(dir.path().join("new")).expect("new folder");
        assert!(is_maildir_tmp(&tmp));
    }
}
