//! LookPlugin: how the city reads. Distance haze that thins with the camera's altitude, so that the
//! city fades into the sky with distance instead of ending at the last loaded tile; and a night mode
//! for control rooms (a dark sky and haze, moonlight, dim blue ambient light), from the HUD, `N`,
//! `--night` or `?night=1`. By night (the mode, or a planning clock after sunset) the sky darkens.

use bevy::pbr::{DistanceFog, FogFalloff};
use bevy::prelude::*;

use super::camera::GeoCamera;

/// The look the user chose.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct LookSettings {
    pub night: bool,
    pub haze: bool,
}

impl Default for LookSettings {
    fn default() -> Self {
        Self { night: false, haze: true }
    }
}

/// Whether it is day in the scene now: not in night mode, and the planning clock's sun (when it
/// drives the light) above the horizon. The sun's system keeps it.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct Daylight(pub bool);

impl Default for Daylight {
    fn default() -> Self {
        Self(true)
    }
}

pub const DAY_SKY: Color = Color::srgb(0.62, 0.74, 0.86);
pub const NIGHT_SKY: Color = Color::srgb(0.02, 0.03, 0.08);

/// How far one sees through the haze (where contrast falls to 5 %) from `altitude_m` up: forty
/// times the altitude, 15 km at street level and at most 2,000 km from orbit.
pub fn haze_visibility_m(altitude_m: f64) -> f32 {
    (altitude_m.max(0.0) * 40.0).clamp(15_000.0, 2_000_000.0) as f32
}

pub struct LookPlugin;

impl Plugin for LookPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LookSettings>()
            .init_resource::<Daylight>()
            .add_systems(Update, (toggle_night, apply_sky).chain());
    }
}

fn toggle_night(keys: Res<ButtonInput<KeyCode>>, mut look: ResMut<LookSettings>) {
    if keys.just_pressed(KeyCode::KeyN) {
        look.night = !look.night;
    }
}

/// The sky's colour, and each 3D view's haze in it.
fn apply_sky(
    look: Res<LookSettings>,
    daylight: Res<Daylight>,
    cam: Res<GeoCamera>,
    mut clear: ResMut<ClearColor>,
    mut views: Query<(Entity, Option<&mut DistanceFog>), With<Camera3d>>,
    mut commands: Commands,
) {
    let sky = if daylight.0 { DAY_SKY } else { NIGHT_SKY };
    if clear.0 != sky {
        clear.0 = sky;
    }
    let falloff = FogFalloff::from_visibility(haze_visibility_m(cam.altitude_m()));
    for (view, fog) in &mut views {
        match (look.haze, fog) {
            (true, Some(mut fog)) => {
                fog.color = sky;
                fog.falloff = falloff.clone();
            }
            (true, None) => {
                commands.entity(view).insert(DistanceFog { color: sky, falloff: falloff.clone(), ..default() });
            }
            (false, Some(_)) => {
                commands.entity(view).remove::<DistanceFog>();
            }
            (false, None) => {}
        }
    }
}

/// The look panel's controls (drawn inside the HUD).
pub fn look_ui(ui: &mut bevy_egui::egui::Ui, look: &mut LookSettings) {
    ui.horizontal(|ui| {
        ui.checkbox(&mut look.night, "Night (N)");
        ui.checkbox(&mut look.haze, "Haze");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haze_thins_with_altitude_within_bounds() {
        assert_eq!(haze_visibility_m(0.0), 15_000.0);
        assert_eq!(haze_visibility_m(-50.0), 15_000.0, "below the ellipsoid: street level");
        assert_eq!(haze_visibility_m(1_000.0), 40_000.0);
        assert_eq!(haze_visibility_m(1e9), 2_000_000.0);
    }

    #[test]
    fn every_view_gets_haze_in_the_skys_colour_and_loses_it_when_off() {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .insert_resource(ClearColor(Color::WHITE))
            .insert_resource(GeoCamera::looking_at(glam::DVec3::new(6_378_137.0, 0.0, 0.0), 500.0))
            .init_resource::<ButtonInput<KeyCode>>()
            .add_plugins(LookPlugin);
        let view = app.world_mut().spawn(Camera3d::default()).id();
        app.update();
        assert_eq!(app.world().resource::<ClearColor>().0, DAY_SKY);
        assert_eq!(app.world().get::<DistanceFog>(view).map(|f| f.color), Some(DAY_SKY));
        app.world_mut().resource_mut::<Daylight>().0 = false;
        app.update();
        assert_eq!(app.world().get::<DistanceFog>(view).map(|f| f.color), Some(NIGHT_SKY));
        assert_eq!(app.world().resource::<ClearColor>().0, NIGHT_SKY);
        app.world_mut().resource_mut::<LookSettings>().haze = false;
        app.update();
        assert!(app.world().get::<DistanceFog>(view).is_none());
    }
}
