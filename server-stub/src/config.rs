//! Configuration: defaults, overridden by a TOML file, overridden by command-line flags and
//! environment variables. Bad values are clear errors at start-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use citytwin_protocol::catalog::{FeatureRef, Scenario};
use serde::{Deserialize, Serialize};

use crate::auth::Role;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where the SQLite history lives.
    pub data_dir: PathBuf,
    pub tilesets: Vec<TilesetConfig>,
    pub models: Vec<ModelConfig>,
    pub scenarios: Vec<Scenario>,
    pub sensors: SensorConfig,
    pub cameras: CameraConfig,
    pub tokens: Vec<TokenConfig>,
    /// The browser client, when set: its `index.html` is served at `/` and its `pkg/` (made by
    /// `wasm/build.sh`) at `/pkg/`; nothing else in the directory is exposed. Either a deployed
    /// directory (`index.html`, `pkg/`) or the repository (`index.html`, `wasm/pkg/`).
    pub web_root: Option<PathBuf>,
    pub attribution: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TilesetConfig {
    /// Served under `/tiles/{id}/`; letters, digits, `-` and `_`.
    pub id: String,
    pub name: String,
    pub dir: PathBuf,
    /// The entry file within `dir`.
    #[serde(default = "default_entry")]
    pub entry: String,
}

fn default_entry() -> String {
    "tileset.json".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub id: String,
    pub name: String,
    /// The model: a glb, or a BIM tileset's `tileset.json` (its whole directory is served), under
    /// `/models/{id}/`.
    pub file: PathBuf,
    pub lon_deg: f64,
    pub lat_deg: f64,
    #[serde(default)]
    pub height_m: f64,
    #[serde(default)]
    pub heading_deg: f64,
    #[serde(default)]
    pub replaces: Option<FeatureRef>,
}

impl ModelConfig {
    /// Whether the model is a tileset (served with its directory) rather than one file.
    pub fn is_tileset(&self) -> bool {
        self.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
    }

    /// A BIM tileset's spatial tree beside its `tileset.json`, when there is one.
    pub fn spatial_tree(&self) -> Option<PathBuf> {
        let tree = self.file.with_file_name("bim.json");
        (self.is_tileset() && tree.is_file()).then_some(tree)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensorConfig {
    pub count: usize,
    pub seed: u64,
    /// A tiler `roads.json` to place sensors along; otherwise they scatter around `center`.
    pub roads: Option<PathBuf>,
    pub center_deg: [f64; 2],
    pub radius_m: f64,
    /// Seconds between a sensor's reports: each sensor picks one in this range.
    pub report_interval_s: [u32; 2],
    /// Seconds between history snapshots written to SQLite.
    pub history_interval_s: u32,
    pub retention_days: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CameraConfig {
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub token: String,
    pub role: Role,
    /// Who holds it, for the audit log.
    pub name: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("citytwin-data"),
            tilesets: Vec::new(),
            models: Vec::new(),
            scenarios: default_scenarios(),
            sensors: SensorConfig::default(),
            cameras: CameraConfig::default(),
            tokens: Vec::new(),
            web_root: None,
            attribution: Vec::new(),
        }
    }
}

impl Default for SensorConfig {
    fn default() -> Self {
        Self {
            count: 10_000,
            seed: 1,
            roads: None,
            center_deg: [114.0579, 22.5431],
            radius_m: 3000.0,
            report_interval_s: [5, 30],
            history_interval_s: 60,
            retention_days: 7.0,
        }
    }
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self { count: 1000 }
    }
}

/// The demo city's drills (`demo-drills.toml`: one of each hazard, in the TOML an operator would write).
fn default_scenarios() -> Vec<Scenario> {
    #[derive(Deserialize)]
    struct Drills {
        scenarios: Vec<Scenario>,
    }
    let drills: Drills = toml::from_str(include_str!("../demo-drills.toml")).expect("demo-drills.toml is well formed");
    drills.scenarios
}

pub const MAX_SENSORS: usize = 1_000_000;
pub const MAX_CAMERAS: usize = 500_000;

/// The `pkg/` of a web root: `pkg/` when deployed, `wasm/pkg/` in the repository.
pub fn web_pkg_dir(root: &Path) -> PathBuf {
    let deployed = root.join("pkg");
    if deployed.is_dir() { deployed } else { root.join("wasm/pkg") }
}

impl Config {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Checks values that types alone cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        let s = &self.sensors;
        anyhow::ensure!(s.count <= MAX_SENSORS, "sensors.count {} exceeds {MAX_SENSORS}", s.count);
        anyhow::ensure!(
            self.cameras.count <= MAX_CAMERAS,
            "cameras.count {} exceeds {MAX_CAMERAS}",
            self.cameras.count
        );
        anyhow::ensure!(
            s.report_interval_s[0] >= 1 && s.report_interval_s[0] <= s.report_interval_s[1],
            "sensors.report_interval_s must be [min, max] with 1 <= min <= max"
        );
        anyhow::ensure!(s.history_interval_s >= 1, "sensors.history_interval_s must be at least 1");
        anyhow::ensure!(s.retention_days > 0.0, "sensors.retention_days must be positive");
        anyhow::ensure!(s.radius_m > 0.0, "sensors.radius_m must be positive");
        anyhow::ensure!(
            (-180.0..=180.0).contains(&s.center_deg[0]) && (-90.0..=90.0).contains(&s.center_deg[1]),
            "sensors.center_deg must be [lon, lat]"
        );
        for t in &self.tilesets {
            anyhow::ensure!(valid_id(&t.id), "tileset id {:?}: letters, digits, '-' and '_' only", t.id);
            anyhow::ensure!(t.dir.is_dir(), "tileset {}: {} is not a directory", t.id, t.dir.display());
        }
        if let Some(root) = &self.web_root {
            anyhow::ensure!(root.join("index.html").is_file(), "web_root {}: no index.html", root.display());
            if !web_pkg_dir(root).is_dir() {
                tracing::warn!("web_root {}: no pkg/ yet (build it with wasm/build.sh)", root.display());
            }
        }
        for m in &self.models {
            anyhow::ensure!(valid_id(&m.id), "model id {:?}: letters, digits, '-' and '_' only", m.id);
            anyhow::ensure!(m.file.is_file(), "model {}: {} is not a file", m.id, m.file.display());
        }
        for sc in &self.scenarios {
            sc.check().map_err(anyhow::Error::msg)?;
        }
        let mut seen = std::collections::HashSet::new();
        for t in &self.tokens {
            anyhow::ensure!(t.token.len() >= 16, "token for {} is shorter than 16 characters", t.name);
            anyhow::ensure!(seen.insert(&t.token), "token for {} is used twice", t.name);
        }
        Ok(())
    }
}

pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_over_defaults_and_clear_errors() {
        let c: Config = toml::from_str(
            r#"listen = "127.0.0.1:9000"
               [sensors]
               count = 300000
               [[tokens]]
               token = "0123456789abcdef-op"
               role = "operator"
               name = "control room""#,
        )
        .unwrap();
        assert_eq!(c.sensors.count, 300_000);
        assert_eq!(c.sensors.history_interval_s, 60, "unset keys keep their defaults");
        assert_eq!(c.tokens[0].role, Role::Operator);
        c.validate().unwrap();
        let err = toml::from_str::<Config>("[sensors]\ncuont = 5").unwrap_err().to_string();
        assert!(err.contains("cuont"), "{err}");
        assert!(toml::from_str::<Config>("[[tokens]]\ntoken='x'\nrole='king'\nname='a'").is_err());
        let mut bad = Config::default();
        bad.sensors.count = 2_000_000;
        assert!(bad.validate().unwrap_err().to_string().contains("exceeds"));
        bad = Config::default();
        bad.tokens.push(TokenConfig { token: "short".into(), role: Role::Planner, name: "p".into() });
        assert!(bad.validate().is_err());
    }

    #[test]
    fn planning_scenarios_from_toml() {
        let c: Config = toml::from_str(
            r#"[[scenarios]]
               id = "site-7"
               name = "Site 7"
               kind = "planning"
               description = "Three options"
               site = [[114.060, 22.540], [114.061, 22.540], [114.061, 22.541], [114.060, 22.541]]
               [[scenarios.variants]]
               id = "tower"
               name = "Tower"
               design = { type = "massing", footprint = [[114.0602, 22.5402], [114.0605, 22.5402], [114.0605, 22.5405]], floors = 30, floor_height_m = 3.5, setbacks = [{ from_floor = 5, inset_m = 4.0 }], usage = "office" }
               [[scenarios.variants]]
               id = "scheme-b"
               name = "Scheme B"
               design = { type = "tileset", url = "/tiles/scheme-b/tileset.json" }"#,
        )
        .unwrap();
        c.validate().unwrap();
        let v = &c.scenarios[0].variants;
        assert!(
            matches!(&v[0].design, citytwin_protocol::catalog::Design::Massing(m) if m.floors == 30 && m.setbacks.len() == 1)
        );
        let mut bad = c.clone();
        bad.scenarios[0].site.truncate(2);
        assert!(bad.validate().unwrap_err().to_string().contains("site"));
        let mut bad = c.clone();
        bad.scenarios[0].variants[1].id = "tower".into();
        assert!(bad.validate().unwrap_err().to_string().contains("twice"));
        let mut bad = c;
        bad.scenarios[0].site[1][1] = f64::NAN;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn the_demo_drills_are_well_formed_and_checked() {
        let c = Config::default();
        c.validate().unwrap();
        let kinds: Vec<&str> = c.scenarios.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(kinds, ["flood", "gas_leak", "evacuation"]);
        assert!(c.scenarios.iter().all(|s| s.drill.as_ref().is_some_and(|d| d.evacuation.is_some())));
        let mut bad = c.clone();
        bad.scenarios[0].drill.as_mut().unwrap().half_size_m = 1e6;
        assert!(bad.validate().unwrap_err().to_string().contains("half_size_m"));
        let mut bad = c.clone();
        bad.scenarios[1].kind = "flood".into();
        assert!(bad.validate().unwrap_err().to_string().contains("gas_leak hazard"));
        let mut bad = c;
        bad.scenarios[2].drill = None;
        assert!(bad.validate().unwrap_err().to_string().contains("[drill]"));
    }
}
