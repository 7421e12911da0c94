//! The documentation in the repository: every relative link of README.md, DESIGN.md,
//! BENCHMARKS.md and docs/*.md points at a file that exists (the README once pointed at spec
//! files outside the repository).

use std::path::Path;

#[test]
fn relative_links_in_the_docs_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![
        root.join("README.md"),
        root.join("DESIGN.md"),
        root.join("BENCHMARKS.md"),
    ];
    for e in std::fs::read_dir(root.join("docs")).unwrap() {
        let p = e.unwrap().path();
        // Images (docs/screenshot.png) have no links.
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    for want in ["spl.md", "functions.md", "architecture.md", "evaluation.md"] {
        assert!(
            root.join("docs").join(want).is_file(),
            "docs/{want} is missing"
        );
    }
    let mut broken = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = rest[..end].split('#').next().unwrap_or("");
            if target.is_empty() || target.contains("://") || target.contains(' ') {
                continue;
            }
            if !f.parent().unwrap().join(target).exists() {
                broken.push(format!("{}: {target}", f.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
