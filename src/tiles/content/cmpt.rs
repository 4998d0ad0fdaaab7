//! Composite tiles (cmpt): a header and inner tiles, decoded recursively.

use super::super::{TilesError, Warnings};
use super::TileContent;
use super::tables::{check_header, read_u32};

const WHAT: &str = "cmpt";

/// Decodes every inner tile with `inner`; a broken inner tile is skipped with a warning,
/// and the composite fails only when nothing in it decodes.
pub(super) fn decode(
    bytes: &[u8],
    inner: impl Fn(&[u8]) -> Result<(TileContent, Warnings), TilesError>,
) -> Result<(TileContent, Warnings), TilesError> {
    let mut w = Warnings::default();
    let bytes = check_header(bytes, b"cmpt", 16, WHAT, &mut w)?;
    let tiles_length = read_u32(bytes, 12, WHAT)?;
    let mut at = 16;
    let mut out = Vec::new();
    let mut last_error = None;
    for i in 0..tiles_length {
        let len = match read_u32(bytes, at + 8, WHAT) {
            Ok(len) if len >= 12 && at + len as usize <= bytes.len() => len as usize,
            _ => {
                w.push(WHAT, format!("inner tile {i} of {tiles_length} overruns the composite; rest skipped"));
                break;
            }
        };
        match inner(&bytes[at..at + len]) {
            Ok((content, iw)) => {
                w.extend(iw);
                out.push(content);
            }
            Err(e) => {
                w.push(WHAT, format!("inner tile {i} skipped: {e}"));
                last_error = Some(e);
            }
        }
        at += len;
    }
    match (out.is_empty(), last_error) {
        (true, Some(e)) => Err(e),
        (true, None) if tiles_length > 0 => Err(TilesError::invalid(WHAT, "no inner tile could be read")),
        _ => Ok((TileContent::Composite(out), w)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode as decode_any, write};

    #[test]
    fn composite_keeps_good_tiles_and_warns_about_bad_ones() {
        let g = write::glb(br#"{"asset":{"version":"2.0"}}"#, None);
        let b = write::b3dm(br#"{"BATCH_LENGTH":0}"#, b"", b"", b"", &g);
        let mut broken = b.clone();
        broken[0] = b'x';
        let c = write::cmpt(&[b.clone(), broken, g.clone()]);
        let (content, w) = decode_any(&c).unwrap();
        assert_eq!(content.formats(), vec!["model", "model"]);
        assert!(w.iter().any(|w| w.message.contains("inner tile 1 skipped")));
        let all_bad = write::cmpt(&[vec![b'x'; 16]]);
        assert!(decode_any(&all_bad).is_err());
    }
}
