//! The layer catalog (`/api/layers`): what a client may show, filtered by its role.

use serde::{Deserialize, Serialize};

use super::drill::Drill;
use super::sensors::SensorKind;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub tilesets: Vec<TilesetLayer>,
    pub models: Vec<ModelLayer>,
    pub sensor_layers: Vec<SensorLayer>,
    pub camera_layers: Vec<CameraLayer>,
    pub scenarios: Vec<Scenario>,
    /// Credits to show with the data (e.g. "© OpenStreetMap contributors").
    pub attribution: Vec<String>,
}

impl Catalog {
    /// The tilesets with absolute URLs, for a server at `base` (no trailing slash).
    pub fn tileset_layers(&self, base: &str) -> Vec<TilesetLayer> {
        self.tilesets.iter().map(|t| TilesetLayer { url: format!("{base}{}", t.url), ..t.clone() }).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TilesetLayer {
    pub id: String,
    pub name: String,
    /// Relative to the server, e.g. `/tiles/city/tileset.json`.
    pub url: String,
}

/// A BIM model placed in the city, replacing one building of a tileset: a glb, or a BIM tileset
/// (`citytwin tile bim`) whose `url` is its `tileset.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelLayer {
    pub id: String,
    pub name: String,
    pub url: String,
    pub lon_deg: f64,
    pub lat_deg: f64,
    pub height_m: f64,
    pub heading_deg: f64,
    /// The city feature this model stands in for: `(tileset id, feature id)`.
    pub replaces: Option<FeatureRef>,
    /// A BIM tileset's spatial tree (`bim.json`), relative to the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRef {
    pub tileset: String,
    pub feature: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorLayer {
    pub id: String,
    pub kind: SensorKind,
    pub name: String,
    pub unit: String,
    pub count: usize,
    pub restricted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraLayer {
    pub id: String,
    pub name: String,
    pub count: usize,
    /// Where the catalog is, e.g. `/api/cameras`.
    pub url: String,
}

/// A scenario: a planning study (a site and its design variants) or an emergency drill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub id: String,
    pub name: String,
    /// `planning`, `flood`, `gas_leak` or `evacuation`.
    pub kind: String,
    pub description: String,
    /// Planning: the site's outline, `[lon_deg, lat_deg]`, counter-clockwise, not closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub site: Vec<[f64; 2]>,
    /// Planning: the design options compared on the site.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
    /// Drills (`flood`, `gas_leak`, `evacuation`): the hazard, its parameters and the evacuation plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill: Option<Drill>,
}

/// Bounds on a catalog scenario, so a client's work on one is bounded.
pub const MAX_VARIANTS: usize = 16;
pub const MAX_OUTLINE_POINTS: usize = 1024;

impl Scenario {
    /// Checks what a well-formed planning scenario needs: a site of 3 to `MAX_OUTLINE_POINTS`
    /// valid points, at most `MAX_VARIANTS` variants with distinct ids and valid outlines.
    /// Geometry (areas, setbacks) is checked where the variants are built.
    pub fn check(&self) -> Result<(), String> {
        let valid = |p: &[f64; 2]| p[0].is_finite() && p[1].is_finite() && p[0].abs() <= 180.0 && p[1].abs() < 90.0;
        let outline = |pts: &[[f64; 2]]| (3..=MAX_OUTLINE_POINTS).contains(&pts.len()) && pts.iter().all(valid);
        if self.kind != "planning" {
            if !self.variants.is_empty() || !self.site.is_empty() {
                return Err(format!("scenario {}: only planning scenarios have a site and variants", self.id));
            }
            return match &self.drill {
                Some(drill) => drill.check(&self.kind).map_err(|e| format!("scenario {}: {e}", self.id)),
                None => Err(format!("scenario {}: a {} drill needs its [drill]", self.id, self.kind)),
            };
        }
        if self.drill.is_some() {
            return Err(format!("scenario {}: a planning scenario has no drill", self.id));
        }
        if !outline(&self.site) {
            return Err(format!("scenario {}: the site needs 3 to {MAX_OUTLINE_POINTS} [lon, lat] points", self.id));
        }
        if self.variants.is_empty() || self.variants.len() > MAX_VARIANTS {
            return Err(format!("scenario {}: 1 to {MAX_VARIANTS} variants", self.id));
        }
        let mut ids = std::collections::HashSet::new();
        for v in &self.variants {
            if !ids.insert(&v.id) {
                return Err(format!("scenario {}: variant id {} is used twice", self.id, v.id));
            }
            let ok = match &v.design {
                Design::Tileset { url } => url.starts_with('/') || url.starts_with("http"),
                Design::Model { url, lon_deg, lat_deg, .. } => !url.is_empty() && valid(&[*lon_deg, *lat_deg]),
                Design::Massing(m) => outline(&m.footprint),
            };
            if !ok {
                return Err(format!("scenario {}: variant {} is not well formed", self.id, v.id));
            }
        }
        Ok(())
    }
}

/// One design option for a planning site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub id: String,
    pub name: String,
    pub design: Design,
}

/// What a variant is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Design {
    /// A 3D Tiles tileset, relative to the server (e.g. `/tiles/option-a/tileset.json`).
    Tileset { url: String },
    /// A glTF or BIM model placed by its origin and heading (clockwise from north).
    Model { url: String, lon_deg: f64, lat_deg: f64, height_m: f64, heading_deg: f64 },
    /// A parametric massing, built like the tiler's buildings.
    Massing(Massing),
}

/// A parametric building: a footprint extruded floor by floor, stepping in at setbacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Massing {
    /// The ground-floor outline, `[lon_deg, lat_deg]`, counter-clockwise, not closed.
    pub footprint: Vec<[f64; 2]>,
    pub floors: u32,
    pub floor_height_m: f64,
    /// Where the floors above step in, lowest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setbacks: Vec<Setback>,
    /// The use, shown and coloured like the city's `building` kinds (`office`, `apartments`, …).
    #[serde(default)]
    pub usage: String,
}

/// From floor `from_floor` (0 = ground) up, the outline is `inset_m` further in than below.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Setback {
    pub from_floor: u32,
    pub inset_m: f64,
}

/// A CCTV camera: where it stands and what it sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    pub id: u32,
    pub name: String,
    pub lon_deg: f64,
    pub lat_deg: f64,
    pub height_m: f64,
    pub heading_deg: f64,
    pub pitch_deg: f64,
    pub fov_deg: f64,
    pub range_m: f64,
    /// The MJPEG feed, e.g. `/api/cameras/7/feed.mjpg`.
    pub feed: String,
}

/// The cameras of one grid cell, for views too wide to list them (`/api/cameras?cluster_deg=`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CameraCluster {
    /// The cameras' centroid.
    pub lon_deg: f64,
    pub lat_deg: f64,
    pub count: u32,
}
