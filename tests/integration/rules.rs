//! `soc test`: the rule library passes, a changed rule fails with a per-field diff,
//! `--update` rewrites expectations, `--filter` selects packages.

use std::process::Command;

fn soc(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_soc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

#[test]
fn the_rule_library_passes() {
    let (code, out) = soc(&["test", "rules"]);
    assert_eq!(code, 0, "{out}");
    let packages = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("rule.spl").exists())
        .count();
    assert!(packages >= 13, "{packages} packages");
    assert!(
        out.contains(&format!("{packages} passed, 0 failed")),
        "{out}"
    );
}

#[test]
fn a_changed_rule_fails_with_a_field_diff_and_update_fixes_it() {
    let dir = std::env::temp_dir().join(format!("soc-test-pkg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/nginx")),
        &dir,
    );
    let rule = std::fs::read_to_string(dir.join("rule.spl"))
        .unwrap()
        .replace("\"event.kind\" = 'event'", "\"event.kind\" = 'alert'");
    std::fs::write(dir.join("rule.spl"), rule).unwrap();
    let d = dir.to_str().unwrap();
    let (code, out) = soc(&["test", d]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("-event.kind: \"event\"") && out.contains("+event.kind: \"alert\""),
        "{out}"
    );
    assert!(out.contains("0 passed, 1 failed"), "{out}");
    assert!(!out.contains("\x1b["), "no colour when not on a terminal");
    let (code, out) = soc(&["test", d, "--update"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("updated") && out.contains("sample.expected.ndjson"),
        "{out}"
    );
    let (code, out) = soc(&["test", d]);
    assert_eq!(code, 0, "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn filter_selects_packages() {
    let (code, out) = soc(&["test", "rules", "--filter", "sshd"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
    let (code, out) = soc(&["test", "rules", "--filter", "no-such-package"]);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn a_rule_that_does_not_compile_fails_its_package() {
    let dir = std::env::temp_dir().join(format!("soc-test-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rule.spl"), "* | extend x = lowr(content)").unwrap();
    std::fs::write(dir.join("a.log"), "x\n").unwrap();
    let (code, out) = soc(&["test", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("did you mean `lower`?"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn suggest_package_becomes_a_passing_regression_test() {
    let dir = std::env::temp_dir().join(format!("soc-suggest-pkg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let (code, out) = soc(&[
        "suggest",
        "rules/sshd/sample.log",
        "--reference-time",
        "2024-03-01T00:00:00Z",
        "--package",
        d,
    ]);
    assert_eq!(code, 0, "{out}");
    for f in [
        "rule.spl",
        "sample.log",
        "package.toml",
        "sample.expected.ndjson",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let expected = std::fs::read_to_string(dir.join("sample.expected.ndjson")).unwrap();
    assert_eq!(expected.lines().count(), 6, "{expected}");
    let (code, out) = soc(&["test", d]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}
