//! The tileset.json model (3D Tiles 1.0 and 1.1) in serde, with semantic checks as warnings.
//! Structure errors (not JSON, missing `root`) are errors; everything recoverable is a warning.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{TilesError, Warnings, gzip};

/// Extensions this reader understands; a tileset requiring any other still loads, with a warning.
pub const SUPPORTED_EXTENSIONS: &[&str] =
    &["3DTILES_implicit_tiling", "3DTILES_multiple_contents", "3DTILES_metadata", "3DTILES_content_gltf"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tileset {
    pub asset: Asset,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub geometric_error: f64,
    pub root: Tile,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions_used: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions_required: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tileset_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gltf_up_axis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tile {
    pub bounding_volume: BoundingVolume,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer_request_volume: Option<BoundingVolume>,
    #[serde(default)]
    pub geometric_error: f64,
    /// `ADD` or `REPLACE`; inherited from the parent when absent (see [`Refine`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refine: Option<String>,
    /// Column-major 4×4, applied to this tile and composed down the tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<Content>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implicit_tiling: Option<ImplicitTiling>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Tile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<Value>,
}

impl Tile {
    /// The tile's contents: `contents` when given (it wins over `content`), else `content`.
    pub fn all_contents(&self) -> Vec<&Content> {
        if self.contents.is_empty() { self.content.iter().collect() } else { self.contents.iter().collect() }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Pre-1.0 spelling of `uri`, still found in the wild.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_volume: Option<BoundingVolume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<Value>,
}

impl Content {
    pub fn uri(&self) -> Option<&str> {
        self.uri.as_deref().or(self.url.as_deref())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoundingVolume {
    #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
    pub obb: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sphere: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImplicitTiling {
    pub subdivision_scheme: SubdivisionScheme,
    pub subtree_levels: u32,
    /// `maximumLevel` in the pre-1.1 extension is `availableLevels - 1`.
    #[serde(default, alias = "maximumLevel")]
    pub available_levels: u32,
    pub subtrees: TemplateRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubdivisionScheme {
    Quadtree,
    Octree,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateRef {
    pub uri: String,
}

/// Refinement strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refine {
    Add,
    Replace,
}

impl Refine {
    /// Parses a tile's `refine`, inheriting `parent` when absent; odd spellings give a warning.
    pub fn resolve(raw: Option<&str>, parent: Refine, ctx: &str, w: &mut Warnings) -> Refine {
        match raw {
            None => parent,
            Some("ADD") => Refine::Add,
            Some("REPLACE") => Refine::Replace,
            Some(other) if other.eq_ignore_ascii_case("add") => {
                w.push(ctx, format!("refine {other:?} should be \"ADD\""));
                Refine::Add
            }
            Some(other) if other.eq_ignore_ascii_case("replace") => {
                w.push(ctx, format!("refine {other:?} should be \"REPLACE\""));
                Refine::Replace
            }
            Some(other) => {
                w.push(ctx, format!("unknown refine {other:?}; inheriting {parent:?}"));
                parent
            }
        }
    }
}

/// Tileset JSON nests at most this deep, serde_json's recursion limit: deeper is an error, so a
/// tile tree read from JSON is at most about 60 tiles deep and every walk over it is bounded. (Deep
/// trees are what implicit tiling is for.) Inflated size is bounded by [`gzip::MAX_INFLATED_BYTES`].
pub const MAX_JSON_DEPTH: usize = 128;

/// Parses tileset JSON (gzip allowed) and checks it, returning warnings beside the tileset.
pub fn parse_tileset(bytes: &[u8]) -> Result<(Tileset, Warnings), TilesError> {
    let mut warnings = Warnings::default();
    let bytes = gzip::maybe_gunzip(bytes)?;
    if gzip::is_gzip(&bytes) {
        return Err(TilesError::invalid("tileset", "doubly gzip-compressed"));
    }
    let tileset: Tileset = serde_json::from_slice(&bytes).map_err(|e| TilesError::json("tileset", e))?;
    if !matches!(tileset.asset.version.as_str(), "1.0" | "1.1" | "0.0") {
        warnings.push("asset", format!("unknown 3D Tiles version {:?}", tileset.asset.version));
    }
    for ext in &tileset.extensions_required {
        if !SUPPORTED_EXTENSIONS.contains(&ext.as_str()) {
            warnings.push("extensionsRequired", format!("{ext} is not supported; rendering may be wrong"));
        }
    }
    check_tile(&tileset.root, "root", f64::INFINITY, &mut warnings);
    Ok((tileset, warnings))
}

fn check_tile(tile: &Tile, path: &str, parent_error: f64, w: &mut Warnings) {
    if !tile.geometric_error.is_finite() || tile.geometric_error < 0.0 {
        w.push(path, format!("geometricError {} is not a finite non-negative number", tile.geometric_error));
    } else if tile.geometric_error > parent_error {
        w.push(path, format!("geometricError {} exceeds its parent's {parent_error}", tile.geometric_error));
    }
    check_volume(&tile.bounding_volume, path, w);
    if let Some(t) = &tile.transform
        && (t.len() != 16 || t.iter().any(|v| !v.is_finite()))
    {
        w.push(path, "transform must be 16 finite numbers; ignored");
    }
    if tile.content.is_some() && !tile.contents.is_empty() {
        w.push(path, "has both content and contents; contents wins");
    }
    for c in tile.content.iter().chain(&tile.contents) {
        if c.uri.is_none() && c.url.is_some() {
            w.push(path, "content.url is pre-1.0; use content.uri");
        } else if c.uri.is_none() {
            w.push(path, "content without uri; ignored");
        }
    }
    for (i, child) in tile.children.iter().enumerate() {
        check_tile(child, &format!("{path}/children/{i}"), tile.geometric_error, w);
    }
}

/// Warns about a bounding volume with no usable shape.
pub fn check_volume(v: &BoundingVolume, path: &str, w: &mut Warnings) {
    let ok = |a: &Option<Vec<f64>>, n| a.as_ref().is_some_and(|a| a.len() == n && a.iter().all(|x| x.is_finite()));
    let has_s2 = v.extensions.as_ref().is_some_and(|e| e.contains_key("3DTILES_bounding_volume_S2"));
    if !(ok(&v.obb, 12) || ok(&v.region, 6) || ok(&v.sphere, 4)) {
        let what = if has_s2 { "S2 bounding volumes are not supported" } else { "no valid box, region or sphere" };
        w.push(path, format!("boundingVolume: {what}; the tile is treated as always visible"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"asset":{"version":"1.1","extras":{"k":1}},"geometricError":10,
        "root":{"boundingVolume":{"sphere":[0,0,0,5]},"geometricError":5,"refine":"add",
        "content":{"url":"a.b3dm"},"children":[{"boundingVolume":{"box":[0,0,0,1,0,0,0,1,0,0,0,1]},
        "geometricError":7,"extensions":{"VENDOR_x":{"a":[1,2]}}}]},
        "extensionsRequired":["VENDOR_unknown"]}"#;

    #[test]
    fn parses_and_warns_without_failing() {
        let (ts, w) = parse_tileset(MINIMAL.as_bytes()).unwrap();
        assert_eq!(ts.root.children.len(), 1);
        assert_eq!(ts.root.content.as_ref().unwrap().uri(), Some("a.b3dm"));
        let msgs: Vec<String> = w.iter().map(|w| w.to_string()).collect();
        assert!(msgs.iter().any(|m| m.contains("VENDOR_unknown")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("exceeds its parent")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("pre-1.0")), "{msgs:?}");
        // Extras and extensions survive a round trip untouched.
        let again = serde_json::to_value(&ts).unwrap();
        assert_eq!(again["asset"]["extras"]["k"], 1);
        assert_eq!(again["root"]["children"][0]["extensions"]["VENDOR_x"]["a"][1], 2);
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |levels: usize| {
            let tile = r#"{"boundingVolume":{"sphere":[0,0,0,5]},"geometricError":0"#;
            let mut json = String::new();
            for _ in 0..levels {
                json.push_str(tile);
                json.push_str(r#","children":["#);
            }
            json.push_str(tile);
            json.push('}');
            for _ in 0..levels {
                json.push_str("]}");
            }
            format!(r#"{{"asset":{{"version":"1.1"}},"geometricError":1,"root":{json}}}"#)
        };
        assert!(parse_tileset(nested(50).as_bytes()).is_ok());
        for levels in [MAX_JSON_DEPTH, 100_000] {
            let e = parse_tileset(nested(levels).as_bytes()).unwrap_err().to_string();
            assert!(e.contains("recursion limit"), "{levels}: {e}");
        }
    }

    #[test]
    fn refine_is_inherited_and_normalised() {
        let mut w = Warnings::default();
        assert_eq!(Refine::resolve(None, Refine::Add, "t", &mut w), Refine::Add);
        assert_eq!(Refine::resolve(Some("replace"), Refine::Add, "t", &mut w), Refine::Replace);
        assert_eq!(Refine::resolve(Some("BOGUS"), Refine::Add, "t", &mut w), Refine::Add);
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn malformed_tilesets_are_errors() {
        for bad in [
            "",
            "{",
            "[]",
            r#"{"asset":{"version":"1.0"}}"#,
            r#"{"asset":1,"root":{}}"#,
            r#"{"asset":{"version":"1.0"},"root":{"boundingVolume":{},"children":[1]}}"#,
        ] {
            assert!(parse_tileset(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn degenerate_volumes_warn() {
        let src = r#"{"asset":{"version":"1.0"},"root":{"boundingVolume":{"box":[1,2]},"geometricError":1}}"#;
        let (_, w) = parse_tileset(src.as_bytes()).unwrap();
        assert!(w.iter().any(|w| w.message.contains("no valid box")));
    }
}
