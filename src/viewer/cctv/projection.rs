//! The chosen camera's live feed projected onto the scene (projective texturing): the tile parts
//! within its range get an overlay drawn with their own mesh and the [`FeedProjection`] material
//! (`shaders/feed_projection.wgsl`), which places each fragment in the camera's picture and keeps
//! it only where the camera's depth map says it is the first surface the camera sees. The depth
//! map is rasterised on the CPU from the parts' picking triangles (`markers::depth_map`) when the
//! parts around the camera change, at most twice a second.

use std::collections::HashMap;

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::camera::primitives::Aabb;
use bevy::camera::visibility::RenderLayers;
use bevy::light::{NotShadowCaster, NotShadowReceiver};
use bevy::mesh::MeshVertexBufferLayoutRef;
use bevy::pbr::{MaterialPipeline, MaterialPipelineKey};
use bevy::prelude::*;
use bevy::render::render_resource::{
    AsBindGroup, DepthBiasState, Extent3d, RenderPipelineDescriptor, SpecializedMeshPipelineError, TextureDimension,
    TextureFormat,
};
use bevy::shader::ShaderRef;

use super::{CctvSystems, ChosenCamera, FEED_ASPECT};
use crate::markers::depth_map::DepthMap;
use crate::markers::frustum::{clip_from_ecef, ecef_from_camera};
use crate::viewer::origin::{FloatingOrigin, GeoTransform};
use crate::viewer::tiles::TilePart;

const FEED_PROJECTION_SHADER: Handle<Shader> = uuid_handle!("5a0d6a51-2f2c-4b9e-9a51-3c1f0e6f7a20");
/// The depth map's size (the feeds' 16:9).
const DEPTH_MAP_SIZE: [u32; 2] = [256, 144];
/// The camera's near plane (metres).
const NEAR_M: f64 = 0.5;
/// The feed's opacity over the scene.
const OPACITY: f32 = 0.92;
/// A surface this much farther than the depth map's (metres, plus a share of the distance) is
/// still the one seen: the map is coarser than the screen.
const DEPTH_TOLERANCE: [f32; 2] = [0.5, 0.05];
/// The depth map is made again at most this often (seconds).
const DEPTH_MAP_PERIOD_S: f64 = 0.5;

/// The material of the overlays: the feed placed by the camera's projection, its depth map.
#[derive(Asset, AsBindGroup, TypePath, Debug, Clone)]
pub struct FeedProjection {
    /// The camera's clip space from the render world's (floating origin) frame.
    #[uniform(0)]
    pub clip_from_world: Mat4,
    /// Opacity, tolerance (m), tolerance per metre.
    #[uniform(1)]
    pub params: Vec4,
    #[texture(2)]
    #[sampler(3)]
    pub feed: Handle<Image>,
    #[texture(4, sample_type = "float", filterable = false)]
    pub depth_map: Handle<Image>,
}

impl Material for FeedProjection {
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(FEED_PROJECTION_SHADER)
    }

    fn alpha_mode(&self) -> AlphaMode {
        AlphaMode::Blend
    }

    fn enable_prepass() -> bool {
        false
    }

    fn enable_shadows() -> bool {
        false
    }

    /// Drawn over the same triangles as the part: pulled a little toward the eye (reverse Z).
    fn specialize(
        _pipeline: &MaterialPipeline,
        descriptor: &mut RenderPipelineDescriptor,
        _layout: &MeshVertexBufferLayoutRef,
        _key: MaterialPipelineKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        if let Some(depth) = descriptor.depth_stencil.as_mut() {
            depth.bias = DepthBiasState { constant: 8, slope_scale: 1.0, clamp: 0.0 };
        }
        Ok(())
    }
}

/// An overlay, a child of the tile part it covers.
#[derive(Component)]
pub struct FeedOverlay;

/// The projection in place: for which camera, its material and depth map, the overlays.
#[derive(Resource, Default)]
struct Projection {
    camera: Option<u32>,
    material: Option<Handle<FeedProjection>>,
    depth_map: Option<Handle<Image>>,
    /// Tile part → its overlay.
    overlays: HashMap<Entity, Entity>,
    /// The parts the depth map was made from, and when (seconds).
    mapped: (Vec<Entity>, f64),
}

pub struct FeedProjectionPlugin;

impl Plugin for FeedProjectionPlugin {
    fn build(&self, app: &mut App) {
        if let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>() {
            let source = include_str!("../../../shaders/feed_projection.wgsl");
            let _ = shaders.insert(&FEED_PROJECTION_SHADER, Shader::from_wgsl(source, "shaders/feed_projection.wgsl"));
        }
        app.add_plugins(MaterialPlugin::<FeedProjection>::default())
            .init_resource::<Projection>()
            .add_systems(Update, project_feed.after(CctvSystems));
    }
}

/// The parts a camera at `eye` (render world) reaching `range_m` may see: shown, and their bounds
/// within its range.
type Part<'a> = (Entity, &'a TilePart, &'a GeoTransform, &'a GlobalTransform, &'a Aabb, &'a Mesh3d, &'a Visibility);

fn in_range(eye: Vec3, range_m: f32, (_, _, _, at, aabb, _, vis): &Part) -> bool {
    let centre = at.transform_point(aabb.center.into());
    let radius = (Vec3::from(aabb.half_extents) * at.scale()).length();
    **vis != Visibility::Hidden && centre.distance(eye) - radius < range_m
}

/// Keeps the overlays, their material and the depth map up to date with the chosen camera.
#[allow(clippy::too_many_arguments)]
fn project_feed(
    chosen: Res<ChosenCamera>,
    (origin, time): (Res<FloatingOrigin>, Res<Time>),
    parts: Query<Part>,
    layers: Query<&RenderLayers>,
    mut state: ResMut<Projection>,
    mut materials: ResMut<Assets<FeedProjection>>,
    mut images: ResMut<Assets<Image>>,
    mut commands: Commands,
) {
    let active = chosen.camera.as_ref().filter(|_| chosen.project).zip(chosen.image.clone());
    let camera_id = active.as_ref().map(|(c, _)| c.id);
    if state.camera != camera_id {
        for (_, overlay) in state.overlays.drain() {
            commands.entity(overlay).try_despawn();
        }
        state.mapped = Default::default();
        state.camera = camera_id;
    }
    let Some((camera, feed)) = active else { return };
    let clip_from_ecef = clip_from_ecef(camera, FEED_ASPECT, NEAR_M);
    let eye = origin.point(ecef_from_camera(camera).w_axis.truncate());
    let mut near: Vec<Part> = parts.iter().filter(|p| in_range(eye, camera.range_m as f32, p)).collect();
    near.sort_by_key(|p| p.0);

    // The depth map, from the parts in range, when they changed.
    let depth_map = state.depth_map.get_or_insert_with(|| images.add(depth_image(&DepthMap::new(1, 1)))).clone();
    let ids: Vec<Entity> = near.iter().map(|p| p.0).collect();
    let now = time.elapsed_secs_f64();
    if ids != state.mapped.0 && now - state.mapped.1 >= DEPTH_MAP_PERIOD_S {
        let [w, h] = DEPTH_MAP_SIZE;
        let mut map = DepthMap::new(w, h);
        for (_, part, geo, ..) in &near {
            if let Some(pick) = &part.pick {
                map.draw(&(clip_from_ecef * geo.0), pick.positions(), pick.triangles());
            }
        }
        if let Some(mut image) = images.get_mut(&depth_map) {
            *image = depth_image(&map);
        }
        state.mapped = (ids.clone(), now);
    }

    // The material, changed only when the origin or the feed did.
    let clip_from_world = (clip_from_ecef * origin.world_from_ecef.inverse()).as_mat4();
    let wanted = FeedProjection {
        clip_from_world,
        params: Vec4::new(OPACITY, DEPTH_TOLERANCE[0], DEPTH_TOLERANCE[1], 0.0),
        feed,
        depth_map,
    };
    let material = match state.material.clone() {
        Some(h) => {
            let stale =
                materials.get(&h).is_none_or(|m| m.clip_from_world != wanted.clip_from_world || m.feed != wanted.feed);
            if stale && let Some(mut m) = materials.get_mut(&h) {
                *m = wanted;
            }
            h
        }
        None => state.material.insert(materials.add(wanted)).clone(),
    };

    // An overlay on each part in range; none on the others.
    // `ids` is sorted, as `near` is.
    state.overlays.retain(|part, overlay| {
        let kept = ids.binary_search(part).is_ok();
        if !kept {
            commands.entity(*overlay).try_despawn();
        }
        kept
    });
    for (part, _, _, _, _, mesh, _) in near {
        if state.overlays.contains_key(&part) {
            continue;
        }
        let mut overlay = commands.spawn((
            FeedOverlay,
            Mesh3d(mesh.0.clone()),
            MeshMaterial3d(material.clone()),
            Transform::IDENTITY,
            NotShadowCaster,
            NotShadowReceiver,
            ChildOf(part),
        ));
        if let Ok(l) = layers.get(part) {
            overlay.insert(l.clone());
        }
        state.overlays.insert(part, overlay.id());
    }
}

/// The depth map as an R32Float image.
fn depth_image(map: &DepthMap) -> Image {
    Image::new(
        Extent3d { width: map.width, height: map.height, depth_or_array_layers: 1 },
        TextureDimension::D2,
        bytemuck::cast_slice(&map.depth_m).to_vec(),
        TextureFormat::R32Float,
        RenderAssetUsages::MAIN_WORLD | RenderAssetUsages::RENDER_WORLD,
    )
}
