//! `/api/layers`: tilesets, BIM models, sensor and camera layers and scenarios, by role.

use axum::Json;
use axum::extract::State;
use citytwin_protocol::catalog::{CameraLayer, Catalog, ModelLayer, SensorLayer, TilesetLayer};
use citytwin_protocol::sensors::SensorKind;

use crate::AppState;
use crate::auth::{Caller, Role};

pub fn catalog(state: &AppState, role: Role) -> Catalog {
    let c = &state.config;
    let file_name = |p: &std::path::Path| p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    Catalog {
        tilesets: c
            .tilesets
            .iter()
            .map(|t| TilesetLayer {
                id: t.id.clone(),
                name: t.name.clone(),
                url: format!("/tiles/{}/{}", t.id, t.entry),
            })
            .collect(),
        models: c
            .models
            .iter()
            .map(|m| ModelLayer {
                id: m.id.clone(),
                name: m.name.clone(),
                url: format!("/models/{}/{}", m.id, file_name(&m.file)),
                lon_deg: m.lon_deg,
                lat_deg: m.lat_deg,
                height_m: m.height_m,
                heading_deg: m.heading_deg,
                replaces: m.replaces.clone(),
                tree_url: m.spatial_tree().map(|f| format!("/models/{}/{}", m.id, file_name(&f))),
            })
            .collect(),
        sensor_layers: SensorKind::ALL
            .iter()
            .zip(state.sim.kind_counts)
            .filter(|(k, n)| *n > 0 && role.sees(**k))
            .map(|(k, count)| SensorLayer {
                id: k.layer().into(),
                kind: *k,
                name: k.name().into(),
                unit: k.unit().1.into(),
                count,
                restricted: k.restricted(),
            })
            .collect(),
        camera_layers: if role >= Role::Planner && !state.cameras.is_empty() {
            vec![CameraLayer {
                id: "cameras".into(),
                name: "CCTV cameras".into(),
                count: state.cameras.len(),
                url: "/api/cameras".into(),
            }]
        } else {
            Vec::new()
        },
        scenarios: c.scenarios.clone(),
        attribution: c.attribution.clone(),
    }
}

pub async fn layers(State(state): State<AppState>, caller: Caller) -> Json<Catalog> {
    Json(catalog(&state, caller.role))
}
