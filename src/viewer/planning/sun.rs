//! The sun as the scene's light: where NOAA's algorithm puts it over the open site at the clock's
//! date and time, with cascaded shadow maps sized for city blocks; at night, moonlight.

use bevy::camera::visibility::RenderLayers;
use bevy::light::{CascadeShadowConfig, CascadeShadowConfigBuilder};
use bevy::prelude::*;
use time::{Duration, OffsetDateTime, Time as Clock};

use super::{Planning, SunClock};
use crate::geo::LocalFrame;
use crate::scenario::sun::{SunPosition, sun_position};
use crate::viewer::look::{Daylight, LookSettings};
use crate::viewer::origin::FloatingOrigin;
use crate::viewer::views::MAIN_VIEW_LAYER;

/// The directional light the clock drives; its fixed direction is kept for when the clock is off.
#[derive(Component, Debug, Clone, Copy)]
pub struct Sun {
    pub fixed: Transform,
}

/// Daylight and moonlight, in lux.
const DAYLIGHT_LUX: f32 = 12_000.0;
const MOONLIGHT_LUX: f32 = 60.0;

/// The UTC instant of the clock at a site: its standard time is UTC plus its longitude in whole hours.
pub fn clock_instant(clock: &SunClock, lon_deg: f64) -> OffsetDateTime {
    let offset_h = (lon_deg / 15.0).round() as i64;
    OffsetDateTime::new_utc(clock.date, Clock::MIDNIGHT) + Duration::minutes(i64::from(clock.minutes))
        - Duration::hours(offset_h)
}

/// The sun over a site's frame at the clock's time.
pub fn sun_over(frame: &LocalFrame, clock: &SunClock) -> SunPosition {
    let (lon, lat) = (frame.origin.lon_rad.to_degrees(), frame.origin.lat_rad.to_degrees());
    sun_position(clock_instant(clock, lon), lon, lat)
}

/// The scene's directional light, fixed at `fixed` until a study's clock drives it, with shadow
/// cascades sized for a city: blocks near the camera sharp, the skyline shadowed kilometres out
/// (one cascade where WebGL2 allows no more).
pub fn sun_light(fixed: Transform) -> impl Bundle {
    let cascades: CascadeShadowConfig =
        CascadeShadowConfigBuilder { first_cascade_far_bound: 250.0, maximum_distance: 4_000.0, ..default() }.build();
    let layers = shadow_layers(false);
    (
        DirectionalLight { illuminance: DAYLIGHT_LUX, shadow_maps_enabled: false, ..default() },
        fixed,
        Sun { fixed },
        cascades,
        layers,
    )
}

/// The layers whose meshes the sun lights and lets cast shadows: the city, and the main view's
/// variant in one view. While two views compare, a variant's shadow would fall in both views, so
/// then only the city casts.
fn shadow_layers(comparing: bool) -> RenderLayers {
    if comparing { RenderLayers::layer(0) } else { RenderLayers::from_layers(&[0, MAIN_VIEW_LAYER]) }
}

/// Points the light along the sun's rays (or back to its fixed direction), with shadows as set;
/// by night (the sun down, or night mode) the light is the moon's and the ambient light dim and blue.
pub fn follow_clock(
    planning: Res<Planning>,
    look: Res<LookSettings>,
    origin: Res<FloatingOrigin>,
    mut lights: Query<(&Sun, &mut DirectionalLight, &mut Transform, &mut RenderLayers)>,
    mut ambient: ResMut<GlobalAmbientLight>,
    mut daylight: ResMut<Daylight>,
) {
    if !planning.is_changed() && !origin.is_changed() && !look.is_changed() {
        return;
    }
    let clock = planning.clock;
    for (sun, mut light, mut transform, mut layers) in &mut lights {
        layers.set_if_neq(shadow_layers(planning.mode != super::CompareMode::Toggle));
        let (day, shadows) = match planning.study.as_ref().filter(|_| clock.enabled) {
            None => {
                *transform = sun.fixed;
                (!look.night, false)
            }
            Some(study) => {
                let position = sun_over(&study.site.frame, &clock);
                let sun_up = position.true_elevation_deg > 0.0;
                // By night the light is the moon's, opposite the sun and above the horizon.
                let enu = if sun_up { position.enu_direction() } else { moon_stand_in(position) };
                let ecef = study.site.frame.ecef_from_enu.transform_vector3(enu);
                let towards_light = origin.vector(ecef).normalize_or(Vec3::Y);
                *transform = Transform::default().looking_to(-towards_light, Vec3::Y);
                let day = sun_up && !look.night;
                (day, clock.shadows && day)
            }
        };
        light.illuminance = if day { DAYLIGHT_LUX } else { MOONLIGHT_LUX };
        light.shadow_maps_enabled = shadows;
        (ambient.brightness, ambient.color) =
            if day { (250.0, Color::srgb(0.85, 0.9, 1.0)) } else { (60.0, Color::srgb(0.45, 0.55, 0.9)) };
        daylight.set_if_neq(Daylight(day));
    }
}

/// A light high in the sky opposite the sun, standing in for the moon.
fn moon_stand_in(sun: SunPosition) -> glam::DVec3 {
    SunPosition {
        azimuth_deg: (sun.azimuth_deg + 180.0).rem_euclid(360.0),
        true_elevation_deg: 50.0,
        apparent_elevation_deg: 50.0,
    }
    .enu_direction()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn local_standard_time_follows_the_longitude() {
        let clock = SunClock { date: date!(2026 - 06 - 21), minutes: 12 * 60 + 25, enabled: true, shadows: true };
        // Shenzhen (114° E): UTC+8, so 12:25 local is 04:25 UTC.
        assert_eq!(clock_instant(&clock, 114.06), time::macros::datetime!(2026-06-21 04:25 UTC));
        assert_eq!(clock_instant(&clock, -74.0), time::macros::datetime!(2026-06-21 17:25 UTC));
        // Near solar noon in Shenzhen in June the sun stands almost at the zenith.
        let frame = LocalFrame::new(crate::geo::Cartographic::from_degrees(114.06, 22.54, 0.0));
        let sun = sun_over(&frame, &clock);
        assert!(sun.true_elevation_deg > 88.0, "{sun:?}");
        let evening = sun_over(&frame, &SunClock { minutes: 18 * 60, ..clock });
        assert!(evening.azimuth_deg > 270.0 && evening.azimuth_deg < 300.0, "{evening:?}");
    }
}
