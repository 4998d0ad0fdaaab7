//! CctvPlugin: the CCTV camera layer, for the roles the catalog lists it to (planners and
//! operators). The cameras around the view come from the data server (`/api/cameras?bbox=`,
//! fetched again when the view moves to another area), and each is drawn as its view frustum in
//! lines (`markers::frustum`: the eye to the corners of its picture at its range), one mesh for
//! all, in the views that show the layer.

use bevy::asset::RenderAssetUsages;
use bevy::mesh::PrimitiveTopology;
use bevy::prelude::*;
use glam::DVec3;
use serde::Deserialize;

use super::DataServer;
use super::camera::GeoCamera;
use super::catalog::LayerSource;
use super::fetch::{Answer, get};
use super::layers::LayerViews;
use super::live::{area_moved, camera_area};
use super::origin::GeoTransform;
use crate::geo::{Cartographic, WGS84, ecef_from_enu};
use crate::markers::frustum::frustum_corners;
use crate::platform::Runtime;
use crate::protocol::catalog::Camera;

/// Cameras fetched per area, at most.
const MAX_CAMERAS: usize = 2_000;
/// The feeds' aspect (width / height).
pub const FEED_ASPECT: f64 = 16.0 / 9.0;
const FRUSTUM_SRGB: [f32; 3] = [0.1, 0.85, 0.95];

/// A fetch's answer: the cameras of an area, or why not.
type Fetched = Result<Vec<Camera>, String>;

/// The cameras around the view.
#[derive(Resource, Default)]
pub struct Cctv {
    /// The area fetched last, `[west, south, east, north]`.
    area: Option<[f64; 4]>,
    pub cameras: Vec<Camera>,
    pub last_error: Option<String>,
    answer: Answer<Fetched>,
}

/// The entity drawing the frusta.
#[derive(Component)]
pub struct Frusta;

#[derive(Deserialize)]
struct CameraPage {
    cameras: Vec<Camera>,
}

pub struct CctvPlugin;

impl Plugin for CctvPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Cctv>().add_systems(Update, (fetch_cameras, draw_frusta, show_frusta).chain());
    }
}

/// Fetches the cameras around the view when the layer exists and the view moved to another area.
fn fetch_cameras(
    layers: Query<&LayerSource>,
    cam: Res<GeoCamera>,
    server: Option<Res<DataServer>>,
    runtime: Res<Runtime>,
    mut cctv: ResMut<Cctv>,
) {
    let Some(layer) = layers.iter().find_map(|s| if let LayerSource::Cameras(c) = s { Some(c) } else { None }) else {
        return;
    };
    let (Some(server), Some(area)) = (server, camera_area(&cam)) else { return };
    if cctv.area.is_some_and(|a| !area_moved(&a, &area)) {
        return;
    }
    cctv.area = Some(area);
    let [w, s, e, n] = area;
    let url = server.at(&format!("{}?bbox={w},{s},{e},{n}&limit={MAX_CAMERAS}", layer.url));
    cctv.answer.spawn(&runtime, async move {
        let bytes = get(&url).await?;
        let page: CameraPage = serde_json::from_slice(&bytes).map_err(|e| format!("{url}: not a camera list: {e}"))?;
        Ok(page.cameras)
    });
}

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

/// Replaces the frusta with those of the cameras just fetched.
fn draw_frusta(
    mut cctv: ResMut<Cctv>,
    old: Query<Entity, With<Frusta>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut commands: Commands,
) {
    let Some(answer) = cctv.answer.take() else { return };
    let cameras = match answer {
        Ok(cameras) => cameras,
        Err(e) => {
            error!("cameras: {e}");
            cctv.last_error = Some(e);
            return;
        }
    };
    for e in &old {
        commands.entity(e).despawn();
    }
    let Some(first) = cameras.first() else {
        cctv.cameras = cameras;
        return;
    };
    let origin = WGS84.ecef_from_cartographic(Cartographic::from_degrees(first.lon_deg, first.lat_deg, 0.0));
    let mut mesh = Mesh::new(PrimitiveTopology::LineList, RenderAssetUsages::RENDER_WORLD);
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, frusta_lines(&cameras, origin));
    let [r, g, b] = FRUSTUM_SRGB;
    let material = StandardMaterial { base_color: Color::srgb(r, g, b), unlit: true, ..default() };
    commands.spawn((
        Frusta,
        Mesh3d(meshes.add(mesh)),
        MeshMaterial3d(materials.add(material)),
        GeoTransform(ecef_from_enu(origin)),
        Transform::default(),
    ));
    cctv.cameras = cameras;
}

/// The frusta show in the views that show the camera layer.
fn show_frusta(
    layers: Query<(&LayerSource, &LayerViews)>,
    mut frusta: Query<(&mut Visibility, &mut bevy::camera::visibility::RenderLayers), With<Frusta>>,
) {
    let views = layers.iter().find_map(|(s, v)| matches!(s, LayerSource::Cameras(_)).then_some(*v));
    for (mut vis, mut render_layers) in &mut frusta {
        let v = views.unwrap_or(LayerViews { main: false, second: false });
        vis.set_if_neq(if v.any() { Visibility::Inherited } else { Visibility::Hidden });
        render_layers.set_if_neq(v.render_layers());
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
