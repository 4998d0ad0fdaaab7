//! Whole-tree statistics and validation: walks a tileset with its external tilesets and
//! implicit subtrees, decoding every content. The caller supplies the bytes (sans-IO).

use std::collections::BTreeMap;

use serde::Serialize;

use super::content::{self, ContentFormat};
use super::implicit::{ImplicitCoord, Subtree, parse_subtree};
use super::model::{self, Tile};
use super::runtime::TileError;
use super::{LoadError, TilesError, Warning, gzip, uri};

/// Limits of a walk.
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// Decode every content (otherwise only fetch and classify it).
    pub decode_content: bool,
    /// Stop after this many tiles (implicit trees can be huge).
    pub max_tiles: usize,
}

impl Default for InspectOptions {
    fn default() -> Self {
        Self { decode_content: true, max_tiles: 1_000_000 }
    }
}

/// Count and bytes of one content format.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct FormatStats {
    pub count: usize,
    pub bytes: u64,
}

/// What a walk found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InspectReport {
    pub url: String,
    pub version: String,
    pub tiles: usize,
    pub implicit_tiles: usize,
    pub max_depth: u32,
    /// The root tileset and every external tileset.
    pub tilesets: usize,
    pub subtrees: usize,
    pub tileset_bytes: u64,
    pub subtree_bytes: u64,
    pub contents: BTreeMap<String, FormatStats>,
    pub content_bytes: u64,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
    /// True when `max_tiles` stopped the walk.
    pub truncated: bool,
}

struct Walk<'a> {
    load: &'a mut dyn FnMut(&str) -> Result<Vec<u8>, LoadError>,
    options: InspectOptions,
    report: InspectReport,
    chain: Vec<String>,
}

/// Walks the tileset at `url`, loading bytes with `load`. Never fails: problems are reported.
pub fn inspect(
    url: &str,
    options: InspectOptions,
    load: &mut dyn FnMut(&str) -> Result<Vec<u8>, LoadError>,
) -> InspectReport {
    let mut walk =
        Walk { load, options, report: InspectReport { url: url.to_owned(), ..Default::default() }, chain: Vec::new() };
    walk.tileset(url, 0);
    walk.report
}

impl Walk<'_> {
    fn fetch(&mut self, url: &str) -> Result<Vec<u8>, TilesError> {
        let bytes = if url.starts_with("data:") { uri::decode_data_uri(url)? } else { (self.load)(url)? };
        Ok(gzip::maybe_gunzip(&bytes)?.into_owned())
    }

    fn error(&mut self, url: &str, e: impl std::fmt::Display) {
        self.report.errors.push(TileError { url: url.to_owned(), message: e.to_string() }.to_string());
    }

    fn warnings(&mut self, url: &str, w: impl IntoIterator<Item = Warning>) {
        self.report.warnings.extend(w.into_iter().map(|w| format!("{url}: {w}")));
    }

    fn tileset(&mut self, url: &str, depth: u32) {
        if self.chain.iter().any(|u| u == url) {
            return self.error(url, TilesError::Cycle(url.to_owned()));
        }
        let bytes = match self.fetch(url) {
            Ok(b) => b,
            Err(e) => return self.error(url, e),
        };
        self.tileset_bytes(url, &bytes, depth);
    }

    fn tileset_bytes(&mut self, url: &str, bytes: &[u8], depth: u32) {
        let (ts, w) = match model::parse_tileset(bytes) {
            Ok(v) => v,
            Err(e) => return self.error(url, e),
        };
        self.warnings(url, w.0);
        self.report.tilesets += 1;
        self.report.tileset_bytes += bytes.len() as u64;
        if self.report.version.is_empty() {
            self.report.version = ts.asset.version.clone();
        }
        self.chain.push(url.to_owned());
        self.tile(&ts.root, url, depth);
        self.chain.pop();
    }

    fn count_tile(&mut self, depth: u32) -> bool {
        if self.report.tiles >= self.options.max_tiles {
            self.report.truncated = true;
            return false;
        }
        self.report.tiles += 1;
        self.report.max_depth = self.report.max_depth.max(depth);
        true
    }

    fn tile(&mut self, tile: &Tile, base: &str, depth: u32) {
        if let Some(it) = &tile.implicit_tiling {
            return self.implicit(tile, it, base, depth);
        }
        if !self.count_tile(depth) {
            return;
        }
        let uris: Vec<String> = tile.all_contents().into_iter().filter_map(|c| c.uri().map(str::to_owned)).collect();
        for reference in uris {
            match uri::resolve(base, &reference) {
                Ok(url) => self.content(&url, depth),
                Err(e) => self.error(&reference, e),
            }
        }
        for child in &tile.children {
            self.tile(child, base, depth + 1);
        }
    }

    fn content(&mut self, url: &str, depth: u32) {
        let bytes = match self.fetch(url) {
            Ok(b) => b,
            Err(e) => return self.error(url, e),
        };
        let format = content::detect(&bytes);
        if format == ContentFormat::TilesetJson {
            if self.chain.iter().any(|u| u == url) {
                return self.error(url, TilesError::Cycle(url.to_owned()));
            }
            return self.tileset_bytes(url, &bytes, depth + 1);
        }
        let stats = self.report.contents.entry(format.name().to_owned()).or_default();
        stats.count += 1;
        stats.bytes += bytes.len() as u64;
        self.report.content_bytes += bytes.len() as u64;
        if self.options.decode_content {
            match content::decode(&bytes) {
                Ok((_, w)) => self.warnings(url, w.0),
                Err(e) => self.error(url, e),
            }
        }
    }

    fn implicit(&mut self, tile: &Tile, it: &model::ImplicitTiling, base: &str, depth: u32) {
        if let Err(e) = super::implicit::check_levels(it.subdivision_scheme, it.subtree_levels, it.available_levels) {
            return self.error(base, e);
        }
        let templates: Vec<String> =
            tile.all_contents().into_iter().filter_map(|c| c.uri().map(str::to_owned)).collect();
        let ctx = ImplicitWalk { it, base, templates: &templates, depth };
        self.subtree(&ctx, ImplicitCoord::ROOT);
    }

    fn subtree(&mut self, ctx: &ImplicitWalk<'_>, root: ImplicitCoord) {
        let url = match uri::resolve(ctx.base, &ctx.expand(&ctx.it.subtrees.uri, &root)) {
            Ok(u) => u,
            Err(e) => return self.error(&ctx.it.subtrees.uri, e),
        };
        let bytes = match self.fetch(&url) {
            Ok(b) => b,
            Err(e) => return self.error(&url, e),
        };
        let subtree = match parse_subtree(&bytes, ctx.it.subdivision_scheme, ctx.it.subtree_levels) {
            Ok((s, w)) => {
                self.warnings(&url, w.0);
                s
            }
            Err(e) => return self.error(&url, e),
        };
        self.report.subtrees += 1;
        self.report.subtree_bytes += bytes.len() as u64;
        self.implicit_tile(ctx, &subtree, &root, root);
    }

    fn implicit_tile(&mut self, ctx: &ImplicitWalk<'_>, subtree: &Subtree, root: &ImplicitCoord, c: ImplicitCoord) {
        let rel = c.relative_to(root);
        if !subtree.tile_available(&rel) || !self.count_tile(ctx.depth + c.level) {
            return;
        }
        self.report.implicit_tiles += 1;
        for (i, template) in ctx.templates.iter().enumerate() {
            if subtree.content_available(&rel, i) {
                match uri::resolve(ctx.base, &ctx.expand(template, &c)) {
                    Ok(url) => self.content(&url, ctx.depth + c.level),
                    Err(e) => self.error(template, e),
                }
            }
        }
        if c.level + 1 >= ctx.it.available_levels {
            return;
        }
        for child in c.children(ctx.it.subdivision_scheme) {
            let child_rel = child.relative_to(root);
            if child_rel.level < ctx.it.subtree_levels {
                self.implicit_tile(ctx, subtree, root, child);
            } else if subtree.child_subtree_available(&child_rel) {
                self.subtree(ctx, child);
            }
        }
    }
}

struct ImplicitWalk<'a> {
    it: &'a model::ImplicitTiling,
    base: &'a str,
    templates: &'a [String],
    depth: u32,
}

impl ImplicitWalk<'_> {
    fn expand(&self, template: &str, c: &ImplicitCoord) -> String {
        let z = matches!(self.it.subdivision_scheme, model::SubdivisionScheme::Octree).then_some(c.z);
        uri::expand_template(template, c.level, c.x, c.y, z)
    }
}

impl std::fmt::Display for TileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.url, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiles::content::write;
    use std::collections::HashMap;

    #[test]
    fn walks_external_tilesets_and_reports_problems() {
        let glb = write::glb(br#"{"asset":{"version":"2.0"}}"#, None);
        let files: HashMap<&str, Vec<u8>> = [
            (
                "m:/t/tileset.json",
                br#"{"asset":{"version":"1.0"},"geometricError":9,"root":{"boundingVolume":{"sphere":[0,0,0,1]},
                "geometricError":5,"refine":"ADD","content":{"uri":"a.glb"},"children":[
                {"boundingVolume":{"sphere":[0,0,0,1]},"geometricError":1,"content":{"uri":"ext/e.json"}},
                {"boundingVolume":{"sphere":[0,0,0,1]},"geometricError":1,"content":{"uri":"gone.b3dm"}},
                {"boundingVolume":{"sphere":[0,0,0,1]},"geometricError":1,"content":{"uri":"tileset.json"}}]}}"#
                    .to_vec(),
            ),
            (
                "m:/t/ext/e.json",
                br#"{"asset":{"version":"1.0"},"geometricError":1,"root":{"boundingVolume":{"box":[1]},
                "geometricError":0,"content":{"uri":"b.glb"}}}"#
                    .to_vec(),
            ),
            ("m:/t/a.glb", glb.clone()),
            ("m:/t/ext/b.glb", glb),
        ]
        .into_iter()
        .collect();
        let mut load = |u: &str| files.get(u).cloned().ok_or(LoadError::Http { status: 404, url: u.to_owned() });
        let r = inspect("m:/t/tileset.json", InspectOptions::default(), &mut load);
        assert_eq!(r.tilesets, 2);
        assert_eq!(r.tiles, 5);
        assert_eq!(r.max_depth, 2);
        assert_eq!(r.contents["glb"].count, 2);
        assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
        assert!(r.errors.iter().any(|e| e.contains("gone.b3dm") && e.contains("404")));
        assert!(r.errors.iter().any(|e| e.contains("cycle")));
        assert!(r.warnings.iter().any(|w| w.contains("no valid box")), "{:?}", r.warnings);
    }

    #[test]
    fn max_tiles_truncates() {
        let src = br#"{"asset":{"version":"1.0"},"root":{"boundingVolume":{"sphere":[0,0,0,1]},"children":[
            {"boundingVolume":{"sphere":[0,0,0,1]}},{"boundingVolume":{"sphere":[0,0,0,1]}}]}}"#;
        let mut load = |_: &str| Ok(src.to_vec());
        let r = inspect("m:/t.json", InspectOptions { decode_content: true, max_tiles: 2 }, &mut load);
        assert!(r.truncated);
        assert_eq!(r.tiles, 2);
    }
}
