//! Views: the window's 3D views, a main one and a second one for comparisons, laid out as one view,
//! split at a divider (swipe) or side by side. Both follow the one globe camera; what only one of
//! them shows goes on its render layer. egui draws over all of them from a camera of its own.

use bevy::camera::visibility::RenderLayers;
use bevy::camera::{RenderTarget, SubCameraView, Viewport};
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
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

/// The windowless mode: no window and no winit; every view renders into `image` (sRGB RGBA, which
/// egui's pipeline expects), and screenshots are taken of it.
#[derive(Resource, Debug, Clone)]
pub struct Offscreen {
    pub size: UVec2,
    /// Made at start-up.
    pub image: Handle<Image>,
}

impl Offscreen {
    pub fn new(size: UVec2) -> Self {
        Self { size, image: Handle::default() }
    }
}

/// A video wall's node: with a screen, the main view is that screen's part of the whole wall's
/// picture (bezels compensated) and selects tiles for the whole wall; without one, the view is the
/// whole wall's (the operator's console, a reference render).
#[derive(Resource, Debug, Clone)]
pub struct WallView {
    pub layout: crate::wall::WallLayout,
    pub screen: Option<[u32; 2]>,
}

impl WallView {
    /// The main view's part of the wall's picture, when it drives a screen.
    fn sub_view(&self) -> Option<SubCameraView> {
        let screen = self.screen?;
        let [w, h] = self.layout.union_viewport_px();
        let [x, y] = self.layout.screen_offset_px(screen);
        Some(SubCameraView {
            full_size: UVec2::new(w.round() as u32, h.round() as u32),
            offset: Vec2::new(x as f32, y as f32),
            size: UVec2::new(self.layout.screen.width_px, self.layout.screen.height_px),
        })
    }
}

/// A wall's views all have the wall's field of view.
pub fn wall_fov(wall: Option<Res<WallView>>, mut cam: ResMut<super::GeoCamera>) {
    if let Some(fov_y) = wall.map(|w| w.layout.fov_y_deg.to_radians())
        && cam.fov_y != fov_y
    {
        cam.fov_y = fov_y;
    }
}

/// The physical size of what the views draw into: the window or the offscreen image.
pub fn surface_size(window: Option<&Window>, offscreen: Option<&Offscreen>) -> Option<UVec2> {
    window.map(Window::physical_size).or(offscreen.map(|o| o.size))
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

/// The main view, the second view (off until a comparison) and egui's overlay camera; all render
/// into the window, or into the offscreen image when there is no window.
pub fn spawn_views(mut commands: Commands, offscreen: Option<ResMut<Offscreen>>, mut images: ResMut<Assets<Image>>) {
    let target = match offscreen {
        Some(mut o) => {
            let format = TextureFormat::Rgba8UnormSrgb;
            o.image = images.add(Image::new_target_texture(o.size.x.max(1), o.size.y.max(1), format, None));
            RenderTarget::from(o.image.clone())
        }
        None => RenderTarget::default(),
    };
    commands.spawn((
        Camera3d::default(),
        Projection::Perspective(PerspectiveProjection::default()),
        Transform::default(),
        MainView,
        RenderLayers::from_layers(&[0, MAIN_VIEW_LAYER]),
        target.clone(),
    ));
    commands.spawn((
        Camera3d::default(),
        // A clear would wipe the whole window (the main view's half too): the main view clears it.
        Camera { order: 1, is_active: false, clear_color: ClearColorConfig::None, ..default() },
        Projection::Perspective(PerspectiveProjection::default()),
        Transform::default(),
        SecondView,
        RenderLayers::from_layers(&[0, SECOND_VIEW_LAYER]),
        target.clone(),
    ));
    commands.spawn((
        Camera2d,
        Camera { order: 2, clear_color: ClearColorConfig::None, ..default() },
        RenderLayers::none(),
        PrimaryEguiContext,
        target,
    ));
}

/// Applies the layout to the views' cameras when it or the window's size changes.
pub fn layout_views(
    layout: Res<ViewLayout>,
    windows: Query<&Window, With<PrimaryWindow>>,
    offscreen: Option<Res<Offscreen>>,
    wall: Option<Res<WallView>>,
    mut main: Query<&mut Camera, (With<MainView>, Without<SecondView>)>,
    mut second: Query<&mut Camera, (With<SecondView>, Without<MainView>)>,
    mut applied: Local<Option<(ViewLayout, UVec2)>>,
) {
    let Some(size) = surface_size(windows.single().ok(), offscreen.as_deref()) else { return };
    if *applied == Some((*layout, size)) {
        return;
    }
    *applied = Some((*layout, size));
    let (mut main_rect, second_rect) = view_rects(*layout, size);
    if let Some(sub_view) = wall.as_ref().and_then(|w| w.sub_view()) {
        main_rect = Some(ViewRect { position: UVec2::ZERO, size, sub_view: Some(sub_view) });
    }
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

    #[test]
    fn a_wall_screen_is_its_part_of_the_whole_walls_picture() {
        let text = "columns = 2\nrows = 2\n[screen]\nwidth_px = 320\nheight_px = 180\nwidth_mm = 400.0\n\
                    height_mm = 225.0\nbezel_mm = [10.0, 10.0, 10.0, 10.0]\n";
        let layout: crate::wall::WallLayout = toml::from_str(text).unwrap();
        // 0.8 px/mm: the wall is 820 × 470 mm, 656 × 376 px with the 20 mm between screens counted.
        let sub = |screen| WallView { layout: layout.clone(), screen }.sub_view();
        let s = sub(Some([1, 1])).unwrap();
        assert_eq!(
            (s.full_size, s.offset, s.size),
            (UVec2::new(656, 376), Vec2::new(336.0, 196.0), UVec2::new(320, 180))
        );
        assert_eq!(sub(None), None, "the console's view is the whole wall");
    }
}
