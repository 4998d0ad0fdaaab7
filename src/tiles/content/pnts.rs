//! Point clouds (pnts): positions, colours, normals and batch ids from the feature table.

use glam::{DVec3, Vec3};

use super::super::{TilesError, Warnings};
use super::attributes::{batch_ids, oct_array, positions_and_center, to_vec3};
use super::tables::{check_header, parse_batch_table, read_lengths, split_tables};
use super::{BatchTable, ComponentType, FeatureTable};

const WHAT: &str = "pnts";

/// A decoded point cloud. Positions are f32 relative to `rtc_center` (tile coordinates).
#[derive(Debug, Clone)]
pub struct Points {
    pub positions: Vec<Vec3>,
    pub rtc_center: Option<DVec3>,
    pub colors_rgba: Option<Vec<[u8; 4]>>,
    pub constant_rgba: Option<[u8; 4]>,
    pub normals: Option<Vec<Vec3>>,
    pub batch_ids: Option<Vec<u32>>,
    pub batch_length: u32,
    pub feature_table: FeatureTable,
    pub batch_table: Option<BatchTable>,
}

impl Points {
    pub fn byte_size(&self) -> usize {
        self.positions.len() * 12
            + self.colors_rgba.as_ref().map_or(0, |c| c.len() * 4)
            + self.normals.as_ref().map_or(0, |n| n.len() * 12)
            + self.batch_ids.as_ref().map_or(0, |b| b.len() * 4)
            + self.feature_table.byte_size()
            + self.batch_table.as_ref().map_or(0, BatchTable::byte_size)
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<(Points, Warnings), TilesError> {
    let mut w = Warnings::default();
    let bytes = check_header(bytes, b"pnts", 28, WHAT, &mut w)?;
    let l = read_lengths(bytes, WHAT)?;
    let tables = split_tables(bytes, 28, l, WHAT, &mut w)?;
    let ft = &tables.feature_table;
    let draco = ft.json.get("extensions").and_then(|e| e.get("3DTILES_draco_point_compression")).is_some();
    if draco {
        return Err(TilesError::UnsupportedContent("pnts with 3DTILES_draco_point_compression".into()));
    }
    let n = ft
        .global_u32("POINTS_LENGTH")
        .ok_or_else(|| TilesError::invalid(WHAT, "feature table lacks POINTS_LENGTH"))? as usize;
    let (positions, rtc_center) = positions_and_center(ft, n, WHAT)?;
    let colors_rgba = colors(ft, n, &mut w);
    let constant_rgba = ft.global_vec("CONSTANT_RGBA", 4).map(|c| [c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8]);
    let normals = normals(ft, n, &mut w);
    let batch_ids = batch_ids(ft, n).unwrap_or_else(|e| {
        w.push(WHAT, format!("BATCH_ID ignored: {e}"));
        None
    });
    let batch_length = ft.global_u32("BATCH_LENGTH").unwrap_or(0);
    if batch_ids.is_some() && batch_length == 0 {
        w.push(WHAT, "BATCH_ID without BATCH_LENGTH");
    }
    let table_rows = if batch_ids.is_some() { batch_length as usize } else { n };
    let batch_table = parse_batch_table(&tables, table_rows, WHAT, &mut w);
    let feature_table = tables.feature_table;
    Ok((
        Points {
            positions,
            rtc_center,
            colors_rgba,
            constant_rgba,
            normals,
            batch_ids,
            batch_length,
            feature_table,
            batch_table,
        },
        w,
    ))
}

fn colors(ft: &FeatureTable, n: usize, w: &mut Warnings) -> Option<Vec<[u8; 4]>> {
    let attempt = || -> Result<Option<Vec<[u8; 4]>>, TilesError> {
        if let Some(c) = ft.property("RGBA", n, 4, &[ComponentType::U8])? {
            return Ok(Some(c.chunks_exact(4).map(|c| [c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8]).collect()));
        }
        if let Some(c) = ft.property("RGB", n, 3, &[ComponentType::U8])? {
            return Ok(Some(c.chunks_exact(3).map(|c| [c[0] as u8, c[1] as u8, c[2] as u8, 255]).collect()));
        }
        if let Some(c) = ft.property("RGB565", n, 1, &[ComponentType::U16])? {
            let expand = |v: u32, bits: u32| ((v * 255) / ((1 << bits) - 1)) as u8;
            return Ok(Some(
                c.into_iter()
                    .map(|v| {
                        let v = v as u32;
                        [expand(v >> 11, 5), expand((v >> 5) & 0x3f, 6), expand(v & 0x1f, 5), 255]
                    })
                    .collect(),
            ));
        }
        Ok(None)
    };
    attempt().unwrap_or_else(|e| {
        w.push(WHAT, format!("colours ignored: {e}"));
        None
    })
}

fn normals(ft: &FeatureTable, n: usize, w: &mut Warnings) -> Option<Vec<Vec3>> {
    let attempt = || -> Result<Option<Vec<Vec3>>, TilesError> {
        if let Some(v) = ft.property("NORMAL", n, 3, &[ComponentType::F32])? {
            return Ok(Some(to_vec3(&v)));
        }
        Ok(ft.property("NORMAL_OCT16P", n, 2, &[ComponentType::U8])?.map(|v| oct_array(&v, 255.0)))
    };
    attempt().unwrap_or_else(|e| {
        w.push(WHAT, format!("normals ignored: {e}"));
        None
    })
}

#[cfg(test)]
mod tests {
    use super::super::write;
    use super::*;

    #[test]
    fn float_positions_with_rgb_and_rtc() {
        let mut bin = write::f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        bin.extend_from_slice(&[255, 0, 0, 0, 255, 0]);
        let ft = br#"{"POINTS_LENGTH":2,"POSITION":{"byteOffset":0},"RGB":{"byteOffset":24},"RTC_CENTER":[10,0,0]}"#;
        let (p, w) = decode(&write::pnts(ft, &bin, b"", b"")).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(p.positions[1], Vec3::new(4.0, 5.0, 6.0));
        assert_eq!(p.colors_rgba.unwrap()[1], [0, 255, 0, 255]);
        assert_eq!(p.rtc_center, Some(DVec3::new(10.0, 0.0, 0.0)));
    }

    #[test]
    fn quantized_positions_keep_the_offset_in_f64() {
        let bin: Vec<u8> = [0u16, 0, 0, 65535, 65535, 65535].iter().flat_map(|v| v.to_le_bytes()).collect();
        let ft = br#"{"POINTS_LENGTH":2,"POSITION_QUANTIZED":{"byteOffset":0},
            "QUANTIZED_VOLUME_OFFSET":[6378137,0,0],"QUANTIZED_VOLUME_SCALE":[10,20,30]}"#;
        let (p, _) = decode(&write::pnts(ft, &bin, b"", b"")).unwrap();
        assert_eq!(p.rtc_center, Some(DVec3::new(6_378_137.0, 0.0, 0.0)));
        assert_eq!(p.positions[1], Vec3::new(10.0, 20.0, 30.0));
    }

    #[test]
    fn missing_or_short_positions_are_errors() {
        assert!(decode(&write::pnts(br#"{"POINTS_LENGTH":2}"#, b"", b"", b"")).is_err());
        let ft = br#"{"POINTS_LENGTH":5,"POSITION":{"byteOffset":0}}"#;
        assert!(decode(&write::pnts(ft, &[0; 24], b"", b"")).is_err());
        assert!(decode(&write::pnts(br#"{"POSITION":{"byteOffset":0}}"#, &[0; 24], b"", b"")).is_err());
    }

    #[test]
    fn draco_is_reported_as_unsupported() {
        let ft = br#"{"POINTS_LENGTH":1,"extensions":{"3DTILES_draco_point_compression":{"properties":{}}}}"#;
        assert!(matches!(decode(&write::pnts(ft, b"", b"", b"")), Err(TilesError::UnsupportedContent(_))));
    }
}
