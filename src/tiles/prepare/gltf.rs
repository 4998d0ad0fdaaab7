//! glTF 2.0 (glb or JSON with embedded buffers) to render parts: every triangle or point primitive
//! of the default scene, node transforms composed, feature IDs attached, textures decoded.

use glam::DMat4;

use super::limits::{check_accessor, check_part, check_texture};
use super::{RenderPart, finish};
use crate::tiles::content::features::GltfView;
use crate::tiles::uri;

/// A parsed glTF and its buffers (the glb's own, or `data:` URIs; external files are not read).
pub struct GltfDoc {
    pub doc: gltf::Gltf,
    pub buffers: Vec<Option<Vec<u8>>>,
}

impl GltfDoc {
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        // Validation makes every index in the document refer to something that exists.
        let doc = gltf::Gltf::from_slice(bytes).map_err(|e| format!("glTF: {e}"))?;
        let buffers = doc
            .buffers()
            .map(|b| match b.source() {
                gltf::buffer::Source::Bin => doc.blob.clone(),
                gltf::buffer::Source::Uri(u) if u.starts_with("data:") => uri::decode_data_uri(u).ok(),
                gltf::buffer::Source::Uri(_) => None,
            })
            .collect();
        Ok(Self { doc, buffers })
    }

    /// Every node of the default scene with its transform composed from the scene's root (glTF
    /// space); a node reached twice (a cycle, or a child of two parents) is an error.
    pub fn scene_nodes(&self) -> Result<Vec<(gltf::Node<'_>, DMat4)>, String> {
        let doc = &self.doc;
        let scene = doc.default_scene().or_else(|| doc.scenes().next()).ok_or("glTF without a scene")?;
        let mut out = Vec::new();
        let mut visited = vec![false; doc.nodes().len()];
        let mut stack: Vec<(gltf::Node, DMat4)> = scene.nodes().map(|n| (n, DMat4::IDENTITY)).collect();
        while let Some((node, parent)) = stack.pop() {
            if std::mem::replace(&mut visited[node.index()], true) {
                return Err(format!(
                    "glTF: node {} is reached twice (a cycle, or a child of two parents)",
                    node.index()
                ));
            }
            let local = DMat4::from_cols_array_2d(&node.transform().matrix().map(|c| c.map(|v| v as f64)));
            let world = parent * local;
            stack.extend(node.children().map(|c| (c, world)));
            out.push((node, world));
        }
        Ok(out)
    }

    /// One triangle or point primitive as a render part placed at `world` (`None` for other modes
    /// or no positions), its accessors checked first.
    pub fn primitive_part(&self, prim: &gltf::Primitive, world: DMat4) -> Result<Option<RenderPart>, String> {
        let buffers = &self.buffers;
        let points = match prim.mode() {
            gltf::mesh::Mode::Triangles => false,
            gltf::mesh::Mode::Points => true,
            _ => return Ok(None),
        };
        for accessor in prim.attributes().map(|(_, a)| a).chain(prim.indices()) {
            check_accessor(&accessor, buffers)?;
        }
        let reader = prim.reader(|b| buffers.get(b.index()).and_then(|d| d.as_deref()));
        let Some(positions) = reader.read_positions() else { return Ok(None) };
        let material = prim.material();
        let pbr = material.pbr_metallic_roughness();
        let base_tex = pbr.base_color_texture();
        let texture = match base_tex.as_ref().and_then(|t| image_bytes(buffers, t.texture().source())) {
            Some(bytes) => {
                check_texture(&bytes)?;
                finish::decode_texture(&bytes)
            }
            None => None,
        };
        let uv_set =
            base_tex.as_ref().map_or(0, |t| t.texture_transform().and_then(|x| x.tex_coord()).unwrap_or(t.tex_coord()));
        let uvs = reader.read_tex_coords(uv_set).map(|t| {
            let uvs: Vec<[f32; 2]> = t.into_f32().collect();
            match base_tex.as_ref().and_then(|t| t.texture_transform()) {
                Some(x) => transform_uvs(&uvs, x.offset(), x.rotation(), x.scale()),
                None => uvs,
            }
        });
        let part = RenderPart {
            tile_from_part: vec![world],
            points,
            positions: positions.collect(),
            normals: reader.read_normals().map(|n| n.collect()),
            colors: reader.read_colors(0).map(|c| c.into_rgba_f32().collect()),
            uvs,
            indices: reader.read_indices().map(|i| i.into_u32().collect()),
            base_color: pbr.base_color_factor(),
            unlit: material.unlit(),
            blend: material.alpha_mode() == gltf::material::AlphaMode::Blend,
            double_sided: material.double_sided(),
            texture,
            feature_ids: None,
        };
        check_part(&part)?;
        Ok(Some(part))
    }
}

/// Every primitive of the default scene, with node transforms composed (in glTF space).
pub fn gltf_parts(bytes: &[u8], is_json: bool) -> Result<Vec<RenderPart>, String> {
    let gltf = GltfDoc::parse(bytes)?;
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
    let mut out = Vec::new();
    for (node, world) in gltf.scene_nodes()? {
        let Some(mesh) = node.mesh() else { continue };
        for prim in mesh.primitives() {
            let part = gltf.primitive_part(&prim, world).map_err(|e| format!("glTF mesh {}: {e}", mesh.index()))?;
            let Some(mut part) = part else { continue };
            let ids = feature_ids.iter().find(|(m, p, _)| *m == mesh.index() && *p == prim.index());
            part.feature_ids = ids.map(|f| f.2.clone()).filter(|ids| ids.len() == part.positions.len());
            out.push(part);
        }
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

fn image_bytes(buffers: &[Option<Vec<u8>>], image: gltf::Image) -> Option<Vec<u8>> {
    match image.source() {
        gltf::image::Source::View { view, .. } => {
            let data = buffers.get(view.buffer().index())?.as_ref()?;
            Some(data.get(view.offset()..view.offset().checked_add(view.length())?)?.to_vec())
        }
        gltf::image::Source::Uri { uri: u, .. } if u.starts_with("data:") => uri::decode_data_uri(u).ok(),
        _ => None,
    }
}
