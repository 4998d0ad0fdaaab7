//! A building footprint with its heights and properties, and how OSM tags give them.

use crate::geo::{ring_area_m2, ring_bounds};

/// One building: a footprint in local east-north-up metres, extruded between two heights.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Building {
    /// `way/123`, `relation/45` or `procedural/17`.
    pub id: String,
    /// Outer ring, counter-clockwise seen from above, not closed.
    pub outer: Vec<[f64; 2]>,
    /// Courtyards, clockwise, not closed.
    pub holes: Vec<Vec<[f64; 2]>>,
    /// Local up-coordinate of the ground under the building (the Earth curves away).
    pub base_z_m: f64,
    pub min_height_m: f64,
    pub height_m: f64,
    pub levels: Option<u32>,
    /// The `building=*` value: `yes`, `house`, `apartments`, …
    pub kind: String,
    pub name: String,
    pub address: String,
}

impl Building {
    /// Footprint area in m², courtyards excluded.
    pub fn area_m2(&self) -> f64 {
        ring_area_m2(&self.outer).abs() - self.holes.iter().map(|h| ring_area_m2(h).abs()).sum::<f64>()
    }

    /// Axis-aligned bounds of the footprint: (min, max).
    pub fn bounds(&self) -> ([f64; 2], [f64; 2]) {
        ring_bounds(&self.outer)
    }

    /// Centre of the footprint's bounds.
    pub fn center(&self) -> [f64; 2] {
        let (lo, hi) = self.bounds();
        [0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])]
    }

    /// How much the building matters at a distance: its volume.
    pub fn importance(&self) -> f64 {
        self.area_m2() * (self.height_m - self.min_height_m).max(1.0)
    }
}

/// The tags of an OSM building, as far as the tiler reads them.
#[derive(Debug, Clone, Default)]
pub struct BuildingTags<'a> {
    pub pairs: Vec<(&'a str, &'a str)>,
}

/// Metres per storey when only `building:levels` is known.
pub const LEVEL_HEIGHT_M: f64 = 3.0;

impl<'a> BuildingTags<'a> {
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// Height, minimum height and levels: `height`, `building:height`, `building:levels × 3 m`,
    /// `min_height`, `building:min_level × 3 m`, else a default by building type. Unreadable
    /// values are reported and skipped.
    pub fn heights(&self, warn: &mut impl FnMut(String)) -> (f64, f64, Option<u32>) {
        let mut length = |key: &str| -> Option<f64> {
            let raw = self.get(key)?;
            let v = parse_length_m(raw);
            if v.is_none() {
                warn(format!("{key}={raw:?} is not a length; ignored"));
            }
            v
        };
        let levels =
            self.get("building:levels").and_then(|v| v.trim().parse::<f64>().ok()).filter(|v| *v >= 0.0 && *v < 300.0);
        let height = length("height")
            .or_else(|| length("building:height"))
            .or(levels.map(|l| l * LEVEL_HEIGHT_M))
            .filter(|h| *h > 0.0 && *h < 1000.0)
            .unwrap_or_else(|| default_height_m(self.get("building").unwrap_or("yes")));
        let min_levels = self.get("building:min_level").and_then(|v| v.trim().parse::<f64>().ok());
        let min = length("min_height")
            .or(min_levels.map(|l| l * LEVEL_HEIGHT_M))
            .filter(|m| *m >= 0.0 && *m < height)
            .unwrap_or(0.0);
        (min, height, levels.map(|l| l.round() as u32))
    }

    /// `addr:street addr:housenumber, addr:postcode addr:city`, as far as tagged.
    pub fn address(&self) -> String {
        let street =
            [self.get("addr:street"), self.get("addr:housenumber")].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let town =
            [self.get("addr:postcode"), self.get("addr:city")].into_iter().flatten().collect::<Vec<_>>().join(" ");
        [street, town].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ")
    }
}

/// Parses `12`, `12.5 m`, `12,5`, `40 ft`, `40'`, `12'6"` into metres.
pub fn parse_length_m(raw: &str) -> Option<f64> {
    let s = raw.trim().to_ascii_lowercase().replace(',', ".");
    if let Some((ft, rest)) = s.split_once('\'') {
        let inches = rest.trim().trim_end_matches('"').trim();
        let inches = if inches.is_empty() { 0.0 } else { inches.parse::<f64>().ok()? };
        return Some((ft.trim().parse::<f64>().ok()? * 12.0 + inches) * 0.0254);
    }
    for (unit, factor) in [("ft", 0.3048), ("feet", 0.3048), ("m", 1.0)] {
        if let Some(v) = s.strip_suffix(unit) {
            return v.trim().parse::<f64>().ok().map(|v| v * factor).filter(|v| v.is_finite());
        }
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A sensible height by building type when nothing is tagged.
pub fn default_height_m(kind: &str) -> f64 {
    match kind {
        "house" | "detached" | "semidetached_house" | "bungalow" | "farm" | "cabin" => 6.0,
        "terrace" | "residential" => 9.0,
        "apartments" | "dormitory" | "hotel" => 15.0,
        "office" | "commercial" | "government" | "public" | "civic" | "university" | "hospital" => 15.0,
        "retail" | "supermarket" | "kiosk" => 5.0,
        "industrial" | "warehouse" | "manufacture" => 8.0,
        "garage" | "garages" | "shed" | "carport" | "hut" | "roof" | "service" => 3.0,
        "church" | "cathedral" | "mosque" | "temple" | "synagogue" => 18.0,
        "school" | "kindergarten" | "train_station" | "transportation" => 10.0,
        _ => 9.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&'static str, &'static str)]) -> BuildingTags<'static> {
        BuildingTags { pairs: pairs.to_vec() }
    }

    #[test]
    fn lengths_in_many_spellings() {
        assert_eq!(parse_length_m("12"), Some(12.0));
        assert_eq!(parse_length_m(" 12.5 m"), Some(12.5));
        assert_eq!(parse_length_m("12,5"), Some(12.5));
        assert!((parse_length_m("40 ft").unwrap() - 12.192).abs() < 1e-9);
        assert!((parse_length_m("12'6\"").unwrap() - 3.81).abs() < 1e-9);
        assert_eq!(parse_length_m("tall"), None);
        assert_eq!(parse_length_m("NaN"), None);
    }

    #[test]
    fn height_sources_in_order() {
        let mut warnings = Vec::new();
        let mut warn = |m: String| warnings.push(m);
        assert_eq!(tags(&[("height", "21"), ("building:levels", "3")]).heights(&mut warn), (0.0, 21.0, Some(3)));
        assert_eq!(tags(&[("building:height", "8 m")]).heights(&mut warn), (0.0, 8.0, None));
        assert_eq!(tags(&[("building:levels", "4")]).heights(&mut warn), (0.0, 12.0, Some(4)));
        assert_eq!(
            tags(&[("building:levels", "5"), ("building:min_level", "2")]).heights(&mut warn),
            (6.0, 15.0, Some(5))
        );
        assert_eq!(tags(&[("height", "30"), ("min_height", "10")]).heights(&mut warn), (10.0, 30.0, None));
        assert_eq!(tags(&[("building", "house")]).heights(&mut warn), (0.0, 6.0, None));
        assert_eq!(tags(&[("building", "yes"), ("height", "high")]).heights(&mut warn), (0.0, 9.0, None));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn addresses_join_what_is_there() {
        let t = tags(&[("addr:street", "Aleksanterinkatu"), ("addr:housenumber", "52"), ("addr:city", "Helsinki")]);
        assert_eq!(t.address(), "Aleksanterinkatu 52, Helsinki");
        assert_eq!(tags(&[]).address(), "");
    }

    #[test]
    fn area_excludes_courtyards() {
        let b = Building {
            id: "t".into(),
            outer: vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]],
            holes: vec![vec![[2.0, 2.0], [2.0, 4.0], [4.0, 4.0], [4.0, 2.0]]],
            base_z_m: 0.0,
            min_height_m: 0.0,
            height_m: 10.0,
            levels: None,
            kind: "yes".into(),
            name: String::new(),
            address: String::new(),
        };
        assert_eq!(b.area_m2(), 96.0);
        assert_eq!(b.center(), [5.0, 5.0]);
    }
}
