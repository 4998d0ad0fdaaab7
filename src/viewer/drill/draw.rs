//! The drill's hazard on the map, rebuilt when the session's tick changes (at most five times a second while
//! playing): water by depth over the ground, gas zones by level, the cordon, closed roads, each evacuation route
//! coloured by its load with the vehicles on it as violet blocks, and the shelters.

use bevy::asset::RenderAssetUsages;
use bevy::camera::visibility::RenderLayers;
use bevy::light::{NotShadowCaster, NotShadowReceiver};
use bevy::math::{DMat4, DVec3};
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::platform::time::Instant;
use bevy::prelude::*;

use super::{Drill, OpenDrill};
use crate::drill::hazard::HazardModel;
use crate::drill::plume::BREATHING_HEIGHT_M;
use crate::drill::raster::{Raster, height_or_flat};
use crate::drill::session::DrillSession;
use crate::extrude::ribbon_quads;
use crate::tiles::UpAxis;
use crate::tiles::prepare::z_up_from;
use crate::viewer::origin::GeoTransform;

/// An entity of the drawn hazard.
#[derive(Component, Debug, Clone, Copy)]
pub struct HazardPart;

/// Vehicles: violet, apart from the routes' green, yellow and red and from the white city.
const VEHICLE_RGB: [u8; 3] = [150, 60, 255];
/// Water is drawn this far above its surface, so that shallow water clears the ground tile's triangles.
const WATER_LIFT_M: f64 = 0.2;
/// Cells across the drawn water or gas at most (the simulation's grid is averaged down to it).
const DRAWN_CELLS: usize = 256;
const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// The colour of a hazard level: red, orange, then yellow.
pub fn level_rgb(level: usize) -> [u8; 3] {
    match level {
        0 => [215, 35, 35],
        1 => [245, 135, 25],
        _ => [240, 205, 50],
    }
}

fn rgba(rgb: [u8; 3], a: f32) -> [f32; 4] {
    [rgb[0] as f32 / 255.0, rgb[1] as f32 / 255.0, rgb[2] as f32 / 255.0, a]
}

/// Flood water by depth: cyan when shallow to navy at 2 m and more (apart from the river's own blue), never
/// see-through enough to be lost on the ground's grey-green.
fn water_rgba(depth_m: f64) -> [f32; 4] {
    let t = (depth_m / 2.0).clamp(0.0, 1.0) as f32;
    let mix = |a: f32, b: f32| a + (b - a) * t;
    [mix(0.0, 0.02), mix(0.75, 0.08), mix(0.85, 0.45), mix(0.8, 0.92)]
}

/// Triangles in the drill's square, local metres (east, north, up) about its centre.
#[derive(Default)]
struct Shapes<'a> {
    positions: Vec<[f32; 3]>,
    colours: Vec<[f32; 4]>,
    indices: Vec<u32>,
    centre: [f64; 2],
    /// Ground heights above the ellipsoid; `None` is flat.
    ground: Option<&'a Raster>,
}

impl Shapes<'_> {
    /// The frame's up-coordinate of the ellipsoid under a local point (the Earth curving away from the plane).
    fn ellipsoid_z(&self, x: f64, y: f64) -> f64 {
        -(x * x + y * y) / (2.0 * EARTH_RADIUS_M)
    }

    /// The frame's up-coordinate of the ground under a local point.
    fn ground_z(&self, x: f64, y: f64) -> f64 {
        self.ellipsoid_z(x, y) + height_or_flat(self.ground, [x, y])
    }

    fn quad(&mut self, corners: [[f64; 3]; 4], colour: [f32; 4]) {
        let base = self.positions.len() as u32;
        for [x, y, z] in corners {
            let (dx, dy) = (x - self.centre[0], y - self.centre[1]);
            self.positions.push([dx as f32, z as f32, -dy as f32]);
            self.colours.push(colour);
        }
        self.indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
    }

    /// A square `side` wide draped `lift` above the ground.
    fn draped_cell(&mut self, [x0, y0]: [f64; 2], side: f64, lift: f64, colour: [f32; 4]) {
        let (x1, y1) = (x0 + side, y0 + side);
        let z = |x, y| self.ground_z(x, y) + lift;
        let corners = [[x0, y0, z(x0, y0)], [x1, y0, z(x1, y0)], [x1, y1, z(x1, y1)], [x0, y1, z(x0, y1)]];
        self.quad(corners, colour);
    }

    /// A level square `side` wide at `height_m` above the ellipsoid (a water surface).
    fn level_cell(&mut self, [x0, y0]: [f64; 2], side: f64, height_m: f64, colour: [f32; 4]) {
        let (x1, y1) = (x0 + side, y0 + side);
        let z = |x, y| self.ellipsoid_z(x, y) + height_m;
        let corners = [[x0, y0, z(x0, y0)], [x1, y0, z(x1, y0)], [x1, y1, z(x1, y1)], [x0, y1, z(x0, y1)]];
        self.quad(corners, colour);
    }

    /// A ribbon `width` wide along a polyline, `lift` above the ground.
    fn ribbon(&mut self, points: &[[f64; 2]], width: f64, lift: f64, colour: [f32; 4]) {
        for (_, corners) in ribbon_quads(points, width / 2.0) {
            self.quad(corners.map(|[x, y]| [x, y, self.ground_z(x, y) + lift]), colour);
        }
    }

    /// An upright box (its four sides and top) on the ground.
    fn column(&mut self, [x, y]: [f64; 2], half: f64, height: f64, colour: [f32; 4]) {
        let z0 = self.ground_z(x, y);
        let (x0, x1, y0, y1, z1) = (x - half, x + half, y - half, y + half, z0 + height);
        let c = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
        for k in 0..4 {
            let (a, b) = (c[k], c[(k + 1) % 4]);
            self.quad([[a[0], a[1], z0], [b[0], b[1], z0], [b[0], b[1], z1], [a[0], a[1], z1]], colour);
        }
        self.quad([[x0, y0, z1], [x1, y0, z1], [x1, y1, z1], [x0, y1, z1]], colour);
    }

    fn mesh(self) -> Option<Mesh> {
        (!self.indices.is_empty()).then(|| {
            let mut mesh = Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::RENDER_WORLD);
            let normals = vec![[0.0, 1.0, 0.0]; self.positions.len()];
            mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, self.positions);
            mesh.insert_attribute(Mesh::ATTRIBUTE_NORMAL, normals);
            mesh.insert_attribute(Mesh::ATTRIBUTE_COLOR, self.colours);
            mesh.insert_indices(Indices::U32(self.indices));
            mesh
        })
    }
}

/// The water: each drawn cell at the highest surface of the simulated cells in it, coloured by their deepest.
fn water(session: &DrillSession, shapes: &mut Shapes) {
    let HazardModel::Flood(f) = session.hazard() else { return };
    let g = *f.flood.grid();
    let k = g.cols.max(g.rows).div_ceil(DRAWN_CELLS).max(1);
    let depth = f.flood.depth_m();
    for r in (0..g.rows).step_by(k) {
        for c in (0..g.cols).step_by(k) {
            let (mut deepest, mut surface) = (0.0f64, f64::NEG_INFINITY);
            for rr in r..(r + k).min(g.rows) {
                for cc in c..(c + k).min(g.cols) {
                    let cell = g.index(cc, rr);
                    deepest = deepest.max(depth[cell]);
                    surface = surface.max(f.flood.surface_m(cell).unwrap_or(f64::NEG_INFINITY));
                }
            }
            if deepest < 0.05 {
                continue;
            }
            let corner = [g.origin_m[0] + c as f64 * g.cell_m, g.origin_m[1] + r as f64 * g.cell_m];
            shapes.level_cell(corner, k as f64 * g.cell_m, surface + WATER_LIFT_M, water_rgba(deepest));
        }
    }
}

/// Gas zones at breathing height, by level.
fn gas(session: &DrillSession, shapes: &mut Shapes) {
    let HazardModel::Gas(plume) = session.hazard() else { return };
    let Some(grid) = plume.zone_grid(DRAWN_CELLS / 2) else { return };
    let t = session.time_s();
    for r in 0..grid.rows {
        for c in 0..grid.cols {
            let centre = grid.centre_m(c, r);
            let ppm = plume.ppm_at(centre, BREATHING_HEIGHT_M, t);
            if let Some(level) = plume.zone_of_ppm(ppm) {
                let corner = [grid.origin_m[0] + c as f64 * grid.cell_m, grid.origin_m[1] + r as f64 * grid.cell_m];
                shapes.draped_cell(corner, grid.cell_m, 0.6, rgba(level_rgb(level), 0.45));
            }
        }
    }
    shapes.column(plume.leak.at_m, 4.0, 30.0, rgba([60, 60, 60], 1.0));
}

/// The cordon, the closed roads, the evacuation routes by load with their vehicles, and the shelters.
fn roads_and_people(session: &DrillSession, shapes: &mut Shapes) {
    if let HazardModel::Area { outline_m, .. } = session.hazard() {
        let mut ring = outline_m.clone();
        ring.extend(outline_m.first().copied());
        shapes.ribbon(&ring, 12.0, 1.0, rgba(level_rgb(0), 0.9));
    }
    let roads = &session.world().roads;
    for &e in session.closed_edges() {
        shapes.ribbon(&roads.edges[e].geometry, 16.0, 0.8, rgba([40, 10, 10], 0.95));
    }
    let Some(evacuation) = session.evacuation() else { return };
    for (k, link) in evacuation.links().iter().enumerate() {
        let mut path = roads.edges[link.edge].geometry.clone();
        if link.reversed {
            path.reverse();
        }
        let load = evacuation.link_load(k);
        let colour = if load > 1.0 {
            [220, 30, 30]
        } else if load > 0.5 {
            [240, 190, 40]
        } else {
            [40, 180, 80]
        };
        shapes.ribbon(&path, 10.0, 1.0, rgba(colour, 0.9));
        // Each cell's vehicles as one block on the road, sized by how many.
        for (cell, &vehicles) in evacuation.link_cells(k).iter().enumerate() {
            if vehicles >= 0.5
                && let Some(p) = point_along(&path, (cell as f64 + 0.5) * link.cell_m)
            {
                shapes.column(p, 1.5 + 0.5 * vehicles.min(6.0), 4.0, rgba(VEHICLE_RGB, 1.0));
            }
        }
    }
    for (s, &node) in evacuation.shelters().iter().enumerate() {
        let n = &roads.nodes[node];
        let filled = evacuation.arrived_by_shelter()[s] > 0.0;
        shapes.column([n.x_m, n.y_m], 6.0, if filled { 45.0 } else { 30.0 }, rgba([30, 170, 90], 1.0));
    }
}

/// The point `distance` along a polyline (its end beyond it).
fn point_along(path: &[[f64; 2]], distance: f64) -> Option<[f64; 2]> {
    let mut left = distance;
    for s in path.windows(2) {
        let len = (s[1][0] - s[0][0]).hypot(s[1][1] - s[0][1]);
        if left <= len && len > 0.0 {
            let t = left / len;
            return Some([s[0][0] + (s[1][0] - s[0][0]) * t, s[0][1] + (s[1][1] - s[0][1]) * t]);
        }
        left -= len;
    }
    path.last().copied()
}

/// Rebuilds the hazard's entities when the drill's tick (or the drill) changed.
pub fn draw_hazard(
    drill: Res<Drill>,
    mut drawn: Local<Option<(String, f64)>>,
    mut last: Local<Option<Instant>>,
    parts: Query<Entity, With<HazardPart>>,
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let now = drill.open.as_ref().map(|o| (o.scenario.id.clone(), o.session.time_s()));
    if *drawn == now {
        return;
    }
    if drill.playing && last.is_some_and(|l| l.elapsed().as_secs_f64() < 0.2) {
        return;
    }
    *drawn = now;
    *last = Some(Instant::now());
    for e in &parts {
        commands.entity(e).despawn();
    }
    let Some(OpenDrill { session, frame, .. }) = &drill.open else { return };
    let (lo, hi) = session.grid().extent_m();
    let centre = [0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])];
    let mut shapes = Shapes { centre, ground: session.world().ground.as_ref(), ..default() };
    water(session, &mut shapes);
    gas(session, &mut shapes);
    roads_and_people(session, &mut shapes);
    debug!("drill at {} s: {} hazard triangles", session.time_s(), shapes.indices.len() / 3);
    let Some(mesh) = shapes.mesh() else { return };
    let placement =
        frame.ecef_from_enu * DMat4::from_translation(DVec3::new(centre[0], centre[1], 0.0)) * z_up_from(UpAxis::Y);
    let material = StandardMaterial {
        base_color: Color::WHITE,
        alpha_mode: AlphaMode::Blend,
        unlit: true,
        double_sided: true,
        cull_mode: None,
        ..default()
    };
    commands.spawn((
        HazardPart,
        Mesh3d(meshes.add(mesh)),
        MeshMaterial3d(materials.add(material)),
        GeoTransform(placement),
        Transform::default(),
        Visibility::Inherited,
        RenderLayers::layer(0),
        NotShadowCaster,
        NotShadowReceiver,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_along_a_polyline() {
        let path = [[0.0, 0.0], [10.0, 0.0], [10.0, 5.0]];
        assert_eq!(point_along(&path, 4.0), Some([4.0, 0.0]));
        assert_eq!(point_along(&path, 12.0), Some([10.0, 2.0]));
        assert_eq!(point_along(&path, 99.0), Some([10.0, 5.0]));
        assert!(water_rgba(0.1)[2] > water_rgba(3.0)[2], "deeper is darker");
    }
}
