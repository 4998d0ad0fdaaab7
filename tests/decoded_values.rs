//! Decoded values of the real samples against values computed independently here: constant colours
//! from the feature table's JSON, and the compressed encodings (RGB565, NORMAL_OCT16P, quantized
//! positions) by re-encoding a real sample with the spec's formulas and decoding it back. EAST_NORTH_UP
//! instances are checked against the ellipsoid's own east, north and up at each instance.

mod common;

use std::path::PathBuf;

use citytwin::tiles::UpAxis;
use citytwin::tiles::content::{self, InstancedModel, Instances, Points, TileContent, write};
use glam::{DMat4, DVec3, Vec3};

fn sample(rel: &str) -> Option<PathBuf> {
    common::data_dir().map(|d| d.join("3dtiles/cesiumjs-1.53-sampledata").join(rel))
}

fn points(bytes: &[u8]) -> Points {
    match content::decode(bytes).unwrap().0 {
        TileContent::Points(p) => p,
        other => panic!("not points: {:?}", other.formats()),
    }
}

fn instances(bytes: &[u8]) -> Instances {
    match content::decode(bytes).unwrap().0 {
        TileContent::Instances(i) => i,
        other => panic!("not instances: {:?}", other.formats()),
    }
}

/// The feature-table JSON of a pnts, read by hand from the header.
fn feature_table_json(bytes: &[u8]) -> serde_json::Value {
    let len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    serde_json::from_slice(&bytes[28..28 + len]).unwrap()
}

/// A pnts of `n` points at `positions` with one more property `name` from `body`.
fn pnts_with(positions: &[Vec3], rtc: Option<DVec3>, name: &str, body: &[u8]) -> Vec<u8> {
    let n = positions.len();
    let mut ft = serde_json::json!({"POINTS_LENGTH": n, "POSITION": {"byteOffset": 0}, name: {"byteOffset": 12 * n}});
    if let Some(c) = rtc {
        ft["RTC_CENTER"] = serde_json::json!([c.x, c.y, c.z]);
    }
    let mut bin = write::f32_bytes(&positions.iter().flat_map(|p| p.to_array()).collect::<Vec<_>>());
    bin.extend_from_slice(body);
    write::pnts(&serde_json::to_vec(&ft).unwrap(), &bin, b"", b"")
}

#[test]
fn constant_rgba_is_the_feature_tables_and_the_cloud_is_the_rgb_samples() {
    let (Some(constant), Some(rgb)) = (
        sample("PointCloud/PointCloudConstantColor/pointCloudConstantColor.pnts"),
        sample("PointCloud/PointCloudRGB/pointCloudRGB.pnts"),
    ) else {
        return;
    };
    let bytes = std::fs::read(constant).unwrap();
    let json = feature_table_json(&bytes);
    let want: Vec<u8> = json["CONSTANT_RGBA"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u8).collect();
    let p = points(&bytes);
    assert_eq!(p.constant_rgba.map(|c| c.to_vec()), Some(want));
    assert!(p.colors_rgba.is_none());
    let rtc = json["RTC_CENTER"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>();
    assert_eq!(p.rtc_center, Some(DVec3::new(rtc[0], rtc[1], rtc[2])));
    // The same 1,000 points as the RGB sample.
    assert_eq!(p.positions, points(&std::fs::read(rgb).unwrap()).positions);
}

#[test]
fn rgb565_decodes_to_the_expanded_five_six_five_bits() {
    let Some(path) = sample("PointCloud/PointCloudRGB/pointCloudRGB.pnts") else { return };
    let original = points(&std::fs::read(path).unwrap());
    let colours = original.colors_rgba.clone().unwrap();
    let packed: Vec<u16> = colours
        .iter()
        .map(|[r, g, b, _]| ((*r as u16 >> 3) << 11) | ((*g as u16 >> 2) << 5) | (*b as u16 >> 3))
        .collect();
    let body: Vec<u8> = packed.iter().flat_map(|v| v.to_le_bytes()).collect();
    let decoded = points(&pnts_with(&original.positions, original.rtc_center, "RGB565", &body));
    let got = decoded.colors_rgba.unwrap();
    assert_eq!(got.len(), colours.len());
    let expand = |v: u16, bits: u32| ((v as f64) * 255.0 / ((1u32 << bits) - 1) as f64).round() as i32;
    let mut distinct = std::collections::HashSet::new();
    for ((g, v), c) in got.iter().zip(&packed).zip(&colours) {
        let want = [expand(v >> 11, 5), expand((v >> 5) & 63, 6), expand(v & 31, 5)];
        for k in 0..3 {
            assert!((g[k] as i32 - want[k]).abs() <= 1, "{g:?} from {v:#06x}: want {want:?}");
            assert!((g[k] as i32 - c[k] as i32).abs() <= 8, "{g:?} vs the original {c:?}");
        }
        assert_eq!(g[3], 255);
        distinct.insert(*g);
    }
    assert!(distinct.len() > 20, "a real range of colours: {}", distinct.len());
}

/// Oct-encodes a unit vector into two bytes (pnts NORMAL_OCT16P: 16 bits in all), CesiumJS's formula.
fn oct16p(n: Vec3) -> [u8; 2] {
    let sign = |v: f32| if v < 0.0 { -1.0 } else { 1.0 };
    let l1 = n.x.abs() + n.y.abs() + n.z.abs();
    let (mut x, mut y) = (n.x / l1, n.y / l1);
    if n.z < 0.0 {
        (x, y) = ((1.0 - y.abs()) * sign(x), (1.0 - x.abs()) * sign(y));
    }
    [((x * 0.5 + 0.5) * 255.0).round() as u8, ((y * 0.5 + 0.5) * 255.0).round() as u8]
}

/// The inverse, written out from the spec: unfold the lower hemisphere, normalise.
fn oct16p_decode([ex, ey]: [u8; 2]) -> Vec3 {
    let sign = |v: f32| if v < 0.0 { -1.0 } else { 1.0 };
    let (x, y) = (ex as f32 / 255.0 * 2.0 - 1.0, ey as f32 / 255.0 * 2.0 - 1.0);
    let z = 1.0 - x.abs() - y.abs();
    let (x, y) = if z < 0.0 { ((1.0 - y.abs()) * sign(x), (1.0 - x.abs()) * sign(y)) } else { (x, y) };
    Vec3::new(x, y, z).normalize()
}

#[test]
fn oct_encoded_normals_decode_to_the_float_normals() {
    let Some(path) = sample("PointCloud/PointCloudNormals/pointCloudNormals.pnts") else { return };
    let original = points(&std::fs::read(path).unwrap());
    let normals = original.normals.clone().unwrap();
    let encoded: Vec<[u8; 2]> = normals.iter().map(|n| oct16p(n.normalize())).collect();
    let body: Vec<u8> = encoded.iter().flatten().copied().collect();
    let decoded = points(&pnts_with(&original.positions, original.rtc_center, "NORMAL_OCT16P", &body));
    let got = decoded.normals.unwrap();
    let (mut below, mut above) = (0, 0);
    for ((g, n), e) in got.iter().zip(&normals).zip(&encoded) {
        assert!((*g - oct16p_decode(*e)).length() < 1e-5, "{g} from {e:?}");
        let angle = g.angle_between(n.normalize());
        assert!(angle < 0.03, "{g} vs the float normal {n}: {angle} rad");
        below += (n.z < 0.0) as usize;
        above += (n.z >= 0.0) as usize;
    }
    assert!(below > 50 && above > 50, "both hemispheres are exercised: {below} below, {above} above");
}

#[test]
fn quantized_and_east_north_up_instances_land_where_the_floats_do() {
    let Some(path) = sample("Instanced/InstancedWithBatchTable/instancedWithBatchTable.i3dm") else { return };
    let original = instances(&std::fs::read(path).unwrap());
    assert!(original.east_north_up, "the sample orients its instances east-north-up");
    let InstancedModel::Glb(glb) = &original.model else { panic!("embedded glb") };
    let (lo, hi) = original.positions.iter().fold((Vec3::MAX, Vec3::MIN), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
    let scale = (hi - lo).max(Vec3::splat(1e-3));
    let quantized: Vec<u8> = original
        .positions
        .iter()
        .flat_map(|p| ((*p - lo) / scale * 65535.0).round().to_array().map(|v| v as u16))
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let ft = serde_json::json!({"INSTANCES_LENGTH": original.positions.len(), "EAST_NORTH_UP": true,
        "POSITION_QUANTIZED": {"byteOffset": 0},
        "QUANTIZED_VOLUME_OFFSET": lo.to_array(), "QUANTIZED_VOLUME_SCALE": scale.to_array()});
    let decoded = instances(&write::i3dm(&serde_json::to_vec(&ft).unwrap(), &quantized, b"", b"", glb));
    // Quantized positions are relative to the volume's offset, which the decoder keeps in f64.
    let step = (scale / 65535.0).as_dvec3();
    let absolute = |i: &Instances, p: &Vec3| i.rtc_center.unwrap_or(DVec3::ZERO) + p.as_dvec3();
    for (g, p) in decoded.positions.iter().zip(&original.positions) {
        let (g, p) = (absolute(&decoded, g), absolute(&original, p));
        assert!(((g - p).abs() - step).max_element() <= 1e-3, "{g} vs {p} (step {step})");
    }
    assert!(decoded.east_north_up);
    east_north_up_frames_are_the_ellipsoids(&decoded);
}

/// A glb of one triangle under one node without a transform.
fn bare_glb() -> Vec<u8> {
    let bin = write::f32_bytes(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    let json = serde_json::json!({"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}], "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}], "buffers": [{"byteLength": 36}]});
    write::glb(&serde_json::to_vec(&json).unwrap(), Some(&bin))
}

/// The viewer places each instance with glTF +X east, +Y up and −Z north of its ECEF position,
/// computed here from the ellipsoid's normal, not with the project's geo code.
fn east_north_up_frames_are_the_ellipsoids(instances: &Instances) {
    let (a, b) = (6_378_137.0f64, 6_356_752.314_245_179f64);
    // The same instances around a model with no transform of its own; positions are ECEF (the tile
    // has no transform), with or without an RTC centre.
    let bare = Instances { model: InstancedModel::Glb(bare_glb()), ..instances.clone() };
    let parts = citytwin::tiles::prepare::prepare(&TileContent::Instances(bare), UpAxis::Y, &DMat4::IDENTITY).unwrap();
    let per_instance = parts[0].tile_from_part.len() / instances.positions.len();
    assert!(per_instance >= 1);
    for (k, p) in instances.positions.iter().enumerate() {
        let ecef = instances.rtc_center.unwrap_or(DVec3::ZERO) + p.as_dvec3();
        assert!(ecef.length() > 6.3e6, "instances sit on the Earth: {ecef}");
        let up = DVec3::new(ecef.x / (a * a), ecef.y / (a * a), ecef.z / (b * b)).normalize();
        let east = DVec3::new(-ecef.y, ecef.x, 0.0).normalize();
        let north = up.cross(east);
        let m = parts[0].tile_from_part[k * per_instance];
        let dir = |v: DVec3| m.transform_vector3(v).normalize();
        for (got, want, what) in
            [(dir(DVec3::X), east, "east"), (dir(DVec3::Y), up, "up"), (dir(-DVec3::Z), north, "north")]
        {
            assert!(got.angle_between(want) < 1e-6, "instance {k}: glTF axis to {what}: {got} vs {want}");
        }
    }
}
