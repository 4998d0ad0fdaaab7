//! The CCTV layer's drawing: the cameras around the view as symbols (the markers' instanced
//! draw, `Symbol::Camera`) at their eyes, or as clusters sized by count when the view is too wide
//! to list them, and the listed cameras' view frusta in lines (one mesh for all). Both show in the
//! views that show the camera layer.

use std::sync::Arc;

use bevy::asset::RenderAssetUsages;
use bevy::camera::visibility::RenderLayers;
use bevy::mesh::PrimitiveTopology;
use bevy::prelude::*;
use glam::DVec3;

use super::{Cctv, FEED_ASPECT};
use crate::geo::{Cartographic, WGS84, ecef_from_enu};
use crate::markers::MarkerInstance;
use crate::markers::cluster::cluster_scale;
use crate::markers::frustum::{ecef_from_camera, frustum_corners};
use crate::protocol::catalog::Camera;
use crate::viewer::catalog::LayerSource;
use crate::viewer::layers::LayerViews;
use crate::viewer::markers::{MarkerBatch, MarkerViews, Symbol};
use crate::viewer::origin::{FloatingOrigin, GeoTransform};
use crate::viewer::views::{MainView, SecondView};

const FRUSTUM_SRGB: [f32; 3] = [0.1, 0.85, 0.95];
const CLUSTER_SRGB: [f32; 3] = [0.05, 0.55, 0.65];

/// The entity drawing the frusta.
#[derive(Component)]
pub struct Frusta;

/// The entity drawing the cameras' (or clusters') symbols.
#[derive(Component)]
pub struct CameraSymbols;

/// The frusta of `cameras` as line segments, in the east-north-up frame at `origin_ecef`.
pub fn frusta_lines(cameras: &[Camera], origin_ecef: DVec3) -> Vec<[f32; 3]> {
    let local_from_ecef = ecef_from_enu(origin_ecef).inverse();
    let mut lines = Vec::with_capacity(cameras.len() * 16);
    for c in cameras {
        let [eye, bl, br, tr, tl] = frustum_corners(c, FEED_ASPECT).map(|p| local_from_ecef.transform_point3(p));
        for [a, b] in [[eye, bl], [eye, br], [eye, tr], [eye, tl], [bl, br], [br, tr], [tr, tl], [tl, bl]] {
            lines.push(a.as_vec3().to_array());
            lines.push(b.as_vec3().to_array());
        }
    }
    lines
}

/// Takes a fetch's answer into [`Cctv`].
pub fn take_cameras(mut cctv: ResMut<Cctv>) {
    let Some(answer) = cctv.answer.take() else { return };
    match answer {
        Ok(around) => {
            debug!("{} cameras, {} clusters around the view", around.cameras.len(), around.clusters.len());
            cctv.cameras = around.cameras;
            cctv.clusters = around.clusters;
            cctv.last_error = None;
        }
        Err(e) => {
            error!("cameras: {e}");
            cctv.last_error = Some(e);
        }
    }
}

/// Replaces the frusta with those of the cameras listed.
pub fn draw_frusta(
    cctv: Res<Cctv>,
    old: Query<Entity, With<Frusta>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut commands: Commands,
) {
    if !cctv.is_changed() {
        return;
    }
    for e in &old {
        commands.entity(e).despawn();
    }
    let Some(first) = cctv.cameras.first() else { return };
    let origin = WGS84.ecef_from_cartographic(Cartographic::from_degrees(first.lon_deg, first.lat_deg, 0.0));
    let mut mesh = Mesh::new(PrimitiveTopology::LineList, RenderAssetUsages::RENDER_WORLD);
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, frusta_lines(&cctv.cameras, origin));
    let [r, g, b] = FRUSTUM_SRGB;
    let material = StandardMaterial { base_color: Color::srgb(r, g, b), unlit: true, ..default() };
    commands.spawn((
        Frusta,
        Mesh3d(meshes.add(mesh)),
        MeshMaterial3d(materials.add(material)),
        GeoTransform(ecef_from_enu(origin)),
        Transform::default(),
        // Until `show_per_view` says in which views.
        Visibility::Hidden,
        RenderLayers::none(),
    ));
}

/// The symbols' instances in the render frame: a camera at its eye, a cluster on the ground at
/// its cameras' centroid, sized by count.
pub fn symbol_instances(cctv: &Cctv, origin: &FloatingOrigin) -> Vec<MarkerInstance> {
    let instance = |ecef: DVec3, scale: f32, color_srgb: [f32; 3]| MarkerInstance {
        offset_m: origin.point(ecef).to_array(),
        scale,
        color_srgb,
        pulse: 0.0,
    };
    let cameras = cctv.cameras.iter().map(|c| instance(ecef_from_camera(c).w_axis.truncate(), 1.0, FRUSTUM_SRGB));
    let clusters = cctv.clusters.iter().map(|c| {
        let ground = WGS84.ecef_from_cartographic(Cartographic::from_degrees(c.lon_deg, c.lat_deg, 0.0));
        instance(ground, cluster_scale(c.count as usize), CLUSTER_SRGB)
    });
    cameras.chain(clusters).collect()
}

/// Keeps the symbols' instances up to date with the cameras and the floating origin.
pub fn place_symbols(
    cctv: Res<Cctv>,
    origin: Res<FloatingOrigin>,
    mut symbols: Query<&mut MarkerBatch, With<CameraSymbols>>,
    mut commands: Commands,
) {
    if !cctv.is_changed() && !origin.is_changed() {
        return;
    }
    let instances = Arc::new(symbol_instances(&cctv, &origin));
    match symbols.single_mut() {
        Ok(mut batch) => batch.instances = instances,
        Err(_) => {
            commands.spawn((CameraSymbols, MarkerBatch { symbol: Symbol::Camera, instances }, MarkerViews::default()));
        }
    }
}

/// The frusta and symbols show in the views that show the camera layer.
pub fn show_per_view(
    layers: Query<(&LayerSource, &LayerViews)>,
    main: Query<Entity, With<MainView>>,
    second: Query<Entity, With<SecondView>>,
    mut frusta: Query<(&mut Visibility, &mut RenderLayers), With<Frusta>>,
    mut symbols: Query<&mut MarkerViews, With<CameraSymbols>>,
) {
    let shown = layers.iter().find_map(|(s, v)| matches!(s, LayerSource::Cameras(_)).then_some(*v));
    let v = shown.unwrap_or(LayerViews { main: false, second: false });
    for (mut vis, mut render_layers) in &mut frusta {
        vis.set_if_neq(if v.any() { Visibility::Inherited } else { Visibility::Hidden });
        render_layers.set_if_neq(v.render_layers());
    }
    let views: Vec<Entity> = main.iter().filter(|_| v.main).chain(second.iter().filter(|_| v.second)).collect();
    for mut symbol_views in &mut symbols {
        if symbol_views.0 != views {
            symbol_views.0 = views.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_camera_draws_eight_edges_from_its_eye() {
        let cam = Camera {
            id: 1,
            name: "c".into(),
            lon_deg: 114.0,
            lat_deg: 22.5,
            height_m: 10.0,
            heading_deg: 90.0,
            pitch_deg: 0.0,
            fov_deg: 60.0,
            range_m: 100.0,
            feed: String::new(),
        };
        let origin = WGS84.ecef_from_cartographic(Cartographic::from_degrees(114.0, 22.5, 0.0));
        let lines = frusta_lines(&[cam.clone(), cam], origin);
        assert_eq!(lines.len(), 2 * 16);
        // The eye is 10 m up; looking east, the far plane is 100 m east.
        assert!((lines[0][2] - 10.0).abs() < 0.01 && lines[0][0].abs() < 0.01, "{:?}", lines[0]);
        assert!((lines[1][0] - 100.0).abs() < 0.01, "{:?}", lines[1]);
    }
}
