//! Binary glTF (glb 2.0): header and chunk validation. Unknown chunks are skipped, as the spec asks.

use std::ops::Range;

use super::super::{TilesError, Warnings};
use super::tables::read_u32;
use super::trim_padding;

const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;

/// The layout of a validated glb: total length and the JSON and BIN chunk ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glb {
    pub length: usize,
    pub json: Range<usize>,
    pub bin: Option<Range<usize>>,
}

#[derive(serde::Deserialize)]
struct GltfProbe {
    asset: AssetProbe,
    #[serde(default)]
    buffers: Vec<BufferProbe>,
}

#[derive(serde::Deserialize)]
struct AssetProbe {
    version: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BufferProbe {
    byte_length: u64,
    uri: Option<String>,
}

/// Validates a glb held at the start of `bytes` (which may continue past it, as in b3dm padding).
pub fn parse_glb(bytes: &[u8]) -> Result<(Glb, Warnings), TilesError> {
    const WHAT: &str = "glb";
    let mut w = Warnings::default();
    if bytes.len() < 12 {
        return Err(TilesError::Truncated { what: WHAT, needed: 12, available: bytes.len() });
    }
    if &bytes[..4] != b"glTF" {
        return Err(TilesError::BadMagic { what: WHAT, found: [bytes[0], bytes[1], bytes[2], bytes[3]] });
    }
    let version = read_u32(bytes, 4, WHAT)?;
    if version != 2 {
        return Err(TilesError::UnsupportedVersion { what: WHAT, version });
    }
    let length = read_u32(bytes, 8, WHAT)? as usize;
    if length > bytes.len() {
        return Err(TilesError::Truncated { what: WHAT, needed: length, available: bytes.len() });
    }
    if length < 20 {
        return Err(TilesError::invalid(WHAT, format!("length {length} leaves no room for a JSON chunk")));
    }
    let mut at = 12;
    let mut json = None;
    let mut bin = None;
    while at < length {
        if length - at < 8 {
            w.push(WHAT, format!("{} stray bytes after the last chunk", length - at));
            break;
        }
        let chunk_len = read_u32(bytes, at, WHAT)? as usize;
        let chunk_type = read_u32(bytes, at + 4, WHAT)?;
        let start = at + 8;
        let end = start.checked_add(chunk_len).filter(|&e| e <= length).ok_or_else(|| {
            TilesError::invalid(WHAT, format!("chunk at {at} of {chunk_len} bytes overruns length {length}"))
        })?;
        if !chunk_len.is_multiple_of(4) {
            w.push(WHAT, format!("chunk at {at} has length {chunk_len}, not a multiple of 4"));
        }
        match (chunk_type, at == 12) {
            (CHUNK_JSON, true) => json = Some(start..end),
            (_, true) => return Err(TilesError::invalid(WHAT, "the first chunk is not JSON")),
            (CHUNK_BIN, false) if bin.is_none() && json.is_some() => bin = Some(start..end),
            (CHUNK_BIN, false) => w.push(WHAT, "extra BIN chunk ignored"),
            (CHUNK_JSON, false) => w.push(WHAT, "second JSON chunk ignored"),
            (other, false) => w.push(WHAT, format!("unknown chunk type {other:#010x} skipped")),
        }
        at = end;
    }
    let json = json.ok_or_else(|| TilesError::invalid(WHAT, "no JSON chunk"))?;
    let text = trim_padding(&bytes[json.clone()]);
    let probe: GltfProbe = serde_json::from_slice(text).map_err(|e| TilesError::json(WHAT, e))?;
    if !probe.asset.version.starts_with('2') {
        return Err(TilesError::invalid(WHAT, format!("glTF asset.version {:?} is not 2.x", probe.asset.version)));
    }
    if let Some(first) = probe.buffers.first().filter(|b| b.uri.is_none()) {
        let have = bin.as_ref().map_or(0, |r| r.len()) as u64;
        if first.byte_length > have {
            return Err(TilesError::invalid(
                WHAT,
                format!("buffer 0 declares {} bytes but the BIN chunk has {have}", first.byte_length),
            ));
        }
    }
    if length < bytes.len() && bytes[length..].iter().any(|&b| b != 0 && b != b' ') {
        w.push(WHAT, format!("{} bytes after the glb ignored", bytes.len() - length));
    }
    Ok((Glb { length, json, bin }, w))
}

#[cfg(test)]
mod tests {
    use super::super::write::glb;
    use super::*;

    const J: &[u8] = br#"{"asset":{"version":"2.0"},"buffers":[{"byteLength":4}]}"#;

    #[test]
    fn valid_glb_with_bin() {
        let b = glb(J, Some(&[1, 2, 3, 4]));
        let (g, w) = parse_glb(&b).unwrap();
        assert_eq!(g.length, b.len());
        assert_eq!(&b[g.bin.unwrap()], &[1, 2, 3, 4]);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn unknown_chunks_are_skipped_with_a_warning() {
        let mut b = glb(J, Some(&[1, 2, 3, 4]));
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&0x1234_5678u32.to_le_bytes());
        b.extend_from_slice(&[9, 9, 9, 9]);
        let len = b.len() as u32;
        b[8..12].copy_from_slice(&len.to_le_bytes());
        let (_, w) = parse_glb(&b).unwrap();
        assert!(w.iter().any(|w| w.message.contains("unknown chunk")));
    }

    #[test]
    fn malformed_glbs_are_errors() {
        let good = glb(J, Some(&[1, 2, 3, 4]));
        assert!(parse_glb(&good[..11]).is_err(), "short header");
        assert!(parse_glb(&good[..good.len() - 1]).is_err(), "truncated");
        let mut v1 = good.clone();
        v1[4] = 1;
        assert!(matches!(parse_glb(&v1), Err(TilesError::UnsupportedVersion { version: 1, .. })));
        let mut big_chunk = good.clone();
        big_chunk[12..16].copy_from_slice(&1_000_000u32.to_le_bytes());
        assert!(parse_glb(&big_chunk).is_err());
        assert!(parse_glb(&glb(b"{not json", None)).is_err());
        assert!(parse_glb(&glb(br#"{"asset":{"version":"1.0"}}"#, None)).is_err());
        assert!(parse_glb(&glb(J, None)).is_err(), "buffer without BIN chunk");
    }
}
