//! A BIM model read from glb with IFC metadata (`node.extras.ifc`, one node per IfcProduct, as the
//! project's IFC converter writes it): its products with their geometry in model metres (glTF
//! y-up), their IFC attributes and property sets, the spatial tree and the georeference.

use std::collections::BTreeMap;

use glam::{DMat3, DMat4, DVec3};
use serde_json::Value;

use super::BimError;
use crate::tiles::prepare::GltfDoc;

/// The most products one model may have (each becomes a feature of several tiles).
pub const MAX_PRODUCTS: usize = 1_000_000;
/// The most property-set properties kept per product.
pub const MAX_PROPERTIES_PER_PRODUCT: usize = 2_000;

/// One surface of a product: triangles of one material, in model metres (glTF y-up).
#[derive(Debug, Clone, Default)]
pub struct Surface {
    pub rgba: [f32; 4],
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub indices: Vec<u32>,
}

/// A storey (IfcBuildingStorey), as products refer to it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoreyRef {
    pub global_id: String,
    pub name: String,
}

/// One IfcProduct.
#[derive(Debug, Clone, Default)]
pub struct Product {
    pub global_id: String,
    pub ifc_type: String,
    pub name: String,
    /// The IfcProduct it is part of or contained in (GlobalId), if any.
    pub parent: Option<String>,
    pub storey: Option<StoreyRef>,
    pub materials: Vec<String>,
    /// `(property set, property) → value` (scalars; lists and objects as JSON text).
    pub properties: BTreeMap<(String, String), Value>,
    pub surfaces: Vec<Surface>,
}

impl Product {
    pub fn has_geometry(&self) -> bool {
        self.surfaces.iter().any(|s| !s.indices.is_empty())
    }

    /// Bounds in model metres (glTF y-up); `None` without geometry.
    pub fn bounds(&self) -> Option<(DVec3, DVec3)> {
        let mut points = self.surfaces.iter().flat_map(|s| &s.positions).map(|p| DVec3::from(p.map(f64::from)));
        let first = points.next()?;
        Some(points.fold((first, first), |(lo, hi), p| (lo.min(p), hi.max(p))))
    }

    /// Its bounding box's diagonal, metres (0 without geometry).
    pub fn size_m(&self) -> f64 {
        self.bounds().map_or(0.0, |(lo, hi)| (hi - lo).length())
    }
}

/// Where the model stands on Earth, as the IFC file says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Georeference {
    pub lon_deg: f64,
    pub lat_deg: f64,
    pub height_m: f64,
    /// Clockwise from north to the model's +Y axis (IfcGeometricRepresentationContext.TrueNorth,
    /// else IfcMapConversion's X axis).
    pub heading_deg: f64,
}

impl Georeference {
    /// From the converter's `georeference` object (in the glb's `asset.extras` or the sidecar).
    pub fn from_json(geo: &Value) -> Option<Self> {
        let site = &geo["IfcSite"];
        let (lat_deg, lon_deg) = (site["latitude_deg"].as_f64()?, site["longitude_deg"].as_f64()?);
        if !(lat_deg.is_finite() && lon_deg.is_finite() && lat_deg.abs() <= 90.0 && lon_deg.abs() <= 180.0) {
            return None;
        }
        let height_m = site["RefElevation"].as_f64().filter(|h| h.is_finite()).unwrap_or(0.0);
        // TrueNorth: the direction of north in model x, y; +Y's heading is minus north's angle from +Y.
        let true_north = geo["TrueNorth"].as_array().and_then(|d| Some((d.first()?.as_f64()?, d.get(1)?.as_f64()?)));
        let map_x_axis = geo["IfcMapConversion"][0]["XAxisAbscissa"]
            .as_f64()
            .zip(geo["IfcMapConversion"][0]["XAxisOrdinate"].as_f64());
        let heading_deg = match (true_north, map_x_axis) {
            (Some((x, y)), _) if x.hypot(y) > 0.0 => -x.atan2(y).to_degrees(),
            // The model's X axis at `angle` anticlockwise from east: +Y at `angle` anticlockwise from north.
            (_, Some((a, o))) if a.hypot(o) > 0.0 => -o.atan2(a).to_degrees(),
            _ => 0.0,
        };
        Some(Self { lon_deg, lat_deg, height_m, heading_deg: heading_deg.rem_euclid(360.0) })
    }
}

/// A model's products (in the glb's node order), its spatial tree and its georeference.
#[derive(Debug, Clone, Default)]
pub struct BimModel {
    pub products: Vec<Product>,
    pub georeference: Option<Georeference>,
    /// The IFC schema (`IFC2X3`, `IFC4`, …) when the converter recorded it.
    pub schema: Option<String>,
}

impl BimModel {
    /// Reads a glb whose nodes carry `extras.ifc`. Nodes without it (a scene root, helpers) are
    /// not products; their transforms still apply to their children.
    pub fn from_glb(bytes: &[u8]) -> Result<Self, BimError> {
        let gltf = GltfDoc::parse(bytes).map_err(BimError::Gltf)?;
        let extras = |e: &Option<Box<serde_json::value::RawValue>>| -> Value {
            e.as_ref().and_then(|raw| serde_json::from_str(raw.get()).ok()).unwrap_or(Value::Null)
        };
        let asset = extras(&gltf.doc.as_json().asset.extras);
        let mut products = Vec::new();
        for (node, world) in gltf.scene_nodes().map_err(BimError::Gltf)? {
            let ifc = extras(node.extras()).get_mut("ifc").map(Value::take).unwrap_or(Value::Null);
            let Some(global_id) = ifc["GlobalId"].as_str().map(str::to_owned) else { continue };
            if ifc["type"].as_str() == Some("IfcProject") {
                continue;
            }
            if products.len() == MAX_PRODUCTS {
                return Err(BimError::TooLarge(format!("more than {MAX_PRODUCTS} products")));
            }
            let mut product = product_from_ifc(global_id, &ifc);
            if let Some(mesh) = node.mesh() {
                for prim in mesh.primitives() {
                    let part = gltf
                        .primitive_part(&prim, world)
                        .map_err(|e| BimError::Gltf(format!("mesh {}: {e}", mesh.index())))?;
                    if let Some(part) = part.filter(|p| !p.points) {
                        product.surfaces.push(surface(&part.positions, part.normals.as_deref(), part.indices, world));
                        product.surfaces.last_mut().expect("pushed").rgba = part.base_color;
                    }
                }
            }
            products.push(product);
        }
        let georeference = Georeference::from_json(&asset["georeference"]);
        let schema = asset["ifc_schema"].as_str().map(str::to_owned);
        Ok(Self { products, georeference, schema })
    }

    /// The products that have geometry.
    pub fn with_geometry(&self) -> impl Iterator<Item = &Product> {
        self.products.iter().filter(|p| p.has_geometry())
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn product_from_ifc(global_id: String, ifc: &Value) -> Product {
    let storey = ifc["storey"]["GlobalId"].as_str().map(|id| StoreyRef {
        global_id: id.to_owned(),
        name: ifc["storey"]["Name"].as_str().map_or_else(|| id.to_owned(), str::to_owned),
    });
    let mut properties = BTreeMap::new();
    for (set, props) in ifc["psets"].as_object().into_iter().flatten() {
        for (name, value) in props.as_object().into_iter().flatten() {
            // The converter's `id` is the property set's STEP id, not one of its properties.
            if name == "id" || properties.len() == MAX_PROPERTIES_PER_PRODUCT {
                continue;
            }
            let value = match value {
                Value::Array(_) | Value::Object(_) => Value::String(value.to_string()),
                v => v.clone(),
            };
            properties.insert((set.clone(), name.clone()), value);
        }
    }
    Product {
        global_id,
        ifc_type: text(&ifc["type"]),
        name: text(&ifc["Name"]),
        parent: ifc["parent"].as_str().map(str::to_owned),
        storey,
        materials: ifc["materials"].as_array().into_iter().flatten().map(text).collect(),
        properties,
        surfaces: Vec::new(),
    }
}

/// A primitive's triangles moved into model space by `world` (normals by its inverse transpose;
/// a mirroring transform flips the winding back).
fn surface(positions: &[[f32; 3]], normals: Option<&[[f32; 3]]>, indices: Option<Vec<u32>>, world: DMat4) -> Surface {
    let normal_matrix = DMat3::from_mat4(world).inverse().transpose();
    let mirrored = DMat3::from_mat4(world).determinant() < 0.0;
    let mut indices = indices.unwrap_or_else(|| (0..positions.len() as u32).collect());
    indices.truncate(indices.len() / 3 * 3);
    if mirrored {
        for t in indices.chunks_exact_mut(3) {
            t.swap(1, 2);
        }
    }
    let positions: Vec<[f32; 3]> =
        positions.iter().map(|p| world.transform_point3(DVec3::from(p.map(f64::from))).as_vec3().to_array()).collect();
    let normals = match normals {
        Some(n) => n
            .iter()
            .map(|n| (normal_matrix * DVec3::from(n.map(f64::from))).normalize_or_zero().as_vec3().to_array())
            .collect(),
        None => flat_normals(&positions, &indices),
    };
    Surface { rgba: [1.0; 4], positions, normals, indices }
}

/// Per-vertex normals as the area-weighted sum of the faces that use each vertex.
fn flat_normals(positions: &[[f32; 3]], indices: &[u32]) -> Vec<[f32; 3]> {
    let mut sums = vec![DVec3::ZERO; positions.len()];
    let at = |i: u32| DVec3::from(positions[i as usize].map(f64::from));
    for t in indices.chunks_exact(3) {
        let n = (at(t[1]) - at(t[0])).cross(at(t[2]) - at(t[0]));
        for i in t {
            sums[*i as usize] += n;
        }
    }
    sums.iter().map(|n| n.normalize_or(DVec3::Y).as_vec3().to_array()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn georeference_reads_the_site_and_true_north() {
        let geo = serde_json::json!({"IfcSite": {"latitude_deg": 41.8744, "longitude_deg": -87.6394, "RefElevation": 12.5},
            "TrueNorth": [1.0, 1.0]});
        let g = Georeference::from_json(&geo).unwrap();
        assert_eq!((g.lat_deg, g.lon_deg, g.height_m), (41.8744, -87.6394, 12.5));
        // North lies 45° clockwise of +Y (towards +X), so +Y points 45° west of north.
        assert!((g.heading_deg - 315.0).abs() < 1e-9, "{}", g.heading_deg);
        // IfcMapConversion: the X axis 30° anticlockwise from east; +Y is 30° west of north.
        let (s, c) = 30f64.to_radians().sin_cos();
        let geo = serde_json::json!({"IfcSite": {"latitude_deg": 1.0, "longitude_deg": 2.0},
            "IfcMapConversion": [{"XAxisAbscissa": c, "XAxisOrdinate": s}]});
        assert!((Georeference::from_json(&geo).unwrap().heading_deg - 330.0).abs() < 1e-9);
        assert_eq!(
            Georeference::from_json(&serde_json::json!({"IfcSite": {"latitude_deg": 95.0, "longitude_deg": 0.0}})),
            None
        );
        assert_eq!(Georeference::from_json(&Value::Null), None);
    }

    #[test]
    fn a_mirroring_node_keeps_its_triangles_facing_out() {
        let tri = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let s = surface(&tri, None, None, DMat4::from_scale(DVec3::new(-1.0, 1.0, 1.0)));
        assert_eq!(s.indices, vec![0, 2, 1]);
        // Mirrored in x, the winding swapped: the face still points to +z.
        assert!((s.normals[0][2] - 1.0).abs() < 1e-6, "{:?}", s.normals);
    }
}
