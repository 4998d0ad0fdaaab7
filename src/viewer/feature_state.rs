//! FeatureStatePlugin: per-feature state on the GPU. Every tile part is drawn with a
//! [`TileMaterial`] (the standard material plus its tile's state table, `shaders/tile.wgsl`); the
//! feature ID travels in the mesh's second UV channel. [`FeatureStyle`] says which features are
//! hidden (those standing on a cleared planning site), coloured (by a theme) and highlighted (the
//! picked one), and styles features by a property's value (a BIM model's components by GlobalId,
//! the city building a model replaces by its id); each tile's table follows it, so restyling
//! thousands of features rebuilds no mesh.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::pbr::{ExtendedMaterial, MaterialExtension};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, Extent3d, ShaderType, TextureDimension, TextureFormat};
use bevy::shader::ShaderRef;
use glam::DVec3;
use serde_json::Value;

use super::origin::GeoTransform;
use super::tiles::{TilePart, TilesSystems, Tilesets};
use crate::bim::{ComponentStates, MAX_SECTIONS};
use crate::feature_state::{FeatureState, StateTable, feature_bounds};
use crate::scenario::Site;
use crate::theme::{Theme, TileProperties};
use crate::tiles::TileKey;

/// The material of every tile part.
pub type TileMaterial = ExtendedMaterial<StandardMaterial, FeatureStateExt>;

/// The standard material's extension: the tile's feature state table, and the section planes
/// that cut its layer.
#[derive(Asset, AsBindGroup, Reflect, Debug, Clone, Default)]
pub struct FeatureStateExt {
    #[texture(100)]
    pub table: Handle<Image>,
    #[uniform(101)]
    pub sections: Sections,
}

/// Section planes in render space, `(n, w)`: what has `n·p + w > 0` is cut away.
#[derive(ShaderType, Reflect, Debug, Clone, Copy, Default, PartialEq)]
pub struct Sections {
    pub planes: [Vec4; MAX_SECTIONS],
    pub count: u32,
}

impl Sections {
    /// Whether a render-space point is kept (as the shader decides).
    pub fn keep(&self, p: Vec3) -> bool {
        self.planes.iter().take(self.count as usize).all(|n| n.truncate().dot(p) + n.w <= 0.0)
    }
}

const FEATURE_STATE_SHADER: Handle<Shader> = uuid_handle!("5a0d6a51-2f2c-4b9e-9a51-3c1f0e6f7a01");
const TILE_SHADER: Handle<Shader> = uuid_handle!("5a0d6a51-2f2c-4b9e-9a51-3c1f0e6f7a02");
const TILE_PREPASS_SHADER: Handle<Shader> = uuid_handle!("5a0d6a51-2f2c-4b9e-9a51-3c1f0e6f7a03");

impl MaterialExtension for FeatureStateExt {
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(TILE_SHADER)
    }

    fn prepass_fragment_shader() -> ShaderRef {
        ShaderRef::Handle(TILE_PREPASS_SHADER)
    }
}

/// A tile part's state table (shared by the tile's parts) and how many feature IDs it covers.
#[derive(Component, Debug, Clone)]
pub struct FeatureTable {
    pub image: Handle<Image>,
    pub features: u32,
}

/// One feature of one tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureRef {
    /// The tileset layer.
    pub layer: Entity,
    pub key: TileKey,
    pub id: u32,
}

/// What the features of the city look like.
#[derive(Resource, Debug, Clone, Default)]
pub struct FeatureStyle {
    /// Buildings standing on these sites are hidden (a planning site makes way for its variants).
    pub cleared_sites: Vec<Site>,
    pub theme: Option<Theme>,
    pub highlighted: Option<FeatureRef>,
    /// Features the user hid or x-rayed (from the feature panel), with those flags.
    pub overrides: Vec<(FeatureRef, u8)>,
    /// Features styled by the value of one of their properties, layer by layer.
    pub by_property: Vec<PropertyStyle>,
    /// The city's buildings in a drill's hazard, coloured by how severe it is where they stand.
    pub hazard: Option<PropertyStyle>,
}

/// The features of one layer styled by a property's value: a BIM model's components by
/// `GlobalId`, or the city building a model replaces by its `id`.
#[derive(Debug, Clone)]
pub struct PropertyStyle {
    pub layer: Entity,
    pub property: String,
    pub states: Arc<ComponentStates>,
}

impl PartialEq for PropertyStyle {
    fn eq(&self, other: &Self) -> bool {
        self.layer == other.layer && self.property == other.property && Arc::ptr_eq(&self.states, &other.states)
    }
}

impl FeatureStyle {
    /// The flags set on features of `part`'s tile one by one: the user's overrides and the highlight.
    fn flags_in<'a>(&'a self, part: &'a TilePart) -> impl Iterator<Item = (u32, u8)> + 'a {
        let of_part = |f: &FeatureRef| f.layer == part.layer && f.key == part.key;
        let highlighted = self.highlighted.filter(of_part).map(|f| (f.id, FeatureState::HIGHLIGHTED));
        self.overrides.iter().filter(move |(f, _)| of_part(f)).map(|(f, flags)| (f.id, *flags)).chain(highlighted)
    }

    /// Each feature of `part` that a property style changes, with its state there; `column` gives
    /// a tile's values of a property by feature ID.
    fn property_states<'a>(
        &'a self,
        part: &'a TilePart,
        column: &'a impl Fn(&TilePart, &str) -> Column,
    ) -> impl Iterator<Item = (u32, FeatureState)> + 'a {
        self.by_property.iter().chain(&self.hazard).filter(move |s| s.layer == part.layer).flat_map(move |s| {
            let values = column(part, &s.property);
            let states: Vec<(u32, FeatureState)> = values
                .iter()
                .enumerate()
                .filter_map(|(id, v)| Some((id as u32, s.states.get(v.as_str()?))))
                .filter(|(_, state)| *state != FeatureState::default())
                .collect();
            states
        })
    }

    /// The features of `part` that are hidden: by the user, by a property style, or standing on a
    /// cleared site. (Picking passes through them, as the eye does.)
    pub fn hidden_in(
        &self,
        part: &TilePart,
        geo: &GeoTransform,
        column: impl Fn(&TilePart, &str) -> Column,
    ) -> BTreeSet<u32> {
        let flagged = self.flags_in(part).chain(self.property_states(part, &column).map(|(id, s)| (id, s.flags)));
        let mut hidden: BTreeSet<u32> =
            flagged.filter(|(_, flags)| flags & FeatureState::HIDDEN != 0).map(|(id, _)| id).collect();
        for site in &self.cleared_sites {
            let bounds = site_bounds(site, part, geo);
            hidden.extend(bounds.into_iter().filter(|(_, b)| site.holds(*b)).map(|(id, _)| id));
        }
        hidden
    }
}

/// Each feature's bounds in `site`'s frame, over the vertices of `part` (none without geometry).
fn site_bounds(site: &Site, part: &TilePart, geo: &GeoTransform) -> BTreeMap<u32, (DVec3, DVec3)> {
    let Some((pick, ids)) = part.pick.as_ref().and_then(|p| Some((p, p.features()?))) else {
        return BTreeMap::new();
    };
    let site_from_part = site.frame.enu_from_ecef * geo.0;
    feature_bounds(pick.positions(), ids.per_vertex(), |p| site_from_part.transform_point3(p))
}

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeatureStateSystems;

pub struct FeatureStatePlugin;

impl Plugin for FeatureStatePlugin {
    fn build(&self, app: &mut App) {
        if let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>() {
            for (handle, source, path) in [
                (FEATURE_STATE_SHADER, include_str!("../../shaders/feature_state.wgsl"), "shaders/feature_state.wgsl"),
                (TILE_SHADER, include_str!("../../shaders/tile.wgsl"), "shaders/tile.wgsl"),
                (TILE_PREPASS_SHADER, include_str!("../../shaders/tile_prepass.wgsl"), "shaders/tile_prepass.wgsl"),
            ] {
                let _ = shaders.insert(&handle, Shader::from_wgsl(source, path));
            }
        }
        app.add_plugins(MaterialPlugin::<TileMaterial>::default())
            .init_resource::<FeatureStyle>()
            .add_systems(Update, apply_feature_style.in_set(FeatureStateSystems).after(TilesSystems::Build));
    }
}

/// A new state table for a tile whose feature IDs run below `features`, all in the default state
/// (`None` for a tile with more features than a table holds).
pub fn new_table(features: u32, images: &mut Assets<Image>) -> Option<FeatureTable> {
    let table = StateTable::new(features)?;
    Some(FeatureTable { image: images.add(table_image(&table)), features })
}

fn table_image(table: &StateTable) -> Image {
    let (width, height) = table.size();
    Image::new(
        Extent3d { width, height, depth_or_array_layers: 1 },
        TextureDimension::D2,
        table.bytes().to_vec(),
        TextureFormat::Rgba8UnormSrgb,
        // Rewritten whole on every change: no copy stays in the main world.
        RenderAssetUsages::RENDER_WORLD,
    )
}

/// Every feature's state under `style`, for the tables of the parts given (a tile's parts share
/// one table): the parts' geometry tells which features stand on a cleared site, `column` a tile's
/// values of the theme's property by feature ID.
pub fn style_tables<'a>(
    style: &FeatureStyle,
    parts: impl IntoIterator<Item = (&'a TilePart, &'a GeoTransform, &'a FeatureTable)>,
    column: impl Fn(&TilePart, &str) -> Column,
) -> HashMap<AssetId<Image>, StateTable> {
    // Per table: each cleared site's view of each feature's bounds, over all the tile's parts.
    type Bounds = BTreeMap<u32, (DVec3, DVec3)>;
    let mut gathered: HashMap<AssetId<Image>, Option<(StateTable, Vec<Bounds>)>> = HashMap::new();
    for (part, geo, table) in parts {
        let Some((_, per_site)) = gathered
            .entry(table.image.id())
            .or_insert_with(|| {
                let mut t = StateTable::new(table.features)?;
                if let Some(theme) = &style.theme {
                    for (id, v) in column(part, theme.property()).iter().enumerate().filter(|(_, v)| !v.is_null()) {
                        t.set(id as u32, FeatureState::coloured(theme.colour(v)));
                    }
                }
                for (id, state) in style.property_states(part, &column) {
                    t.set(id, t.get(id).merged(state));
                }
                for (id, flags) in style.flags_in(part) {
                    t.set(id, t.get(id).with(flags));
                }
                Some((t, vec![Bounds::new(); style.cleared_sites.len()]))
            })
            .as_mut()
        else {
            continue;
        };
        for (site, all) in style.cleared_sites.iter().zip(per_site.iter_mut()) {
            for (id, (lo, hi)) in site_bounds(site, part, geo) {
                all.entry(id).and_modify(|(a, b)| (*a, *b) = (a.min(lo), b.max(hi))).or_insert((lo, hi));
            }
        }
    }
    gathered
        .into_iter()
        .filter_map(|(image, gathered)| {
            let (mut table, per_site) = gathered?;
            for (site, bounds) in style.cleared_sites.iter().zip(&per_site) {
                for (id, b) in bounds {
                    if site.holds(*b) {
                        table.set(*id, table.get(*id).with(FeatureState::HIDDEN));
                    }
                }
            }
            Some((image, table))
        })
        .collect()
}

/// Rewrites the tables of new tiles, and of every tile when the style changed.
fn apply_feature_style(
    style: Res<FeatureStyle>,
    sets: Tilesets,
    added: Query<&FeatureTable, Added<FeatureTable>>,
    parts: Query<(&TilePart, &GeoTransform, &FeatureTable)>,
    mut images: ResMut<Assets<Image>>,
    mut cache: Local<ColumnCache>,
) {
    let all = style.is_changed();
    if !all && added.is_empty() {
        return;
    }
    cache.keep_only(&parts.iter().map(|(p, _, _)| (p.layer, p.key)).collect());
    let fresh: Vec<AssetId<Image>> = added.iter().map(|t| t.image.id()).collect();
    let cache = std::cell::RefCell::new(&mut *cache);
    let restyled = style_tables(
        &style,
        parts.iter().filter(|(_, _, t)| all || fresh.contains(&t.image.id())),
        |part, property| cache.borrow_mut().get(&sets, part, property),
    );
    for (id, table) in restyled {
        if let Some(mut image) = images.get_mut(id) {
            image.data = Some(table.bytes().to_vec());
        }
    }
}

/// A tile's values of one property, by feature ID (shared: a tile's columns are decoded once).
pub type Column = Arc<Vec<Value>>;

/// A tile's values of `property`, by feature ID.
pub fn tile_column(sets: &Tilesets, part: &TilePart, property: &str) -> Column {
    let Some(t) = sets.get(part.layer) else { return Column::default() };
    Arc::new(TileProperties::column_of(&t.contents(part.key), property))
}

/// The columns restyling has decoded, by tile and property, kept while the tile is drawn: a
/// tile's content never changes, so a recolour costs lookups, not decoding.
#[derive(Default)]
pub struct ColumnCache(HashMap<(Entity, TileKey, String), Column>);

impl ColumnCache {
    /// The column, decoded the first time.
    pub fn get(&mut self, sets: &Tilesets, part: &TilePart, property: &str) -> Column {
        let key = (part.layer, part.key, property.to_owned());
        self.0.entry(key).or_insert_with(|| tile_column(sets, part, property)).clone()
    }

    /// Forgets the tiles no longer drawn.
    pub fn keep_only(&mut self, drawn: &BTreeSet<(Entity, TileKey)>) {
        self.0.retain(|(layer, key, _), _| drawn.contains(&(*layer, *key)));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::geo::{Cartographic, LocalFrame};
    use crate::viewer::pick_geometry::PickGeometry;
    use crate::viewer::tiles::TilesSettings;

    /// Two 10 m boxes as two features (7 and 9) of one part, 40 m apart east-west, in an ENU
    /// frame; each is two triangles of its footprint (enough for bounds).
    fn part_with_two_buildings(layer: Entity) -> (TilePart, GeoTransform, FeatureTable) {
        let square = |x: f32| [[x, 0.0, 0.0], [x + 10.0, 0.0, 0.0], [x + 10.0, 10.0, 20.0], [x, 10.0, 20.0]];
        let positions: Vec<[f32; 3]> = square(0.0).into_iter().chain(square(40.0)).collect();
        let pick =
            PickGeometry::new(&positions, Some(&[0, 1, 2, 0, 2, 3, 4, 5, 6, 4, 6, 7]), Some(&[7, 7, 7, 7, 9, 9, 9, 9]));
        let frame = LocalFrame::new(Cartographic::from_degrees(114.0, 22.5, 0.0));
        let part = TilePart { layer, key: TileKey::default(), pick: Some(Arc::new(pick)) };
        let table = FeatureTable { image: Handle::default(), features: 10 };
        (part, GeoTransform(frame.ecef_from_enu), table)
    }

    #[test]
    fn buildings_on_a_cleared_site_are_hidden_and_the_picked_one_highlighted() {
        let layer = Entity::from_raw_u32(1).unwrap();
        let (part, geo, table) = part_with_two_buildings(layer);
        // A site 30 m square around the first building (its frame is the building frame's own).
        let c = |x: f64, y: f64| {
            let p = LocalFrame::new(Cartographic::from_degrees(114.0, 22.5, 0.0)).to_geodetic(x, y);
            [p.lon_rad.to_degrees(), p.lat_rad.to_degrees()]
        };
        let site = Site::new(&[c(-10.0, -10.0), c(20.0, -10.0), c(20.0, 20.0), c(-10.0, 20.0)]).unwrap();
        let style = FeatureStyle {
            cleared_sites: vec![site],
            highlighted: Some(FeatureRef { layer, key: TileKey::default(), id: 9 }),
            ..default()
        };
        let no_column = |_: &TilePart, _: &str| Column::default();
        let tables = style_tables(&style, [(&part, &geo, &table)], no_column);
        let t = &tables[&table.image.id()];
        assert_eq!(t.get(7), FeatureState::hidden(), "on the site");
        assert_eq!(t.get(9).flags, FeatureState::HIGHLIGHTED, "off the site, picked");
        assert_eq!(t.get(8), FeatureState::default());
        assert_eq!(style.hidden_in(&part, &geo, no_column), BTreeSet::from([7]), "picking agrees");

        // The user x-rays feature 9 as well.
        let xray = FeatureRef { layer, key: TileKey::default(), id: 9 };
        let style = FeatureStyle { overrides: vec![(xray, FeatureState::XRAY)], ..style };
        let tables = style_tables(&style, [(&part, &geo, &table)], no_column);
        assert_eq!(tables[&table.image.id()].get(9).flags, FeatureState::HIGHLIGHTED | FeatureState::XRAY);
        // Another tile's override is not this tile's.
        let elsewhere = FeatureRef { layer: Entity::from_raw_u32(2).unwrap(), ..xray };
        let style = FeatureStyle { overrides: vec![(elsewhere, FeatureState::HIDDEN)], ..default() };
        assert_eq!(style_tables(&style, [(&part, &geo, &table)], no_column)[&table.image.id()].get(9).flags, 0);

        // No site, nothing picked: every feature in its own look.
        let tables = style_tables(&FeatureStyle::default(), [(&part, &geo, &table)], no_column);
        assert!(tables[&table.image.id()].bytes().iter().all(|b| *b == 0));
    }

    #[test]
    fn a_theme_colours_each_feature_by_its_value() {
        let (part, geo, table) = part_with_two_buildings(Entity::from_raw_u32(1).unwrap());
        let theme = Theme::Ramp { property: "height".into(), min: 10.0, max: 30.0 };
        let style = FeatureStyle { theme: Some(theme.clone()), ..default() };
        let heights = |_: &TilePart, p: &str| {
            assert_eq!(p, "height");
            let mut col = vec![Value::Null; 10];
            (col[7], col[9]) = (serde_json::json!(10.0), serde_json::json!(30.0));
            Arc::new(col)
        };
        let tables = style_tables(&style, [(&part, &geo, &table)], heights);
        let t = &tables[&table.image.id()];
        assert_eq!(t.get(7), FeatureState::coloured(theme.colour(&serde_json::json!(10.0))));
        assert_eq!(t.get(9), FeatureState::coloured(theme.colour(&serde_json::json!(30.0))));
        assert_ne!(t.get(7).rgb, t.get(9).rgb);
        assert_eq!(t.get(8), FeatureState::default(), "no value: its own colour");
    }

    #[test]
    fn a_style_change_rewrites_the_tables_on_the_gpu_side() {
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, AssetPlugin::default())).init_asset::<Image>();
        app.init_resource::<FeatureStyle>().init_resource::<TilesSettings>().add_systems(Update, apply_feature_style);
        let layer = app.world_mut().spawn_empty().id();
        let (part, geo, _) = part_with_two_buildings(layer);
        let table = new_table(10, &mut app.world_mut().resource_mut::<Assets<Image>>()).unwrap();
        let image = table.image.clone();
        app.world_mut().spawn((part, geo, table));
        app.update();
        let flags = |app: &App| {
            let img = app.world().resource::<Assets<Image>>().get(&image).unwrap();
            img.data.as_ref().map(|d| (d[7 * 4 + 3], d[9 * 4 + 3]))
        };
        assert_eq!(flags(&app), Some((0, 0)));
        app.world_mut().resource_mut::<FeatureStyle>().highlighted =
            Some(FeatureRef { layer, key: TileKey::default(), id: 7 });
        app.update();
        assert_eq!(flags(&app), Some((FeatureState::HIGHLIGHTED, 0)));
    }
}
