//! The last steps to render-ready data: flat normals for triangles that came without any, and
//! textures decoded to RGBA8 (PNG or JPEG; the size was checked from the header first).

use super::{RenderPart, Texture};

/// Gives a triangle part without normals flat ones: each triangle on vertices of its own (indices
/// dropped, every attribute unshared), with its face normal.
pub fn flat_normals_where_missing(part: &mut RenderPart) {
    if part.points || part.normals.is_some() {
        return;
    }
    if let Some(indices) = part.indices.take() {
        fn unshare<T: Copy>(v: &[T], indices: &[u32]) -> Vec<T> {
            indices.iter().map(|i| v[*i as usize]).collect()
        }
        part.positions = unshare(&part.positions, &indices);
        part.colors = part.colors.as_deref().map(|c| unshare(c, &indices));
        part.uvs = part.uvs.as_deref().map(|c| unshare(c, &indices));
        part.feature_ids = part.feature_ids.as_deref().map(|c| unshare(c, &indices));
    }
    let normals = part
        .positions
        .chunks(3)
        .flat_map(|t| {
            let [a, b, c] = [t[0], t.get(1).copied().unwrap_or(t[0]), t.get(2).copied().unwrap_or(t[0])]
                .map(glam::Vec3::from_array);
            let n = (b - a).cross(c - a).normalize_or_zero().to_array();
            std::iter::repeat_n(n, t.len())
        })
        .collect();
    part.normals = Some(normals);
}

/// A texture decoded to RGBA8; `None` (the part is drawn untextured, with a warning) when the
/// bytes are not an image this build reads.
pub fn decode_texture(bytes: &[u8]) -> Option<Texture> {
    match image::load_from_memory(bytes) {
        Ok(img) => {
            let rgba = img.into_rgba8();
            Some(Texture { width_px: rgba.width(), height_px: rgba.height(), rgba8: rgba.into_raw() })
        }
        Err(e) => {
            tracing::warn!("texture not decoded ({e}): drawn untextured");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_indexed_quad_without_normals_gets_a_face_normal_per_unshared_vertex() {
        let mut part = RenderPart {
            positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
            indices: Some(vec![0, 1, 2, 0, 2, 3]),
            feature_ids: Some(vec![5, 5, 6, 6]),
            ..Default::default()
        };
        flat_normals_where_missing(&mut part);
        assert_eq!(part.indices, None);
        assert_eq!(part.positions.len(), 6);
        assert_eq!(part.feature_ids, Some(vec![5, 5, 6, 5, 6, 6]));
        assert_eq!(part.normals, Some(vec![[0.0, 0.0, 1.0]; 6]));
        // Points and parts with normals are left as they are.
        let mut points = RenderPart { points: true, positions: vec![[0.0; 3]], ..Default::default() };
        flat_normals_where_missing(&mut points);
        assert!(points.normals.is_none());
    }

    #[test]
    fn textures_decode_to_rgba8_and_garbage_is_left_out() {
        let mut png = Vec::new();
        let img = image::RgbaImage::from_pixel(3, 2, image::Rgba([10, 20, 30, 255]));
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        let t = decode_texture(&png).unwrap();
        assert_eq!((t.width_px, t.height_px, t.rgba8.len()), (3, 2, 24));
        assert_eq!(&t.rgba8[..4], &[10, 20, 30, 255]);
        assert_eq!(decode_texture(b"not an image"), None);
    }
}
