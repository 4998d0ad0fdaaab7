//! Video walls, engine-free: a wall's layout (columns × rows of equal screens, their pixels, physical size and bezels,
//! and which machine drives which screens), each screen's part of the one big off-axis frustum with the bezels
//! compensated (the picture continues behind them, so straight lines stay straight across screens), and the union
//! view that every node selects tiles against, so that neighbouring screens show the same detail at their seam.

use serde::{Deserialize, Serialize};

use crate::tiles::{Projection, ViewState};

/// The most screens a wall may have.
pub const MAX_SCREENS: usize = 1024;

/// One screen model, the same for every screen of the wall.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScreenSpec {
    pub width_px: u32,
    pub height_px: u32,
    /// The active (lit) area.
    pub width_mm: f64,
    pub height_mm: f64,
    /// The frame around the active area: left, right, top, bottom.
    #[serde(default)]
    pub bezel_mm: [f64; 4],
}

/// A machine of the wall and the screens it drives (`[column, row]`, row 0 at the top).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallNode {
    pub name: String,
    pub screens: Vec<[u32; 2]>,
}

/// A wall file (`wall.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallLayout {
    pub columns: u32,
    pub rows: u32,
    pub screen: ScreenSpec,
    /// The whole wall's vertical field of view, bezels included, degrees.
    #[serde(default = "default_fov_y_deg")]
    pub fov_y_deg: f64,
    #[serde(default)]
    pub nodes: Vec<WallNode>,
    /// Panels pinned to screens (`[[overlays]] panel = "alarms", screen = [3, 0]`).
    #[serde(default)]
    pub overlays: Vec<WallOverlay>,
}

/// A panel pinned to one screen of the wall, over the picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallOverlay {
    pub panel: WallPanel,
    pub screen: [u32; 2],
}

/// What a pinned panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WallPanel {
    /// The live sensors' newest alarms.
    Alarms,
}

fn default_fov_y_deg() -> f64 {
    45.0
}

/// A screen's rectangle on the wall, millimetres from the wall's top-left corner (x right, y down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScreenRect {
    pub x_mm: f64,
    pub y_mm: f64,
    pub width_mm: f64,
    pub height_mm: f64,
}

impl WallLayout {
    /// What a usable wall needs: screens, sizes, bezels ≥ 0, and every node's screens on the wall, none driven twice.
    pub fn check(&self) -> Result<(), String> {
        let s = &self.screen;
        let screens = self.columns as usize * self.rows as usize;
        if !(1..=MAX_SCREENS).contains(&screens) {
            return Err(format!("a wall has 1 to {MAX_SCREENS} screens, not {} × {}", self.columns, self.rows));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if s.width_px == 0 || s.height_px == 0 || !positive(s.width_mm) || !positive(s.height_mm) {
            return Err("a screen needs pixels and a physical size".into());
        }
        if !s.bezel_mm.iter().all(|b| b.is_finite() && *b >= 0.0) {
            return Err("bezels are 0 mm or more".into());
        }
        if !(self.fov_y_deg > 1.0 && self.fov_y_deg < 170.0) {
            return Err("fov_y_deg lies between 1° and 170°".into());
        }
        if let Some(o) = self.overlays.iter().find(|o| o.screen[0] >= self.columns || o.screen[1] >= self.rows) {
            return Err(format!("a {:?} panel on screen {:?}, which is not on the wall", o.panel, o.screen));
        }
        let mut driven = vec![false; screens];
        for n in &self.nodes {
            for &[c, r] in &n.screens {
                if c >= self.columns || r >= self.rows {
                    return Err(format!(
                        "{}: screen {c},{r} is not on the {} × {} wall",
                        n.name, self.columns, self.rows
                    ));
                }
                let k = (r * self.columns + c) as usize;
                if std::mem::replace(&mut driven[k], true) {
                    return Err(format!("screen {c},{r} is driven twice"));
                }
            }
        }
        Ok(())
    }

    /// The wall's size in millimetres, bezels included: from the first screen's active area to the last's (the
    /// outer frame is not part of the picture).
    pub fn size_mm(&self) -> [f64; 2] {
        let s = &self.screen;
        let [l, r, t, b] = s.bezel_mm;
        let (c, rows) = (self.columns as f64, self.rows as f64);
        [c * s.width_mm + (c - 1.0) * (l + r), rows * s.height_mm + (rows - 1.0) * (t + b)]
    }

    /// A screen's active area on the wall.
    pub fn screen_rect(&self, [column, row]: [u32; 2]) -> ScreenRect {
        let s = &self.screen;
        let [l, r, t, b] = s.bezel_mm;
        ScreenRect {
            x_mm: column as f64 * (s.width_mm + l + r),
            y_mm: row as f64 * (s.height_mm + t + b),
            width_mm: s.width_mm,
            height_mm: s.height_mm,
        }
    }

    /// Pixels per millimetre across and down a screen.
    fn px_per_mm(&self) -> [f64; 2] {
        [self.screen.width_px as f64 / self.screen.width_mm, self.screen.height_px as f64 / self.screen.height_mm]
    }

    /// The whole wall as one viewport, the pixels hidden behind the bezels counted (they are part of the picture).
    pub fn union_viewport_px(&self) -> [f64; 2] {
        let [w, h] = self.size_mm();
        let [px, py] = self.px_per_mm();
        [w * px, h * py]
    }

    /// A screen's place in the whole wall's picture (`union_viewport_px`): its top-left corner, pixels.
    pub fn screen_offset_px(&self, screen: [u32; 2]) -> [f64; 2] {
        let r = self.screen_rect(screen);
        let [px, py] = self.px_per_mm();
        [r.x_mm * px, r.y_mm * py]
    }

    /// The view every node selects tiles against: the master's eye with the whole wall's field of view and
    /// resolution, so that every screen shows the same tiles at every seam.
    pub fn union_view(&self, eye: &ViewState) -> ViewState {
        let (near_m, far_m) = near_far(&eye.projection);
        let projection = Projection::Perspective { fov_y_rad: self.fov_y_deg.to_radians(), near_m, far_m };
        ViewState { viewport_px: self.union_viewport_px(), projection, ..*eye }
    }

    /// A screen's part of the wall's frustum: the near-plane rectangle behind its active area (the bezels cut out).
    pub fn screen_view(&self, eye: &ViewState, screen: [u32; 2]) -> ViewState {
        let (near_m, far_m) = near_far(&eye.projection);
        let [w_mm, h_mm] = self.size_mm();
        // The wall's near-plane rectangle, centred on the view axis.
        let half_h = near_m * (0.5 * self.fov_y_deg.to_radians()).tan();
        let m_per_mm = 2.0 * half_h / h_mm;
        let half_w = 0.5 * w_mm * m_per_mm;
        let r = self.screen_rect(screen);
        let projection = Projection::OffAxis {
            left_m: -half_w + r.x_mm * m_per_mm,
            right_m: -half_w + (r.x_mm + r.width_mm) * m_per_mm,
            top_m: half_h - r.y_mm * m_per_mm,
            bottom_m: half_h - (r.y_mm + r.height_mm) * m_per_mm,
            near_m,
            far_m,
        };
        ViewState { viewport_px: [self.screen.width_px as f64, self.screen.height_px as f64], projection, ..*eye }
    }

    /// The screens a node drives (all of them when the layout names no node).
    pub fn screens_of(&self, node: &str) -> Option<Vec<[u32; 2]>> {
        if self.nodes.is_empty() {
            return Some((0..self.rows).flat_map(|r| (0..self.columns).map(move |c| [c, r])).collect());
        }
        self.nodes.iter().find(|n| n.name == node).map(|n| n.screens.clone())
    }
}

fn near_far(p: &Projection) -> (f64, f64) {
    match *p {
        Projection::Perspective { near_m, far_m, .. }
        | Projection::Orthographic { near_m, far_m, .. }
        | Projection::OffAxis { near_m, far_m, .. } => (near_m, far_m),
    }
}

#[cfg(test)]
mod tests {
    use glam::DVec3;

    use super::*;

    /// A 3 × 2 wall of 55" 1080p panels (1209.6 × 680.4 mm) with 1.8 mm + 1.7 mm bezels, one node per column.
    fn wall() -> WallLayout {
        let screen = ScreenSpec {
            width_px: 1920,
            height_px: 1080,
            width_mm: 1209.6,
            height_mm: 680.4,
            bezel_mm: [1.8, 1.7, 1.8, 1.7],
        };
        let nodes = (0..3).map(|c| WallNode { name: format!("pc{c}"), screens: vec![[c, 0], [c, 1]] }).collect();
        let overlays = vec![WallOverlay { panel: WallPanel::Alarms, screen: [2, 0] }];
        WallLayout { columns: 3, rows: 2, screen, fov_y_deg: 40.0, nodes, overlays }
    }

    fn eye() -> ViewState {
        let projection = Projection::Perspective { fov_y_rad: 1.0, near_m: 0.5, far_m: f64::INFINITY };
        ViewState { position_ecef: DVec3::ZERO, direction: DVec3::X, up: DVec3::Z, viewport_px: [1.0, 1.0], projection }
    }

    /// Where a direction from the eye lands on a view's near plane, as a fraction of its rectangle (0..1 inside).
    fn on_screen(v: &ViewState, dir: DVec3) -> [f64; 2] {
        let Projection::OffAxis { left_m, right_m, bottom_m, top_m, near_m, .. } = v.projection else { panic!() };
        let (d, r, u) = (v.direction, v.direction.cross(v.up).normalize(), v.up);
        let t = near_m / dir.dot(d);
        let (x, y) = (dir.dot(r) * t, dir.dot(u) * t);
        [(x - left_m) / (right_m - left_m), (top_m - y) / (top_m - bottom_m)]
    }

    #[test]
    fn the_screens_cut_one_frustum_with_the_bezels_between() {
        let wall = wall();
        wall.check().unwrap();
        let [w, h] = wall.size_mm();
        assert!((w - (3.0 * 1209.6 + 2.0 * 3.5)).abs() < 1e-9 && (h - (2.0 * 680.4 + 3.5)).abs() < 1e-9);
        // Screens (0, 0) and (1, 0) are cut from one near plane, the bezels' width apart and level.
        let (a, b) = (wall.screen_view(&eye(), [0, 0]), wall.screen_view(&eye(), [1, 0]));
        let Projection::OffAxis { right_m: a_right, top_m: a_top, bottom_m: a_bottom, .. } = a.projection else {
            panic!()
        };
        let Projection::OffAxis { left_m: b_left, top_m: b_top, .. } = b.projection else { panic!() };
        let m_per_mm = (a_top - a_bottom) / 680.4;
        assert!(((b_left - a_right) / m_per_mm - 3.5).abs() < 1e-9, "the bezels' 3.5 mm are cut out");
        assert!((a_top - b_top).abs() < 1e-12, "the rows line up");
        // So any direction lands on one point of the wall through either screen's frustum: lines stay straight.
        let dir = DVec3::new(1.0, 0.05, 0.12).normalize();
        let (pa, pb) = (on_screen(&a, dir), on_screen(&b, dir));
        let x_mm_a = pa[0] * 1209.6;
        let x_mm_b = 1209.6 + 3.5 + pb[0] * 1209.6;
        assert!((x_mm_a - x_mm_b).abs() < 1e-6, "the same point of the wall: {x_mm_a} vs {x_mm_b}");
        assert!((pa[1] - pb[1]).abs() < 1e-12);
    }

    #[test]
    fn the_union_view_has_the_walls_detail_everywhere() {
        let wall = wall();
        let union = wall.union_view(&eye());
        let [wpx, hpx] = union.viewport_px;
        assert!((wpx - (3.0 * 1920.0 + 7.0 * 1920.0 / 1209.6)).abs() < 1e-6 && hpx > 2160.0);
        // A tile's screen-space error is the same in the union view and in any screen's own view: the same pixels
        // per radian, so every node picks the same level for it.
        for screen in [[0, 0], [2, 1]] {
            let one = wall.screen_view(&eye(), screen);
            let (e_union, e_one) = (union.screen_space_error(2.0, 300.0), one.screen_space_error(2.0, 300.0));
            assert!((e_union - e_one).abs() < 1e-9 * e_one, "{screen:?}: {e_union} vs {e_one}");
        }
    }

    #[test]
    fn a_wall_file_reads() {
        let text = r#"
            columns = 3
            rows = 2
            fov_y_deg = 40
            [screen]
            width_px = 1920
            height_px = 1080
            width_mm = 1209.6
            height_mm = 680.4
            bezel_mm = [1.8, 1.7, 1.8, 1.7]
            [[nodes]]
            name = "pc0"
            screens = [[0, 0], [0, 1]]
            [[nodes]]
            name = "pc1"
            screens = [[1, 0], [1, 1]]
            [[nodes]]
            name = "pc2"
            screens = [[2, 0], [2, 1]]
            [[overlays]]
            panel = "alarms"
            screen = [2, 0]
        "#;
        let read: WallLayout = toml::from_str(text).unwrap();
        assert_eq!(read, wall());
    }

    #[test]
    fn bad_walls_are_refused_and_nodes_find_their_screens() {
        let mut w = wall();
        assert_eq!(w.screens_of("pc2"), Some(vec![[2, 0], [2, 1]]));
        assert_eq!(w.screens_of("pc9"), None);
        w.nodes[1].screens.push([0, 0]);
        assert!(w.check().unwrap_err().contains("driven twice"));
        w.nodes[1].screens = vec![[3, 0]];
        assert!(w.check().unwrap_err().contains("not on the"));
        let none = WallLayout { nodes: Vec::new(), ..wall() };
        assert_eq!(none.screens_of("anyone").map(|s| s.len()), Some(6));
        assert!(WallLayout { columns: 0, ..wall() }.check().is_err());
        let off_wall = vec![WallOverlay { panel: WallPanel::Alarms, screen: [0, 2] }];
        assert!(WallLayout { overlays: off_wall, ..wall() }.check().unwrap_err().contains("not on the wall"));
        let bezel = ScreenSpec { bezel_mm: [-1.0, 0.0, 0.0, 0.0], ..wall().screen };
        assert!(WallLayout { screen: bezel, ..wall() }.check().is_err());
    }
}
