//! DEMs as GeoTIFF (read and written with the `tiff` crate): one band of heights on a geographic grid (EPSG:4326
//! and its geographic kin), placed by `ModelTiepoint` and `ModelPixelScale`, with GDAL's no-data value.

use std::io::Cursor;

use thiserror::Error;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::encoder::colortype::Gray32Float;
use tiff::encoder::compression::DeflateLevel;
use tiff::encoder::{Compression, TiffEncoder};
use tiff::tags::Tag;

use super::{Dem, MAX_DEM_CELLS};
use crate::tiles::Warnings;

#[derive(Debug, Error)]
pub enum DemError {
    #[error("not a readable TIFF: {0}")]
    Tiff(#[from] tiff::TiffError),
    #[error("the DEM is {cols} × {rows} pixels; at most {MAX_DEM_CELLS} are read (crop it first)")]
    TooLarge { cols: u32, rows: u32 },
    #[error("the DEM has no georeferencing (ModelTiepoint and ModelPixelScale)")]
    NotGeoreferenced,
    #[error("the DEM is in a projected CRS (EPSG:{0}); reproject it to EPSG:4326, e.g. gdalwarp -t_srs EPSG:4326")]
    Projected(u16),
    #[error("the DEM's pixels are not one band of heights: {0}")]
    NotOneBand(String),
    #[error("the DEM's georeferencing is not usable: {0}")]
    BadPlacement(String),
}

// GeoKeys (GeoTIFF 1.1, OGC 19-008r4 §7.3).
const GT_MODEL_TYPE: u16 = 1024;
const GT_RASTER_TYPE: u16 = 1025;
const GEOGRAPHIC_TYPE: u16 = 2048;
const PROJECTED_CS_TYPE: u16 = 3072;
const MODEL_TYPE_PROJECTED: u16 = 1;
const RASTER_PIXEL_IS_POINT: u16 = 2;
const WGS84_EPSG: u16 = 4326;

/// Reads a GeoTIFF DEM; what it had to assume comes back as warnings.
pub fn read_geotiff(bytes: &[u8]) -> Result<(Dem, Warnings), DemError> {
    let mut warnings = Warnings::default();
    let limits = {
        let mut l = Limits::default();
        l.decoding_buffer_size = MAX_DEM_CELLS * 8;
        l
    };
    let mut tiff = Decoder::new(Cursor::new(bytes))?.with_limits(limits);
    let (cols, rows) = tiff.dimensions()?;
    if cols as usize * rows as usize > MAX_DEM_CELLS || cols == 0 || rows == 0 {
        return Err(DemError::TooLarge { cols, rows });
    }
    match tiff.colortype()? {
        tiff::ColorType::Gray(_) => {}
        other => return Err(DemError::NotOneBand(format!("{other:?}"))),
    }
    let scale = tiff.find_tag(Tag::ModelPixelScaleTag)?.map(|v| v.into_f64_vec()).transpose()?;
    let tie = tiff.find_tag(Tag::ModelTiepointTag)?.map(|v| v.into_f64_vec()).transpose()?;
    let (Some(scale), Some(tie)) = (scale, tie) else { return Err(DemError::NotGeoreferenced) };
    if scale.len() < 2 || tie.len() < 6 {
        return Err(DemError::NotGeoreferenced);
    }
    let keys = tiff.find_tag(Tag::GeoKeyDirectoryTag)?.map(|v| v.into_u16_vec()).transpose()?.unwrap_or_default();
    let key = |id: u16| keys.get(4..).unwrap_or(&[]).chunks_exact(4).find(|k| k[0] == id && k[1] == 0).map(|k| k[3]);
    if keys.is_empty() {
        warnings.push("dem", "no GeoKeyDirectory: the grid is taken as longitude/latitude degrees (EPSG:4326)");
    }
    if let Some(epsg) = key(PROJECTED_CS_TYPE) {
        return Err(DemError::Projected(epsg));
    }
    if key(GT_MODEL_TYPE) == Some(MODEL_TYPE_PROJECTED) {
        return Err(DemError::Projected(0));
    }
    if let Some(gcs) = key(GEOGRAPHIC_TYPE).filter(|g| *g != WGS84_EPSG) {
        warnings.push("dem", format!("geographic CRS EPSG:{gcs} is read as WGS84 (they differ by metres at most)"));
    }
    let step_deg = [scale[0], scale[1]];
    // The tiepoint ties raster (i, j) to model (x, y); with "pixel is point" it is a pixel's centre.
    let half = if key(GT_RASTER_TYPE) == Some(RASTER_PIXEL_IS_POINT) { 0.5 } else { 0.0 };
    let west_deg = tie[3] - (tie[0] + half) * step_deg[0];
    let north_deg = tie[4] + (tie[1] + half) * step_deg[1];
    let east_deg = west_deg + cols as f64 * step_deg[0];
    let south_deg = north_deg - rows as f64 * step_deg[1];
    let sane = step_deg.iter().all(|s| s.is_finite() && *s > 0.0)
        && west_deg >= -180.5
        && east_deg <= 360.5
        && south_deg >= -90.5
        && north_deg <= 90.5;
    if !sane {
        return Err(DemError::BadPlacement(format!(
            "pixels of {step_deg:?}° from ({west_deg}, {north_deg}) are not on the globe"
        )));
    }
    let nodata = tiff
        .find_tag(Tag::GdalNodata)?
        .and_then(|v| v.into_string().ok())
        .and_then(|s| s.trim_matches(|c: char| c == '\0' || c.is_whitespace()).parse::<f64>().ok());
    let heights_m = match tiff.read_image()? {
        DecodingResult::U8(v) => masked(v, nodata),
        DecodingResult::I8(v) => masked(v, nodata),
        DecodingResult::U16(v) => masked(v, nodata),
        DecodingResult::I16(v) => masked(v, nodata),
        DecodingResult::U32(v) => masked(v, nodata),
        DecodingResult::I32(v) => masked(v, nodata),
        DecodingResult::F32(v) => masked(v, nodata),
        DecodingResult::F64(v) => masked(v, nodata),
        _ => return Err(DemError::NotOneBand("64-bit integers or half floats".into())),
    };
    if heights_m.len() != cols as usize * rows as usize {
        return Err(DemError::NotOneBand(format!("{} samples for {cols} × {rows} pixels", heights_m.len())));
    }
    let holes = heights_m.iter().filter(|h| h.is_nan()).count();
    if holes > 0 {
        warnings.push("dem", format!("{holes} pixels have no data; the ground there is flat"));
    }
    let dem = Dem { cols: cols as usize, rows: rows as usize, west_deg, north_deg, step_deg, heights_m };
    Ok((dem, warnings))
}

/// Heights as f32, with no data (GDAL's value, a non-finite or an impossible height) as NaN.
fn masked<T: Into<f64>>(values: Vec<T>, nodata: Option<f64>) -> Vec<f32> {
    let one = |h: f64| if nodata == Some(h) || !h.is_finite() || h.abs() > 12_000.0 { f32::NAN } else { h as f32 };
    values.into_iter().map(|h| one(h.into())).collect()
}

/// Writes a DEM as a deflate-compressed, 32-bit float GeoTIFF in EPSG:4326 (no data as NaN).
pub fn write_geotiff(dem: &Dem) -> Result<Vec<u8>, DemError> {
    let mut bytes = Cursor::new(Vec::new());
    {
        let mut tiff = TiffEncoder::new(&mut bytes)?.with_compression(Compression::Deflate(DeflateLevel::Balanced));
        let mut image = tiff.new_image::<Gray32Float>(dem.cols as u32, dem.rows as u32)?;
        let dir = image.encoder();
        dir.write_tag(Tag::ModelPixelScaleTag, &[dem.step_deg[0], dem.step_deg[1], 0.0][..])?;
        dir.write_tag(Tag::ModelTiepointTag, &[0.0, 0.0, 0.0, dem.west_deg, dem.north_deg, 0.0][..])?;
        // Version 1.1.0, three keys: geographic model, pixel is area, WGS84.
        let keys: [u16; 16] =
            [1, 1, 0, 3, GT_MODEL_TYPE, 0, 1, 2, GT_RASTER_TYPE, 0, 1, 1, GEOGRAPHIC_TYPE, 0, 1, WGS84_EPSG];
        dir.write_tag(Tag::GeoKeyDirectoryTag, &keys[..])?;
        if dem.heights_m.iter().any(|h| h.is_nan()) {
            dir.write_tag(Tag::GdalNodata, "nan")?;
        }
        image.write_data(&dem.heights_m)?;
    }
    Ok(bytes.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dem() -> Dem {
        let (cols, rows) = (40, 30);
        let heights_m = (0..cols * rows).map(|i| (i % cols) as f32 * 0.5 - (i / cols) as f32).collect();
        Dem { cols, rows, west_deg: 114.0, north_deg: 22.6, step_deg: [0.0005, 0.0004], heights_m }
    }

    #[test]
    fn a_written_dem_reads_back_the_same() {
        let mut written = dem();
        written.heights_m[7] = f32::NAN;
        let bytes = write_geotiff(&written).unwrap();
        let (read, warnings) = read_geotiff(&bytes).unwrap();
        assert_eq!((read.cols, read.rows, read.west_deg, read.north_deg), (40, 30, 114.0, 22.6));
        assert_eq!(read.step_deg, [0.0005, 0.0004]);
        assert!(read.heights_m[7].is_nan());
        assert_eq!(read.heights_m[8..], written.heights_m[8..]);
        assert_eq!(warnings.0.len(), 1, "the one hole is reported: {warnings:?}");
        // The middle of pixel (3, 2).
        let middle = read.height_at(114.0 + 3.5 * 0.0005, 22.6 - 2.5 * 0.0004).unwrap();
        assert!((middle - (1.5 - 2.0)).abs() < 1e-9, "{middle}");
    }

    /// Writes a small TIFF with the given GeoKeys and tags, as another tool might.
    fn with_keys(keys: &[u16], nodata: Option<&str>) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        {
            let mut tiff = TiffEncoder::new(&mut bytes).unwrap();
            let mut image = tiff.new_image::<tiff::encoder::colortype::GrayI16>(4, 3).unwrap();
            let dir = image.encoder();
            dir.write_tag(Tag::ModelPixelScaleTag, &[0.25, 0.25, 0.0][..]).unwrap();
            dir.write_tag(Tag::ModelTiepointTag, &[0.0, 0.0, 0.0, 10.0, 50.0, 0.0][..]).unwrap();
            if !keys.is_empty() {
                dir.write_tag(Tag::GeoKeyDirectoryTag, keys).unwrap();
            }
            if let Some(n) = nodata {
                dir.write_tag(Tag::GdalNodata, n).unwrap();
            }
            image.write_data(&[1i16, 2, 3, 4, 5, 6, -9999, 8, 9, 10, 11, 12]).unwrap();
        }
        bytes.into_inner()
    }

    #[test]
    fn integer_dems_pixel_is_point_and_no_data_are_understood() {
        let point = [1, 1, 0, 2, GT_MODEL_TYPE, 0, 1, 2, GT_RASTER_TYPE, 0, 1, RASTER_PIXEL_IS_POINT];
        let (dem, _) = read_geotiff(&with_keys(&point, Some("-9999"))).unwrap();
        assert_eq!((dem.west_deg, dem.north_deg), (10.0 - 0.125, 50.0 + 0.125));
        assert!(dem.heights_m[6].is_nan());
        assert_eq!(dem.heights_m[11], 12.0);
        let (_, warnings) = read_geotiff(&with_keys(&[], None)).unwrap();
        assert!(warnings.0[0].message.contains("EPSG:4326"), "{warnings:?}");
    }

    #[test]
    fn projected_unplaced_and_broken_files_are_refused_with_a_reason() {
        let utm = [1, 1, 0, 2, GT_MODEL_TYPE, 0, 1, MODEL_TYPE_PROJECTED, PROJECTED_CS_TYPE, 0, 1, 32650];
        let e = read_geotiff(&with_keys(&utm, None)).unwrap_err();
        assert!(e.to_string().contains("EPSG:32650") && e.to_string().contains("gdalwarp"), "{e}");
        let mut plain = Cursor::new(Vec::new());
        TiffEncoder::new(&mut plain).unwrap().write_image::<Gray32Float>(2, 2, &[0.0; 4]).unwrap();
        assert!(matches!(read_geotiff(plain.get_ref()), Err(DemError::NotGeoreferenced)));
        let good = write_geotiff(&dem()).unwrap();
        for cut in [0, 8, 100, good.len() / 2] {
            assert!(read_geotiff(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = good.clone();
        for b in flipped.iter_mut().skip(8).step_by(97) {
            *b ^= 0x5a;
        }
        let _ = read_geotiff(&flipped); // an error or a DEM, never a panic
    }
}
