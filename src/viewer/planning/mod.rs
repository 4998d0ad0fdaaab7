//! Planning comparison in the viewer: the catalog's planning scenarios, each variant drawn on its
//! site, the sun of a chosen date and time lighting the city with cascaded shadows, and the panel
//! comparing the variants' figures. The analysis itself is engine-free (`crate::scenario`).

mod panel;
mod share;
mod sun;
mod sun_hours;
mod variants;

use bevy::prelude::*;
use time::{Date, Month};

use super::catalog::CatalogStatus;
use super::feature_state::FeatureStyle;
use super::look::{Daylight, LookSettings};
use super::views::ViewLayout;
use crate::protocol::catalog::Scenario;
use crate::scenario::study::Study;

pub use panel::{planning_ui, share_ui};
pub use sun::sun_light;

/// The catalog's scenarios (planning and drills), as the data server served them.
#[derive(Resource, Debug, Clone, Default)]
pub struct Scenarios(pub Vec<Scenario>);

/// The comparison in progress: the open study, the variants shown, how, and the sun's date and time.
#[derive(Resource, Debug, Clone)]
pub struct Planning {
    pub study: Option<Study>,
    /// Variant A (the main view's): an index into the study's variants; `None` is the site as built.
    pub shown: Option<usize>,
    /// Variant B (the second view's, in a swipe or side by side).
    pub other: Option<usize>,
    pub mode: CompareMode,
    pub clock: SunClock,
}

/// How variants are compared.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum CompareMode {
    /// One view; the panel switches the variant.
    #[default]
    Toggle,
    /// One picture: A left of a divider the user drags (a fraction of the width), B right of it.
    Swipe { divider: f32 },
    /// Two views of the one camera: A left, B right.
    SideBySide,
}

impl CompareMode {
    /// Reads `toggle`, `swipe` (divided in the middle), `swipe:DIVIDER` (0–1) or `side-by-side`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?}: compare is toggle, swipe, swipe:DIVIDER (0–1) or side-by-side");
        match s.split_once(':') {
            Some(("swipe", d)) => match d.parse::<f32>() {
                Ok(divider) if (0.0..=1.0).contains(&divider) => Ok(Self::Swipe { divider }),
                _ => Err(bad()),
            },
            Some(_) => Err(bad()),
            None => match s {
                "toggle" => Ok(Self::Toggle),
                "swipe" => Ok(Self::Swipe { divider: 0.5 }),
                "side-by-side" => Ok(Self::SideBySide),
                _ => Err(bad()),
            },
        }
    }

    pub fn layout(self) -> ViewLayout {
        match self {
            Self::Toggle => ViewLayout::Single,
            Self::Swipe { divider } => ViewLayout::Swipe { divider },
            Self::SideBySide => ViewLayout::SideBySide,
        }
    }
}

/// When the sun is taken: a date and minutes after local midnight, where local is the site's
/// standard time (UTC offset from its longitude, whole hours).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SunClock {
    pub date: Date,
    pub minutes: u32,
    /// Whether the sun drives the light (with shadows); off, the viewer keeps its fixed light.
    pub enabled: bool,
    pub shadows: bool,
}

impl SunClock {
    /// The local date and time as `parse_sun_time` reads it (`YYYY-MM-DDTHH:MM`).
    pub fn text(&self) -> String {
        let d = self.date;
        let (h, m) = (self.minutes / 60, self.minutes % 60);
        format!("{:04}-{:02}-{:02}T{h:02}:{m:02}", d.year(), u8::from(d.month()), d.day())
    }
}

impl Default for Planning {
    fn default() -> Self {
        let date = Date::from_calendar_date(2026, Month::March, 20).expect("a valid date");
        Self {
            study: None,
            shown: None,
            other: None,
            mode: CompareMode::Toggle,
            clock: SunClock { date, minutes: 10 * 60, enabled: false, shadows: true },
        }
    }
}

impl Planning {
    /// Opens a scenario's study (logging why not, when its site is unusable) and shows its first
    /// variant in the sunlight.
    pub fn open(&mut self, scenario: &Scenario) {
        match Study::new(scenario) {
            Ok(study) => {
                for v in study.variants.iter().filter(|v| v.problem.is_some()) {
                    warn!("scenario {} variant {}: {}", study.id, v.id, v.problem.as_deref().unwrap_or_default());
                }
                self.shown = (!study.variants.is_empty()).then_some(0);
                self.other = (study.variants.len() > 1).then_some(1);
                self.study = Some(study);
                self.clock.enabled = true;
            }
            Err(e) => warn!("scenario {}: {e}", scenario.id),
        }
    }

    /// Opens `scenario` as `start` asks: its variants, compare mode, sun time and shadows.
    pub fn apply_start(&mut self, scenario: &Scenario, start: &PlanningStart) {
        self.open(scenario);
        let variant = |id: &String| {
            let index = scenario.variants.iter().position(|v| &v.id == id);
            if index.is_none() && id != "none" {
                warn!("scenario {} has no variant {id:?}", scenario.id);
            }
            index
        };
        if let Some(id) = &start.variant {
            self.shown = variant(id);
        }
        if let Some(id) = &start.other {
            self.other = variant(id);
        }
        match start.compare.as_deref().map(CompareMode::parse) {
            Some(Ok(mode)) => self.mode = mode,
            Some(Err(e)) => warn!("{e}"),
            None => {}
        }
        if let Some(sun) = &start.sun {
            match parse_sun_time(sun) {
                Ok((date, minutes)) => (self.clock.date, self.clock.minutes) = (date, minutes),
                Err(e) => warn!("{e}"),
            }
        }
        self.clock.shadows = start.shadows;
    }

    /// A variant's id (`none`: the site as built).
    pub fn variant_id(&self, variant: Option<usize>) -> String {
        let study = self.study.as_ref();
        variant.and_then(|i| study?.variants.get(i)).map_or("none".to_owned(), |v| v.id.clone())
    }

    pub fn close(&mut self) {
        self.study = None;
        self.shown = None;
        self.other = None;
        self.mode = CompareMode::Toggle;
        self.clock.enabled = false;
    }
}

/// A comparison to open at start-up (a shared link or a screenshot): scenario and variant ids,
/// and the sun's local date and time as `YYYY-MM-DDTHH:MM`.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct PlanningStart {
    pub scenario: String,
    pub variant: Option<String>,
    /// Variant B, for `compare`.
    pub other: Option<String>,
    /// `toggle`, `swipe` or `side-by-side`.
    pub compare: Option<String>,
    pub sun: Option<String>,
    pub shadows: bool,
}

/// Reads `YYYY-MM-DDTHH:MM` (or just the date, at 10:00) into a date and minutes after midnight.
pub fn parse_sun_time(s: &str) -> Result<(Date, u32), String> {
    let bad = || format!("{s:?}: the sun's time is YYYY-MM-DDTHH:MM");
    let (date, hm) = s.split_once('T').unwrap_or((s, "10:00"));
    let num = |v: &str| v.parse::<i32>().map_err(|_| bad());
    let ymd: Vec<&str> = date.split('-').collect();
    let [y, m, d] = ymd[..] else { return Err(bad()) };
    let month = Month::try_from(u8::try_from(num(m)?).map_err(|_| bad())?).map_err(|_| bad())?;
    let date =
        Date::from_calendar_date(num(y)?, month, u8::try_from(num(d)?).map_err(|_| bad())?).map_err(|_| bad())?;
    let (h, min) = hm.split_once(':').ok_or_else(bad)?;
    let (h, min) = (num(h)?, num(min)?);
    if !(0..24).contains(&h) || !(0..60).contains(&min) {
        return Err(bad());
    }
    Ok((date, (h * 60 + min) as u32))
}

/// Opens the start-up comparison once the catalog's scenarios are in.
fn open_at_start(
    start: Option<Res<PlanningStart>>,
    catalog: Option<Res<CatalogStatus>>,
    scenarios: Res<Scenarios>,
    mut planning: ResMut<Planning>,
    mut done: Local<bool>,
) {
    if catalog.is_some_and(|c| *c == CatalogStatus::Loading) {
        return;
    }
    let Some(start) = start.filter(|_| !*done) else { return };
    *done = true;
    let Some(scenario) = scenarios.0.iter().find(|s| s.id == start.scenario) else {
        warn!("no scenario {:?} in the catalog", start.scenario);
        return;
    };
    planning.apply_start(scenario, &start);
}

/// While a view shows a variant, the city's buildings on its site make way (hidden through their
/// feature state, shadows included); the site as built in every view shows them again.
fn clear_site(planning: Res<Planning>, mut style: ResMut<FeatureStyle>) {
    if !planning.is_changed() {
        return;
    }
    let compared = planning.mode != CompareMode::Toggle && planning.other.is_some();
    let cleared = planning.study.as_ref().filter(|_| planning.shown.is_some() || compared);
    let sites: Vec<_> = cleared.map(|s| s.site.clone()).into_iter().collect();
    if style.cleared_sites != sites {
        style.cleared_sites = sites;
    }
}

/// The views follow the comparison's mode.
fn follow_mode(planning: Res<Planning>, mut layout: ResMut<ViewLayout>) {
    let want = if planning.study.is_some() { planning.mode.layout() } else { ViewLayout::Single };
    layout.set_if_neq(want);
}

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum PlanningSystems {
    /// Variant entities follow the open study and the shown variant.
    Variants,
    /// The sun follows the clock.
    Sun,
}

pub struct PlanningPlugin;

impl Plugin for PlanningPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Scenarios>()
            .init_resource::<Planning>()
            .init_resource::<ViewLayout>()
            .init_resource::<sun_hours::SunHoursAnalysis>()
            .init_resource::<FeatureStyle>()
            .init_resource::<LookSettings>()
            .init_resource::<Daylight>()
            .configure_sets(Update, (PlanningSystems::Variants, PlanningSystems::Sun))
            .add_systems(
                Update,
                (open_at_start, variants::spawn_study, variants::show_variant, follow_mode, clear_site)
                    .chain()
                    .in_set(PlanningSystems::Variants),
            )
            .add_systems(Update, sun::follow_clock.in_set(PlanningSystems::Sun))
            .add_systems(Update, (sun_hours::start_analysis, sun_hours::finish_analysis).chain());
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn sun_times_parse_and_bad_ones_say_how() {
        assert_eq!(parse_sun_time("2026-06-21T15:30"), Ok((date!(2026 - 06 - 21), 930)));
        assert_eq!(parse_sun_time("2026-12-21"), Ok((date!(2026 - 12 - 21), 600)));
        for bad in ["2026-13-01T10:00", "2026-02-30", "2026-06-21T24:00", "2026-06-21T10", "tomorrow", ""] {
            assert!(parse_sun_time(bad).unwrap_err().contains("YYYY-MM-DDTHH:MM"), "{bad}");
        }
    }

    #[test]
    fn compare_modes_parse_and_lay_out_the_views() {
        assert_eq!(CompareMode::parse("swipe").unwrap().layout(), ViewLayout::Swipe { divider: 0.5 });
        assert_eq!(CompareMode::parse("side-by-side").unwrap().layout(), ViewLayout::SideBySide);
        assert_eq!(CompareMode::parse("toggle").unwrap().layout(), ViewLayout::Single);
        assert_eq!(CompareMode::parse("swipe:0.3").unwrap(), CompareMode::Swipe { divider: 0.3 });
        for bad in ["split", "swipe:", "swipe:1.5", "swipe:x", "toggle:1"] {
            assert!(CompareMode::parse(bad).unwrap_err().contains("swipe"), "{bad}");
        }
    }
}
