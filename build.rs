//! Build script: embeds every product entry `knowledge/products/*.toml` and every rule
//! package `rules/*/rule.spl` (a new file is picked up without editing Rust) as generated
//! lists of `(name, include_str!)` pairs.

use std::path::Path;

fn main() {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
        .join("knowledge/products");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("&[\n");
    for p in &files {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            name,
            p.display().to_string()
        ));
    }
    out.push_str("]\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("products.rs");
    std::fs::write(dest, out).expect("writing the product list");

    // The rule packages: (folder name, rule text), for the agents' ingest library.
    let rules =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR")).join("rules");
    println!("cargo:rerun-if-changed={}", rules.display());
    let mut pkgs: Vec<_> = std::fs::read_dir(&rules)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("rule.spl").is_file())
                // `ingest = false` in package.toml: not picked automatically (see rules::Settings).
                .filter(|p| {
                    !std::fs::read_to_string(p.join("package.toml")).is_ok_and(|t| {
                        t.lines()
                            .any(|l| l.replace(' ', "").starts_with("ingest=false"))
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    pkgs.sort();
    let mut out = String::from("&[\n");
    for p in &pkgs {
        let rule = p.join("rule.spl");
        println!(
            "cargo:rerun-if-changed={}",
            p.join("package.toml").display()
        );
        println!("cargo:rerun-if-changed={}", rule.display());
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            name,
            rule.display().to_string()
        ));
    }
    out.push_str("]\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("rules.rs");
    std::fs::write(dest, out).expect("writing the rule package list");
}
