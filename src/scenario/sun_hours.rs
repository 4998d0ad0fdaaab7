//! Sun hours lost: how many hours of direct sun the neighbours' facades and the ground around a
//! site lose to a variant on one day, by casting rays towards the sun from a grid of sample points.

use glam::DVec3;
use time::{Date, Duration, OffsetDateTime};

use super::solid::{Obstacle, Prism};
use super::sun::{sun_position, sunrise_sunset};
use crate::geo::{ring_bounds, ring_contains};

/// Work bounds: at most this many sample points per surface kind, and steps of 1–60 minutes.
pub const MAX_RECEIVERS: usize = 20_000;
/// Sample points sit this far off their surface, so their rays do not start inside it.
const LIFT_M: f64 = 0.05;

/// The sun's direction (unit, local east-north-up) for one step of the day, and the step's length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SunSample {
    pub direction: DVec3,
    pub hours: f64,
}

/// The sun path of `date` at the site, one sample in the middle of each `step_min` step from
/// sunrise to sunset (the whole day under the midnight sun, nothing in the polar night).
pub fn sun_path(date: Date, lon_deg: f64, lat_deg: f64, step_min: u32) -> Vec<SunSample> {
    let step = Duration::minutes(i64::from(step_min.clamp(1, 60)));
    let (start, end) = match sunrise_sunset(date, lon_deg, lat_deg) {
        Some(day) => day,
        None => {
            let midnight =
                OffsetDateTime::new_utc(date, time::Time::MIDNIGHT) - Duration::seconds_f64(lon_deg / 15.0 * 3_600.0);
            let noon = midnight + Duration::hours(12);
            if sun_position(noon, lon_deg, lat_deg).true_elevation_deg <= 0.0 {
                return Vec::new();
            }
            (midnight, midnight + Duration::DAY)
        }
    };
    let mut out = Vec::new();
    let mut t = start;
    while t < end {
        let len = step.min(end - t);
        let sun = sun_position(t + len / 2, lon_deg, lat_deg);
        if sun.true_elevation_deg > 0.0 {
            out.push(SunSample { direction: sun.enu_direction(), hours: len.as_seconds_f64() / 3_600.0 });
        }
        t += len;
    }
    out
}

/// Ground or wall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Ground,
    Facade,
}

/// A sample point: where, which way its surface faces, and how much surface it stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Receiver {
    pub position: DVec3,
    pub normal: DVec3,
    pub area_m2: f64,
    pub surface: Surface,
}

/// Ground points on a grid around the site, out to `around_m` beyond its bounds, outside the site
/// and outside every building in `buildings`. The spacing grows if the grid would pass the bound.
pub fn ground_receivers(site_m: &[[f64; 2]], around_m: f64, spacing_m: f64, buildings: &[Prism]) -> Vec<Receiver> {
    let (lo, hi) = ring_bounds(site_m);
    let (lo, hi) = ([lo[0] - around_m, lo[1] - around_m], [hi[0] + around_m, hi[1] + around_m]);
    if !(lo[0].is_finite() && hi[0].is_finite() && lo[1].is_finite() && hi[1].is_finite()) {
        return Vec::new();
    }
    let area = (hi[0] - lo[0]) * (hi[1] - lo[1]);
    let spacing = spacing_m.max((area / MAX_RECEIVERS as f64).sqrt()).max(0.1);
    let (nx, ny) = (((hi[0] - lo[0]) / spacing) as usize, ((hi[1] - lo[1]) / spacing) as usize);
    let mut out = Vec::new();
    for i in 0..nx {
        for j in 0..ny {
            let p = [lo[0] + (i as f64 + 0.5) * spacing, lo[1] + (j as f64 + 0.5) * spacing];
            if ring_contains(site_m, p) || buildings.iter().any(|b| ring_contains(&b.outline, p)) {
                continue;
            }
            out.push(Receiver {
                position: DVec3::new(p[0], p[1], LIFT_M),
                normal: DVec3::Z,
                area_m2: spacing * spacing,
                surface: Surface::Ground,
            });
        }
    }
    out
}

/// Points on the walls (triangles within 15° of vertical) of `obstacles`, about `spacing_m` apart:
/// each wall triangle cut into k² equal triangles, one point at each centre, lifted off the wall.
pub fn facade_receivers(obstacles: &[Obstacle], spacing_m: f64) -> Vec<Receiver> {
    let walls: Vec<(&[DVec3; 3], DVec3, f64)> = obstacles
        .iter()
        .flat_map(|o| &o.triangles)
        .filter_map(|t| {
            let n = (t[1] - t[0]).cross(t[2] - t[0]);
            let area = 0.5 * n.length();
            let n = n.normalize_or_zero();
            (area > 1e-6 && n.z.abs() < 0.26).then_some((t, n, area))
        })
        .collect();
    let total: f64 = walls.iter().map(|w| w.2).sum();
    let spacing = spacing_m.max((total / MAX_RECEIVERS as f64).sqrt()).max(0.1);
    let mut out = Vec::new();
    for (t, n, area) in walls {
        let k = ((area / (spacing * spacing)).sqrt().ceil() as usize).clamp(1, 64);
        let at = |u: f64, v: f64| t[0] + (t[1] - t[0]) * u + (t[2] - t[0]) * v;
        let piece = area / (k * k) as f64;
        let kf = k as f64;
        for i in 0..k {
            for j in 0..k - i {
                let (u, v) = (i as f64, j as f64);
                // The upright sub-triangle (i, j), and the inverted one beside it when there is room.
                let mut centres = vec![((u + 1.0 / 3.0) / kf, (v + 1.0 / 3.0) / kf)];
                if i + j + 1 < k {
                    centres.push(((u + 2.0 / 3.0) / kf, (v + 2.0 / 3.0) / kf));
                }
                for (cu, cv) in centres {
                    out.push(Receiver {
                        position: at(cu, cv) + n * LIFT_M,
                        normal: n,
                        area_m2: piece,
                        surface: Surface::Facade,
                    });
                }
            }
        }
    }
    out
}

/// The day's direct sun at each receiver, with the city alone and with the variant added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SunHours {
    /// Per receiver, in the order given: hours of sun with the city alone.
    pub before_h: Vec<f64>,
    /// Per receiver: hours of that sun the variant takes away.
    pub lost_h: Vec<f64>,
    /// Σ lost hours × area, on the ground and on facades (m²·h).
    pub ground_lost_m2h: f64,
    pub facade_lost_m2h: f64,
    /// Receivers losing at least one hour, and the most any loses.
    pub losing_an_hour: usize,
    pub worst_lost_h: f64,
}

/// Casts each receiver's rays towards the sun: a step counts as sunny when the sun is in front of
/// the surface and no `city` obstacle is in the way, and as lost when a `variant` obstacle is.
pub fn sun_hours(receivers: &[Receiver], city: &[Obstacle], variant: &[Obstacle], path: &[SunSample]) -> SunHours {
    let mut out = SunHours::default();
    for r in receivers {
        let (mut before, mut lost) = (0.0, 0.0);
        for s in path {
            if s.direction.dot(r.normal) <= 0.0 || city.iter().any(|o| o.blocks(r.position, s.direction)) {
                continue;
            }
            before += s.hours;
            if variant.iter().any(|o| o.blocks(r.position, s.direction)) {
                lost += s.hours;
            }
        }
        match r.surface {
            Surface::Ground => out.ground_lost_m2h += lost * r.area_m2,
            Surface::Facade => out.facade_lost_m2h += lost * r.area_m2,
        }
        out.losing_an_hour += usize::from(lost >= 1.0 - 1e-9);
        out.worst_lost_h = out.worst_lost_h.max(lost);
        out.before_h.push(before);
        out.lost_h.push(lost);
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn block(x0: f64, y0: f64, w: f64, d: f64, h: f64) -> Prism {
        let outline = vec![[x0, y0], [x0 + w, y0], [x0 + w, y0 + d], [x0, y0 + d]];
        Prism { outline, base_m: 0.0, top_m: h, floors: 0 }
    }

    /// An hour of sun from due south at each elevation.
    fn southern_sun(elevations_deg: &[f64]) -> Vec<SunSample> {
        elevations_deg
            .iter()
            .map(|e| {
                let e = e.to_radians();
                SunSample { direction: DVec3::new(0.0, -e.cos(), e.sin()), hours: 1.0 }
            })
            .collect()
    }

    fn ground(x: f64, y: f64) -> Receiver {
        Receiver { position: DVec3::new(x, y, LIFT_M), normal: DVec3::Z, area_m2: 4.0, surface: Surface::Ground }
    }

    #[test]
    fn hours_lost_behind_a_wall_by_hand() {
        // The variant: 20 m wide, 10 m deep, 20 m tall, at y 0–10. A point 20 m north of it is in
        // its shadow while the sun is lower than atan(20/20) = 45°: at 10° and 30°, not 50° or 70°.
        let variant = [Obstacle::from_prism(&block(0.0, 0.0, 20.0, 10.0, 20.0))];
        let path = southern_sun(&[10.0, 30.0, 50.0, 70.0]);
        let r = sun_hours(&[ground(10.0, 30.0)], &[], &variant, &path);
        assert_eq!(r.before_h, vec![4.0]);
        assert_eq!(r.lost_h, vec![2.0]);
        assert_eq!((r.ground_lost_m2h, r.facade_lost_m2h), (8.0, 0.0));
        assert_eq!((r.losing_an_hour, r.worst_lost_h), (1, 2.0));
        // A point south of the variant loses nothing.
        assert_eq!(sun_hours(&[ground(10.0, -20.0)], &[], &variant, &path).lost_h, vec![0.0]);
    }

    #[test]
    fn sun_already_taken_by_the_city_is_not_lost_again() {
        // A 5 m city wall 2 m south of the point shades it below atan(5/2) ≈ 68°: at 10°, 30° and 50°.
        // Of the variant's two hours (10°, 30°) none is lost: the city took them first.
        let variant = [Obstacle::from_prism(&block(0.0, 0.0, 20.0, 10.0, 20.0))];
        let city = [Obstacle::from_prism(&block(0.0, 27.0, 20.0, 1.0, 5.0))];
        let path = southern_sun(&[10.0, 30.0, 50.0, 70.0]);
        let r = sun_hours(&[ground(10.0, 30.0)], &city, &variant, &path);
        assert_eq!((r.before_h[0], r.lost_h[0]), (1.0, 0.0));
    }

    #[test]
    fn facades_see_only_the_sun_in_front_of_them() {
        // A city building north of the variant: its south wall (facing −y) gets the southern sun,
        // its north wall never does. Points on the south wall below 20 − 20·tan(e) lose the hour.
        let city_block = block(0.0, 30.0, 20.0, 10.0, 30.0);
        let receivers = facade_receivers(&[Obstacle::from_prism(&city_block)], 2.0);
        let south_wall: Vec<_> = receivers.iter().filter(|r| r.normal.y < -0.99).collect();
        let north_wall: Vec<_> = receivers.iter().filter(|r| r.normal.y > 0.99).collect();
        let wall_area: f64 = south_wall.iter().map(|r| r.area_m2).sum();
        assert!((wall_area - 20.0 * 30.0).abs() < 1e-6, "{wall_area}");
        assert!(south_wall.iter().all(|r| (r.position.y - (30.0 - LIFT_M)).abs() < 1e-9));
        let variant = [Obstacle::from_prism(&block(0.0, 0.0, 20.0, 10.0, 20.0))];
        let path = southern_sun(&[30.0]);
        let all: Vec<Receiver> = south_wall.iter().chain(&north_wall).map(|r| **r).collect();
        let r = sun_hours(&all, &[], &variant, &path);
        let shadow_top_m = 20.0 - 20.0 * 30f64.to_radians().tan(); // 8.45 m up the wall
        for ((rec, lost), before) in all.iter().zip(&r.lost_h).zip(&r.before_h) {
            if rec.normal.y > 0.0 {
                assert_eq!((*before, *lost), (0.0, 0.0), "the north wall never sees the southern sun");
            } else if rec.position.x > 1.0 && rec.position.x < 19.0 && rec.position.z < shadow_top_m - 0.3 {
                assert_eq!(*lost, 1.0, "{rec:?} is in the shadow");
            } else if rec.position.z > shadow_top_m + 0.3 {
                assert_eq!((*before, *lost), (1.0, 0.0), "{rec:?} is above the shadow");
            }
        }
        assert!(r.lost_h.contains(&1.0) && r.facade_lost_m2h > 100.0, "{}", r.facade_lost_m2h);
        assert_eq!(r.ground_lost_m2h, 0.0);
    }

    #[test]
    fn ground_grid_skips_the_site_and_buildings() {
        let site = vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let house = block(12.0, 0.0, 4.0, 4.0, 6.0);
        let g = ground_receivers(&site, 10.0, 2.0, std::slice::from_ref(&house));
        // 30 × 30 m at 2 m: 225 points, minus 25 in the site and 4 in the house.
        assert_eq!(g.len(), 225 - 25 - 4);
        assert!(g.iter().all(|r| r.area_m2 == 4.0 && r.normal == DVec3::Z));
        // A huge area keeps to the bound by spacing out.
        assert!(ground_receivers(&site, 50_000.0, 1.0, &[]).len() <= MAX_RECEIVERS);
    }

    #[test]
    fn a_real_day_of_sun() {
        // Shenzhen at the March equinox: about 12 h 8 min of sun (refraction lengthens the day),
        // risen in the east, set in the west, highest near 90° − 22.5°.
        let path = sun_path(date!(2026 - 03 - 20), 114.0579, 22.5431, 10);
        let hours: f64 = path.iter().map(|s| s.hours).sum();
        assert!((hours - 12.1).abs() < 0.15, "{hours}");
        assert!(path.first().unwrap().direction.x > 0.9 && path.last().unwrap().direction.x < -0.9);
        let top = path.iter().map(|s| s.direction.z.asin().to_degrees()).fold(0.0, f64::max);
        assert!((top - 67.5).abs() < 1.0, "{top}");
        // Polar night: no sun; midnight sun: 24 h.
        assert!(sun_path(date!(2026 - 12 - 21), 18.96, 69.65, 10).is_empty());
        let midsummer: f64 = sun_path(date!(2026 - 06 - 21), 18.96, 69.65, 10).iter().map(|s| s.hours).sum();
        assert!((midsummer - 24.0).abs() < 1e-9, "{midsummer}");
    }
}
