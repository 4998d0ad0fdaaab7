//! Static tiles and models: tower-http `ServeDir` (ranges, Last-Modified, no path traversal)
//! plus strong-enough ETags with `If-None-Match` → 304, and 3D Tiles content types.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The content type of a tile or model by extension.
pub fn content_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "json" => "application/json",
        "glb" => "model/gltf-binary",
        "gltf" => "model/gltf+json",
        "b3dm" | "i3dm" | "pnts" | "cmpt" | "subtree" | "bin" => "application/octet-stream",
        "ktx2" => "image/ktx2",
        "tif" | "tiff" => "image/tiff",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        _ => return None,
    })
}

/// Adds the content type and an ETag (from length and modification time), and answers
/// `If-None-Match` with 304.
pub async fn tile_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let mut response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }
    if let Some(ct) = content_type(&path) {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    let h = response.headers();
    let etag = match (h.get(header::LAST_MODIFIED), h.get(header::CONTENT_RANGE), h.get(header::CONTENT_LENGTH)) {
        // The full length of a ranged response is after the slash of Content-Range.
        (Some(m), Some(range), _) => range.to_str().ok().and_then(|r| r.rsplit('/').next()).map(|len| tag(m, len)),
        (Some(m), None, Some(len)) => len.to_str().ok().map(|len| tag(m, len)),
        _ => None,
    };
    if let Some(etag) = etag {
        let matches = if_none_match
            .and_then(|v| v.to_str().ok().map(|s| s.split(',').any(|t| t.trim() == etag || t.trim() == "*")));
        let value = HeaderValue::from_str(&etag).expect("ascii");
        if matches == Some(true) {
            let mut not_modified = Response::new(Body::empty());
            *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
            not_modified.headers_mut().insert(header::ETAG, value);
            return not_modified;
        }
        response.headers_mut().insert(header::ETAG, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    response
}

fn tag(modified: &HeaderValue, len: &str) -> String {
    let m = modified.to_str().unwrap_or("");
    let h = m.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    format!("\"{len}-{h:x}\"")
}
