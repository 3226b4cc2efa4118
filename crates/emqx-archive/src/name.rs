//! Archive file names: EMQX's timestamped export name and its import-time rules.

use chrono::{DateTime, Datelike, Local, Timelike};

/// The name EMQX gives an export made at `at` (local time, milliseconds).
pub fn export_file_name(at: DateTime<Local>) -> String {
    format!(
        "emqx-export-{}-{:02}-{:02}-{:02}-{:02}-{:02}.{:03}.tar.gz",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.timestamp_subsec_millis().min(999)
    )
}

/// Whether `name` has exactly the shape of an export name.
pub fn is_export_name(name: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix("emqx-export-")
        .and_then(|s| s.strip_suffix(".tar.gz"))
    else {
        return false;
    };
    let shape = stamp
        .bytes()
        .map(|b| if b.is_ascii_digit() { b'9' } else { b })
        .collect::<Vec<_>>();
    let tail = b"-99-99-99-99-99.999";
    shape.len() > tail.len()
        && shape.ends_with(tail)
        && shape[..shape.len() - tail.len()].iter().all(|&b| b == b'9')
}

/// The top folder an archive named `file_name` must hold everything under: the name without
/// `.tar.gz`. `None` when EMQX would refuse the name (`bad_backup_name`).
pub fn backup_base(file_name: &str) -> Option<&str> {
    let base = file_name.strip_suffix(".tar.gz")?;
    let safe = !base.is_empty() && base != "." && base != ".." && !base.contains(['/', '\\', '\0']);
    safe.then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn export_names_match_emqx() {
        let at = Local.with_ymd_and_hms(2023, 11, 23, 19, 13, 19).unwrap()
            + chrono::Duration::milliseconds(43);
        let name = export_file_name(at);
        assert_eq!(name, "emqx-export-2023-11-23-19-13-19.043.tar.gz");
        assert!(is_export_name(&name));
        assert!(!is_export_name("emqx-export-upload-ce.tar.gz"));
    }

    #[test]
    fn backup_names() {
        assert_eq!(
            backup_base("emqx-export-upload-ce.tar.gz"),
            Some("emqx-export-upload-ce")
        );
        assert_eq!(backup_base("x.tgz"), None);
        assert_eq!(backup_base("x.TAR.GZ"), None);
        assert_eq!(backup_base(".tar.gz"), None);
        assert_eq!(backup_base("../x.tar.gz"), None);
    }
}
