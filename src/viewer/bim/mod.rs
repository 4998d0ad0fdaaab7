//! BimPlugin: BIM models in the city. A model layer (a BIM tileset from the catalog) gets its
//! spatial tree; while any of its tiles is on screen the city building it replaces is hidden
//! (through that building's feature state, so there is never both and never neither); the
//! component tools' state becomes each component's feature state, keyed by GlobalId, in every
//! tile that draws it; a pick on a component selects it in the tree; section planes cut the
//! model's tiles (in their material); picks measure distances and heights.

mod panel;

use std::sync::Arc;

use bevy::prelude::*;
use glam::{DMat4, DVec3};

use super::catalog::LayerSource;
use super::feature_state::{FeatureStateSystems, FeatureStyle, PropertyStyle, Sections, TileMaterial};
use super::fetch::{Answer, get};
use super::layers::{Layer, LayerViews};
use super::origin::FloatingOrigin;
use super::picking::{FeaturePicked, Picked, follow_picks};
use super::tiles::TilePart;
use super::tiles::{TileLayer, TilesSystems};
use super::{DataServer, GeoCamera};
use crate::bim::{ComponentStates, ComponentTools, MAX_SECTIONS, Measurement, SpatialTree, measure};
use crate::feature_state::FeatureState;
use crate::platform::Runtime;

/// A BIM model layer: its spatial tree (once fetched), the tools' state, and whether it shows.
#[derive(Component, Default)]
pub struct BimModel {
    pub tree: Option<Arc<SpatialTree>>,
    /// Why there is no tree, when the fetch failed.
    pub error: Option<String>,
    pub tools: ComponentTools,
    /// Some of its tiles are on screen (so the building it replaces is hidden).
    pub shown: bool,
    /// The last pick on the model: the point and the face's normal, model frame (a section can
    /// start from it).
    pub picked_face: Option<(DVec3, DVec3)>,
    fetch: Answer<Result<SpatialTree, String>>,
}

/// The property BIM tiles key their components by, and the one the city's buildings use.
pub const COMPONENT_ID: &str = "GlobalId";
pub const CITY_FEATURE_ID: &str = "id";

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct BimSystems;

pub struct BimPlugin;

impl Plugin for BimPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<BimAtStart>()
            .init_resource::<Measure>()
            .add_systems(
                Update,
                (fetch_trees, receive_trees, hand_off, select_picked, measure_picks, style_components, apply_sections)
                    .chain()
                    .in_set(BimSystems)
                    .after(TilesSystems::Build)
                    .after(follow_picks)
                    .before(FeatureStateSystems),
            )
            .add_systems(bevy_egui::EguiPrimaryContextPass, panel::bim_ui);
    }
}

/// Starts fetching the spatial tree of each new model layer that has one.
fn fetch_trees(
    mut commands: Commands,
    added: Query<(Entity, &LayerSource), Added<LayerSource>>,
    server: Option<Res<DataServer>>,
    runtime: Res<Runtime>,
) {
    for (entity, source) in &added {
        let LayerSource::Model(m) = source else { continue };
        let model = BimModel::default();
        if let (Some(tree), Some(server)) = (&m.tree_url, &server) {
            let url = server.at(tree);
            model.fetch.spawn(&runtime, async move {
                let bytes = get(&url).await?;
                SpatialTree::from_json(&bytes).map_err(|e| format!("{url}: {e}"))
            });
        }
        commands.entity(entity).insert(model);
    }
}

/// BIM tools to apply to the first model whose tree comes (`--bim`, `?bim=`).
#[derive(Resource, Debug, Clone, Default)]
pub struct BimAtStart(pub Option<String>);

/// Takes each fetched tree; the start's tools apply to the first, and its selection is flown to.
fn receive_trees(
    mut models: Query<(&Layer, &mut BimModel)>,
    mut start: ResMut<BimAtStart>,
    mut camera: ResMut<GeoCamera>,
) {
    for (layer, mut model) in &mut models {
        let Some(answer) = model.fetch.take() else { continue };
        match answer {
            Ok(tree) => {
                info!("{}: spatial tree of {} products, {} storeys", layer.name, tree.nodes.len(), tree.storeys.len());
                if let Some(spec) = start.0.take() {
                    match ComponentTools::from_spec(&spec, &tree) {
                        Ok(tools) => {
                            if let Some(id) = &tools.selected {
                                fly_to_component(&tree, id, &mut camera);
                            }
                            model.tools = tools;
                        }
                        Err(e) => error!("--bim {spec}: {e}"),
                    }
                }
                model.tree = Some(Arc::new(tree));
            }
            Err(e) => {
                warn!("{}: no spatial tree: {e}", layer.name);
                model.error = Some(e);
            }
        }
    }
}

/// Hides each replaced city building exactly while its model has tiles on screen.
fn hand_off(
    mut models: Query<(&LayerSource, &TileLayer, &LayerViews, &mut BimModel)>,
    layers: Query<(Entity, &Layer), With<TileLayer>>,
    mut style: ResMut<FeatureStyle>,
) {
    let mut replaced: Vec<PropertyStyle> = Vec::new();
    for (source, tiles, views, mut model) in &mut models {
        let shown = views.any() && !tiles.shown.is_empty();
        if model.shown != shown {
            model.shown = shown;
        }
        let LayerSource::Model(m) = source else { continue };
        let Some(r) = m.replaces.as_ref().filter(|_| shown) else { continue };
        let Some((city, _)) = layers.iter().find(|(_, l)| l.id == r.tileset) else { continue };
        let states = ComponentStates::one(&r.feature, FeatureState::hidden());
        replaced.push(PropertyStyle { layer: city, property: CITY_FEATURE_ID.into(), states: Arc::new(states) });
    }
    let kept: Vec<PropertyStyle> =
        style.by_property.iter().filter(|s| s.property != CITY_FEATURE_ID).cloned().collect();
    let was: Vec<(Entity, Vec<String>)> =
        by_layer_ids(style.by_property.iter().filter(|s| s.property == CITY_FEATURE_ID));
    if was != by_layer_ids(replaced.iter()) {
        style.by_property = kept.into_iter().chain(replaced).collect();
    }
}

/// The (layer, ids) a set of property styles names, to see whether it changed.
fn by_layer_ids<'a>(styles: impl Iterator<Item = &'a PropertyStyle>) -> Vec<(Entity, Vec<String>)> {
    styles
        .map(|s| {
            let mut ids: Vec<String> = s.states.changed().map(|(id, _)| id.to_owned()).collect();
            ids.sort_unstable();
            (s.layer, ids)
        })
        .collect()
}

/// A pick on a model's component selects it (the tree shows it, the tools highlight it all
/// through its levels of detail); the generic feature panel and highlight give way to the BIM
/// panel's. Runs after the picking's own follower.
fn select_picked(
    mut picks: MessageReader<FeaturePicked>,
    mut models: Query<&mut BimModel>,
    mut picked: ResMut<Picked>,
    mut style: ResMut<FeatureStyle>,
) {
    let Some(FeaturePicked(Some(pick))) = picks.read().last().cloned() else { return };
    let Ok(mut model) = models.get_mut(pick.at.layer) else { return };
    let id = pick.properties.iter().find(|(k, _)| k == COMPONENT_ID).map(|(_, v)| v.clone());
    model.tools.selected = id;
    if let Some(placement) = model.tree.as_ref().and_then(|t| t.placement) {
        let model_from_ecef = placement.ecef_from_model().inverse();
        let (point, normal) = pick.hit_ecef;
        model.picked_face =
            Some((model_from_ecef.transform_point3(point), model_from_ecef.transform_vector3(normal).normalize()));
    }
    picked.0 = None;
    style.highlighted = None;
}

/// Each model's tools become its components' states whenever they change.
fn style_components(models: Query<(Entity, Ref<BimModel>)>, mut style: ResMut<FeatureStyle>) {
    let changed = models.iter().any(|(_, m)| m.is_changed());
    let gone = style.by_property.iter().any(|s| s.property == COMPONENT_ID && !models.contains(s.layer));
    if !changed && !gone {
        return;
    }
    let mut by_property: Vec<PropertyStyle> =
        style.by_property.iter().filter(|s| s.property != COMPONENT_ID).cloned().collect();
    for (layer, model) in &models {
        let Some(tree) = &model.tree else { continue };
        let (states, _) = model.tools.states(tree);
        by_property.push(PropertyStyle { layer, property: COMPONENT_ID.into(), states: Arc::new(states) });
    }
    style.by_property = by_property;
}

/// Measuring: while on, each pick (on any layer) is a point; the last two are measured.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct Measure {
    pub on: bool,
    /// ECEF, the newest last (two at most).
    pub points: Vec<DVec3>,
}

impl Measure {
    pub fn result(&self) -> Option<Measurement> {
        match self.points[..] {
            [a, b] => Some(measure(a, b)),
            _ => None,
        }
    }
}

fn measure_picks(mut picks: MessageReader<FeaturePicked>, mut m: ResMut<Measure>) {
    let Some(FeaturePicked(Some(pick))) = picks.read().last().cloned() else { return };
    if !m.on {
        return;
    }
    if m.points.len() == 2 {
        m.points.clear();
    }
    m.points.push(pick.hit_ecef.0);
}

/// Each model's section planes, in render space, on the materials of its parts: when the planes
/// change, the floating origin moves or new parts come.
fn apply_sections(
    models: Query<Ref<BimModel>>,
    origin: Res<FloatingOrigin>,
    parts: Query<(&TilePart, &MeshMaterial3d<TileMaterial>)>,
    added: Query<(), Added<TilePart>>,
    mut materials: ResMut<Assets<TileMaterial>>,
) {
    if !origin.is_changed() && added.is_empty() && !models.iter().any(|m| m.is_changed()) {
        return;
    }
    for (part, material) in &parts {
        let Ok(model) = models.get(part.layer) else { continue };
        let placement = model.tree.as_ref().and_then(|t| t.placement);
        let world_from_model = placement.map(|p| origin.world_from_ecef * p.ecef_from_model());
        let sections = world_from_model.map(|m| sections_in(&model.tools, &m)).unwrap_or_default();
        if materials.get(&material.0).is_some_and(|m| m.extension.sections != sections)
            && let Some(mut m) = materials.get_mut(&material.0)
        {
            m.extension.sections = sections;
        }
    }
}

/// The tools' section planes in the render world.
fn sections_in(tools: &ComponentTools, world_from_model: &DMat4) -> Sections {
    let mut s = Sections::default();
    for (slot, plane) in s.planes.iter_mut().zip(tools.sections.iter().take(MAX_SECTIONS)) {
        *slot = plane.in_frame(world_from_model).as_vec4();
        s.count += 1;
    }
    s
}

/// Flies the view to a product of `tree`: looking at its bounds from the south, from above.
pub fn fly_to_component(tree: &SpatialTree, global_id: &str, camera: &mut GeoCamera) -> bool {
    let (Some(node), Some(placement)) = (tree.position(global_id), tree.placement) else { return false };
    let Some((lo, hi)) = tree.subtree_bounds(node) else { return false };
    let centre = placement.ecef_of(0.5 * (lo + hi));
    let radius_m = (0.5 * (hi - lo).length()).max(2.0);
    let Some(to) = GeoCamera::looking_at(centre, radius_m).bookmark() else { return false };
    camera.fly_to(&to, 1.5);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::catalog::{FeatureRef as CatalogFeature, ModelLayer};
    use crate::tiles::TileKey;
    use crate::viewer::feature_state::{FeatureTable, style_tables};
    use crate::viewer::origin::GeoTransform;
    use crate::viewer::tiles::TilePart;

    fn model_layer() -> LayerSource {
        LayerSource::Model(ModelLayer {
            id: "duplex".into(),
            name: "Duplex".into(),
            url: "/models/duplex/tileset.json".into(),
            lon_deg: 114.0,
            lat_deg: 22.5,
            height_m: 0.0,
            heading_deg: 0.0,
            replaces: Some(CatalogFeature { tileset: "city".into(), feature: "procedural/7".into() }),
            tree_url: None,
        })
    }

    /// Whether the city part's feature 1 (`procedural/7`; feature 0 is another building) is hidden
    /// under the app's style.
    fn city_building_hidden(app: &App, city: Entity) -> bool {
        let part = TilePart { layer: city, key: TileKey::default(), pick: None };
        let table = FeatureTable { image: Handle::default(), features: 2 };
        let ids = |_: &TilePart, property: &str| {
            assert_eq!(property, CITY_FEATURE_ID);
            Arc::new(vec!["procedural/3".into(), "procedural/7".into()])
        };
        let style = app.world().resource::<FeatureStyle>();
        let tables = style_tables(style, [(&part, &GeoTransform(Default::default()), &table)], ids);
        let t = &tables[&table.image.id()];
        assert_eq!(t.get(0), FeatureState::default(), "the other building stays");
        t.get(1) == FeatureState::hidden()
    }

    #[test]
    fn the_replaced_building_is_hidden_exactly_while_the_model_is_shown() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins).init_resource::<FeatureStyle>().add_systems(Update, hand_off);
        let city_layer = Layer { id: "city".into(), name: "City".into() };
        let city = app.world_mut().spawn((city_layer, TileLayer::new("http://h/tiles/city/tileset.json"))).id();
        let model = app
            .world_mut()
            .spawn((
                Layer { id: "duplex".into(), name: "Duplex".into() },
                model_layer(),
                TileLayer::new("http://h/models/duplex/tileset.json"),
                BimModel::default(),
            ))
            .id();
        let shown = |app: &mut App, tiles: bool, views: LayerViews| {
            let mut layer = app.world_mut().get_mut::<TileLayer>(model).unwrap();
            layer.shown.clear();
            if tiles {
                layer.shown.insert(TileKey::default());
            }
            app.world_mut().entity_mut(model).insert(views);
            app.update();
            let hidden = city_building_hidden(app, city);
            assert_eq!(app.world().get::<BimModel>(model).unwrap().shown, hidden);
            hidden
        };
        let both = LayerViews::default();
        assert!(!shown(&mut app, false, both), "nothing of the model loaded yet: the city's building stands");
        assert!(shown(&mut app, true, both), "the model on screen: its building gives way");
        let off = LayerViews { main: false, second: false };
        assert!(!shown(&mut app, true, off), "the model's layer hidden: the building is back");
        assert!(shown(&mut app, true, both));
        assert!(!shown(&mut app, false, both), "the model unloaded: the building is back");
        // The model's layer removed altogether.
        shown(&mut app, true, both);
        app.world_mut().despawn(model);
        app.update();
        assert!(!city_building_hidden(&app, city));
    }
}
