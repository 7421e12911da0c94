//! `soc learn`: mines labeled datasets for key → field knowledge and writes
//! `knowledge/learned.json` (or checks that the checked-in file is current).

use crate::eval;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Labeled dataset folders (default: datasets/ecs-pipeline-tests).
    #[arg(value_name = "DATASET_DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write the knowledge.
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "knowledge/learned.json"
    )]
    pub output: PathBuf,
    /// Do not write: exit 1 when the file differs from what the datasets give (stale).
    #[arg(long)]
    pub check: bool,
}

/// The knowledge file's text for the given datasets.
pub fn render(dirs: &[PathBuf]) -> Result<String> {
    let (learned, problems) = eval::learn::mine(dirs);
    for p in &problems {
        eprintln!("warning: skipped {p}");
    }
    if learned.keys.is_empty() {
        bail!("nothing learned: no labeled stream under the given folders");
    }
    Ok(serde_json::to_string_pretty(&learned)? + "\n")
}

/// Runs `soc learn`: 0 written or current, 1 stale (`--check`), 2 on errors.
pub fn run(args: LearnArgs) -> Result<u8> {
    let dirs = if args.dirs.is_empty() {
        vec![eval::default_dataset_dir(Path::new("."))]
    } else {
        args.dirs.clone()
    };
    let text = render(&dirs)?;
    if args.check {
        let have = std::fs::read_to_string(&args.output)
            .with_context(|| format!("reading {}", args.output.display()))?;
        if have != text {
            eprintln!(
                "{} is stale: regenerate it with `soc learn -o {}`",
                args.output.display(),
                args.output.display()
            );
            return Ok(1);
        }
        println!("{} is current", args.output.display());
        return Ok(0);
    }
    std::fs::write(&args.output, &text)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let keys = text.matches("\"seen\"").count();
    println!("{} key forms learned → {}", keys, args.output.display());
    Ok(0)
}
