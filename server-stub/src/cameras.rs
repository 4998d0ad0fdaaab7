//! CCTV cameras: a deterministic catalog along the city's roads, and their feeds: a JPEG
//! snapshot or an MJPEG stream (one frame a second) showing the camera's name and the time.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use citytwin_protocol::catalog::{Camera, CameraCluster};
use citytwin_protocol::roads::RoadGraph;
use font8x8::UnicodeFonts;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Caller, Role, require};
use crate::error::{ApiError, ApiResult};
use crate::sensors::live::now_ms;
use crate::sensors::sim::{mix, unit};
use citytwin_sensorthings::filter::format_time;

/// Clusters one answer may hold, at most.
pub const MAX_CLUSTERS: usize = 10_000;
const W: usize = 320;
const H: usize = 180;

/// Places `count` cameras on road edges (or around `center` without roads), looking along them.
pub fn place(count: usize, seed: u64, roads: Option<&RoadGraph>, center_deg: [f64; 2], radius_m: f64) -> Vec<Camera> {
    (0..count)
        .map(|i| {
            let h = mix(seed ^ 0xCA11 ^ mix(i as u64));
            let (lon, lat, heading) = match roads.filter(|g| !g.edges.is_empty()) {
                Some(g) => {
                    let e = &g.edges[(h % g.edges.len() as u64) as usize];
                    let (a, b) = (&g.nodes[e.from], &g.nodes[e.to]);
                    let heading = (b.x_m - a.x_m).atan2(b.y_m - a.y_m).to_degrees().rem_euclid(360.0);
                    (a.lon_deg, a.lat_deg, heading)
                }
                None => {
                    let (r, a) = (radius_m * unit(mix(h ^ 1)).sqrt(), std::f64::consts::TAU * unit(mix(h ^ 2)));
                    let dlat = r * a.sin() / 111_320.0;
                    let dlon = r * a.cos() / (111_320.0 * center_deg[1].to_radians().cos().max(0.01));
                    (center_deg[0] + dlon, center_deg[1] + dlat, 360.0 * unit(mix(h ^ 3)))
                }
            };
            let id = i as u32 + 1;
            Camera {
                id,
                name: format!("CAM-{id:06}"),
                lon_deg: lon,
                lat_deg: lat,
                height_m: 4.0 + 6.0 * unit(mix(h ^ 4)),
                heading_deg: heading,
                pitch_deg: -10.0 - 15.0 * unit(mix(h ^ 5)),
                fov_deg: 50.0 + 40.0 * unit(mix(h ^ 6)),
                range_m: 60.0 + 90.0 * unit(mix(h ^ 7)),
                feed: format!("/api/cameras/{id}/feed.mjpg"),
            }
        })
        .collect()
}

/// One frame: a street in perspective, a vehicle crossing with time, and the overlay text.
pub fn frame(camera: &Camera, time_ms: i64) -> Vec<u8> {
    let mut rgb = vec![0u8; W * H * 3];
    let horizon = H / 3;
    let phase = (time_ms / 1000) as f64;
    let car_x = ((phase * 23.0 + camera.id as f64 * 37.0) % (W as f64 + 60.0)) as i64 - 30;
    for y in 0..H {
        for x in 0..W {
            let p = (y * W + x) * 3;
            let (r, g, b) = if y < horizon {
                let t = y as f64 / horizon as f64;
                ((120.0 + 60.0 * t) as u8, (160.0 + 50.0 * t) as u8, 210)
            } else {
                // The road narrows towards the horizon.
                let depth = (y - horizon) as f64 / (H - horizon) as f64;
                let half = 20.0 + 140.0 * depth;
                let dx = (x as f64 - W as f64 / 2.0).abs();
                if dx < half {
                    let stripe = dx < 2.0 && ((y as f64 * 0.3 + phase * 4.0) as i64) % 4 < 2;
                    if stripe { (230, 230, 230) } else { (70, 70, 74) }
                } else {
                    (90, 120, 80)
                }
            };
            rgb[p..p + 3].copy_from_slice(&[r, g, b]);
        }
    }
    for y in H * 2 / 3..H * 2 / 3 + 20 {
        for x in car_x.max(0)..(car_x + 40).min(W as i64) {
            let p = (y * W + x as usize) * 3;
            rgb[p..p + 3].copy_from_slice(&[200, 40, 40]);
        }
    }
    text(&mut rgb, 6, 6, &camera.name, 2);
    text(&mut rgb, 6, H - 20, &format_time(time_ms).replace('T', " "), 1);
    text(&mut rgb, W - 40, 6, "REC", 1);
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 70)
        .encode(&rgb, W as u16, H as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encoding into memory");
    jpeg
}

fn text(rgb: &mut [u8], x0: usize, y0: usize, s: &str, scale: usize) {
    for (n, ch) in s.chars().enumerate() {
        let Some(glyph) = font8x8::BASIC_FONTS.get(ch) else { continue };
        for (gy, row) in glyph.iter().enumerate() {
            for gx in 0..8 {
                if row & (1 << gx) == 0 {
                    continue;
                }
                for sy in 0..scale {
                    for sx in 0..scale {
                        let (x, y) = (x0 + (n * 8 + gx) * scale + sx, y0 + gy * scale + sy);
                        if x < W && y < H {
                            let p = (y * W + x) * 3;
                            rgb[p..p + 3].copy_from_slice(&[255, 255, 255]);
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    bbox: Option<String>,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
    /// Cluster the cameras in cells of this many degrees instead of listing them.
    cluster_deg: Option<f64>,
}

/// The cameras grouped by grid cell of `cell_deg`, each cluster at its cameras' centroid; `None`
/// when they fill more than [`MAX_CLUSTERS`] cells.
pub fn cluster(cameras: &[&Camera], cell_deg: f64) -> Option<Vec<CameraCluster>> {
    let mut cells: std::collections::HashMap<(i64, i64), (f64, f64, u32)> = std::collections::HashMap::new();
    for c in cameras {
        let key = ((c.lon_deg / cell_deg).floor() as i64, (c.lat_deg / cell_deg).floor() as i64);
        let cell = cells.entry(key).or_default();
        *cell = (cell.0 + c.lon_deg, cell.1 + c.lat_deg, cell.2 + 1);
        if cells.len() > MAX_CLUSTERS {
            return None;
        }
    }
    let mut clusters: Vec<CameraCluster> = cells
        .into_values()
        .map(|(lon, lat, n)| CameraCluster { lon_deg: lon / n as f64, lat_deg: lat / n as f64, count: n })
        .collect();
    clusters.sort_by(|a, b| a.lon_deg.total_cmp(&b.lon_deg).then(a.lat_deg.total_cmp(&b.lat_deg)));
    Some(clusters)
}

fn parse_bbox(s: &str) -> Result<[f64; 4], ApiError> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::bad_request("bbox: four numbers west,south,east,north"))?;
    match v.as_slice() {
        [w, s, e, n] if w <= e && s <= n => Ok([*w, *s, *e, *n]),
        _ => Err(ApiError::bad_request("bbox: four numbers west,south,east,north")),
    }
}

/// `GET /api/cameras?bbox=w,s,e,n&offset=&limit=` (planners and operators): a page of the cameras;
/// with `&cluster_deg=D`, their clusters in cells of D degrees instead (at most [`MAX_CLUSTERS`]).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    require(&state, &caller, Role::Planner, "list", "cameras").await?;
    let bbox = q.bbox.as_deref().map(parse_bbox).transpose()?;
    let limit = q.limit.unwrap_or(1000).min(10_000);
    let inside =
        |c: &&Camera| bbox.is_none_or(|[w, s, e, n]| (w..=e).contains(&c.lon_deg) && (s..=n).contains(&c.lat_deg));
    let matched: Vec<&Camera> = state.cameras.iter().filter(inside).collect();
    if let Some(cell_deg) = q.cluster_deg {
        if !(cell_deg.is_finite() && cell_deg >= 1e-4) {
            return Err(ApiError::bad_request("cluster_deg: a cell of at least 0.0001 degrees"));
        }
        let clusters = cluster(&matched, cell_deg)
            .ok_or_else(|| ApiError::bad_request(format!("cluster_deg {cell_deg}: over {MAX_CLUSTERS} cells here")))?;
        return Ok(Json(serde_json::json!({"count": matched.len(), "clusters": clusters})));
    }
    let page: Vec<&Camera> = matched.iter().skip(q.offset).take(limit).copied().collect();
    Ok(Json(serde_json::json!({"count": matched.len(), "offset": q.offset, "cameras": page})))
}

/// The camera `id` for a feed, checked and audited. Callers who may not list cameras (public)
/// get the same audited 404 whether or not the camera exists, so they cannot count them.
async fn feed_camera<'a>(state: &'a AppState, caller: &Caller, id: &str, action: &str) -> ApiResult<&'a Camera> {
    let n: usize = id.parse().map_err(|_| ApiError::bad_request(format!("camera id {id:?} is not a number")))?;
    let found = n.checked_sub(1).and_then(|i| state.cameras.get(i));
    let missing = || ApiError::not_found(format!("no camera {n}"));
    if caller.role < Role::Planner {
        state.audit(caller, action, &format!("camera {n}"), false).await;
        return Err(missing());
    }
    let cam = found.ok_or_else(missing)?;
    require(state, caller, Role::Operator, action, &format!("camera {}", cam.id)).await?;
    Ok(cam)
}

/// `GET /api/cameras/{id}/snapshot.jpg` (operators).
pub async fn snapshot(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let cam = feed_camera(&state, &caller, &id, "view").await?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "no-store")], frame(cam, now_ms()))
        .into_response())
}

/// `GET /api/cameras/{id}/feed.mjpg` (operators): MJPEG, a frame a second until the client leaves.
pub async fn feed(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let cam = feed_camera(&state, &caller, &id, "stream").await?.clone();
    let shutdown = state.shutdown.clone();
    let stream = futures_util::stream::unfold((cam, true), move |(cam, first)| {
        let mut shutdown = shutdown.clone();
        async move {
            if !first {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return None,
                }
            }
            let jpeg = frame(&cam, now_ms());
            let mut part =
                format!("--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n", jpeg.len()).into_bytes();
            part.extend_from_slice(&jpeg);
            part.extend_from_slice(b"\r\n");
            Some((Ok::<_, std::io::Error>(part), (cam, false)))
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "multipart/x-mixed-replace; boundary=frame"), (header::CACHE_CONTROL, "no-store")],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_jpegs_that_change_with_time() {
        let cams = place(3, 1, None, [114.0, 22.5], 1000.0);
        assert_eq!(cams, place(3, 1, None, [114.0, 22.5], 1000.0));
        let a = frame(&cams[0], 1_763_700_000_000);
        let b = frame(&cams[0], 1_763_700_001_000);
        assert_eq!(&a[..2], &[0xFF, 0xD8], "JPEG start of image");
        assert_eq!(&a[a.len() - 2..], &[0xFF, 0xD9], "JPEG end of image");
        assert_ne!(a, b, "the clock and the traffic move");
        assert!(parse_bbox("1,2,3,4").is_ok() && parse_bbox("3,2,1,4").is_err() && parse_bbox("a,b").is_err());
    }

    #[test]
    fn clusters_count_every_camera_once_and_are_bounded() {
        let cams = place(5000, 7, None, [114.0, 22.5], 5000.0);
        let refs: Vec<&Camera> = cams.iter().collect();
        let clusters = cluster(&refs, 0.01).unwrap();
        assert_eq!(clusters.iter().map(|c| c.count as usize).sum::<usize>(), 5000);
        assert!(clusters.len() > 20 && clusters.len() < 200, "{} cells of ~1 km over a 10 km disc", clusters.len());
        // Each centroid lies in its own cell.
        for c in &clusters {
            assert!((c.lon_deg - 114.0).abs() < 0.06 && (c.lat_deg - 22.5).abs() < 0.05);
        }
        // 12,000 cameras in cells of ~10 m: each its own cell, over the bound.
        let many = place(12_000, 7, None, [114.0, 22.5], 5000.0);
        assert!(cluster(&many.iter().collect::<Vec<_>>(), 0.0001).is_none());
    }
}
