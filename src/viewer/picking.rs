//! Picking: a click casts a ray against the visible tiles' triangles (kept on the CPU), reads
//! the hit's feature ID (EXT_mesh_features or b3dm `_BATCHID`), fetches its properties
//! (EXT_structural_metadata or the batch table), and highlights the feature through its tile's
//! feature state.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::{EguiContexts, egui};
use glam::DVec3;

use super::feature_state::{FeatureRef, FeatureStyle, TileMaterial, tile_column};
use super::hud::HudSettings;
use super::origin::FloatingOrigin;
use super::origin::GeoTransform;
use super::pick_geometry::PickGeometry;
use super::tiles::{TilePart, Tilesets};
use crate::feature_state::FeatureState;
use crate::geo::ray_triangle;
use crate::theme::TileProperties;
use crate::tiles::content::TileContent;

/// A picked feature: which one, its properties as text, and where the ray hit it.
#[derive(Debug, Clone, PartialEq)]
pub struct PickedFeature {
    pub at: FeatureRef,
    pub properties: Vec<(String, String)>,
    /// The hit point and the face's unit normal, ECEF.
    pub hit_ecef: (DVec3, DVec3),
}

/// What a click picked (`None`: nothing, or the pick was dismissed). Panels react to it.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct FeaturePicked(pub Option<PickedFeature>);

/// The feature the panel shows (the last pick).
#[derive(Resource, Default)]
pub struct Picked(pub Option<PickedFeature>);

/// The nearest hit of a local-space ray on a triangle whose first vertex `shown` accepts, at a
/// point `kept` accepts (not cut away by a section): (distance, the triangle's vertices).
pub fn nearest_hit(
    g: &PickGeometry,
    o: Vec3,
    d: Vec3,
    shown: impl Fn(u32) -> bool,
    kept: impl Fn(Vec3) -> bool,
) -> Option<(f32, [u32; 3])> {
    let mut best: Option<(f32, [u32; 3])> = None;
    let v = |i: u32| g.position(i).as_dvec3();
    for [i0, i1, i2] in g.triangles().filter(|t| shown(t[0])) {
        if let Some(dist) = ray_triangle(o.as_dvec3(), d.as_dvec3(), &[v(i0), v(i1), v(i2)]).map(|t| t as f32)
            && best.is_none_or(|(b, _)| dist < b)
            && kept(o + d * dist)
        {
            best = Some((dist, [i0, i1, i2]));
        }
    }
    best
}

/// Properties of feature `id` from the tile's content, as text.
fn properties(contents: &[std::sync::Arc<TileContent>], id: u32) -> Vec<(String, String)> {
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        // Float32 properties: at most two decimals, without trailing zeros.
        serde_json::Value::Number(n) if n.is_f64() => {
            let t = format!("{:.2}", n.as_f64().unwrap_or(0.0));
            t.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
        other => other.to_string(),
    };
    TileProperties::of(contents)
        .map(|p| p.row(id as usize).iter().map(|(k, v)| (k.clone(), show(v))).collect())
        .unwrap_or_default()
}

/// Where a click in the scene happened: a left press released within 4 px (not the end of an
/// orbit drag), not on a panel. `press` keeps where the button went down.
pub fn click(
    buttons: &ButtonInput<MouseButton>,
    press: &mut Option<Vec2>,
    windows: &Query<&Window, With<PrimaryWindow>>,
    egui: &mut bevy_egui::EguiContexts,
) -> Option<Vec2> {
    let cursor = windows.single().ok()?.cursor_position()?;
    if buttons.just_pressed(MouseButton::Left) {
        *press = Some(cursor);
    }
    let clicked = buttons.just_released(MouseButton::Left) && press.is_some_and(|p| p.distance(cursor) < 4.0);
    (clicked && !egui.ctx_mut().is_ok_and(|c| c.egui_wants_pointer_input())).then_some(cursor)
}

/// A click (not the end of an orbit drag, and not on a panel) casts a ray from the view under the
/// cursor against the shown tiles' triangles (hidden features let it through) and says what it hit;
/// not while the click places a drill's source.
pub fn pick(
    (buttons, mut press): (Res<ButtonInput<MouseButton>>, Local<Option<Vec2>>),
    windows: Query<&Window, With<PrimaryWindow>>,
    cameras: Query<(&Camera, &GlobalTransform), With<Camera3d>>,
    parts: Query<(&TilePart, &GlobalTransform, &GeoTransform, &Visibility, &MeshMaterial3d<TileMaterial>)>,
    (sets, style, materials, origin): (Tilesets, Res<FeatureStyle>, Res<Assets<TileMaterial>>, Res<FloatingOrigin>),
    mut egui: bevy_egui::EguiContexts,
    (mut picks, drill): (MessageWriter<FeaturePicked>, Option<Res<super::Drill>>),
) {
    if drill.is_some_and(|d| d.placing) {
        return;
    }
    let Some(cursor) = click(&buttons, &mut press, &windows, &mut egui) else { return };
    let Some((camera, cam_t, at)) = super::views::view_under(cameras.iter(), cursor) else { return };
    let Ok(ray) = camera.viewport_to_world(cam_t, at) else { return };
    let mut best: Option<(f32, &TilePart, [u32; 3], &GlobalTransform)> = None;
    for (part, gt, geo, vis, material) in &parts {
        let Some(g) = part.pick.as_ref() else { continue };
        let Some(ids) = g.features().filter(|_| *vis == Visibility::Visible) else { continue };
        let hidden = style.hidden_in(part, geo, |p, property| tile_column(&sets, p, property));
        let shown = |v: u32| ids.get(v).is_none_or(|id| !hidden.contains(&id));
        let inv = gt.affine().inverse();
        let o = inv.transform_point3(ray.origin);
        let d = inv.transform_vector3(*ray.direction);
        let scale = d.length();
        let sections = materials.get(&material.0).map(|m| m.extension.sections).unwrap_or_default();
        let kept = |local: Vec3| sections.keep(gt.transform_point(local));
        if let Some((t, triangle)) = nearest_hit(g, o, d / scale, shown, kept) {
            let world_t = t / scale;
            if best.is_none_or(|b| world_t < b.0) {
                best = Some((world_t, part, triangle, gt));
            }
        }
    }
    let picked = best.and_then(|(world_t, part, triangle, gt)| {
        let g = part.pick.as_ref()?;
        let id = g.feature(triangle[0])?;
        let t = sets.get(part.layer)?;
        let properties = properties(&t.contents(part.key), id);
        info!("picked feature {id} of {}: {:?}", t.url, properties.iter().find(|(k, _)| k == "id" || k == "name"));
        let [a, b, c] = triangle.map(|i| gt.transform_point(g.position(i)).as_dvec3());
        let ecef_from_world = origin.world_from_ecef.inverse();
        let point = ecef_from_world.transform_point3((ray.origin + *ray.direction * world_t).as_dvec3());
        let mut normal = ecef_from_world.transform_vector3((b - a).cross(c - a)).normalize_or_zero();
        // The face as seen: its normal towards the eye.
        if normal.dot(ecef_from_world.transform_vector3(ray.direction.as_dvec3())) > 0.0 {
            normal = -normal;
        }
        Some(PickedFeature {
            at: FeatureRef { layer: part.layer, key: part.key, id },
            properties,
            hit_ecef: (point, normal),
        })
    });
    if picked.is_none() {
        info!("nothing pickable under the cursor");
    }
    picks.write(FeaturePicked(picked));
}

/// The feature panel follows the picks, and the picked feature is highlighted.
pub fn follow_picks(
    mut picks: MessageReader<FeaturePicked>,
    mut picked: ResMut<Picked>,
    mut style: ResMut<FeatureStyle>,
) {
    if let Some(FeaturePicked(last)) = picks.read().last() {
        let at = last.as_ref().map(|f| f.at);
        if style.highlighted != at {
            style.highlighted = at;
        }
        picked.0 = last.clone();
    }
}

/// The picked feature's panel: its properties, and hiding or x-raying it (until "Show all").
pub fn feature_ui(
    mut contexts: EguiContexts,
    picked: Res<Picked>,
    mut style: ResMut<FeatureStyle>,
    hud: Res<HudSettings>,
    mut picks: MessageWriter<FeaturePicked>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !hud.visible {
        return Ok(());
    }
    let Some(feature) = picked.0.as_ref() else { return Ok(()) };
    let mut open = true;
    egui::Window::new(format!("Feature {}", feature.at.id)).open(&mut open).default_pos([10.0, 320.0]).show(
        ctx,
        |ui| {
            egui::Grid::new("props").striped(true).show(ui, |ui| {
                for (k, v) in &feature.properties {
                    ui.label(k);
                    ui.label(v);
                    ui.end_row();
                }
            });
            ui.horizontal(|ui| {
                let target = Some(feature.at);
                for (label, flags) in [("Hide", FeatureState::HIDDEN), ("X-ray", FeatureState::XRAY)] {
                    if let Some(f) = target
                        && ui.button(label).clicked()
                    {
                        style.overrides.retain(|(o, _)| *o != f);
                        style.overrides.push((f, flags));
                    }
                }
                let hidden = style.overrides.len();
                if ui.add_enabled(hidden > 0, egui::Button::new(format!("Show all ({hidden})"))).clicked() {
                    style.overrides.clear();
                }
            });
        },
    );
    if !open {
        picks.write(FeaturePicked(None));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pick_message_drives_the_panel_and_the_highlight() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .add_message::<FeaturePicked>()
            .init_resource::<Picked>()
            .init_resource::<FeatureStyle>()
            .add_systems(Update, follow_picks);
        let at = FeatureRef { layer: Entity::from_raw_u32(3).unwrap(), key: Default::default(), id: 42 };
        let properties = vec![("height".into(), "12".into())];
        let feature = PickedFeature { at, properties, hit_ecef: (DVec3::X, DVec3::Y) };
        app.world_mut().write_message(FeaturePicked(Some(feature.clone())));
        app.update();
        assert_eq!(app.world().resource::<Picked>().0, Some(feature));
        assert_eq!(app.world().resource::<FeatureStyle>().highlighted, Some(at));
        // Dismissed (a click on nothing, or the panel closed): nothing shown, nothing highlighted.
        app.world_mut().write_message(FeaturePicked(None));
        app.update();
        assert_eq!(app.world().resource::<Picked>().0, None);
        assert_eq!(app.world().resource::<FeatureStyle>().highlighted, None);
    }

    #[test]
    fn rays_hit_the_nearest_triangle() {
        let positions =
            vec![[0.0, 0.0, 5.0], [1.0, 0.0, 5.0], [0.0, 1.0, 5.0], [0.0, 0.0, 2.0], [1.0, 0.0, 2.0], [0.0, 1.0, 2.0]];
        let ids = [7, 7, 7, 9, 9, 9];
        let g = PickGeometry::new(&positions, None, Some(&ids));
        let all = |_: Vec3| true;
        let (t, v) = nearest_hit(&g, Vec3::new(0.2, 0.2, 0.0), Vec3::Z, |_| true, all).unwrap();
        assert!((t - 2.0).abs() < 1e-6 && v == [3, 4, 5], "the nearer triangle (feature 9)");
        assert!(nearest_hit(&g, Vec3::new(2.0, 2.0, 0.0), Vec3::Z, |_| true, all).is_none());
        assert!(nearest_hit(&g, Vec3::new(0.2, 0.2, 6.0), Vec3::Z, |_| true, all).is_none(), "both behind");
        // A hidden feature is not hit: the ray goes on to the one behind it.
        let (t, v) = nearest_hit(&g, Vec3::new(0.2, 0.2, 0.0), Vec3::Z, |v| v < 3, all).unwrap();
        assert!((t - 5.0).abs() < 1e-6 && v[0] == 0, "feature 7 behind the hidden 9");
        // Nor is a point a section cuts away (everything below z = 3).
        let (t, _) = nearest_hit(&g, Vec3::new(0.2, 0.2, 0.0), Vec3::Z, |_| true, |p| p.z > 3.0).unwrap();
        assert!((t - 5.0).abs() < 1e-6, "the cut feature 9 lets the ray through");
        // Indexed: the third triangle (4, 5, 3 reversed) is the same plane as feature 9's.
        let indexed = PickGeometry::new(&positions, Some(&[0, 1, 2, 5, 4, 3]), Some(&ids));
        let (t, v) = nearest_hit(&indexed, Vec3::new(0.2, 0.2, 0.0), Vec3::Z, |_| true, all).unwrap();
        assert!((t - 2.0).abs() < 1e-6 && v[0] == 5, "the nearer triangle, through the indices");
    }
}
