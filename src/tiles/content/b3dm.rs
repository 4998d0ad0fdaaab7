//! Batched 3D Model (b3dm): feature table, batch table and an embedded glb; legacy headers too.

use glam::DVec3;

use super::super::{TilesError, Warnings};
use super::tables::{check_header, parse_batch_table, read_lengths, split_tables};
use super::{Model, parse_glb};

const WHAT: &str = "b3dm";
/// A table length this large is really the start of the glb: the tile has a pre-1.0 header.
const LEGACY_THRESHOLD: u32 = 570_425_344;

pub(super) fn decode(bytes: &[u8]) -> Result<(Model, Warnings), TilesError> {
    let mut w = Warnings::default();
    let bytes = check_header(bytes, b"b3dm", 28, WHAT, &mut w)?;
    let l = read_lengths(bytes, WHAT)?;
    let (header_len, lengths, legacy_batch_length) = if l[2] >= LEGACY_THRESHOLD {
        w.push(WHAT, "legacy header [batchLength, batchTableByteLength]");
        (20, [0, 0, l[1], 0], Some(l[0]))
    } else if l[3] >= LEGACY_THRESHOLD {
        w.push(WHAT, "legacy header [batchTableJsonByteLength, batchTableBinaryByteLength, batchLength]");
        (24, [0, 0, l[0], l[1]], Some(l[2]))
    } else {
        (28, l, None)
    };
    let tables = split_tables(bytes, header_len, lengths, WHAT, &mut w)?;
    let ft = &tables.feature_table;
    let batch_length = match (legacy_batch_length, ft.global_u32("BATCH_LENGTH")) {
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => {
            w.push(WHAT, "feature table lacks BATCH_LENGTH; assuming 0");
            0
        }
    };
    let rtc_center = ft.global_vec("RTC_CENTER", 3).map(|v| DVec3::new(v[0], v[1], v[2]));
    if ft.has("RTC_CENTER") && rtc_center.is_none() {
        w.push(WHAT, "RTC_CENTER is malformed; ignored");
    }
    let batch_table = parse_batch_table(&tables, batch_length as usize, WHAT, &mut w);
    let (glb, glb_warnings) = parse_glb(tables.body)?;
    w.extend(glb_warnings);
    let model = Model {
        gltf: tables.body[..glb.length].to_vec(),
        is_json: false,
        rtc_center,
        batch_length,
        feature_table: Some(tables.feature_table),
        batch_table,
    };
    Ok((model, w))
}

#[cfg(test)]
mod tests {
    use super::super::write;
    use super::*;

    fn glb() -> Vec<u8> {
        write::glb(br#"{"asset":{"version":"2.0"}}"#, None)
    }

    #[test]
    fn decodes_tables_rtc_and_glb() {
        let b = write::b3dm(br#"{"BATCH_LENGTH":2,"RTC_CENTER":[1,2,3]}"#, b"", br#"{"h":[5,6]}"#, b"", &glb());
        let (m, w) = decode(&b).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(m.batch_length, 2);
        assert_eq!(m.rtc_center, Some(DVec3::new(1.0, 2.0, 3.0)));
        assert_eq!(m.batch_table.unwrap().property("h", 1), Some(6.into()));
        assert_eq!(m.gltf, glb());
    }

    #[test]
    fn legacy_header_one() {
        // magic, version, byteLength, batchLength, batchTableByteLength, batch table, glb.
        let bt = br#"{"h":[1]}   "#;
        let g = glb();
        let mut b = Vec::new();
        b.extend_from_slice(b"b3dm");
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&((20 + bt.len() + g.len()) as u32).to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&(bt.len() as u32).to_le_bytes());
        b.extend_from_slice(bt);
        b.extend_from_slice(&g);
        let (m, w) = decode(&b).unwrap();
        assert_eq!(m.batch_length, 1);
        assert!(w.iter().any(|w| w.message.contains("legacy")));
    }

    #[test]
    fn malformed_b3dm_are_errors() {
        let good = write::b3dm(br#"{"BATCH_LENGTH":0}"#, b"", b"", b"", &glb());
        assert!(decode(&good[..27]).is_err());
        let mut long_table = good.clone();
        long_table[12..16].copy_from_slice(&9_999u32.to_le_bytes());
        assert!(decode(&long_table).is_err());
        let mut bad_len = good.clone();
        bad_len[8..12].copy_from_slice(&(good.len() as u32 + 8).to_le_bytes());
        assert!(matches!(decode(&bad_len), Err(TilesError::Truncated { .. })));
        let no_glb = write::b3dm(br#"{"BATCH_LENGTH":0}"#, b"", b"", b"", b"");
        assert!(decode(&no_glb).is_err());
        let bad_ft = write::b3dm(b"{oops", b"", b"", b"", &glb());
        assert!(matches!(decode(&bad_ft), Err(TilesError::Json { .. })));
    }

    #[test]
    fn a_broken_batch_table_is_a_warning() {
        let b = write::b3dm(br#"{"BATCH_LENGTH":1}"#, b"", b"{nope", b"", &glb());
        let (m, w) = decode(&b).unwrap();
        assert!(m.batch_table.is_none());
        assert!(w.iter().any(|w| w.message.contains("batch table dropped")));
    }
}
