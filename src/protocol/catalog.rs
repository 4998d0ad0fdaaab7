//! The layer catalog (`/api/layers`): what a client may show, filtered by its role.

use serde::{Deserialize, Serialize};

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
    /// The absolute URLs of the tilesets, for a server at `base` (no trailing slash).
    pub fn tileset_urls(&self, base: &str) -> Vec<String> {
        self.tilesets.iter().map(|t| format!("{base}{}", t.url)).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TilesetLayer {
    pub id: String,
    pub name: String,
    /// Relative to the server, e.g. `/tiles/city/tileset.json`.
    pub url: String,
}

/// A BIM model placed in the city, replacing one building of a tileset.
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub id: String,
    pub name: String,
    /// `planning`, `flood`, `gas_leak` or `evacuation`.
    pub kind: String,
    pub description: String,
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
