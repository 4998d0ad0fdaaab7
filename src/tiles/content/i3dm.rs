//! Instanced 3D Model (i3dm): per-instance transforms for one glb (embedded or by URI).

use glam::{DVec3, Vec3};

use super::super::{TilesError, Warnings};
use super::attributes::{batch_ids, oct_array, positions_and_center, to_vec3};
use super::tables::{check_header, parse_batch_table, read_lengths, read_u32, split_tables};
use super::{BatchTable, ComponentType, FeatureTable, parse_glb};

const WHAT: &str = "i3dm";

/// The instanced model: an embedded glb, or a URI relative to the tile.
#[derive(Debug, Clone, PartialEq)]
pub enum InstancedModel {
    Glb(Vec<u8>),
    Uri(String),
}

/// Decoded instances. Positions are tile coordinates: `rtc_center + positions[i]` (f64).
#[derive(Debug, Clone)]
pub struct Instances {
    pub model: InstancedModel,
    pub rtc_center: Option<DVec3>,
    pub positions: Vec<Vec3>,
    /// Explicit orientation (`NORMAL_UP`/`NORMAL_RIGHT` or their oct-encoded forms).
    pub normal_up: Option<Vec<Vec3>>,
    pub normal_right: Option<Vec<Vec3>>,
    /// Orient each instance to its local east-north-up frame when no normals are given.
    pub east_north_up: bool,
    pub scales: Option<Vec<Vec3>>,
    pub batch_ids: Option<Vec<u32>>,
    pub feature_table: FeatureTable,
    pub batch_table: Option<BatchTable>,
}

impl Instances {
    pub fn byte_size(&self) -> usize {
        let model = match &self.model {
            InstancedModel::Glb(g) => g.len(),
            InstancedModel::Uri(u) => u.len(),
        };
        model
            + self.positions.len() * 12
            + [&self.normal_up, &self.normal_right, &self.scales]
                .iter()
                .map(|v| v.as_ref().map_or(0, |v| v.len() * 12))
                .sum::<usize>()
            + self.batch_ids.as_ref().map_or(0, |b| b.len() * 4)
            + self.feature_table.byte_size()
            + self.batch_table.as_ref().map_or(0, BatchTable::byte_size)
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<(Instances, Warnings), TilesError> {
    let mut w = Warnings::default();
    let bytes = check_header(bytes, b"i3dm", 32, WHAT, &mut w)?;
    let l = read_lengths(bytes, WHAT)?;
    let gltf_format = read_u32(bytes, 28, WHAT)?;
    let tables = split_tables(bytes, 32, l, WHAT, &mut w)?;
    let ft = &tables.feature_table;
    let n = ft
        .global_u32("INSTANCES_LENGTH")
        .ok_or_else(|| TilesError::invalid(WHAT, "feature table lacks INSTANCES_LENGTH"))? as usize;
    let (positions, rtc_center) = positions_and_center(ft, n, WHAT)?;
    let normal = |name: &str, oct: &str| -> Result<Option<Vec<Vec3>>, TilesError> {
        if let Some(v) = ft.property(name, n, 3, &[ComponentType::F32])? {
            return Ok(Some(to_vec3(&v)));
        }
        Ok(ft.property(oct, n, 2, &[ComponentType::U16])?.map(|v| oct_array(&v, 65535.0)))
    };
    let normal_up = normal("NORMAL_UP", "NORMAL_UP_OCT32P")?;
    let normal_right = normal("NORMAL_RIGHT", "NORMAL_RIGHT_OCT32P")?;
    if normal_up.is_some() != normal_right.is_some() {
        w.push(WHAT, "NORMAL_UP and NORMAL_RIGHT must come together; orientation ignored");
    }
    let (normal_up, normal_right) = match (normal_up, normal_right) {
        (Some(u), Some(r)) => (Some(u), Some(r)),
        _ => (None, None),
    };
    let scales = match ft.property("SCALE_NON_UNIFORM", n, 3, &[ComponentType::F32])? {
        Some(v) => Some(to_vec3(&v)),
        None => ft
            .property("SCALE", n, 1, &[ComponentType::F32])?
            .map(|v| v.into_iter().map(|s| Vec3::splat(s as f32)).collect()),
    };
    let batch_ids = batch_ids(ft, n)?;
    let rows = batch_ids.as_ref().map_or(n, |ids| ids.iter().max().map_or(0, |m| *m as usize + 1));
    let batch_table = parse_batch_table(&tables, rows, WHAT, &mut w);
    let model = match gltf_format {
        1 => {
            let (glb, gw) = parse_glb(tables.body)?;
            w.extend(gw);
            InstancedModel::Glb(tables.body[..glb.length].to_vec())
        }
        0 => {
            let end = tables.body.iter().position(|&b| b == 0).unwrap_or(tables.body.len());
            let uri = std::str::from_utf8(&tables.body[..end])
                .map_err(|_| TilesError::invalid(WHAT, "glTF URI is not UTF-8"))?
                .trim()
                .to_owned();
            if uri.is_empty() {
                return Err(TilesError::invalid(WHAT, "gltfFormat 0 with an empty URI"));
            }
            InstancedModel::Uri(uri)
        }
        other => return Err(TilesError::invalid(WHAT, format!("gltfFormat {other} is neither 0 nor 1"))),
    };
    let east_north_up = ft.global_bool("EAST_NORTH_UP");
    let feature_table = tables.feature_table;
    Ok((
        Instances {
            model,
            rtc_center,
            positions,
            normal_up,
            normal_right,
            east_north_up,
            scales,
            batch_ids,
            feature_table,
            batch_table,
        },
        w,
    ))
}

#[cfg(test)]
mod tests {
    use super::super::write;
    use super::*;

    #[test]
    fn positions_normals_scales_and_embedded_glb() {
        let mut bin = write::f32_bytes(&[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]); // POSITION
        bin.extend(write::f32_bytes(&[0.0, 0.0, 1.0, 0.0, 0.0, 1.0])); // NORMAL_UP @24
        bin.extend(write::f32_bytes(&[1.0, 0.0, 0.0, 1.0, 0.0, 0.0])); // NORMAL_RIGHT @48
        bin.extend(write::f32_bytes(&[2.0, 3.0])); // SCALE @72
        let ft = br#"{"INSTANCES_LENGTH":2,"POSITION":{"byteOffset":0},"NORMAL_UP":{"byteOffset":24},
            "NORMAL_RIGHT":{"byteOffset":48},"SCALE":{"byteOffset":72},"RTC_CENTER":[1,1,1]}"#;
        let g = write::glb(br#"{"asset":{"version":"2.0"}}"#, None);
        let (i, w) = decode(&write::i3dm(ft, &bin, b"", b"", &g)).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(i.positions.len(), 2);
        assert_eq!(i.normal_up.unwrap()[1], Vec3::Z);
        assert_eq!(i.scales.unwrap()[1], Vec3::splat(3.0));
        assert_eq!(i.model, InstancedModel::Glb(g));
        assert_eq!(i.rtc_center, Some(DVec3::ONE));
    }

    #[test]
    fn bad_instances_are_errors() {
        let g = write::glb(br#"{"asset":{"version":"2.0"}}"#, None);
        assert!(decode(&write::i3dm(br#"{"INSTANCES_LENGTH":1}"#, b"", b"", b"", &g)).is_err());
        let ft = br#"{"INSTANCES_LENGTH":3,"POSITION":{"byteOffset":0}}"#;
        assert!(decode(&write::i3dm(ft, &[0; 24], b"", b"", &g)).is_err(), "positions overrun");
    }
}
