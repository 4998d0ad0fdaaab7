//! Transparent gzip: tilesets, contents and subtrees served pre-compressed are detected by magic.

use std::borrow::Cow;
use std::io::Read;

use super::TilesError;

/// The largest decompressed size accepted, to defuse compression bombs.
pub const MAX_INFLATED_BYTES: u64 = 1 << 30;

/// True when `bytes` start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Returns the bytes inflated when they are gzip, or borrowed as they are.
pub fn maybe_gunzip(bytes: &[u8]) -> Result<Cow<'_, [u8]>, TilesError> {
    if !is_gzip(bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_INFLATED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| TilesError::invalid("gzip", e.to_string()))?;
    if out.len() as u64 > MAX_INFLATED_BYTES {
        return Err(TilesError::invalid("gzip", "inflates beyond 1 GiB"));
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn plain_bytes_pass_through_and_gzip_inflates() {
        assert!(matches!(maybe_gunzip(b"{}").unwrap(), Cow::Borrowed(_)));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"{\"asset\":{}}").unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(&*maybe_gunzip(&gz).unwrap(), b"{\"asset\":{}}");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[7u8; 4096]).unwrap();
        let gz = enc.finish().unwrap();
        assert!(maybe_gunzip(&gz[..gz.len() / 2]).is_err());
    }
}
