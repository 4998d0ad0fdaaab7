//! Sharing a comparison: the camera, scenario, variants, compare mode, the sun's time and the look
//! (thematic colouring, night) as a browser link (the page's query) and, on the desktop, as a
//! viewer file (`citytwin --config FILE`); both open the same view.

use super::{CompareMode, Planning};
use crate::viewer::camera::Bookmark;

/// Everything a shared view carries, in the words of the flags and the page query.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedView {
    pub camera: Bookmark,
    pub scenario: String,
    /// Variant ids, or `none` for the site as built.
    pub variant: String,
    pub other: String,
    /// `toggle`, `swipe:DIVIDER` or `side-by-side`.
    pub compare: String,
    /// `YYYY-MM-DDTHH:MM`, the site's standard time.
    pub sun: String,
    pub shadows: bool,
    /// The property the city is coloured by.
    pub theme: Option<String>,
    pub night: bool,
}

/// How the city looks, beside the comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SharedLook {
    pub theme: Option<String>,
    pub night: bool,
}

impl SharedView {
    /// The open comparison seen from `camera`, looking as `look`; `None` when no study is open.
    pub fn of(planning: &Planning, camera: Bookmark, look: SharedLook) -> Option<Self> {
        let study = planning.study.as_ref()?;
        let compare = match planning.mode {
            CompareMode::Toggle => "toggle".to_owned(),
            CompareMode::Swipe { divider } => format!("swipe:{divider:.3}"),
            CompareMode::SideBySide => "side-by-side".to_owned(),
        };
        Some(Self {
            camera,
            scenario: study.id.clone(),
            variant: planning.variant_id(planning.shown),
            other: planning.variant_id(planning.other),
            compare,
            sun: planning.clock.text(),
            shadows: planning.clock.shadows,
            theme: look.theme,
            night: look.night,
        })
    }

    /// The page query that opens this view, e.g. `camera=…&scenario=demo-site&variant=tower…`.
    pub fn query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("camera", &self.camera.to_string())
            .append_pair("scenario", &self.scenario)
            .append_pair("variant", &self.variant)
            .append_pair("other", &self.other)
            .append_pair("compare", &self.compare)
            .append_pair("sun", &self.sun);
        if !self.shadows {
            q.append_pair("shadows", "0");
        }
        if let Some(theme) = &self.theme {
            q.append_pair("theme", theme);
        }
        if self.night {
            q.append_pair("night", "1");
        }
        q.finish()
    }

    /// The viewer file that opens this view: the `--config` keys.
    #[cfg(feature = "viewer")]
    pub fn toml(&self) -> String {
        #[derive(serde::Serialize)]
        struct ViewFile<'a> {
            camera: String,
            scenario: &'a str,
            variant: &'a str,
            other: &'a str,
            compare: &'a str,
            sun: &'a str,
            no_shadows: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            theme: Option<&'a str>,
            night: bool,
        }
        let file = ViewFile {
            camera: self.camera.to_string(),
            scenario: &self.scenario,
            variant: &self.variant,
            other: &self.other,
            compare: &self.compare,
            sun: &self.sun,
            no_shadows: !self.shadows,
            theme: self.theme.as_deref(),
            night: self.night,
        };
        toml::to_string(&file).expect("strings and a bool always serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiler::demo::demo_scenario;

    fn shared() -> SharedView {
        let mut planning = Planning::default();
        planning.open(&demo_scenario());
        planning.shown = Some(2);
        planning.other = None;
        planning.mode = CompareMode::Swipe { divider: 0.25 };
        planning.clock.minutes = 15 * 60 + 5;
        planning.clock.shadows = false;
        let camera = Bookmark { lon_deg: 114.06, lat_deg: 22.54, height_m: 640.0, heading_deg: 0.0, pitch_deg: -62.0 };
        SharedView::of(&planning, camera, SharedLook { theme: Some("height".into()), night: true }).unwrap()
    }

    #[test]
    fn the_link_carries_the_whole_view() {
        let s = shared();
        assert_eq!((s.variant.as_str(), s.other.as_str(), s.compare.as_str()), ("park", "none", "swipe:0.250"));
        assert_eq!(s.sun, "2026-03-20T15:05");
        let query = s.query();
        let pairs: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        assert_eq!(pairs["scenario"], "demo-site");
        assert_eq!(pairs["shadows"], "0");
        assert_eq!((pairs["theme"].as_str(), pairs["night"].as_str()), ("height", "1"));
        assert_eq!(Bookmark::parse(&pairs["camera"]).unwrap(), s.camera);
        assert_eq!(CompareMode::parse(&pairs["compare"]).unwrap(), CompareMode::Swipe { divider: 0.25 });
        assert_eq!(super::super::parse_sun_time(&pairs["sun"]).unwrap().1, 15 * 60 + 5);
        let nothing = SharedView::of(&Planning::default(), s.camera, SharedLook::default());
        assert!(nothing.is_none(), "nothing to share without a study");
    }

    #[test]
    fn the_file_is_the_viewers_own_configuration() {
        let s = shared();
        let args: crate::viewer::ViewerArgs = toml::from_str(&s.toml()).unwrap();
        assert_eq!(args.scenario.as_deref(), Some("demo-site"));
        assert_eq!((args.variant.as_deref(), args.other.as_deref()), (Some("park"), Some("none")));
        assert_eq!((args.compare.as_deref(), args.sun.as_deref()), (Some("swipe:0.250"), Some("2026-03-20T15:05")));
        assert!(args.no_shadows);
        assert_eq!((args.theme.as_deref(), args.night), (Some("height"), true));
        assert_eq!(Bookmark::parse(args.camera.as_deref().unwrap()).unwrap(), s.camera);
    }
}
