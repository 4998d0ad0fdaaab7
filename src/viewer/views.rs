//! Views: the window's 3D views, a main one and a second one for comparisons, laid out as one view,
//! split at a divider (swipe) or side by side. Both follow the one globe camera; what only one of
//! them shows goes on its render layer. egui draws over all of them from a camera of its own.

use bevy::camera::visibility::RenderLayers;
use bevy::camera::{SubCameraView, Viewport};
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::PrimaryEguiContext;

/// Everything is on layer 0 (both views); these layers are one view's alone.
pub const MAIN_VIEW_LAYER: usize = 1;
pub const SECOND_VIEW_LAYER: usize = 2;

#[derive(Component, Debug, Clone, Copy)]
pub struct MainView;

#[derive(Component, Debug, Clone, Copy)]
pub struct SecondView;

/// How the views share the window.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Default)]
pub enum ViewLayout {
    #[default]
    Single,
    /// One picture cut at `divider` (a fraction of the width from the left): the main view left of
    /// it, the second view right of it.
    Swipe { divider: f32 },
    /// Two whole pictures, the main view on the left.
    SideBySide,
}

/// A view's place in the window (physical pixels) and, for a swipe, its part of the whole picture.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewRect {
    pub position: UVec2,
    pub size: UVec2,
    pub sub_view: Option<SubCameraView>,
}

/// Where the main and the second view go in a window of `size` (the second is `None` when off).
pub fn view_rects(layout: ViewLayout, size: UVec2) -> (Option<ViewRect>, Option<ViewRect>) {
    let (w, h) = (size.x.max(2), size.y.max(1));
    let rect = |x: u32, width: u32, sub: bool| ViewRect {
        position: UVec2::new(x, 0),
        size: UVec2::new(width, h),
        sub_view: sub.then(|| SubCameraView {
            full_size: UVec2::new(w, h),
            offset: Vec2::new(x as f32, 0.0),
            size: UVec2::new(width, h),
        }),
    };
    match layout {
        ViewLayout::Single => (None, None),
        ViewLayout::Swipe { divider } => {
            let d = ((divider.clamp(0.0, 1.0) * w as f32).round() as u32).clamp(1, w - 1);
            (Some(rect(0, d, true)), Some(rect(d, w - d, true)))
        }
        ViewLayout::SideBySide => (Some(rect(0, w / 2, false)), Some(rect(w / 2, w - w / 2, false))),
    }
}

/// The main view, the second view (off until a comparison) and egui's overlay camera.
pub fn spawn_views(mut commands: Commands) {
    commands.spawn((
        Camera3d::default(),
        Projection::Perspective(PerspectiveProjection::default()),
        Transform::default(),
        MainView,
        RenderLayers::from_layers(&[0, MAIN_VIEW_LAYER]),
    ));
    commands.spawn((
        Camera3d::default(),
        // A clear would wipe the whole window (the main view's half too): the main view clears it.
        Camera { order: 1, is_active: false, clear_color: ClearColorConfig::None, ..default() },
        Projection::Perspective(PerspectiveProjection::default()),
        Transform::default(),
        SecondView,
        RenderLayers::from_layers(&[0, SECOND_VIEW_LAYER]),
    ));
    commands.spawn((
        Camera2d,
        Camera { order: 2, clear_color: ClearColorConfig::None, ..default() },
        RenderLayers::none(),
        PrimaryEguiContext,
    ));
}

/// Applies the layout to the views' cameras when it or the window's size changes.
pub fn layout_views(
    layout: Res<ViewLayout>,
    windows: Query<&Window, With<PrimaryWindow>>,
    mut main: Query<&mut Camera, (With<MainView>, Without<SecondView>)>,
    mut second: Query<&mut Camera, (With<SecondView>, Without<MainView>)>,
    mut applied: Local<Option<(ViewLayout, UVec2)>>,
) {
    let Ok(window) = windows.single() else { return };
    let size = window.physical_size();
    if *applied == Some((*layout, size)) {
        return;
    }
    *applied = Some((*layout, size));
    let (main_rect, second_rect) = view_rects(*layout, size);
    let place = |camera: &mut Camera, rect: Option<ViewRect>| {
        camera.viewport =
            rect.as_ref().map(|r| Viewport { physical_position: r.position, physical_size: r.size, ..default() });
        camera.sub_camera_view = rect.and_then(|r| r.sub_view);
    };
    if let Ok(mut camera) = main.single_mut() {
        place(&mut camera, main_rect);
    }
    if let Ok(mut camera) = second.single_mut() {
        camera.is_active = second_rect.is_some();
        place(&mut camera, second_rect);
    }
}

/// The active 3D view under a window point (logical pixels) and the point within that view.
pub fn view_under<'a>(
    cameras: impl IntoIterator<Item = (&'a Camera, &'a GlobalTransform)>,
    cursor: Vec2,
) -> Option<(&'a Camera, &'a GlobalTransform, Vec2)> {
    cameras.into_iter().filter(|(c, _)| c.is_active).find_map(|(c, t)| match c.logical_viewport_rect() {
        Some(r) if r.contains(cursor) => Some((c, t, cursor - r.min)),
        Some(_) => None,
        None => Some((c, t, cursor)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_cover_the_window_without_overlap() {
        let size = UVec2::new(1280, 720);
        assert_eq!(view_rects(ViewLayout::Single, size), (None, None));
        let (a, b) = view_rects(ViewLayout::SideBySide, size);
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            (a.position, a.size, b.position, b.size),
            (UVec2::ZERO, UVec2::new(640, 720), UVec2::new(640, 0), UVec2::new(640, 720))
        );
        assert!(a.sub_view.is_none() && b.sub_view.is_none(), "two whole pictures");
        // A swipe at 30 %: two parts of one picture of the whole window's size, meeting at x = 384.
        let (a, b) = view_rects(ViewLayout::Swipe { divider: 0.3 }, size);
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!((a.size.x, b.position.x, b.size.x), (384, 384, 896));
        let (sa, sb) = (a.sub_view.unwrap(), b.sub_view.unwrap());
        assert_eq!((sa.full_size, sb.full_size), (size, size));
        assert_eq!((sa.offset, sb.offset), (Vec2::ZERO, Vec2::new(384.0, 0.0)));
        // The divider never leaves a view empty.
        let (a, b) = view_rects(ViewLayout::Swipe { divider: 1.5 }, size);
        assert_eq!((a.unwrap().size.x, b.unwrap().size.x), (1279, 1));
    }
}
