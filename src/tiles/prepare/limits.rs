//! Bounds on tile content before it becomes render data, so that a hostile tile costs bounded
//! memory and time and is reported as an error: every accessor inside its buffer, indices inside
//! their vertices, attributes as long as the positions, each node once per scene (no cycles),
//! textures within [`MAX_TEXTURE_SIDE_PX`] and [`MAX_TEXTURE_PIXELS`] (read from the header, before
//! any decoding), instance placements within [`MAX_PLACEMENTS`].

use super::RenderPart;

/// The largest texture side accepted (WebGPU's default limit; WebGL2 devices go at least this far).
pub const MAX_TEXTURE_SIDE_PX: u32 = 8192;
/// The most texels in one texture (256 MiB as RGBA8).
pub const MAX_TEXTURE_PIXELS: u64 = 64 << 20;
/// The most placements (instances × parts) one tile may ask for: each is an entity.
pub const MAX_PLACEMENTS: usize = 100_000;

/// The bytes `accessor` reads, checked against its buffer view and the buffer itself.
pub fn check_accessor(accessor: &gltf::Accessor, buffers: &[Option<Vec<u8>>]) -> Result<(), String> {
    let what = || format!("accessor {}", accessor.index());
    if accessor.sparse().is_some() {
        return Err(format!("{}: sparse accessors are not supported", what()));
    }
    let Some(view) = accessor.view() else { return Ok(()) };
    let data = buffers
        .get(view.buffer().index())
        .and_then(|b| b.as_deref())
        .ok_or_else(|| format!("{}: its buffer {} is not available", what(), view.buffer().index()))?;
    let view_end = view.offset().checked_add(view.length());
    if view_end.is_none_or(|end| end > data.len()) {
        return Err(format!("{}: buffer view {} reaches past its buffer ({} bytes)", what(), view.index(), data.len()));
    }
    let element = accessor.size();
    let stride = view.stride().unwrap_or(element).max(element);
    let needed = match accessor.count() {
        0 => Some(0),
        n => stride
            .checked_mul(n - 1)
            .and_then(|b| b.checked_add(element))
            .and_then(|b| b.checked_add(accessor.offset())),
    };
    match needed {
        Some(bytes) if bytes <= view.length() => Ok(()),
        _ => Err(format!(
            "{}: {} elements do not fit in buffer view {} ({} bytes)",
            what(),
            accessor.count(),
            view.index(),
            view.length()
        )),
    }
}

/// A texture's size from its header, refused past the limits (or when the header is unreadable).
pub fn check_texture(bytes: &[u8]) -> Result<(), String> {
    let (w, h) = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("texture: {e}"))?
        .into_dimensions()
        .map_err(|e| format!("texture: {e}"))?;
    if w > MAX_TEXTURE_SIDE_PX || h > MAX_TEXTURE_SIDE_PX || u64::from(w) * u64::from(h) > MAX_TEXTURE_PIXELS {
        return Err(format!("texture of {w}×{h} px is larger than {MAX_TEXTURE_SIDE_PX} px a side"));
    }
    Ok(())
}

/// A part's data is consistent: indices inside the vertices (whole triangles), every attribute as
/// long as the positions.
pub fn check_part(p: &RenderPart) -> Result<(), String> {
    let n = p.positions.len();
    let lengths = [
        ("normals", p.normals.as_ref().map(Vec::len)),
        ("colours", p.colors.as_ref().map(Vec::len)),
        ("texture coordinates", p.uvs.as_ref().map(Vec::len)),
    ];
    for (what, len) in lengths {
        if let Some(len) = len.filter(|len| *len != n) {
            return Err(format!("{len} {what} for {n} vertices"));
        }
    }
    if let Some(indices) = &p.indices {
        if let Some(bad) = indices.iter().find(|i| **i as usize >= n) {
            return Err(format!("index {bad} is out of range for {n} vertices"));
        }
        if !p.points && indices.len() % 3 != 0 {
            return Err(format!("{} triangle indices is not a whole number of triangles", indices.len()));
        }
    }
    Ok(())
}

/// Refuses a tile whose parts would need more than [`MAX_PLACEMENTS`] entities.
pub fn check_placements(parts: &[RenderPart]) -> Result<(), String> {
    let total: usize = parts.iter().map(|p| p.tile_from_part.len()).sum();
    if total > MAX_PLACEMENTS {
        return Err(format!("{total} placed parts (instances × meshes); at most {MAX_PLACEMENTS} are drawn per tile"));
    }
    Ok(())
}
