//! Render parts (prepared by the core, `tiles::prepare`, on the task pool) to Bevy assets: the
//! arrays move into the mesh and the decoded texture into an image; nothing is decoded or
//! recomputed here.

use bevy::asset::RenderAssetUsages;
use bevy::image::Image;
use bevy::mesh::{Indices, Mesh, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::mesh::allocator::MeshAllocatorSettings;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy::render::settings::{MemoryHints, RenderCreation, WgpuSettings};
use bevy::render::slab_allocator::SlabAllocatorSettings;
use bevy::render::{RenderApp, RenderPlugin};

use super::feature_state::{FeatureStateExt, FeatureTable, TileMaterial};
use crate::tiles::prepare::{RenderPart, Texture};

/// The renderer sized for memory that follows the tile budget: wgpu's default ("performance")
/// reserves GPU memory in blocks of 128–256 MiB that stay while anything lives in them, which on
/// a software or unified-memory GPU is host memory the budget cannot see; even its "memory usage"
/// hint grows blocks to 64 MiB (32 MiB for uploads). Blocks of 4–8 MiB waste at most a few MiB.
pub fn render_plugin() -> RenderPlugin {
    const MIB: u64 = 1 << 20;
    let memory_hints = MemoryHints::Manual { suballocated_device_memory_block_size: 4 * MIB..8 * MIB };
    let wgpu = WgpuSettings { memory_hints, ..default() };
    RenderPlugin { render_creation: RenderCreation::Automatic(Box::new(wgpu)), ..default() }
}

/// Mesh buffers that give memory back when tiles leave: every mesh (of more than
/// `OWN_BUFFER_BYTES`: all) gets its own buffer, freed with it, rather than a place in a shared
/// slab. A slab would keep 4 MiB of bookkeeping on the CPU (an offset allocator of 128 Ki nodes)
/// whatever its size, one for each vertex layout and index size, and grow rather than shrink.
pub fn frugal_mesh_buffers(app: &mut App) {
    const OWN_BUFFER_BYTES: u64 = 0;
    if let Some(render) = app.get_sub_app_mut(RenderApp) {
        let slabs = SlabAllocatorSettings { large_threshold: OWN_BUFFER_BYTES, ..default() };
        render.insert_resource(MeshAllocatorSettings { slab_allocator_settings: slabs, ..default() });
    }
}

/// Bevy assets of a part, and the bytes they take on the GPU (its vertex and index buffers as
/// uploaded, and its texture); a texture larger than the device's `max_texture_side` px is left
/// out. A part with feature IDs carries them for `table`, its tile's feature state table
/// (`feature_state`), in its last UV channel: the second beside texture coordinates, else the first.
pub fn to_assets(
    part: RenderPart,
    max_texture_side: u32,
    table: Option<&FeatureTable>,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<TileMaterial>,
    images: &mut Assets<Image>,
) -> (Handle<Mesh>, Handle<TileMaterial>, usize) {
    let topology = if part.points { PrimitiveTopology::PointList } else { PrimitiveTopology::TriangleList };
    let mut mesh = Mesh::new(topology, RenderAssetUsages::RENDER_WORLD);
    let vertices = part.positions.len();
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, part.positions);
    if let Some(n) = part.normals {
        mesh.insert_attribute(Mesh::ATTRIBUTE_NORMAL, n);
    }
    if let Some(c) = part.colors {
        mesh.insert_attribute(Mesh::ATTRIBUTE_COLOR, c);
    }
    let has_uvs = part.uvs.is_some();
    if let Some(uv) = part.uvs {
        mesh.insert_attribute(Mesh::ATTRIBUTE_UV_0, uv);
    }
    let table = table.filter(|_| part.feature_ids.is_some());
    if let (Some(ids), Some(_)) = (&part.feature_ids, table) {
        // Exact in f32: a table holds far fewer than 2^24 features. Beside texture coordinates
        // they take the second UV channel, else the first (the shader reads the part's last).
        let channel = if has_uvs { Mesh::ATTRIBUTE_UV_1 } else { Mesh::ATTRIBUTE_UV_0 };
        mesh.insert_attribute(channel, ids.iter().map(|id| [*id as f32, 0.0]).collect::<Vec<[f32; 2]>>());
    }
    if let Some(i) = part.indices {
        let mut indices = compact_indices(i, vertices);
        // A mesh's own index buffer is written mapped at creation, which wgpu allows in whole
        // 4-byte words only: an odd count of 2-byte indices gets a degenerate triangle more.
        if let Indices::U16(i) = &mut indices
            && i.len() % 2 == 1
        {
            i.extend([0; 3]);
        }
        mesh.insert_indices(indices);
    }
    let mut gpu_bytes = mesh.get_vertex_size() as usize * mesh.count_vertices() + index_bytes(mesh.indices());
    let texture = part.texture.and_then(|t| {
        let fits = t.width_px <= max_texture_side && t.height_px <= max_texture_side;
        if !fits {
            warn!(
                "a {}×{} px texture exceeds this GPU's {max_texture_side} px: drawn untextured",
                t.width_px, t.height_px
            );
        }
        fits.then(|| {
            gpu_bytes += t.rgba8.len();
            images.add(image_of(t))
        })
    });
    let [r, g, b, a] = part.base_color;
    // Opaque parts with features may discard (hidden features, in the shadow maps too).
    let alpha_mode = match (part.blend || a < 1.0, table.is_some()) {
        (true, _) => AlphaMode::Blend,
        (false, true) => AlphaMode::Mask(0.5),
        (false, false) => AlphaMode::Opaque,
    };
    let base = StandardMaterial {
        base_color: Color::srgba(r, g, b, a),
        base_color_texture: texture,
        unlit: part.unlit,
        alpha_mode,
        double_sided: part.double_sided,
        cull_mode: if part.double_sided { None } else { Some(bevy::render::render_resource::Face::Back) },
        perceptual_roughness: 0.85,
        ..default()
    };
    let extension = FeatureStateExt { table: table.map(|t| t.image.clone()).unwrap_or_default(), ..default() };
    (meshes.add(mesh), materials.add(TileMaterial { base, extension }), gpu_bytes)
}

/// Indices at two bytes where `vertices` allow (every index must be below it), else four.
pub fn compact_indices(indices: Vec<u32>, vertices: usize) -> Indices {
    if vertices <= 1 << 16 {
        Indices::U16(indices.into_iter().map(|v| v as u16).collect())
    } else {
        Indices::U32(indices)
    }
}

/// The bytes `indices` take.
pub fn index_bytes(indices: Option<&Indices>) -> usize {
    match indices {
        Some(Indices::U16(i)) => i.len() * 2,
        Some(Indices::U32(i)) => i.len() * 4,
        None => 0,
    }
}

/// A decoded texture as an sRGB image, its pixels moved in.
fn image_of(t: Texture) -> Image {
    let size = Extent3d { width: t.width_px, height: t.height_px, depth_or_array_layers: 1 };
    Image::new(size, TextureDimension::D2, t.rgba8, TextureFormat::Rgba8UnormSrgb, RenderAssetUsages::RENDER_WORLD)
}
