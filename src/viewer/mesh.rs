//! Tile content to render data: glb (via the `gltf` crate), b3dm, i3dm instances and pnts
//! points become plain mesh parts with their placement in the tile, built off the main thread;
//! Bevy assets are made from them on the main thread. Content past the bounds of `mesh_limits`
//! is an error for its tile, never a panic.

use bevy::asset::RenderAssetUsages;
use bevy::image::{CompressedImageFormats, Image, ImageSampler, ImageType};
use bevy::mesh::{Indices, Mesh, PrimitiveTopology};
use bevy::prelude::*;
use glam::{DMat3, DMat4, DQuat, DVec3};

use crate::geo::enu_axes;
use crate::tiles::UpAxis;
use crate::tiles::content::features::GltfView;
use crate::tiles::content::{Instances, Model, Points, TileContent};
use crate::tiles::uri;

use super::feature_state::{FeatureStateExt, FeatureTable, TileMaterial};
use super::mesh_limits::{check_accessor, check_part, check_placements, check_texture};

/// One drawable: geometry, material and where it sits in its tile (or in each instance).
#[derive(Debug, Clone, Default)]
pub struct PartData {
    pub tile_from_part: Vec<DMat4>,
    pub points: bool,
    pub positions: Vec<[f32; 3]>,
    pub normals: Option<Vec<[f32; 3]>>,
    pub colors: Option<Vec<[f32; 4]>>,
    pub uvs: Option<Vec<[f32; 2]>>,
    pub indices: Option<Vec<u32>>,
    pub base_color: [f32; 4],
    pub unlit: bool,
    pub blend: bool,
    pub double_sided: bool,
    pub texture: Option<(Vec<u8>, String)>,
    /// Per-vertex feature IDs (EXT_mesh_features or _BATCHID), for picking.
    pub feature_ids: Option<Vec<u32>>,
}

/// glTF is y-up; 3D Tiles are z-up.
pub fn z_up_from(up: UpAxis) -> DMat4 {
    match up {
        UpAxis::Y => DMat4::from_rotation_x(std::f64::consts::FRAC_PI_2),
        UpAxis::X => DMat4::from_rotation_y(-std::f64::consts::FRAC_PI_2),
        UpAxis::Z => DMat4::IDENTITY,
    }
}

/// The parts of a tile's content; `ecef_from_tile` orients i3dm `EAST_NORTH_UP` instances.
pub fn parts(content: &TileContent, up: UpAxis, ecef_from_tile: &DMat4) -> Result<Vec<PartData>, String> {
    let parts = content_parts(content, up, ecef_from_tile)?;
    check_placements(&parts)?;
    Ok(parts)
}

fn content_parts(content: &TileContent, up: UpAxis, ecef_from_tile: &DMat4) -> Result<Vec<PartData>, String> {
    match content {
        TileContent::Model(m) => model_parts(m, up),
        TileContent::Points(p) => {
            let part = points_part(p);
            check_part(&part)?;
            Ok(vec![part])
        }
        TileContent::Instances(i) => instance_parts(i, up, ecef_from_tile),
        TileContent::Composite(v) => {
            let mut out = Vec::new();
            for c in v {
                out.extend(content_parts(c, up, ecef_from_tile)?);
                check_placements(&out)?;
            }
            Ok(out)
        }
    }
}

fn model_parts(m: &Model, up: UpAxis) -> Result<Vec<PartData>, String> {
    let rtc = DMat4::from_translation(m.rtc_center.unwrap_or(DVec3::ZERO));
    let mut parts = gltf_parts(&m.gltf, m.is_json)?;
    for p in &mut parts {
        for t in &mut p.tile_from_part {
            *t = rtc * z_up_from(up) * *t;
        }
    }
    Ok(parts)
}

fn points_part(p: &Points) -> PartData {
    let rtc = DMat4::from_translation(p.rtc_center.unwrap_or(DVec3::ZERO));
    let colors = p.colors_rgba.as_ref().map(|c| c.iter().map(|c| c.map(|v| v as f32 / 255.0)).collect());
    let base = p.constant_rgba.map_or([0.85, 0.85, 0.85, 1.0], |c| c.map(|v| v as f32 / 255.0));
    PartData {
        tile_from_part: vec![rtc],
        points: true,
        positions: p.positions.iter().map(|v| v.to_array()).collect(),
        normals: p.normals.as_ref().map(|n| n.iter().map(|v| v.to_array()).collect()),
        colors,
        base_color: base,
        unlit: true,
        feature_ids: p.batch_ids.clone(),
        ..Default::default()
    }
}

fn instance_parts(i: &Instances, up: UpAxis, ecef_from_tile: &DMat4) -> Result<Vec<PartData>, String> {
    let glb = match &i.model {
        crate::tiles::content::InstancedModel::Glb(g) => g,
        crate::tiles::content::InstancedModel::Uri(u) => {
            return Err(format!("i3dm model by URI ({u}) is not loaded yet"));
        }
    };
    let rtc = i.rtc_center.unwrap_or(DVec3::ZERO);
    if i.positions.len() > super::mesh_limits::MAX_PLACEMENTS {
        return Err(format!(
            "{} instances; at most {} are drawn per tile",
            i.positions.len(),
            super::mesh_limits::MAX_PLACEMENTS
        ));
    }
    let mut placements = Vec::with_capacity(i.positions.len());
    for (k, p) in i.positions.iter().enumerate() {
        let pos = rtc + p.as_dvec3();
        let rot = match (&i.normal_up, &i.normal_right) {
            (Some(u), Some(r)) => {
                let (u, r) = (u[k].as_dvec3(), r[k].as_dvec3());
                DMat3::from_cols(r, u, r.cross(u))
            }
            _ if i.east_north_up => {
                // The local frame at the instance's ECEF position, expressed in tile axes.
                let ecef = ecef_from_tile.transform_point3(pos);
                let (e, n, u) = enu_axes(ecef);
                let tile_from_ecef = DMat3::from_mat4(ecef_from_tile.inverse());
                DMat3::from_cols(tile_from_ecef * e, tile_from_ecef * n, tile_from_ecef * u)
            }
            _ => DMat3::IDENTITY,
        };
        let scale = i.scales.as_ref().map_or(DVec3::ONE, |s| s[k].as_dvec3());
        let r = DQuat::from_mat3(&rot);
        placements.push(DMat4::from_scale_rotation_translation(scale, r, pos));
    }
    let mut parts = gltf_parts(glb, false)?;
    for p in &mut parts {
        let local = std::mem::take(&mut p.tile_from_part);
        p.tile_from_part =
            placements.iter().flat_map(|inst| local.iter().map(move |l| *inst * z_up_from(up) * *l)).collect();
        p.feature_ids = None;
    }
    Ok(parts)
}

/// Every primitive of the default scene, with node transforms composed (in glTF space).
pub fn gltf_parts(bytes: &[u8], is_json: bool) -> Result<Vec<PartData>, String> {
    // Validation makes every index in the document refer to something that exists.
    let doc = gltf::Gltf::from_slice(bytes).map_err(|e| format!("glTF: {e}"))?;
    let mut buffers: Vec<Option<Vec<u8>>> = Vec::new();
    for b in doc.buffers() {
        buffers.push(match b.source() {
            gltf::buffer::Source::Bin => doc.blob.clone(),
            gltf::buffer::Source::Uri(u) if u.starts_with("data:") => uri::decode_data_uri(u).ok(),
            gltf::buffer::Source::Uri(_) => None,
        });
    }
    let view = if is_json { None } else { GltfView::parse(bytes).ok() };
    let feature_ids: Vec<(usize, usize, Vec<u32>)> = view
        .as_ref()
        .map(|v| {
            let mut ids: Vec<_> =
                v.vertex_feature_ids().unwrap_or_default().into_iter().map(|f| (f.mesh, f.primitive, f.ids)).collect();
            // b3dm's glTF 2.0 `_BATCHID` attribute.
            for (m, mesh) in v.json["meshes"].as_array().into_iter().flatten().enumerate() {
                for (p, prim) in mesh["primitives"].as_array().into_iter().flatten().enumerate() {
                    if let Some(acc) = prim["attributes"]["_BATCHID"].as_u64()
                        && !ids.iter().any(|(a, b, _)| *a == m && *b == p)
                        && let Ok(v) = v.accessor(acc)
                    {
                        ids.push((m, p, v.into_iter().map(|x| x as u32).collect()));
                    }
                }
            }
            ids
        })
        .unwrap_or_default();
    let scene = doc.default_scene().or_else(|| doc.scenes().next()).ok_or("glTF without a scene")?;
    let mut out = Vec::new();
    let mut visited = vec![false; doc.nodes().len()];
    let mut stack: Vec<(gltf::Node, DMat4)> = scene.nodes().map(|n| (n, DMat4::IDENTITY)).collect();
    while let Some((node, parent)) = stack.pop() {
        if std::mem::replace(&mut visited[node.index()], true) {
            return Err(format!("glTF: node {} is reached twice (a cycle, or a child of two parents)", node.index()));
        }
        let local = DMat4::from_cols_array_2d(&node.transform().matrix().map(|c| c.map(|v| v as f64)));
        let world = parent * local;
        if let Some(mesh) = node.mesh() {
            for prim in mesh.primitives() {
                let points = match prim.mode() {
                    gltf::mesh::Mode::Triangles => false,
                    gltf::mesh::Mode::Points => true,
                    _ => continue,
                };
                for accessor in prim.attributes().map(|(_, a)| a).chain(prim.indices()) {
                    check_accessor(&accessor, &buffers).map_err(|e| format!("glTF mesh {}: {e}", mesh.index()))?;
                }
                let reader = prim.reader(|b| buffers.get(b.index()).and_then(|d| d.as_deref()));
                let Some(positions) = reader.read_positions() else { continue };
                let positions: Vec<[f32; 3]> = positions.collect();
                let material = prim.material();
                let pbr = material.pbr_metallic_roughness();
                let base_tex = pbr.base_color_texture();
                let texture = base_tex.as_ref().and_then(|t| image_bytes(&buffers, t.texture().source()));
                if let Some((bytes, _)) = &texture {
                    check_texture(bytes).map_err(|e| format!("glTF mesh {}: {e}", mesh.index()))?;
                }
                let uv_set = base_tex
                    .as_ref()
                    .map_or(0, |t| t.texture_transform().and_then(|x| x.tex_coord()).unwrap_or(t.tex_coord()));
                let uvs = reader.read_tex_coords(uv_set).map(|t| {
                    let uvs: Vec<[f32; 2]> = t.into_f32().collect();
                    match base_tex.as_ref().and_then(|t| t.texture_transform()) {
                        Some(x) => transform_uvs(&uvs, x.offset(), x.rotation(), x.scale()),
                        None => uvs,
                    }
                });
                let ids =
                    feature_ids.iter().find(|(m, p, _)| *m == mesh.index() && *p == prim.index()).map(|f| f.2.clone());
                let part = PartData {
                    tile_from_part: vec![world],
                    points,
                    normals: reader.read_normals().map(|n| n.collect()),
                    colors: reader.read_colors(0).map(|c| c.into_rgba_f32().collect()),
                    uvs,
                    indices: reader.read_indices().map(|i| i.into_u32().collect()),
                    base_color: pbr.base_color_factor(),
                    unlit: material.unlit(),
                    blend: material.alpha_mode() == gltf::material::AlphaMode::Blend,
                    double_sided: material.double_sided(),
                    texture,
                    feature_ids: ids.filter(|ids| ids.len() == positions.len()),
                    positions,
                };
                check_part(&part).map_err(|e| format!("glTF mesh {}: {e}", mesh.index()))?;
                out.push(part);
            }
        }
        stack.extend(node.children().map(|c| (c, world)));
    }
    Ok(out)
}

/// `KHR_texture_transform`: uv' = T · R · S · uv, with R turning by `rotation` as the spec writes it.
pub fn transform_uvs(uvs: &[[f32; 2]], offset: [f32; 2], rotation: f32, scale: [f32; 2]) -> Vec<[f32; 2]> {
    let (s, c) = rotation.sin_cos();
    uvs.iter()
        .map(|[u, v]| {
            let (su, sv) = (u * scale[0], v * scale[1]);
            [c * su + s * sv + offset[0], -s * su + c * sv + offset[1]]
        })
        .collect()
}

fn image_bytes(buffers: &[Option<Vec<u8>>], image: gltf::Image) -> Option<(Vec<u8>, String)> {
    match image.source() {
        gltf::image::Source::View { view, mime_type } => {
            let data = buffers.get(view.buffer().index())?.as_ref()?;
            let bytes = data.get(view.offset()..view.offset().checked_add(view.length())?)?.to_vec();
            Some((bytes, mime_type.to_owned()))
        }
        gltf::image::Source::Uri { uri: u, mime_type } if u.starts_with("data:") => {
            let mime = mime_type
                .map(str::to_owned)
                .unwrap_or_else(|| u[5..].split(';').next().unwrap_or("image/png").to_owned());
            Some((uri::decode_data_uri(u).ok()?, mime))
        }
        _ => None,
    }
}

/// Bevy assets of a part; a texture larger than the device's `max_texture_side` px is left out.
/// A part with feature IDs carries them in its second UV channel for `table`, its tile's feature
/// state table (`feature_state`).
pub fn to_assets(
    part: &PartData,
    max_texture_side: u32,
    table: Option<&FeatureTable>,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<TileMaterial>,
    images: &mut Assets<Image>,
) -> (Handle<Mesh>, Handle<TileMaterial>) {
    let topology = if part.points { PrimitiveTopology::PointList } else { PrimitiveTopology::TriangleList };
    let mut mesh = Mesh::new(topology, RenderAssetUsages::RENDER_WORLD);
    mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, part.positions.clone());
    if let Some(n) = &part.normals {
        mesh.insert_attribute(Mesh::ATTRIBUTE_NORMAL, n.clone());
    }
    if let Some(c) = &part.colors {
        mesh.insert_attribute(Mesh::ATTRIBUTE_COLOR, c.clone());
    }
    if let Some(uv) = &part.uvs {
        mesh.insert_attribute(Mesh::ATTRIBUTE_UV_0, uv.clone());
    }
    let table = table.filter(|_| part.feature_ids.is_some());
    if let (Some(ids), Some(_)) = (&part.feature_ids, table) {
        // Exact in f32: a table holds far fewer than 2^24 features.
        mesh.insert_attribute(Mesh::ATTRIBUTE_UV_1, ids.iter().map(|id| [*id as f32, 0.0]).collect::<Vec<[f32; 2]>>());
        if part.uvs.is_none() {
            // Bevy's PBR shader reads the first UV channel wherever a second one exists.
            mesh.insert_attribute(Mesh::ATTRIBUTE_UV_0, vec![[0.0f32, 0.0]; ids.len()]);
        }
    }
    if let Some(i) = &part.indices {
        mesh.insert_indices(Indices::U32(i.clone()));
    }
    if part.normals.is_none() && !part.points {
        if part.indices.is_some() {
            mesh.duplicate_vertices();
        }
        mesh.compute_flat_normals();
    }
    let texture = part.texture.as_ref().and_then(|(bytes, mime)| {
        Image::from_buffer(
            bytes,
            ImageType::MimeType(mime),
            CompressedImageFormats::NONE,
            true,
            ImageSampler::Default,
            RenderAssetUsages::RENDER_WORLD,
        )
        .ok()
        .filter(|img| {
            let fits = img.width() <= max_texture_side && img.height() <= max_texture_side;
            if !fits {
                warn!(
                    "a {}×{} px texture exceeds this GPU's {max_texture_side} px: drawn untextured",
                    img.width(),
                    img.height()
                );
            }
            fits
        })
        .map(|img| images.add(img))
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
    let extension = FeatureStateExt { table: table.map(|t| t.image.clone()).unwrap_or_default() };
    (meshes.add(mesh), materials.add(TileMaterial { base, extension }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiles::content::write;

    #[test]
    fn a_minimal_glb_becomes_one_triangle_part_in_z_up() {
        let mut bin = Vec::new();
        for v in [0.0f32, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0] {
            bin.extend(v.to_le_bytes());
        }
        let json = serde_json::json!({"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}],
            "nodes": [{"mesh": 0, "translation": [0.0, 5.0, 0.0]}], "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
            "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]}],
            "bufferViews": [{"buffer": 0, "byteLength": 36}], "buffers": [{"byteLength": 36}]});
        let glb = write::glb(&serde_json::to_vec(&json).unwrap(), Some(&bin));
        let model = Model {
            gltf: glb,
            is_json: false,
            rtc_center: Some(DVec3::new(100.0, 0.0, 0.0)),
            batch_length: 0,
            feature_table: None,
            batch_table: None,
        };
        let parts = parts(&TileContent::Model(model), UpAxis::Y, &DMat4::IDENTITY).unwrap();
        assert_eq!(parts.len(), 1);
        // glTF y = 5 (node translation) is tile z = 5; RTC adds 100 in x.
        let p = parts[0].tile_from_part[0].transform_point3(DVec3::ZERO);
        assert!((p - DVec3::new(100.0, 0.0, 5.0)).length() < 1e-9, "{p}");
        assert_eq!(parts[0].positions.len(), 3);
    }

    #[test]
    fn texture_transforms_follow_the_extension_spec() {
        // Scale, then a quarter turn, then offset: (1, 0) → (2, 0) → (0, −2) → (0.5, −1.5).
        let out = transform_uvs(&[[1.0, 0.0]], [0.5, 0.5], std::f32::consts::FRAC_PI_2, [2.0, 3.0]);
        assert!((out[0][0] - 0.5).abs() < 1e-6 && (out[0][1] + 1.5).abs() < 1e-6, "{out:?}");
        assert_eq!(transform_uvs(&[[0.25, 0.75]], [0.0, 0.0], 0.0, [1.0, 1.0]), vec![[0.25, 0.75]]);
    }
}
