//! `citytwin inspect`: tree statistics and validation of a tileset, as text or JSON.

use std::fmt::Write;

use clap::Args;

use super::fetch::{Fetcher, to_url};
use crate::tiles::inspect::{InspectOptions, InspectReport, inspect};

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A tileset.json path or URL.
    pub tileset: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Only fetch and classify contents, without decoding them.
    #[arg(long)]
    pub no_decode: bool,
    /// Stop after this many tiles.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_tiles: usize,
    /// Print at most this many warnings and errors each (all are counted).
    #[arg(long, default_value_t = 50)]
    pub max_messages: usize,
}

/// Runs the command; returns the report so the caller can choose the exit code.
pub fn run(args: &InspectArgs) -> anyhow::Result<InspectReport> {
    let url = to_url(&args.tileset)?;
    let fetcher = Fetcher::new()?;
    let options = InspectOptions { decode_content: !args.no_decode, max_tiles: args.max_tiles };
    let report = inspect(&url, options, &mut |u| fetcher.load(u));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report, args.max_messages));
    }
    Ok(report)
}

/// The human-readable report.
pub fn render(r: &InspectReport, max_messages: usize) -> String {
    let mut s = String::new();
    let mb = |b: u64| b as f64 / 1e6;
    let _ = writeln!(s, "tileset      {}", r.url);
    let _ = writeln!(s, "version      {}", if r.version.is_empty() { "?" } else { &r.version });
    let _ = writeln!(
        s,
        "tiles        {} ({} implicit), depth {}{}",
        r.tiles,
        r.implicit_tiles,
        r.max_depth,
        if r.truncated { ", TRUNCATED" } else { "" }
    );
    let _ = writeln!(s, "tilesets     {} ({:.3} MB)", r.tilesets, mb(r.tileset_bytes));
    if r.subtrees > 0 {
        let _ = writeln!(s, "subtrees     {} ({:.3} MB)", r.subtrees, mb(r.subtree_bytes));
    }
    let _ = writeln!(s, "content      {:.3} MB", mb(r.content_bytes));
    for (format, st) in &r.contents {
        let _ = writeln!(s, "  {format:<10} {:>6} files {:>12.3} MB", st.count, mb(st.bytes));
    }
    for (label, list) in [("warnings", &r.warnings), ("errors", &r.errors)] {
        let _ = writeln!(s, "{label:<12} {}", list.len());
        for m in list.iter().take(max_messages) {
            let _ = writeln!(s, "  {m}");
        }
        if list.len() > max_messages {
            let _ = writeln!(s, "  … {} more", list.len() - max_messages);
        }
    }
    s
}
