//! The data server's catalog, fetched once and asynchronously (the same code on the desktop and in
//! the browser) into named layers of every kind it serves: tilesets and models (BIM tilesets) stream
//! at once; sensor layers and camera layers are layers too, drawn by the plugins that draw them;
//! scenarios go to planning and credits to the HUD.

use bevy::prelude::*;

use super::DataServer;
use super::fetch::{Answer, get};
use super::hud::Attribution;
use super::layers::{Layer, LayerViews, spawn_tileset};
use super::planning::Scenarios;
use crate::platform::Runtime;
use crate::protocol::catalog::{CameraLayer, Catalog, ModelLayer, SensorLayer, TilesetLayer};

/// Where the catalog comes from, whether its tilesets stream (not when the user named others) and
/// whether its sensor layers start shown.
#[derive(Resource, Debug, Clone)]
pub struct CatalogSource {
    pub server: DataServer,
    pub stream_tilesets: bool,
    pub sensors_shown: bool,
}

/// How the catalog's fetch stands (the HUD shows it).
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub enum CatalogStatus {
    /// No data server.
    #[default]
    None,
    Loading,
    /// Loaded, with this many layers.
    Loaded(usize),
    Failed(String),
}

/// What a layer entity stands for, as the catalog lists it.
#[derive(Component, Debug, Clone, PartialEq)]
pub enum LayerSource {
    Tileset,
    Model(ModelLayer),
    Sensors(SensorLayer),
    Cameras(CameraLayer),
}

impl LayerSource {
    /// A short description for the layer panel.
    pub fn describe(&self) -> String {
        match self {
            Self::Tileset => "tileset".into(),
            Self::Model(_) => "model".into(),
            Self::Sensors(s) => format!("{} sensors", s.count),
            Self::Cameras(c) => format!("{} cameras", c.count),
        }
    }
}

/// The fetch's answer.
#[derive(Resource, Default)]
struct Pending(Answer<Result<Catalog, String>>);

pub struct CatalogPlugin;

impl Plugin for CatalogPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<CatalogStatus>()
            .init_resource::<Pending>()
            .init_resource::<Scenarios>()
            .init_resource::<Attribution>()
            .add_systems(Startup, fetch_catalog)
            .add_systems(Update, receive_catalog);
    }
}

fn fetch_catalog(
    source: Option<Res<CatalogSource>>,
    runtime: Res<Runtime>,
    pending: Res<Pending>,
    mut status: ResMut<CatalogStatus>,
) {
    let Some(source) = source else { return };
    let url = source.server.at("/api/layers");
    *status = CatalogStatus::Loading;
    pending.0.spawn(&runtime, async move {
        let bytes = get(&url).await?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{url} is not a citytwin catalog: {e}"))
    });
}

fn receive_catalog(
    pending: Res<Pending>,
    source: Option<Res<CatalogSource>>,
    mut scenarios: ResMut<Scenarios>,
    mut attribution: ResMut<Attribution>,
    mut status: ResMut<CatalogStatus>,
    mut commands: Commands,
) {
    let Some(source) = source else { return };
    let Some(answer) = pending.0.take() else { return };
    let catalog = match answer {
        Ok(catalog) => catalog,
        Err(e) => {
            error!("catalog: {e}");
            *status = CatalogStatus::Failed(e);
            return;
        }
    };
    *status = CatalogStatus::Loaded(add_layers(&catalog, &source, &mut commands));
    scenarios.0.extend(catalog.scenarios);
    attribution.0.extend(catalog.attribution);
}

/// Spawns a layer for every entry of the catalog; returns how many.
fn add_layers(catalog: &Catalog, source: &CatalogSource, commands: &mut Commands) -> usize {
    let mut count = 0;
    if source.stream_tilesets {
        for t in catalog.tileset_layers(&source.server.url) {
            let e = spawn_tileset(commands, &t);
            commands.entity(e).insert(LayerSource::Tileset);
            count += 1;
        }
    }
    // Models stream as tilesets (BIM tilesets), with the city's.
    for m in catalog.models.iter().filter(|_| source.stream_tilesets) {
        let url = format!("{}{}", source.server.url, m.url);
        let e = spawn_tileset(commands, &TilesetLayer { id: m.id.clone(), name: m.name.clone(), url });
        commands.entity(e).insert(LayerSource::Model(m.clone()));
        count += 1;
    }
    let others = catalog
        .sensor_layers
        .iter()
        .map(|s| (&s.id, &s.name, LayerSource::Sensors(s.clone())))
        .chain(catalog.camera_layers.iter().map(|c| (&c.id, &c.name, LayerSource::Cameras(c.clone()))));
    for (id, name, kind) in others {
        let shown = source.sensors_shown || !matches!(kind, LayerSource::Sensors(_) | LayerSource::Cameras(_));
        let views = LayerViews { main: shown, second: shown };
        commands.spawn((Layer { id: id.clone(), name: name.clone() }, kind, views));
        count += 1;
    }
    count
}
