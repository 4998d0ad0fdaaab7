//! Content preparation, engine-free: a tile's decoded content becomes render-ready parts (positions,
//! normals, UVs, colours, indices, feature IDs, decoded textures) with their placements in the tile,
//! on whatever worker thread the engine runs it; the engine only uploads them. Content past the
//! bounds of [`limits`] is an error for its tile, never a panic.

mod finish;
mod gltf;
pub mod limits;

use glam::{DMat3, DMat4, DQuat, DVec3};

pub use self::gltf::{GltfDoc, gltf_parts, transform_uvs};
use self::limits::{check_part, check_placements};
use crate::geo::enu_axes;
use crate::tiles::UpAxis;
use crate::tiles::content::{Instances, Model, Points, TileContent};

/// One drawable: geometry, material and where it sits in its tile (or in each instance). Triangle
/// parts always have normals (flat ones, on unshared vertices, where the content had none).
#[derive(Debug, Clone, Default)]
pub struct RenderPart {
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
    /// The base-colour texture, decoded (sRGB).
    pub texture: Option<Texture>,
    /// Per-vertex feature IDs (EXT_mesh_features or _BATCHID), for picking and per-feature state.
    pub feature_ids: Option<Vec<u32>>,
}

/// A decoded texture: RGBA8, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Texture {
    pub width_px: u32,
    pub height_px: u32,
    pub rgba8: Vec<u8>,
}

/// The render-ready parts of a tile's content; `ecef_from_tile` orients i3dm `EAST_NORTH_UP`
/// instances.
pub fn prepare(content: &TileContent, up: UpAxis, ecef_from_tile: &DMat4) -> Result<Vec<RenderPart>, String> {
    let mut parts = content_parts(content, up, ecef_from_tile)?;
    check_placements(&parts)?;
    for p in &mut parts {
        finish::flat_normals_where_missing(p);
    }
    Ok(parts)
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
fn content_parts(content: &TileContent, up: UpAxis, ecef_from_tile: &DMat4) -> Result<Vec<RenderPart>, String> {
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

fn model_parts(m: &Model, up: UpAxis) -> Result<Vec<RenderPart>, String> {
    let rtc = DMat4::from_translation(m.rtc_center.unwrap_or(DVec3::ZERO));
    let mut parts = gltf_parts(&m.gltf, m.is_json)?;
    for p in &mut parts {
        for t in &mut p.tile_from_part {
            *t = rtc * z_up_from(up) * *t;
        }
    }
    Ok(parts)
}

fn points_part(p: &Points) -> RenderPart {
    let rtc = DMat4::from_translation(p.rtc_center.unwrap_or(DVec3::ZERO));
    let colors = p.colors_rgba.as_ref().map(|c| c.iter().map(|c| c.map(|v| v as f32 / 255.0)).collect());
    let base = p.constant_rgba.map_or([0.85, 0.85, 0.85, 1.0], |c| c.map(|v| v as f32 / 255.0));
    RenderPart {
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

fn instance_parts(i: &Instances, up: UpAxis, ecef_from_tile: &DMat4) -> Result<Vec<RenderPart>, String> {
    let glb = match &i.model {
        crate::tiles::content::InstancedModel::Glb(g) => g,
        crate::tiles::content::InstancedModel::Uri(u) => {
            return Err(format!("i3dm model by URI ({u}) is not loaded yet"));
        }
    };
    let rtc = i.rtc_center.unwrap_or(DVec3::ZERO);
    if i.positions.len() > limits::MAX_PLACEMENTS {
        return Err(format!("{} instances; at most {} are drawn per tile", i.positions.len(), limits::MAX_PLACEMENTS));
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
        let parts = prepare(&TileContent::Model(model), UpAxis::Y, &DMat4::IDENTITY).unwrap();
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
