//! Writers for glb, b3dm, i3dm, pnts and cmpt with correct padding: used by the tiler and tests.

fn pad_to(v: &mut Vec<u8>, align: usize, byte: u8) {
    while !v.len().is_multiple_of(align) {
        v.push(byte);
    }
}

/// A glb 2.0 from glTF JSON and an optional BIN chunk.
pub fn glb(json: &[u8], bin: Option<&[u8]>) -> Vec<u8> {
    let mut j = json.to_vec();
    pad_to(&mut j, 4, b' ');
    let mut out = Vec::with_capacity(28 + j.len() + bin.map_or(0, |b| b.len() + 8));
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(j.len() as u32).to_le_bytes());
    out.extend_from_slice(&0x4E4F_534Au32.to_le_bytes());
    out.extend_from_slice(&j);
    if let Some(bin) = bin {
        let mut b = bin.to_vec();
        pad_to(&mut b, 4, 0);
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(&0x004E_4942u32.to_le_bytes());
        out.extend_from_slice(&b);
    }
    let len = out.len() as u32;
    out[8..12].copy_from_slice(&len.to_le_bytes());
    out
}

/// A tile with the common header, four tables (JSON padded with spaces, binary with zeros, all
/// to 8 bytes) and a body; `extra` header fields follow the four lengths.
fn tile(magic: &[u8; 4], tables: [&[u8]; 4], extra: &[u32], body: &[u8]) -> Vec<u8> {
    let header_len = 12 + 16 + 4 * extra.len();
    let mut padded: Vec<Vec<u8>> = Vec::new();
    let mut at = header_len;
    for (i, t) in tables.iter().enumerate() {
        let mut v = t.to_vec();
        while !(at + v.len()).is_multiple_of(8) {
            v.push(if i % 2 == 0 { b' ' } else { 0 });
        }
        at += v.len();
        padded.push(v);
    }
    let mut out = Vec::new();
    out.extend_from_slice(magic);
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for p in &padded {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
    }
    for e in extra {
        out.extend_from_slice(&e.to_le_bytes());
    }
    for p in &padded {
        out.extend_from_slice(p);
    }
    out.extend_from_slice(body);
    pad_to(&mut out, 8, 0);
    let len = out.len() as u32;
    out[8..12].copy_from_slice(&len.to_le_bytes());
    out
}

/// A b3dm around a glb.
pub fn b3dm(ft_json: &[u8], ft_bin: &[u8], bt_json: &[u8], bt_bin: &[u8], glb: &[u8]) -> Vec<u8> {
    tile(b"b3dm", [ft_json, ft_bin, bt_json, bt_bin], &[], glb)
}

/// An i3dm with an embedded glb (`gltfFormat` 1).
pub fn i3dm(ft_json: &[u8], ft_bin: &[u8], bt_json: &[u8], bt_bin: &[u8], glb: &[u8]) -> Vec<u8> {
    tile(b"i3dm", [ft_json, ft_bin, bt_json, bt_bin], &[1], glb)
}

/// A pnts with a feature table and optional batch table.
pub fn pnts(ft_json: &[u8], ft_bin: &[u8], bt_json: &[u8], bt_bin: &[u8]) -> Vec<u8> {
    tile(b"pnts", [ft_json, ft_bin, bt_json, bt_bin], &[], &[])
}

/// A cmpt holding the given tiles.
pub fn cmpt(tiles: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"cmpt");
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(tiles.len() as u32).to_le_bytes());
    for t in tiles {
        out.extend_from_slice(t);
        pad_to(&mut out, 8, 0);
    }
    let len = out.len() as u32;
    out[8..12].copy_from_slice(&len.to_le_bytes());
    out
}

/// Little-endian bytes of f32 values, for feature-table bodies.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
