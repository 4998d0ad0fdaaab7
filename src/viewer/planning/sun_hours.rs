//! Sun hours lost, in the viewer: the loaded city around the site (the visible tiles' pick
//! geometry, one obstacle per building) and the shown variant go to the engine-free analysis on a
//! worker thread; the panel shows the figures.

use bevy::prelude::*;
use bevy::tasks::{AsyncComputeTaskPool, Task, block_on, poll_once};
use glam::DVec3;
use time::Date;

use super::Planning;
use crate::scenario::solid::Obstacle;
use crate::scenario::sun_hours::{SunHours, facade_receivers, ground_receivers, sun_hours, sun_path};
use crate::viewer::origin::GeoTransform;
use crate::viewer::tiles::TilePart;

/// Neighbours within this of the site are measured; buildings within `SHADING_M` cast shade.
const AROUND_M: f64 = 150.0;
const SHADING_M: f64 = 600.0;
const GROUND_SPACING_M: f64 = 5.0;
const FACADE_SPACING_M: f64 = 4.0;
const STEP_MIN: u32 = 15;

/// What one analysis found, for one variant on one day.
#[derive(Debug, Clone)]
pub struct SunHoursReport {
    pub variant: String,
    pub date: Date,
    pub hours: SunHours,
    pub receivers: usize,
    pub buildings: usize,
}

/// The analysis asked for by the panel, running or done.
#[derive(Resource, Default)]
pub struct SunHoursAnalysis {
    pub requested: bool,
    task: Option<Task<SunHoursReport>>,
    pub report: Option<SunHoursReport>,
}

impl SunHoursAnalysis {
    pub fn running(&self) -> bool {
        self.task.is_some()
    }
}

/// Gathers the city and the shown variant in the site's frame and starts the analysis.
pub fn start_analysis(
    mut analysis: ResMut<SunHoursAnalysis>,
    planning: Res<Planning>,
    parts: Query<(Entity, &TilePart, &GeoTransform, &InheritedVisibility)>,
) {
    if !analysis.requested || analysis.task.is_some() {
        return;
    }
    analysis.requested = false;
    let Some((study, variant)) = planning.study.as_ref().zip(planning.shown) else { return };
    let site = &study.site;
    let (lo, hi) = crate::geo::ring_bounds(&site.outline_m);
    let near = |p: DVec3, margin: f64| {
        p.x > lo[0] - margin && p.x < hi[0] + margin && p.y > lo[1] - margin && p.y < hi[1] + margin
    };
    let mut triangles = Vec::new();
    for (entity, part, geo, visible) in &parts {
        let Some(pick) = part.pick.as_ref().filter(|_| visible.get()) else { continue };
        let site_from_part = site.frame.enu_from_ecef * geo.0;
        let p = |i: u32| site_from_part.transform_point3(pick.position(i).as_dvec3());
        for [a, b, c] in pick.triangles() {
            let tri = [p(a), p(b), p(c)];
            if near((tri[0] + tri[1] + tri[2]) / 3.0, SHADING_M) {
                let feature = pick.feature(a).unwrap_or(0);
                triangles.push((tri, (entity, feature)));
            }
        }
    }
    // The buildings on the site make way for the variant (they are hidden while it shows).
    let mut city = Obstacle::by_feature(triangles);
    city.retain(|o| !site.holds((o.min, o.max)));
    let neighbours: Vec<Obstacle> = city.iter().filter(|o| near((o.min + o.max) / 2.0, AROUND_M)).cloned().collect();
    let v = &study.variants[variant];
    let shading: Vec<Obstacle> = v.prisms.iter().map(Obstacle::from_prism).collect();
    let mut receivers = ground_receivers(&site.outline_m, AROUND_M, GROUND_SPACING_M, &v.prisms);
    receivers.extend(facade_receivers(&neighbours, FACADE_SPACING_M));
    let (lon, lat) = (site.frame.origin.lon_rad.to_degrees(), site.frame.origin.lat_rad.to_degrees());
    let date = planning.clock.date;
    let name = v.name.clone();
    let buildings = city.len();
    analysis.report = None;
    analysis.task = Some(AsyncComputeTaskPool::get().spawn(async move {
        let path = sun_path(date, lon, lat, STEP_MIN);
        let hours = sun_hours(&receivers, &city, &shading, &path);
        SunHoursReport { variant: name, date, hours, receivers: receivers.len(), buildings }
    }));
}

/// Takes the finished analysis.
pub fn finish_analysis(mut analysis: ResMut<SunHoursAnalysis>) {
    if let Some(task) = analysis.task.as_mut()
        && let Some(report) = block_on(poll_once(task))
    {
        info!(
            "sun hours lost to {} on {}: ground {:.0} m²·h, facades {:.0} m²·h, {} of {} points lose an hour or more",
            report.variant,
            report.date,
            report.hours.ground_lost_m2h,
            report.hours.facade_lost_m2h,
            report.hours.losing_an_hour,
            report.receivers
        );
        analysis.report = Some(report);
        analysis.task = None;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::scenario::solid::Prism;
    use crate::tiler::demo::demo_scenario;
    use crate::viewer::pick_geometry::PickGeometry;

    /// A loaded tile part holding one 20 m cube, 60 m north of the site's centre (site metres).
    fn cube_part(app: &mut App) {
        let planning = app.world().resource::<Planning>();
        let frame = planning.study.as_ref().unwrap().site.frame;
        let outline = vec![[-10.0, 50.0], [10.0, 50.0], [10.0, 70.0], [-10.0, 70.0]];
        let walls = Prism { outline, base_m: 0.0, top_m: 20.0, floors: 0 }.wall_triangles();
        let positions: Vec<[f32; 3]> = walls.iter().flatten().map(|p| p.as_vec3().to_array()).collect();
        let pick = PickGeometry::new(&positions, None, Some(&vec![4; walls.len() * 3]));
        let layer = app.world_mut().spawn_empty().id();
        app.world_mut().spawn((
            TilePart { layer, key: Default::default(), pick: Some(Arc::new(pick)) },
            GeoTransform(frame.ecef_from_enu),
            InheritedVisibility::VISIBLE,
        ));
    }

    #[test]
    fn the_tower_takes_sun_from_the_loaded_neighbour_north_of_it() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .init_resource::<Planning>()
            .init_resource::<SunHoursAnalysis>()
            .add_systems(Update, (start_analysis, finish_analysis).chain());
        app.world_mut().resource_mut::<Planning>().open(&demo_scenario());
        cube_part(&mut app);
        app.world_mut().resource_mut::<SunHoursAnalysis>().requested = true;
        for _ in 0..2000 {
            app.update();
            if app.world().resource::<SunHoursAnalysis>().report.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let analysis = app.world().resource::<SunHoursAnalysis>();
        let report = analysis.report.as_ref().expect("the analysis finishes");
        assert_eq!((report.buildings, report.variant.as_str()), (1, "A: tower on a podium"));
        // The cube's south wall faces the tower 30 m away: at the equinox its lower floors lose
        // the midday sun; the ground north of the site loses sun too.
        assert!(report.hours.facade_lost_m2h > 100.0, "{:?}", report.hours.facade_lost_m2h);
        assert!(report.hours.ground_lost_m2h > 1000.0, "{:?}", report.hours.ground_lost_m2h);
        assert!(report.hours.worst_lost_h >= 1.0 && report.hours.losing_an_hour > 0);
        assert!(!analysis.running() && !analysis.requested);
    }
}
