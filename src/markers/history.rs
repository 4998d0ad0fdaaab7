//! A sensor's history from the data server's SensorThings API: the request for its observations
//! since a time (oldest first, in pages), and each page read into `(time_ms, value)` points.
//! A sensor's Datastream is its index + 1.

use serde::Deserialize;

use citytwin_sensorthings::filter::{format_time, parse_time};

/// Observations a page asks for.
pub const PAGE: usize = 1000;
/// Pages followed at most (a day at the default one-minute history is two).
pub const MAX_PAGES: usize = 10;

/// The path and query of the first page for `sensor`, observations at or after `since_ms`.
pub fn history_path(sensor: u32, since_ms: i64) -> String {
    format!(
        "/v1.1/Datastreams({})/Observations?$filter=phenomenonTime%20ge%20{}&$orderby=phenomenonTime%20asc&$top={PAGE}",
        sensor as u64 + 1,
        format_time(since_ms)
    )
}

/// One page: its points (observations with a time and a numeric result) and the next page's URL.
#[derive(Debug, Default, PartialEq)]
pub struct HistoryPage {
    pub points: Vec<(i64, f64)>,
    pub next: Option<String>,
}

#[derive(Deserialize)]
struct Page {
    value: Vec<Observation>,
    #[serde(rename = "@iot.nextLink")]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Observation {
    #[serde(rename = "phenomenonTime")]
    time: Option<String>,
    result: Option<serde_json::Value>,
}

/// Reads a page; observations without a readable time or a number are left out.
pub fn read_page(json: &[u8]) -> Result<HistoryPage, String> {
    let page: Page = serde_json::from_slice(json).map_err(|e| format!("not a SensorThings page: {e}"))?;
    let points = page
        .value
        .iter()
        .filter_map(|o| Some((parse_time(o.time.as_deref()?)?, o.result.as_ref()?.as_f64()?)))
        .collect();
    Ok(HistoryPage { points, next: page.next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_datastream_the_start_and_the_order() {
        let p = history_path(41, 1_764_500_000_000);
        assert!(p.starts_with("/v1.1/Datastreams(42)/Observations?"), "{p}");
        assert!(p.contains("$filter=phenomenonTime%20ge%202025-11-30T10:53:20Z"), "{p}");
        assert!(p.contains("$orderby=phenomenonTime%20asc") && p.contains("$top=1000"));
    }

    #[test]
    fn pages_read_into_points_and_bad_entries_are_left_out() {
        let json = br#"{"value":[
            {"phenomenonTime":"2026-11-30T10:00:00Z","result":12.5},
            {"phenomenonTime":"2026-11-30T10:01:00Z","result":"n/a"},
            {"phenomenonTime":"yesterday","result":1},
            {"result":3},
            {"phenomenonTime":"2026-11-30T10:02:00Z","result":13}],
            "@iot.nextLink":"http://h/v1.1/Datastreams(1)/Observations?$skip=1000"}"#;
        let page = read_page(json).unwrap();
        let t0 = parse_time("2026-11-30T10:00:00Z").unwrap();
        assert_eq!(page.points, vec![(t0, 12.5), (t0 + 120_000, 13.0)]);
        assert_eq!(page.next.as_deref(), Some("http://h/v1.1/Datastreams(1)/Observations?$skip=1000"));
        assert!(read_page(br#"{"value":[]}"#).unwrap().next.is_none());
        assert!(read_page(b"<html>").is_err());
    }
}
