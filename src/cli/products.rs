//! `soc products [FILTER]`: lists the product library (product, log types, fields known, the
//! documentation the knowledge comes from), and any entry that failed validation.

use anyhow::Result;
use clap::Args;

use crate::infer::products::library;

#[derive(Debug, Args)]
pub struct ProductsArgs {
    /// Only entries whose id, vendor or product contains this text (case-insensitive).
    pub filter: Option<String>,
    /// Write the entries as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ProductsArgs) -> Result<u8> {
    print!("{}", render(args.filter.as_deref(), args.json));
    let lib = library();
    for e in &lib.errors {
        eprintln!("error: {e}");
    }
    Ok(if lib.errors.is_empty() { 0 } else { 1 })
}

/// The listing: one block per entry, or a JSON array with `--json`.
pub fn render(filter: Option<&str>, json: bool) -> String {
    let f = filter.map(str::to_lowercase);
    let picked: Vec<_> = library()
        .products
        .iter()
        .filter(|p| {
            f.as_ref().is_none_or(|f| {
                [&p.entry.id, &p.entry.vendor, &p.entry.product]
                    .iter()
                    .any(|s| s.to_lowercase().contains(f.as_str()))
            })
        })
        .collect();
    if json {
        let v: Vec<&crate::infer::products::Entry> = picked.iter().map(|p| &p.entry).collect();
        return serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    }
    let mut out = String::new();
    for p in &picked {
        let e = &p.entry;
        let name = [e.vendor.as_str(), e.product.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let types: Vec<&str> = e.log_type.iter().map(|t| t.name.as_str()).collect();
        let cats: usize = e.log_type.iter().map(|t| t.categorize.len()).sum();
        out.push_str(&format!(
            "{:<28} {}\n",
            e.id,
            if name.is_empty() { "-" } else { &name }
        ));
        out.push_str(&format!(
            "  log types: {}\n",
            if types.is_empty() {
                "(recognition only)".to_string()
            } else {
                types.join(", ")
            }
        ));
        out.push_str(&format!(
            "  fields known: {}, categorizations: {cats}, signatures: {}, prefix: {}\n",
            p.known_keys().len(),
            e.signature.len(),
            e.prefix
        ));
        if !e.package.is_empty() {
            out.push_str(&format!("  package: {}\n", e.package));
        }
        for d in &e.docs {
            out.push_str(&format!("  source: {d}\n"));
        }
    }
    out.push_str(&format!(
        "{} of {} products\n",
        picked.len(),
        library().products.len()
    ));
    out
}
