//! Attribute decodings shared by i3dm and pnts: quantized positions and oct-encoded normals.

use glam::{DVec3, Vec3};

use super::super::TilesError;
use super::{ComponentType, FeatureTable};

/// Positions from `POSITION` (f32) or `POSITION_QUANTIZED` (u16 within the quantized volume),
/// and the centre they are relative to: `RTC_CENTER` plus the quantized volume's offset (`None`
/// when both are absent), so large offsets stay in f64.
pub(crate) fn positions_and_center(
    ft: &FeatureTable,
    count: usize,
    what: &'static str,
) -> Result<(Vec<Vec3>, Option<DVec3>), TilesError> {
    let (positions, quantized_offset) = positions(ft, count, what)?;
    let rtc = ft.global_vec("RTC_CENTER", 3).map(|v| DVec3::new(v[0], v[1], v[2]));
    let center = match (rtc, quantized_offset) {
        (None, DVec3::ZERO) => None,
        (rtc, off) => Some(rtc.unwrap_or(DVec3::ZERO) + off),
    };
    Ok((positions, center))
}

fn positions(ft: &FeatureTable, count: usize, what: &'static str) -> Result<(Vec<Vec3>, DVec3), TilesError> {
    if let Some(p) = ft.property("POSITION", count, 3, &[ComponentType::F32])? {
        return Ok((to_vec3(&p), DVec3::ZERO));
    }
    if let Some(q) = ft.property("POSITION_QUANTIZED", count, 3, &[ComponentType::U16])? {
        let offset = ft.global_vec("QUANTIZED_VOLUME_OFFSET", 3);
        let scale = ft.global_vec("QUANTIZED_VOLUME_SCALE", 3);
        let (Some(offset), Some(scale)) = (offset, scale) else {
            return Err(TilesError::invalid(what, "POSITION_QUANTIZED needs QUANTIZED_VOLUME_OFFSET and _SCALE"));
        };
        let s = DVec3::new(scale[0], scale[1], scale[2]) / 65535.0;
        let pos = q.chunks_exact(3).map(|c| (DVec3::new(c[0], c[1], c[2]) * s).as_vec3()).collect();
        return Ok((pos, DVec3::new(offset[0], offset[1], offset[2])));
    }
    Err(TilesError::invalid(what, "feature table has neither POSITION nor POSITION_QUANTIZED"))
}

pub(crate) fn to_vec3(v: &[f64]) -> Vec<Vec3> {
    v.chunks_exact(3).map(|c| Vec3::new(c[0] as f32, c[1] as f32, c[2] as f32)).collect()
}

/// Decodes an oct-encoded unit vector with components in `0..=range`.
pub fn oct_decode(x: f64, y: f64, range: f64) -> Vec3 {
    let mut v = Vec3::new((x / range * 2.0 - 1.0) as f32, (y / range * 2.0 - 1.0) as f32, 0.0);
    v.z = 1.0 - v.x.abs() - v.y.abs();
    if v.z < 0.0 {
        let (ox, oy) = (v.x, v.y);
        v.x = (1.0 - oy.abs()) * ox.signum();
        v.y = (1.0 - ox.abs()) * oy.signum();
    }
    v.normalize_or_zero()
}

/// Unit vectors from a u8 or u16 oct-encoded pair array.
pub(crate) fn oct_array(v: &[f64], range: f64) -> Vec<Vec3> {
    v.chunks_exact(2).map(|c| oct_decode(c[0], c[1], range)).collect()
}

/// `BATCH_ID` as u32 (u8, u16 or u32 components; u16 by default).
pub(crate) fn batch_ids(ft: &FeatureTable, count: usize) -> Result<Option<Vec<u32>>, TilesError> {
    let ids = ft.property("BATCH_ID", count, 1, &[ComponentType::U16, ComponentType::U8, ComponentType::U32])?;
    Ok(ids.map(|v| v.into_iter().map(|x| x as u32).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oct_decoding_hits_the_axes() {
        assert!((oct_decode(255.0, 127.5, 255.0) - Vec3::X).length() < 1e-6);
        assert!((oct_decode(127.5, 127.5, 255.0) - Vec3::Z).length() < 1e-6);
        assert!((oct_decode(0.0, 0.0, 65535.0) - -Vec3::Z).length() < 1e-6);
        let v = oct_decode(40000.0, 1000.0, 65535.0);
        assert!((v.length() - 1.0).abs() < 1e-6);
    }
}
