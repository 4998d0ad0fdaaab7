//! Picking: a click casts a ray against the visible tiles' triangles (kept on the CPU), reads
//! the hit's feature ID (EXT_mesh_features or b3dm `_BATCHID`), fetches its properties
//! (EXT_structural_metadata or the batch table), and highlights the feature.

use bevy::asset::RenderAssetUsages;
use bevy::mesh::PrimitiveTopology;
use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use super::origin::GeoTransform;
use super::tiles::{PickGeometry, TilePart, Tilesets};
use crate::geo::ray_triangle;
use crate::tiles::content::TileContent;
use crate::tiles::content::features::GltfView;

/// A picked feature and its properties.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub id: u32,
    pub properties: Vec<(String, String)>,
}

#[derive(Resource, Default)]
pub struct Picked {
    pub feature: Option<Feature>,
    highlight: Option<Entity>,
    press: Option<Vec2>,
    /// Set by the HUD when the panel is closed.
    pub clear: bool,
}

/// The nearest hit of a local-space ray: (distance, triangle's first vertex).
pub fn nearest_hit(g: &PickGeometry, o: Vec3, d: Vec3) -> Option<(f32, u32)> {
    let mut best: Option<(f32, u32)> = None;
    let v = |i: u32| Vec3::from(g.positions[i as usize]).as_dvec3();
    for [i0, i1, i2] in g.triangles() {
        if let Some(dist) = ray_triangle(o.as_dvec3(), d.as_dvec3(), &[v(i0), v(i1), v(i2)]).map(|t| t as f32)
            && best.is_none_or(|(b, _)| dist < b)
        {
            best = Some((dist, i0));
        }
    }
    best
}

/// Properties of feature `id` from the tile's content.
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
    for c in contents {
        if let TileContent::Model(m) = c.as_ref() {
            if let Some(bt) = &m.batch_table {
                return bt.feature(id as usize).iter().map(|(k, v)| (k.clone(), show(v))).collect();
            }
            if !m.is_json
                && let Ok(view) = GltfView::parse(&m.gltf)
                && let Ok((tables, _)) = view.property_tables()
                && let Some(t) = tables.first()
            {
                return t.row(id as usize).into_iter().map(|(k, v)| (k.to_owned(), show(v))).collect();
            }
        }
    }
    Vec::new()
}

#[allow(clippy::too_many_arguments)]
pub fn pick(
    buttons: Res<ButtonInput<MouseButton>>,
    windows: Query<&Window, With<PrimaryWindow>>,
    cameras: Query<(&Camera, &GlobalTransform), With<Camera3d>>,
    parts: Query<(&TilePart, &GlobalTransform, &GeoTransform, &Visibility)>,
    sets: Res<Tilesets>,
    mut picked: ResMut<Picked>,
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut egui: bevy_egui::EguiContexts,
) {
    if picked.clear {
        picked.clear = false;
        picked.feature = None;
        if let Some(e) = picked.highlight.take() {
            commands.entity(e).despawn();
        }
    }
    let Ok(window) = windows.single() else { return };
    let Some(cursor) = window.cursor_position() else { return };
    if buttons.just_pressed(MouseButton::Left) {
        picked.press = Some(cursor);
    }
    // A click, not the end of an orbit drag, and not on the HUD.
    let clicked = buttons.just_released(MouseButton::Left) && picked.press.is_some_and(|p| p.distance(cursor) < 4.0);
    if !clicked || egui.ctx_mut().is_ok_and(|c| c.egui_wants_pointer_input()) {
        return;
    }
    let Some((camera, cam_t, at)) = super::views::view_under(cameras.iter(), cursor) else { return };
    let Ok(ray) = camera.viewport_to_world(cam_t, at) else { return };
    let mut best: Option<(f32, &TilePart, &GeoTransform, u32)> = None;
    for (part, gt, geo, vis) in &parts {
        let Some(g) = part.pick.as_ref() else { continue };
        if *vis != Visibility::Visible || g.feature_ids.is_none() {
            continue;
        }
        let inv = gt.affine().inverse();
        let o = inv.transform_point3(ray.origin);
        let d = inv.transform_vector3(*ray.direction);
        let scale = d.length();
        if let Some((t, v)) = nearest_hit(g, o, d / scale) {
            let world_t = t / scale;
            if best.is_none_or(|b| world_t < b.0) {
                best = Some((world_t, part, geo, v));
            }
        }
    }
    if let Some(e) = picked.highlight.take() {
        commands.entity(e).despawn();
    }
    let Some((_, part, geo, vertex)) = best else {
        info!("nothing pickable under the cursor");
        picked.feature = None;
        return;
    };
    let g = part.pick.as_ref().expect("checked");
    let ids = g.feature_ids.as_ref().expect("checked");
    let id = ids[vertex as usize];
    let t = &sets.0[part.tileset];
    let contents: Vec<_> = t.tileset.contents(part.key).cloned().collect();
    let feature = Feature { id, properties: properties(&contents, id) };
    info!("picked feature {id} of {}: {:?}", t.url, feature.properties.iter().find(|(k, _)| k == "id" || k == "name"));
    picked.feature = Some(feature);
    // Highlight: the feature's triangles again, in an unlit colour drawn over the original.
    let mesh = highlight_mesh(g, id);
    let material = StandardMaterial {
        base_color: Color::srgba(1.0, 0.8, 0.1, 0.85),
        unlit: true,
        depth_bias: 50.0,
        alpha_mode: AlphaMode::Blend,
        ..default()
    };
    let e = commands
        .spawn((Mesh3d(meshes.add(mesh)), MeshMaterial3d(materials.add(material)), *geo, Transform::default()))
        .id();
    picked.highlight = Some(e);
}

/// The triangles of feature `id`, un-indexed, with flat normals.
pub fn highlight_mesh(g: &PickGeometry, id: u32) -> Mesh {
    let ids = g.feature_ids.as_deref().unwrap_or(&[]);
    let positions: Vec<[f32; 3]> = g
        .triangles()
        .filter(|t| ids.get(t[0] as usize) == Some(&id))
        .flatten()
        .map(|i| g.positions[i as usize])
        .collect();
    let mut mesh = Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD);
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, positions);
    mesh.compute_flat_normals();
    mesh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rays_hit_the_nearest_triangle() {
        let g = PickGeometry {
            positions: vec![
                [0.0, 0.0, 5.0],
                [1.0, 0.0, 5.0],
                [0.0, 1.0, 5.0],
                [0.0, 0.0, 2.0],
                [1.0, 0.0, 2.0],
                [0.0, 1.0, 2.0],
            ],
            indices: None,
            feature_ids: Some(vec![7, 7, 7, 9, 9, 9]),
        };
        let (t, v) = nearest_hit(&g, Vec3::new(0.2, 0.2, 0.0), Vec3::Z).unwrap();
        assert!((t - 2.0).abs() < 1e-6 && v == 3, "the nearer triangle (feature 9)");
        assert!(nearest_hit(&g, Vec3::new(2.0, 2.0, 0.0), Vec3::Z).is_none());
        assert!(nearest_hit(&g, Vec3::new(0.2, 0.2, 6.0), Vec3::Z).is_none(), "both behind");
        // The highlight of an indexed part holds just the picked feature's triangles.
        let indexed = PickGeometry { indices: Some(vec![0, 1, 2, 3, 4, 5, 3, 5, 4]), ..g };
        let m = highlight_mesh(&indexed, 9);
        assert_eq!(m.count_vertices(), 6, "two triangles of feature 9");
        assert!(m.attribute(Mesh::ATTRIBUTE_NORMAL).is_some());
        assert_eq!(highlight_mesh(&indexed, 4).count_vertices(), 0);
    }
}
