//! MJPEG over HTTP (`multipart/x-mixed-replace`): the JPEG frames cut from a byte stream as it
//! arrives in chunks of any size. A part's `Content-Length` is used when it has one, else the
//! next boundary ends it. Bounded: a frame larger than the limit is an error and is skipped.
//! Frames decode to RGBA with the `image` crate, their size bounded.

use thiserror::Error;

/// The largest frame accepted (bytes).
pub const MAX_FRAME_BYTES: usize = 8 << 20;
/// The longest part header accepted (bytes).
const MAX_HEADER_BYTES: usize = 4096;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum MjpegError {
    #[error("not an MJPEG stream: content type {0:?} (expected multipart/x-mixed-replace with a boundary)")]
    NotMultipart(String),
    #[error("a frame of over {MAX_FRAME_BYTES} bytes")]
    TooLarge,
    #[error("a part's headers are not readable")]
    BadHeaders,
    #[error("a frame is not a readable JPEG: {0}")]
    Decode(String),
}

/// The largest frame side decoded (pixels).
const MAX_SIDE_PX: u32 = 4096;

/// A frame decoded: width, height and RGBA8 pixels (rows from the top).
pub fn decode_jpeg(jpeg: &[u8]) -> Result<(u32, u32, Vec<u8>), MjpegError> {
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(jpeg), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    reader.limits(limits);
    let rgba = reader.decode().map_err(|e| MjpegError::Decode(e.to_string()))?.to_rgba8();
    Ok((rgba.width(), rgba.height(), rgba.into_raw()))
}

/// Cuts frames from an MJPEG stream.
#[derive(Debug)]
pub struct MjpegFrames {
    /// `--` and the boundary.
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    /// The stream said it ended (`--boundary--`).
    pub ended: bool,
}

impl MjpegFrames {
    /// For a response whose `Content-Type` is `content_type`.
    pub fn new(content_type: &str) -> Result<Self, MjpegError> {
        let not = || MjpegError::NotMultipart(content_type.to_owned());
        let mut params = content_type.split(';').map(str::trim);
        if !params.next().is_some_and(|t| t.eq_ignore_ascii_case("multipart/x-mixed-replace")) {
            return Err(not());
        }
        let boundary = params
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
            .map(|(_, v)| v.trim().trim_matches('"'))
            .filter(|b| !b.is_empty() && b.len() <= 70)
            .ok_or_else(not)?;
        // Some servers put the dashes in the parameter too.
        let boundary = boundary.strip_prefix("--").unwrap_or(boundary);
        Ok(Self { delimiter: format!("--{boundary}").into_bytes(), buf: Vec::new(), ended: false })
    }

    /// Takes the next chunk of the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if !self.ended {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The next whole frame, if one has arrived (call until `None`).
    pub fn next_frame(&mut self) -> Option<Result<Vec<u8>, MjpegError>> {
        loop {
            let Some(start) = find(&self.buf, &self.delimiter) else {
                // Keep a tail that may be the start of a delimiter.
                let keep = self.delimiter.len().min(self.buf.len());
                self.buf.drain(..self.buf.len() - keep);
                return None;
            };
            let after = start + self.delimiter.len();
            if self.buf.len() < after + 2 {
                return None;
            }
            if &self.buf[after..after + 2] == b"--" {
                self.ended = true;
                self.buf.clear();
                return None;
            }
            let Some(header_end) = find(&self.buf[after..], b"\r\n\r\n").map(|i| after + i + 4) else {
                if self.buf.len() - after > MAX_HEADER_BYTES {
                    self.buf.drain(..after);
                    return Some(Err(MjpegError::BadHeaders));
                }
                return None;
            };
            let headers = std::str::from_utf8(&self.buf[after..header_end]).map_err(|_| MjpegError::BadHeaders);
            let length = match headers.and_then(content_length) {
                Ok(length) => length,
                Err(e) => {
                    self.buf.drain(..header_end);
                    return Some(Err(e));
                }
            };
            if let Some(n) = length {
                if n > MAX_FRAME_BYTES {
                    self.buf.drain(..header_end);
                    return Some(Err(MjpegError::TooLarge));
                }
                if self.buf.len() < header_end + n {
                    return None;
                }
                let frame = self.buf[header_end..header_end + n].to_vec();
                self.buf.drain(..header_end + n);
                if frame.is_empty() {
                    continue;
                }
                return Some(Ok(frame));
            }
            // No length: the frame runs to the next delimiter.
            match find(&self.buf[header_end..], &self.delimiter) {
                Some(i) => {
                    let mut frame = self.buf[header_end..header_end + i].to_vec();
                    while frame.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        frame.pop();
                    }
                    self.buf.drain(..header_end + i);
                    if frame.is_empty() {
                        continue;
                    }
                    return Some(Ok(frame));
                }
                None if self.buf.len() - header_end > MAX_FRAME_BYTES => {
                    self.buf.drain(..header_end);
                    return Some(Err(MjpegError::TooLarge));
                }
                None => return None,
            }
        }
    }
}

/// The `Content-Length` among a part's header lines, if any.
fn content_length(headers: &str) -> Result<Option<usize>, MjpegError> {
    for line in headers.lines() {
        if let Some((k, v)) = line.split_once(':')
            && k.trim().eq_ignore_ascii_case("content-length")
        {
            return v.trim().parse().map(Some).map_err(|_| MjpegError::BadHeaders);
        }
    }
    Ok(None)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(body: &[u8], with_length: bool) -> Vec<u8> {
        let length = if with_length { format!("Content-Length: {}\r\n", body.len()) } else { String::new() };
        let mut p = format!("--frame\r\nContent-Type: image/jpeg\r\n{length}\r\n").into_bytes();
        p.extend_from_slice(body);
        p.extend_from_slice(b"\r\n");
        p
    }

    #[test]
    fn frames_come_out_whole_whatever_the_chunking() {
        let bodies: [&[u8]; 3] = [b"\xFF\xD8first\xFF\xD9", b"\xFF\xD8--fram\r\n\xFF\xD9", b"\xFF\xD8third\xFF\xD9"];
        for with_length in [true, false] {
            let stream: Vec<u8> = bodies.iter().flat_map(|b| part(b, with_length)).chain(part(b"", true)).collect();
            for chunk in [1, 3, 7, 1000] {
                let mut frames = MjpegFrames::new("multipart/x-mixed-replace; boundary=frame").unwrap();
                let mut got = Vec::new();
                for c in stream.chunks(chunk) {
                    frames.push(c);
                    while let Some(f) = frames.next_frame() {
                        got.push(f.unwrap());
                    }
                }
                // Without a length, a frame ends where the next part starts (here the empty last one).
                assert_eq!(got.len(), 3, "length {with_length}, chunks of {chunk}");
                assert_eq!(got[0], bodies[0]);
                assert_eq!(got[1], bodies[1], "a body with a partial boundary inside");
            }
        }
    }

    #[test]
    fn the_boundary_comes_from_the_content_type_and_a_close_ends_it() {
        assert!(MjpegFrames::new("image/jpeg").is_err());
        assert!(MjpegFrames::new("multipart/x-mixed-replace").is_err());
        let mut f = MjpegFrames::new("Multipart/X-Mixed-Replace; boundary=\"--myb\"").unwrap();
        f.push(b"--myb\r\ncontent-length: 2\r\n\r\nab\r\n--myb--\r\n");
        assert_eq!(f.next_frame(), Some(Ok(b"ab".to_vec())));
        assert_eq!(f.next_frame(), None);
        assert!(f.ended);
    }

    #[test]
    fn frames_decode_to_rgba() {
        let picture = image::RgbImage::from_fn(32, 18, |x, _| {
            if x < 16 { image::Rgb([200, 30, 30]) } else { image::Rgb([30, 30, 200]) }
        });
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&picture).unwrap();
        let (w, h, rgba) = decode_jpeg(&jpeg).unwrap();
        assert_eq!((w, h, rgba.len()), (32, 18, 32 * 18 * 4));
        let left = &rgba[(9 * 32 + 4) * 4..][..4];
        let right = &rgba[(9 * 32 + 28) * 4..][..4];
        assert!(left[0] > 150 && left[2] < 80 && right[2] > 150 && right[0] < 80, "{left:?} {right:?}");
    }

    #[test]
    fn hostile_parts_are_errors_and_the_stream_goes_on() {
        let mut f = MjpegFrames::new("multipart/x-mixed-replace;boundary=frame").unwrap();
        f.push(format!("--frame\r\nContent-Length: {}\r\n\r\n", MAX_FRAME_BYTES + 1).as_bytes());
        assert_eq!(f.next_frame(), Some(Err(MjpegError::TooLarge)));
        f.push(b"--frame\r\nContent-Length: x\r\n\r\n");
        assert_eq!(f.next_frame(), Some(Err(MjpegError::BadHeaders)));
        f.push(b"--frame\r\n");
        f.push(&vec![b'h'; MAX_HEADER_BYTES + 10]);
        assert_eq!(f.next_frame(), Some(Err(MjpegError::BadHeaders)));
        f.push(&part(b"ok", true));
        assert_eq!(f.next_frame(), Some(Ok(b"ok".to_vec())));
        assert!(matches!(decode_jpeg(b"\xFF\xD8 not really"), Err(MjpegError::Decode(_))));
        // Junk without a delimiter is not kept.
        f.push(&vec![0u8; 100_000]);
        assert_eq!(f.next_frame(), None);
        assert!(f.buf.len() <= f.delimiter.len());
    }
}
