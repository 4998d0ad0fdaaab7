//! The shared layout of b3dm/i3dm/pnts: a header of u32 fields, then feature and batch tables.

use super::super::{TilesError, Warnings};
use super::{BatchTable, FeatureTable};

/// Little-endian u32 at `offset`, or a truncation error.
pub(crate) fn read_u32(bytes: &[u8], offset: usize, what: &'static str) -> Result<u32, TilesError> {
    bytes.get(offset..offset + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok_or(TilesError::Truncated {
        what,
        needed: offset + 4,
        available: bytes.len(),
    })
}

/// The four table lengths after the 12-byte header: feature JSON/binary, batch JSON/binary.
pub(crate) fn read_lengths(bytes: &[u8], what: &'static str) -> Result<[u32; 4], TilesError> {
    let mut l = [0u32; 4];
    for (i, v) in l.iter_mut().enumerate() {
        *v = read_u32(bytes, 12 + 4 * i, what)?;
    }
    Ok(l)
}

/// Checks magic, version 1 and byteLength; returns the usable bytes (trailing bytes ignored with a warning).
pub(crate) fn check_header<'a>(
    bytes: &'a [u8],
    magic: &[u8; 4],
    header_len: usize,
    what: &'static str,
    w: &mut Warnings,
) -> Result<&'a [u8], TilesError> {
    if bytes.len() < header_len {
        return Err(TilesError::Truncated { what, needed: header_len, available: bytes.len() });
    }
    if &bytes[..4] != magic {
        return Err(TilesError::BadMagic { what, found: [bytes[0], bytes[1], bytes[2], bytes[3]] });
    }
    let version = read_u32(bytes, 4, what)?;
    if version != 1 {
        return Err(TilesError::UnsupportedVersion { what, version });
    }
    let byte_length = read_u32(bytes, 8, what)? as usize;
    if byte_length > bytes.len() {
        return Err(TilesError::Truncated { what, needed: byte_length, available: bytes.len() });
    }
    if byte_length < header_len {
        return Err(TilesError::invalid(what, format!("byteLength {byte_length} is shorter than the header")));
    }
    if byte_length < bytes.len() {
        w.push(what, format!("{} trailing bytes after byteLength ignored", bytes.len() - byte_length));
    }
    if !byte_length.is_multiple_of(8) {
        w.push(what, format!("byteLength {byte_length} is not 8-byte aligned"));
    }
    Ok(&bytes[..byte_length])
}

/// Feature table, batch table and the remaining body, split by the four lengths in the header.
pub(crate) struct Tables<'a> {
    pub feature_table: FeatureTable,
    pub batch_table_json: &'a [u8],
    pub batch_table_bin: &'a [u8],
    pub body: &'a [u8],
}

/// Splits the four tables that follow a header of `header_len` bytes; lengths are at `lengths_at`.
pub(crate) fn split_tables<'a>(
    bytes: &'a [u8],
    header_len: usize,
    lengths: [u32; 4],
    what: &'static str,
    w: &mut Warnings,
) -> Result<Tables<'a>, TilesError> {
    let mut at = header_len;
    let mut take = |len: u32| -> Result<&'a [u8], TilesError> {
        let end = at.checked_add(len as usize).filter(|&e| e <= bytes.len()).ok_or(TilesError::Truncated {
            what,
            needed: at.saturating_add(len as usize),
            available: bytes.len(),
        })?;
        let s = &bytes[at..end];
        at = end;
        Ok(s)
    };
    let ft_json = take(lengths[0])?;
    let ft_bin = take(lengths[1])?;
    let bt_json = take(lengths[2])?;
    let bt_bin = take(lengths[3])?;
    let feature_table = FeatureTable::parse(ft_json, ft_bin, what, w)?;
    Ok(Tables { feature_table, batch_table_json: bt_json, batch_table_bin: bt_bin, body: &bytes[at..] })
}

/// Parses the batch table when present; a broken batch table is a warning, not a lost tile.
pub(crate) fn parse_batch_table(t: &Tables<'_>, count: usize, what: &str, w: &mut Warnings) -> Option<BatchTable> {
    if t.batch_table_json.is_empty() {
        return None;
    }
    match BatchTable::parse(t.batch_table_json, t.batch_table_bin, count, w) {
        Ok(bt) => Some(bt),
        Err(e) => {
            w.push(what, format!("batch table dropped: {e}"));
            None
        }
    }
}
