//! Thematic colouring: the features of the city coloured by one property of their property tables
//! (height on a ramp, building type by category), and the legend that explains the colours.

use serde_json::Value;

use std::sync::Arc;

use crate::tiles::content::features::{GltfView, PropertyTable};
use crate::tiles::content::{BatchTable, TileContent};

/// Categories shown with colours of their own; the rest share [`OTHER_RGB`].
pub const MAX_CATEGORIES: usize = 10;
/// Features whose value is missing or past the categories.
pub const OTHER_RGB: [u8; 3] = [150, 150, 150];

/// Viridis at five stops: perceptually even, readable in grey and by colour-blind viewers.
const RAMP: [[u8; 3]; 5] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
/// Tableau 10: distinct hues for categories.
const CATEGORY_RGB: [[u8; 3]; MAX_CATEGORIES] = [
    [78, 121, 167],
    [242, 142, 43],
    [225, 87, 89],
    [118, 183, 178],
    [89, 161, 79],
    [237, 201, 72],
    [176, 122, 161],
    [255, 157, 167],
    [156, 117, 95],
    [186, 176, 172],
];

/// How one property's values become colours.
#[derive(Debug, Clone, PartialEq)]
pub enum Theme {
    /// Numbers on the ramp from `min` (first stop) to `max` (last), clamped.
    Ramp { property: String, min: f64, max: f64 },
    /// Each listed value its own colour; anything else [`OTHER_RGB`].
    Categories { property: String, values: Vec<String> },
}

/// A value as a category name.
fn category(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Theme {
    /// The theme that fits `property`'s values: a ramp over their range when all are numbers, else
    /// the most frequent [`MAX_CATEGORIES`] values (ties in order of first appearance). `None`
    /// when there is no value at all.
    pub fn fit<'a>(property: &str, values: impl IntoIterator<Item = &'a Value>) -> Option<Self> {
        let values: Vec<&Value> = values.into_iter().filter(|v| !v.is_null()).collect();
        if values.is_empty() {
            return None;
        }
        let numbers: Vec<f64> = values.iter().filter_map(|v| v.as_f64()).filter(|x| x.is_finite()).collect();
        if numbers.len() == values.len() {
            let min = numbers.iter().copied().fold(f64::INFINITY, f64::min);
            let max = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            return Some(Self::Ramp { property: property.to_owned(), min, max });
        }
        let mut counts: Vec<(String, usize)> = Vec::new();
        for v in values {
            let c = category(v);
            match counts.iter_mut().find(|(k, _)| *k == c) {
                Some((_, n)) => *n += 1,
                None => counts.push((c, 1)),
            }
        }
        counts.sort_by_key(|c| std::cmp::Reverse(c.1)); // stable: ties keep their first appearance
        let values = counts.into_iter().take(MAX_CATEGORIES).map(|(k, _)| k).collect();
        Some(Self::Categories { property: property.to_owned(), values })
    }

    /// Takes in more values of the property (tiles that arrived since the fit): a ramp's range
    /// grows to hold them, new categories join while there is a colour for them. True when a
    /// colour changed, so that what is drawn must be redone.
    pub fn widen<'a>(&mut self, more: impl IntoIterator<Item = &'a Value>) -> bool {
        let mut changed = false;
        for v in more.into_iter().filter(|v| !v.is_null()) {
            match self {
                Self::Ramp { min, max, .. } => {
                    if let Some(x) = v.as_f64().filter(|x| x.is_finite())
                        && (x < *min || x > *max)
                    {
                        (*min, *max) = (min.min(x), max.max(x));
                        changed = true;
                    }
                }
                Self::Categories { values, .. } => {
                    let c = category(v);
                    if values.len() < MAX_CATEGORIES && !values.contains(&c) {
                        values.push(c);
                        changed = true;
                    }
                }
            }
        }
        changed
    }

    pub fn property(&self) -> &str {
        match self {
            Self::Ramp { property, .. } | Self::Categories { property, .. } => property,
        }
    }

    /// The colour (sRGB) of a feature whose property is `v`.
    pub fn colour(&self, v: &Value) -> [u8; 3] {
        match self {
            Self::Ramp { min, max, .. } => match v.as_f64().filter(|x| x.is_finite()) {
                Some(x) => ramp(if max > min { (x - min) / (max - min) } else { 0.5 }),
                None => OTHER_RGB,
            },
            Self::Categories { values, .. } => {
                let c = category(v);
                values.iter().position(|k| *k == c).map_or(OTHER_RGB, |i| CATEGORY_RGB[i])
            }
        }
    }

    /// What the colours mean, in order: for a ramp five stops with their values, for categories
    /// each value and then "other".
    pub fn legend(&self) -> Vec<(String, [u8; 3])> {
        match self {
            Self::Ramp { min, max, .. } => (0..RAMP.len())
                .map(|i| {
                    let t = i as f64 / (RAMP.len() - 1) as f64;
                    (format!("{:.1}", min + t * (max - min)), RAMP[i])
                })
                .collect(),
            Self::Categories { values, .. } => values
                .iter()
                .zip(CATEGORY_RGB)
                .map(|(v, c)| (v.clone(), c))
                .chain([("other".to_owned(), OTHER_RGB)])
                .collect(),
        }
    }
}

/// The ramp's colour at `t` in 0–1 (clamped), linearly between its stops.
fn ramp(t: f64) -> [u8; 3] {
    let x = t.clamp(0.0, 1.0) * (RAMP.len() - 1) as f64;
    let (i, f) = ((x.floor() as usize).min(RAMP.len() - 2), x - x.floor().min((RAMP.len() - 2) as f64));
    std::array::from_fn(|c| (RAMP[i][c] as f64 + (RAMP[i + 1][c] as f64 - RAMP[i][c] as f64) * f).round() as u8)
}

/// A tile's feature properties: its batch table (with its feature count), or the first property
/// table of its glb (`EXT_structural_metadata`).
pub enum TileProperties<'a> {
    Batch(&'a BatchTable, usize),
    Table(PropertyTable),
}

impl<'a> TileProperties<'a> {
    /// The first content of the tile that has feature properties.
    pub fn of(contents: &'a [Arc<TileContent>]) -> Option<Self> {
        contents.iter().find_map(|c| {
            let TileContent::Model(m) = c.as_ref() else { return None };
            if let Some(bt) = &m.batch_table {
                return Some(Self::Batch(bt, m.batch_length as usize));
            }
            let view = GltfView::parse(&m.gltf).ok().filter(|_| !m.is_json)?;
            let (tables, _) = view.property_tables().ok()?;
            tables.into_iter().next().map(Self::Table)
        })
    }

    pub fn names(&self) -> Vec<String> {
        match self {
            Self::Batch(bt, _) => bt.property_names().map(str::to_owned).collect(),
            Self::Table(t) => t.columns.keys().cloned().collect(),
        }
    }

    /// One property of every feature of the tile's first content with feature properties,
    /// decoding that column alone (a BIM tile's table has hundreds).
    pub fn column_of(contents: &'a [Arc<TileContent>], property: &str) -> Vec<Value> {
        for c in contents {
            let TileContent::Model(m) = c.as_ref() else { continue };
            if let Some(bt) = &m.batch_table {
                return Self::Batch(bt, m.batch_length as usize).column(property);
            }
            let view = GltfView::parse(&m.gltf).ok().filter(|_| !m.is_json);
            if let Some(v) =
                view.filter(|v| !v.json["extensions"]["EXT_structural_metadata"]["propertyTables"].is_null())
            {
                return v.first_table_column(property).unwrap_or_default();
            }
        }
        Vec::new()
    }

    /// One property of every feature, by feature ID (null where a feature has none).
    pub fn column(&self, property: &str) -> Vec<Value> {
        match self {
            Self::Batch(bt, n) => (0..*n).map(|i| bt.property(property, i).unwrap_or(Value::Null)).collect(),
            Self::Table(t) => t.columns.get(property).cloned().unwrap_or_default(),
        }
    }

    /// Every property of one feature.
    pub fn row(&self, feature: usize) -> Vec<(String, Value)> {
        match self {
            Self::Batch(bt, _) => bt.feature(feature).into_iter().collect(),
            Self::Table(t) => t.row(feature).into_iter().map(|(k, v)| (k.to_owned(), v.clone())).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_fit_a_ramp_over_their_range() {
        let values = [json!(10.0), json!(30), json!(50.5), Value::Null];
        let theme = Theme::fit("height", &values).unwrap();
        assert_eq!(theme, Theme::Ramp { property: "height".into(), min: 10.0, max: 50.5 });
        assert_eq!(theme.colour(&json!(10.0)), RAMP[0]);
        assert_eq!(theme.colour(&json!(50.5)), RAMP[4]);
        assert_eq!(theme.colour(&json!(99.0)), RAMP[4], "clamped");
        // A quarter of the way is the second stop; an eighth is halfway between the first two.
        assert_eq!(theme.colour(&json!(10.0 + 40.5 / 4.0)), RAMP[1]);
        assert_eq!(theme.colour(&json!(10.0 + 40.5 / 8.0)), [64, 42, 112]);
        assert_eq!(theme.colour(&json!("tall")), OTHER_RGB);
        let legend = theme.legend();
        assert_eq!(legend.len(), 5);
        assert_eq!((legend[0].0.as_str(), legend[4].0.as_str()), ("10.0", "50.5"));
    }

    #[test]
    fn words_fit_categories_by_frequency() {
        let mut values = vec![json!("house"); 3];
        values.extend([json!("office"), json!("school"), json!("office"), json!(7)]);
        let theme = Theme::fit("building", &values).unwrap();
        let Theme::Categories { values: cats, .. } = &theme else { panic!("{theme:?}") };
        assert_eq!(cats, &["house", "office", "school", "7"]);
        assert_eq!(theme.colour(&json!("office")), CATEGORY_RGB[1]);
        assert_eq!(theme.colour(&json!(7)), CATEGORY_RGB[3], "a number among words is a category");
        assert_eq!(theme.colour(&json!("church")), OTHER_RGB);
        assert_eq!(theme.legend().last().unwrap(), &("other".to_owned(), OTHER_RGB));

        // Past the palette, the rarest share "other".
        let many: Vec<Value> = (0..30).map(|i| json!(format!("k{}", i % 12))).collect();
        let Some(Theme::Categories { values, .. }) = Theme::fit("k", &many) else { panic!() };
        assert_eq!(values.len(), MAX_CATEGORIES);
        assert!(Theme::fit("none", &[Value::Null]).is_none());
    }

    #[test]
    fn later_tiles_widen_the_theme_and_say_when_colours_change() {
        let mut ramp = Theme::fit("h", &[json!(10.0), json!(20.0)]).unwrap();
        assert!(!ramp.widen(&[json!(15.0), json!("x"), Value::Null]), "inside the range");
        assert!(ramp.widen(&[json!(40.0)]));
        assert_eq!(ramp, Theme::Ramp { property: "h".into(), min: 10.0, max: 40.0 });
        let mut cats = Theme::fit("k", &[json!("a")]).unwrap();
        assert!(!cats.widen(&[json!("a")]));
        assert!(cats.widen(&[json!("b")]));
        assert_eq!(cats.colour(&json!("b")), CATEGORY_RGB[1]);
        let more: Vec<Value> = (0..20).map(|i| json!(i.to_string())).collect();
        cats.widen(&more);
        assert_eq!(cats.legend().len(), MAX_CATEGORIES + 1, "full, then other");
    }

    #[test]
    fn one_value_everywhere_sits_mid_ramp() {
        let theme = Theme::fit("h", &[json!(5.0), json!(5.0)]).unwrap();
        assert_eq!(theme.colour(&json!(5.0)), RAMP[2]);
    }
}
