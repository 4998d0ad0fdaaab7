//! Selection tests on small in-memory fixtures, frame by frame: what renders, what loads,
//! what is culled, kicked, cancelled and evicted.

use std::collections::HashMap;

use glam::DVec3;
use serde_json::json;

use super::*;
use crate::tiles::content::write;
use crate::tiles::{Projection, TileSelectionState as S};

const BASE: &str = "https://tiles.test/";

fn glb() -> Vec<u8> {
    write::glb(br#"{"asset":{"version":"2.0"}}"#, Some(&[0; 1000]))
}

fn boxed(cx: f64, cy: f64, h: f64) -> serde_json::Value {
    json!({"box": [cx, cy, 0, h, 0, 0, 0, h, 0, 0, 0, 100]})
}

/// A root at the origin (200 m square, GE 100) with four leaf quadrants (GE 0).
fn quad_tileset(refine: &str) -> serde_json::Value {
    let child = |x: f64, y: f64, name: &str| json!({"boundingVolume": boxed(x, y, 50.0), "geometricError": 0, "content": {"uri": name}});
    json!({"asset": {"version": "1.1"}, "geometricError": 200, "root": {
        "boundingVolume": boxed(0.0, 0.0, 100.0), "geometricError": 100, "refine": refine,
        "content": {"uri": "root.glb"},
        "children": [child(-50.0, -50.0, "a.glb"), child(50.0, -50.0, "b.glb"), child(-50.0, 50.0, "c.glb"), child(50.0, 50.0, "d.glb")]}})
}

/// Looks straight down -Z from `height_m` above `(x, y)`; 1000 px square, 60° fov.
fn view_from(x: f64, y: f64, height_m: f64) -> ViewState {
    ViewState {
        position_ecef: DVec3::new(x, y, height_m),
        direction: -DVec3::Z,
        up: DVec3::Y,
        viewport_px: [1000.0, 1000.0],
        projection: Projection::Perspective { fov_y_rad: 60f64.to_radians(), near_m: 1.0, far_m: f64::INFINITY },
    }
}

struct Harness {
    files: HashMap<String, Vec<u8>>,
    ts: Tileset,
    pending: Vec<TileRequest>,
    last: UpdateResult,
}

impl Harness {
    fn new(files: &[(&str, Vec<u8>)], options: TilesetOptions) -> Self {
        let files = files.iter().map(|(k, v)| (format!("{BASE}{k}"), v.clone())).collect();
        Self {
            files,
            ts: Tileset::new(format!("{BASE}tileset.json"), options),
            pending: Vec::new(),
            last: UpdateResult::default(),
        }
    }

    fn with_tileset(tileset: serde_json::Value, extra: &[&str]) -> Self {
        let mut files = vec![("tileset.json", serde_json::to_vec(&tileset).unwrap())];
        for name in extra {
            files.push((name, glb()));
        }
        Self::new(&files, TilesetOptions::default())
    }

    /// One update; new requests join the pending list, cancelled ones leave it.
    fn frame(&mut self, views: &[ViewState]) -> &UpdateResult {
        self.last = self.ts.update(views);
        self.pending.retain(|r| !self.last.cancelled.contains(&r.id));
        self.pending.extend(self.last.requests.iter().cloned());
        assert_eq!(self.ts.recount_payload(), self.ts.payload_bytes(), "running byte count drifted");
        &self.last
    }

    /// Answers pending requests whose URL ends with one of `names` (all when empty).
    fn serve(&mut self, names: &[&str]) {
        let (now, later): (Vec<_>, Vec<_>) =
            self.pending.drain(..).partition(|r| names.is_empty() || names.iter().any(|n| r.url.ends_with(n)));
        self.pending = later;
        for r in now {
            let answer = self.files.get(&r.url).cloned().ok_or(LoadError::Http { status: 404, url: r.url.clone() });
            assert!(self.ts.on_loaded(r.id, answer));
        }
    }

    fn converge(&mut self, views: &[ViewState]) {
        for _ in 0..64 {
            self.frame(views);
            if self.pending.is_empty() {
                return;
            }
            self.serve(&[]);
        }
        panic!("did not converge");
    }

    fn key(&self, url_suffix: &str) -> TileKey {
        self.ts
            .nodes
            .iter()
            .find(|(_, n)| n.contents.iter().any(|c| c.url.ends_with(url_suffix)))
            .map(|(k, _)| k)
            .unwrap_or_else(|| panic!("no tile with {url_suffix}"))
    }

    fn state(&self, url_suffix: &str) -> S {
        self.ts.selection_state(self.key(url_suffix))
    }

    fn rendered(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .last
            .to_render
            .iter()
            .map(|k| self.ts.tile(*k).unwrap().content_urls[0].trim_start_matches(BASE).to_owned())
            .collect();
        v.sort();
        v
    }

    fn requested(&self) -> Vec<(String, LoadPriorityGroup)> {
        self.last.requests.iter().map(|r| (r.url.trim_start_matches(BASE).to_owned(), r.priority.group)).collect()
    }
}

#[test]
fn far_view_renders_only_the_root() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    let far = [view_from(0.0, 0.0, 10_000.0)];
    assert_eq!(h.frame(&far).requests.len(), 1, "first the tileset.json");
    h.serve(&[]);
    h.frame(&far);
    assert_eq!(h.requested(), vec![("root.glb".to_owned(), LoadPriorityGroup::Urgent)]);
    h.serve(&[]);
    h.frame(&far);
    assert_eq!(h.rendered(), vec!["root.glb"]);
    assert_eq!(h.state("root.glb"), S::Rendered);
    assert_eq!(h.state("a.glb"), S::Unvisited);
    assert!(h.last.requests.is_empty());
}

#[test]
fn replace_keeps_the_parent_until_every_child_is_ready() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    let near = [view_from(0.0, 0.0, 500.0)];
    h.frame(&near);
    h.serve(&[]);
    // Nothing is drawn yet: the root and all four children are holes, so all are urgent.
    h.frame(&near);
    let mut req = h.requested();
    req.sort();
    assert_eq!(req.len(), 5);
    assert!(req.iter().all(|(_, g)| *g == LoadPriorityGroup::Urgent), "{req:?}");
    // The root arrives first: it stands in for its children.
    h.serve(&["root.glb"]);
    h.frame(&near);
    assert_eq!(h.rendered(), vec!["root.glb"]);
    assert_eq!(h.state("root.glb"), S::RenderedInsteadOfChildren);
    assert_eq!(h.state("a.glb"), S::Loading);
    // Three of four children: still the root, and the ready children are kicked.
    h.serve(&["a.glb", "b.glb", "c.glb"]);
    h.frame(&near);
    assert_eq!(h.rendered(), vec!["root.glb"]);
    assert_eq!(h.state("a.glb"), S::Kicked);
    assert_eq!(h.state("d.glb"), S::Loading);
    // All four: the children replace the root.
    h.serve(&["d.glb"]);
    h.frame(&near);
    assert_eq!(h.rendered(), vec!["a.glb", "b.glb", "c.glb", "d.glb"]);
    assert_eq!(h.state("root.glb"), S::Refined);
    assert_eq!(h.last.stats.tiles_rendered, 4);
}

#[test]
fn culled_children_are_neither_loaded_nor_waited_for() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    // Low over the far corner of quadrant d, seeing only d.
    let corner = [view_from(90.0, 90.0, 5.0)];
    h.converge(&corner);
    assert_eq!(h.rendered(), vec!["d.glb"]);
    assert_eq!(h.state("a.glb"), S::Culled);
    assert_eq!(h.last.stats.tiles_culled, 3);
    assert!(!h.ts.contents(h.key("a.glb")).any(|_| true), "a culled tile is never loaded");
}

#[test]
fn add_refinement_draws_parent_and_children_independently() {
    let mut h = Harness::with_tileset(quad_tileset("ADD"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    let near = [view_from(0.0, 0.0, 500.0)];
    h.frame(&near);
    h.serve(&[]);
    h.frame(&near);
    h.serve(&["root.glb", "b.glb"]);
    h.frame(&near);
    assert_eq!(h.rendered(), vec!["b.glb", "root.glb"]);
    assert_eq!(h.state("root.glb"), S::RenderedAndRefined);
    assert_eq!(h.state("a.glb"), S::Loading);
    assert_eq!(h.requested().len(), 0, "a, c and d are already in flight");
    h.serve(&[]);
    h.frame(&near);
    assert_eq!(h.rendered(), vec!["a.glb", "b.glb", "c.glb", "d.glb", "root.glb"]);
}

#[test]
fn external_tilesets_load_and_cycles_are_reported_once() {
    let root = json!({"asset": {"version": "1.0"}, "geometricError": 500, "root": {
        "boundingVolume": boxed(0.0, 0.0, 100.0), "geometricError": 100, "refine": "REPLACE",
        "children": [
            {"boundingVolume": boxed(-50.0, 0.0, 50.0), "geometricError": 100, "content": {"uri": "sub/external.json"}},
            {"boundingVolume": boxed(50.0, 0.0, 50.0), "geometricError": 100, "content": {"uri": "loop.json"}}]}});
    let external = json!({"asset": {"version": "1.0"}, "geometricError": 100, "root": {
        "boundingVolume": boxed(-50.0, 0.0, 50.0), "geometricError": 0, "content": {"uri": "leaf.glb"}}});
    let looping = json!({"asset": {"version": "1.0"}, "geometricError": 100, "root": {
        "boundingVolume": boxed(50.0, 0.0, 50.0), "geometricError": 10, "content": {"uri": "loop.json"}}});
    let mut h = Harness::new(
        &[
            ("tileset.json", serde_json::to_vec(&root).unwrap()),
            ("sub/external.json", serde_json::to_vec(&external).unwrap()),
            ("sub/leaf.glb", glb()),
            ("loop.json", serde_json::to_vec(&looping).unwrap()),
        ],
        TilesetOptions::default(),
    );
    let near = [view_from(0.0, 0.0, 300.0)];
    h.converge(&near);
    assert_eq!(h.rendered(), vec!["sub/leaf.glb"], "leaf resolves against the external tileset's URL");
    let errors = h.ts.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("cycle"), "{errors:?}");
    h.converge(&near);
    assert_eq!(h.ts.errors().len(), 1, "reported once, not retried every frame");
    let leaf = h.key("sub/leaf.glb");
    // Depths: synthetic root 0, root 1, the tile naming external.json 2, the external root (with leaf.glb) 3.
    assert_eq!(h.ts.tile(leaf).unwrap().depth, 3);
}

#[test]
fn missing_and_corrupt_content_fail_alone() {
    let mut files = vec![("tileset.json", serde_json::to_vec(&quad_tileset("REPLACE")).unwrap()), ("root.glb", glb())];
    files.push(("a.glb", glb()));
    files.push(("b.glb", b"glTF\x02\0\0\0garbage".to_vec()));
    files.push(("c.glb", glb()));
    // d.glb is missing: 404.
    let mut h = Harness::new(&files, TilesetOptions::default());
    let near = [view_from(0.0, 0.0, 500.0)];
    h.converge(&near);
    assert_eq!(h.rendered(), vec!["a.glb", "c.glb"], "failed tiles draw nothing and leave no permanent fallback");
    let mut urls: Vec<String> = h.ts.errors().iter().map(|e| e.url.trim_start_matches(BASE).to_owned()).collect();
    urls.sort();
    assert_eq!(urls, vec!["b.glb", "d.glb"]);
    assert!(h.ts.errors().iter().any(|e| e.message.contains("404")));
}

#[test]
fn requests_no_longer_wanted_are_cancelled() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    let near = [view_from(0.0, 0.0, 500.0)];
    h.frame(&near);
    h.serve(&[]);
    h.frame(&near);
    h.serve(&["root.glb"]);
    let in_flight: Vec<RequestId> = h.pending.iter().map(|r| r.id).collect();
    assert_eq!(in_flight.len(), 4);
    // Zoom out: the children are no longer wanted.
    let far = [view_from(0.0, 0.0, 10_000.0)];
    let r = h.frame(&far);
    let mut cancelled = r.cancelled.clone();
    cancelled.sort();
    assert_eq!(cancelled, in_flight);
    assert_eq!(r.stats.requests_cancelled, 4);
    // Late answers to cancelled requests are ignored.
    assert!(!h.ts.on_loaded(in_flight[0], Ok(glb())));
    assert_eq!(h.state("a.glb"), S::Unvisited);
    // Zooming in again asks for them anew.
    h.frame(&near);
    assert_eq!(h.requested().len(), 4);
}

#[test]
fn priorities_put_holes_first_then_the_centre_of_view() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    let mut options = TilesetOptions { maximum_simultaneous_requests: 1, ..Default::default() };
    std::mem::swap(h.ts.options_mut(), &mut options);
    // Off-centre over quadrant d, looking slightly towards it.
    let mut v = view_from(60.0, 60.0, 400.0);
    v.direction = (DVec3::new(50.0, 50.0, 0.0) - v.position_ecef).normalize();
    let views = [v];
    h.converge(&[view_from(0.0, 0.0, 10_000.0)]); // root loaded from afar
    let r = h.frame(&views);
    assert_eq!(r.requests.len(), 1);
    assert!(r.requests[0].url.ends_with("d.glb"), "the child under the view centre comes first: {:?}", r.requests);
    assert_eq!(r.requests[0].priority.group, LoadPriorityGroup::Normal, "the root stands in: not urgent");
    assert_eq!(r.stats.requests_queued, 3);
}

#[test]
fn several_views_select_the_union() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    let views = [view_from(-90.0, -90.0, 5.0), view_from(90.0, 90.0, 5.0)];
    h.converge(&views);
    assert_eq!(h.rendered(), vec!["a.glb", "d.glb"]);
    assert_eq!(h.state("b.glb"), S::Culled);
}

#[test]
fn viewer_request_volumes_gate_tiles() {
    let mut ts = quad_tileset("ADD");
    ts["root"]["children"][0]["viewerRequestVolume"] = json!({"sphere": [-50, -50, 0, 60]});
    let mut h = Harness::new(
        &[
            ("tileset.json", serde_json::to_vec(&ts).unwrap()),
            ("root.glb", glb()),
            ("a.glb", glb()),
            ("b.glb", glb()),
            ("c.glb", glb()),
            ("d.glb", glb()),
        ],
        TilesetOptions::default(),
    );
    h.converge(&[view_from(0.0, 0.0, 500.0)]);
    assert_eq!(h.state("a.glb"), S::Culled, "camera outside a's request volume");
    h.converge(&[view_from(-50.0, -50.0, 30.0)]);
    assert_eq!(h.state("a.glb"), S::Rendered);
}

#[test]
fn eviction_frees_unused_content_lru_and_deepest_first() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    h.converge(&[view_from(0.0, 0.0, 500.0)]);
    assert_eq!(h.last.stats.tiles_loaded, 5);
    // A budget that fits only a few tiles: zooming out keeps the root, drops children.
    let per_tile = h.ts.contents(h.key("a.glb")).next().unwrap().byte_size();
    let budget = h.ts.bytes_used() - 3 * per_tile;
    h.ts.options_mut().maximum_cached_bytes = budget;
    h.frame(&[view_from(0.0, 0.0, 10_000.0)]);
    assert_eq!(h.rendered(), vec!["root.glb"]);
    assert_eq!(h.last.unloaded.len(), 3, "only as many as the budget needs");
    assert!(h.ts.bytes_used() <= budget);
    assert!(!h.last.unloaded.contains(&h.key("root.glb")), "used this frame: never evicted");
    assert!(!h.last.stats.over_budget);
}

/// A box `h` metres square and 10 m tall around `(cx, cy, 0)`.
fn flat(cx: f64, cy: f64, h: f64) -> serde_json::Value {
    json!({"box": [cx, cy, 0, h, 0, 0, 0, h, 0, 0, 0, 5]})
}

/// Root (ADD) with children a (which refines into a1, deeper) and b, each far from the other.
fn two_branches() -> serde_json::Value {
    json!({"asset": {"version": "1.1"}, "geometricError": 200, "root": {
        "boundingVolume": flat(0.0, 0.0, 100.0), "geometricError": 100, "refine": "ADD", "content": {"uri": "root.glb"},
        "children": [
            {"boundingVolume": flat(-50.0, -50.0, 50.0), "geometricError": 10, "content": {"uri": "a.glb"},
             "children": [{"boundingVolume": flat(-75.0, -75.0, 25.0), "geometricError": 0, "content": {"uri": "a1.glb"}}]},
            {"boundingVolume": flat(50.0, -50.0, 50.0), "geometricError": 0, "content": {"uri": "b.glb"}}]}})
}

#[test]
fn eviction_takes_the_least_recently_used_first_and_the_deeper_of_equals() {
    let mut h = Harness::with_tileset(two_branches(), &["root.glb", "a.glb", "a1.glb", "b.glb"]);
    // b is used first, then a and a1 (deeper) together, later: b is the least recently used.
    h.converge(&[view_from(50.0, -50.0, 5.0)]);
    assert_eq!(h.rendered(), vec!["b.glb", "root.glb"]);
    h.converge(&[view_from(-75.0, -75.0, 5.0)]);
    assert_eq!(h.rendered(), vec!["a.glb", "a1.glb", "root.glb"]);
    let per_tile = h.ts.contents(h.key("b.glb")).next().unwrap().byte_size();
    let far = [view_from(0.0, 0.0, 10_000.0)];
    let mut evicted = Vec::new();
    for _ in 0..3 {
        // One tile over budget each time.
        h.ts.options_mut().maximum_cached_bytes = h.ts.bytes_used() - per_tile;
        h.frame(&far);
        assert_eq!(h.last.unloaded.len(), 1);
        evicted.push(h.ts.tile(h.last.unloaded[0]).unwrap().content_urls[0].trim_start_matches(BASE).to_owned());
    }
    // By depth alone a1 would go first; by age alone a and a1 would tie.
    assert_eq!(evicted, vec!["b.glb", "a1.glb", "a.glb"]);
    assert_eq!(h.rendered(), vec!["root.glb"], "the root, in use, stays");
}

#[test]
fn loading_is_foveated_not_by_distance_alone() {
    let mut ts = quad_tileset("REPLACE");
    ts["root"]["boundingVolume"] = flat(0.0, 0.0, 100.0);
    for (i, (x, y)) in [(-50.0, -50.0), (50.0, -50.0), (-50.0, 50.0), (50.0, 50.0)].into_iter().enumerate() {
        ts["root"]["children"][i]["boundingVolume"] = flat(x, y, 50.0);
    }
    let mut h = Harness::with_tileset(ts, &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    h.ts.options_mut().maximum_simultaneous_requests = 1;
    h.converge(&[view_from(0.0, 0.0, 10_000.0)]);
    // Above quadrant a, looking at d's centre with a wide lens: a is the nearest tile but at the edge
    // of the view (54.7° off centre), d is farther but dead ahead. Foveation loads d first.
    let mut v = view_from(-50.0, -50.0, 100.0);
    v.direction = (DVec3::new(50.0, 50.0, 0.0) - v.position_ecef).normalize();
    v.up = DVec3::Z.cross(v.direction).cross(v.direction).normalize() * -1.0;
    v.projection = Projection::Perspective { fov_y_rad: 130f64.to_radians(), near_m: 1.0, far_m: f64::INFINITY };
    let r = h.frame(&[v]);
    assert_eq!(r.requests.len(), 1, "{:?}", r.requests);
    assert!(r.requests[0].url.ends_with("d.glb"), "the tile ahead, not the nearest: {:?}", r.requests);
    let d = r.requests[0].priority.value;
    h.serve(&[]);
    // The nearest comes later, with a larger foveated value although it is closer.
    let mut values = vec![];
    for _ in 0..4 {
        let r = h.frame(&[v]);
        values.extend(r.requests.iter().map(|q| (q.url.trim_start_matches(BASE).to_owned(), q.priority.value)));
        h.serve(&[]);
    }
    let a = values.iter().find(|(u, _)| u == "a.glb").expect("a is loaded too").1;
    assert!(a > d, "a {a} after d {d}");
}

#[test]
fn a_budget_too_small_for_the_view_lets_only_urgent_loads_through() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    h.converge(&[view_from(0.0, 0.0, 10_000.0)]);
    h.ts.options_mut().maximum_cached_bytes = 1;
    let r = h.frame(&[view_from(0.0, 0.0, 500.0)]);
    assert!(r.stats.over_budget);
    assert!(r.requests.is_empty(), "children are only Normal: the root stands in");
    assert_eq!(r.stats.requests_queued, 4);
    assert_eq!(h.rendered(), vec!["root.glb"]);
}

#[test]
fn a_view_needing_more_than_the_budget_coarsens_until_it_fits_and_refines_when_room_returns() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    let near = [view_from(0.0, 0.0, 500.0)];
    h.converge(&near);
    assert_eq!(h.rendered().len(), 4, "the four children");
    let (all, max_sse) = (h.ts.bytes_used(), h.ts.options().maximum_screen_space_error);
    let per_tile = h.ts.contents(h.key("a.glb")).next().unwrap().byte_size();
    // No room for the four children: they stay (in use) and the error rises until the root
    // suffices, then they are evicted.
    let budget = all - 2 * per_tile;
    h.ts.options_mut().maximum_cached_bytes = budget;
    for _ in 0..400 {
        h.frame(&near);
        h.serve(&[]);
    }
    assert_eq!(h.rendered(), vec!["root.glb"]);
    assert!(h.ts.bytes_used() <= budget, "the budget holds");
    assert!(h.last.stats.effective_max_sse > max_sse);
    // A budget with room again brings the detail back, and the error to the maximum set.
    h.ts.options_mut().maximum_cached_bytes = all * 4;
    for _ in 0..400 {
        h.frame(&near);
        h.serve(&[]);
    }
    assert_eq!(h.rendered().len(), 4);
    assert_eq!(h.last.stats.effective_max_sse, max_sse);
    // Switched off, the error stays at the maximum set whatever the budget.
    h.ts.options_mut().memory_adjusted_sse = false;
    h.ts.options_mut().maximum_cached_bytes = 1;
    h.frame(&near);
    assert_eq!(h.last.stats.effective_max_sse, max_sse);
}

#[test]
fn external_tileset_nodes_are_evicted_when_unused() {
    let root = json!({"asset": {"version": "1.0"}, "geometricError": 500, "root": {
        "boundingVolume": boxed(0.0, 0.0, 100.0), "geometricError": 100, "refine": "REPLACE", "content": {"uri": "root.glb"},
        "children": [{"boundingVolume": boxed(0.0, 0.0, 100.0), "geometricError": 50, "content": {"uri": "ext.json"}}]}});
    let children: Vec<_> = (0..20)
        .map(|i| json!({"boundingVolume": boxed(-95.0 + 10.0 * i as f64, 0.0, 5.0), "geometricError": 0, "content": {"uri": format!("{i}.glb")}}))
        .collect();
    let ext = json!({"asset": {"version": "1.0"}, "geometricError": 50, "root": {
        "boundingVolume": boxed(0.0, 0.0, 100.0), "geometricError": 50, "children": children}});
    let mut files = vec![
        ("tileset.json".to_owned(), serde_json::to_vec(&root).unwrap()),
        ("ext.json".to_owned(), serde_json::to_vec(&ext).unwrap()),
        ("root.glb".to_owned(), glb()),
    ];
    files.extend((0..20).map(|i| (format!("{i}.glb"), glb())));
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let mut h = Harness::new(&refs, TilesetOptions::default());
    h.converge(&[view_from(0.0, 0.0, 300.0)]);
    let nodes_near = h.last.stats.nodes;
    assert_eq!(nodes_near, 2 + 1 + 20);
    h.ts.options_mut().maximum_cached_bytes = 0;
    h.frame(&[view_from(0.0, 0.0, 100_000.0)]);
    assert_eq!(h.last.stats.nodes, 2, "the external tileset's 21 nodes are gone");
    assert_eq!(h.last.unloaded.len(), 20);
    // Coming back loads the external tileset again.
    h.ts.options_mut().maximum_cached_bytes = usize::MAX;
    h.converge(&[view_from(0.0, 0.0, 300.0)]);
    assert_eq!(h.last.stats.nodes, nodes_near);
    assert_eq!(h.rendered().len(), 20);
}

#[test]
fn data_uri_content_loads_without_a_request() {
    let mut ts = quad_tileset("REPLACE");
    let b64 = {
        // A percent-encoded data: URI (the decoder handles base64 too; see uri.rs).
        let g = glb();
        let mut s = String::from("data:application/octet-stream,");
        for b in g {
            s.push_str(&format!("%{b:02X}"));
        }
        s
    };
    ts["root"]["content"]["uri"] = json!(b64);
    ts["root"]["children"] = json!([]);
    let mut h = Harness::new(&[("tileset.json", serde_json::to_vec(&ts).unwrap())], TilesetOptions::default());
    let far = [view_from(0.0, 0.0, 10_000.0)];
    h.frame(&far);
    h.serve(&[]);
    // The data: URI is decoded in place of a request, and draws from the next frame on.
    assert!(h.frame(&far).requests.is_empty());
    assert_eq!(h.frame(&far).to_render.len(), 1);
    assert!(h.ts.errors().is_empty());
}

#[test]
fn updates_without_views_select_nothing() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &[]);
    let r = h.frame(&[]);
    assert!(r.to_render.is_empty() && r.requests.is_empty());
}

/// A full quadtree of 4 levels (85 tiles) in subtrees of 2 levels, with content everywhere.
fn implicit_files() -> Vec<(String, Vec<u8>)> {
    let ts = json!({"asset": {"version": "1.1"}, "geometricError": 1000, "root": {
        "boundingVolume": boxed(0.0, 0.0, 1000.0), "geometricError": 400, "refine": "REPLACE",
        "content": {"uri": "c/{level}/{x}/{y}.glb"},
        "implicitTiling": {"subdivisionScheme": "QUADTREE", "subtreeLevels": 2, "availableLevels": 4,
            "subtrees": {"uri": "s/{level}.{x}.{y}.json"}}}});
    let full = br#"{"tileAvailability":{"constant":1},"contentAvailability":[{"constant":1}],"childSubtreeAvailability":{"constant":1}}"#;
    let leafmost = br#"{"tileAvailability":{"constant":1},"contentAvailability":[{"constant":1}],"childSubtreeAvailability":{"constant":0}}"#;
    let mut files =
        vec![("tileset.json".to_owned(), serde_json::to_vec(&ts).unwrap()), ("s/0.0.0.json".to_owned(), full.to_vec())];
    for x in 0..4 {
        for y in 0..4 {
            files.push((format!("s/2.{x}.{y}.json"), leafmost.to_vec()));
        }
    }
    for level in 0..4u32 {
        for x in 0..(1 << level) {
            for y in 0..(1 << level) {
                files.push((format!("c/{level}/{x}/{y}.glb"), glb()));
            }
        }
    }
    files
}

#[test]
fn implicit_tiles_are_made_only_where_the_traversal_goes() {
    let files = implicit_files();
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let mut h = Harness::new(&refs, TilesetOptions::default());
    // Low over the south-west corner: only the tiles around it refine to level 3.
    h.converge(&[view_from(-990.0, -990.0, 30.0)]);
    let rendered = h.rendered();
    assert!(rendered.contains(&"c/3/0/0.glb".to_owned()), "{rendered:?}");
    assert!(rendered.iter().all(|r| r.starts_with("c/3/")), "{rendered:?}");
    assert!(h.last.stats.nodes < 30, "lazy: {} of 85 tiles made", h.last.stats.nodes);
    let subtrees_loaded = h.ts.requests_total as usize - h.last.stats.tiles_loaded - 1;
    assert!(subtrees_loaded < 6, "{subtrees_loaded} subtree files fetched");
    let leaf = h.key("c/3/0/0.glb");
    let info = h.ts.tile(leaf).unwrap();
    assert_eq!(info.implicit_coord, Some(crate::tiles::implicit::ImplicitCoord { level: 3, x: 0, y: 0, z: 0 }));
    assert!((info.geometric_error - 50.0).abs() < 1e-9, "400 / 2^3");
}

#[test]
fn implicit_nodes_and_subtrees_are_evicted_when_unused() {
    let files = implicit_files();
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let mut h = Harness::new(&refs, TilesetOptions::default());
    h.converge(&[view_from(-990.0, -990.0, 30.0)]);
    let near_nodes = h.last.stats.nodes;
    h.ts.options_mut().maximum_cached_bytes = 0;
    h.frame(&[view_from(0.0, 0.0, 1_000_000.0)]);
    assert!(h.last.stats.nodes < near_nodes, "{} → {}", near_nodes, h.last.stats.nodes);
    assert_eq!(h.last.stats.nodes, 1, "only the implicit root remains");
    h.ts.options_mut().maximum_cached_bytes = usize::MAX;
    h.converge(&[view_from(-990.0, -990.0, 30.0)]);
    assert_eq!(h.last.stats.nodes, near_nodes, "rebuilt the same tree on return");
}

#[test]
fn a_missing_subtree_is_an_error_and_the_rest_renders() {
    let mut files = implicit_files();
    files.retain(|(k, _)| k != "s/2.0.0.json");
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let mut h = Harness::new(&refs, TilesetOptions::default());
    // Over the south-west quadrant: level-2 tiles (2,0,0), (2,1,0), (2,0,1) and (2,1,1).
    h.converge(&[view_from(-500.0, -500.0, 100.0)]);
    assert_eq!(h.ts.errors().len(), 1);
    assert!(h.ts.errors()[0].url.ends_with("s/2.0.0.json"));
    // As in cesium-native, a failed load counts as empty so refinement never stalls: the
    // failed subtree's area stays empty and its three siblings refine to level 3.
    let rendered = h.rendered();
    assert!(rendered.iter().any(|r| r.starts_with("c/3/")), "{rendered:?}");
    assert!(!rendered.iter().any(|r| r == "c/3/0/0.glb" || r == "c/2/0/0.glb"), "{rendered:?}");
}

#[test]
fn geometric_error_scales_with_the_tile_transform() {
    // The same quad tileset scaled up 10×: its root's error is 10× too, so it refines from 10× as far.
    let mut ts = quad_tileset("REPLACE");
    ts["root"]["transform"] = json!([10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 1]);
    let names = ["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"];
    let mut h = Harness::with_tileset(ts, &names);
    let root = |h: &Harness| h.ts.tile(h.ts.root().unwrap()).unwrap().geometric_error;
    h.converge(&[view_from(0.0, 0.0, 40_000.0)]);
    assert_eq!(root(&h), 1000.0);
    assert_eq!(h.rendered(), vec!["a.glb", "b.glb", "c.glb", "d.glb"], "unscaled it would stop at the root");
}

/// `tileset` moved `dx_m` along x (its root and children's boxes).
fn shifted(mut tileset: serde_json::Value, dx_m: f64) -> serde_json::Value {
    let shift = |tile: &mut serde_json::Value| {
        let x = tile["boundingVolume"]["box"][0].as_f64().unwrap();
        tile["boundingVolume"]["box"][0] = json!(x + dx_m);
    };
    shift(&mut tileset["root"]);
    for child in tileset["root"]["children"].as_array_mut().unwrap() {
        shift(child);
    }
    tileset
}

/// Frames of [`update_shared`] over several harnesses until none has a request pending.
fn converge_shared(hs: &mut [&mut Harness], views: &[ViewState], budget_bytes: usize) {
    for _ in 0..64 {
        let mut sets: Vec<_> = hs.iter_mut().map(|h| (&mut h.ts, views)).collect();
        let results = update_shared(&mut sets, budget_bytes);
        for (h, r) in hs.iter_mut().zip(results) {
            h.pending.retain(|p| !r.cancelled.contains(&p.id));
            h.pending.extend(r.requests.iter().cloned());
            h.last = r;
        }
        if hs.iter().all(|h| h.pending.is_empty()) {
            return;
        }
        for h in hs.iter_mut() {
            h.serve(&[]);
        }
    }
    panic!("did not converge");
}

#[test]
fn tilesets_updated_together_share_one_budget_and_evict_the_longest_unused_first() {
    let files = ["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"];
    let (mut a, mut b) = (
        Harness::with_tileset(quad_tileset("REPLACE"), &files),
        Harness::with_tileset(shifted(quad_tileset("REPLACE"), 10_000.0), &files),
    );
    // Their own budgets are ignored: the shared one rules.
    a.ts.options_mut().maximum_cached_bytes = 1;
    b.ts.options_mut().maximum_cached_bytes = 1;
    let ample = usize::MAX;
    converge_shared(&mut [&mut a, &mut b], &[view_from(0.0, 0.0, 500.0)], ample);
    assert_eq!(a.last.stats.tiles_loaded, 5);
    // Then the view moves over b: a's tiles age.
    converge_shared(&mut [&mut a, &mut b], &[view_from(10_000.0, 0.0, 500.0)], ample);
    assert_eq!((a.last.stats.tiles_loaded, b.last.stats.tiles_loaded), (5, 5));
    assert!(a.last.to_render.is_empty());
    // A budget three tiles short, with neither in view: a's (older) go, b's stay.
    let per_tile = a.ts.contents(a.key("a.glb")).next().unwrap().byte_size();
    let budget = a.ts.bytes_used() + b.ts.bytes_used() - 3 * per_tile;
    converge_shared(&mut [&mut a, &mut b], &[view_from(5_000.0, 90_000.0, 500.0)], budget);
    assert_eq!((a.last.unloaded.len(), b.last.unloaded.len()), (3, 0));
    assert_eq!(a.ts.bytes_used() + b.ts.bytes_used(), budget, "no more than the budget needs");
    assert_eq!(a.last.stats.bytes_budget, budget);
    assert!(!a.last.stats.over_budget && !b.last.stats.over_budget);
    // Too small for b's view: over budget, so both only load what is urgent.
    converge_shared(&mut [&mut a, &mut b], &[view_from(10_000.0, 0.0, 500.0)], 1);
    assert!(a.last.stats.over_budget && b.last.stats.over_budget);
    assert_eq!(b.rendered(), vec!["a.glb", "b.glb", "c.glb", "d.glb"], "what is in use is never evicted");
    assert_eq!(a.last.stats.tiles_loaded, 0, "everything of a's is freed");
}

#[test]
fn the_engines_bytes_for_a_tile_count_against_the_budget_and_go_with_its_content() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    h.converge(&[view_from(0.0, 0.0, 500.0)]);
    let before = h.ts.bytes_used();
    assert!(h.ts.content_ready(h.key("a.glb"), 1_000_000));
    assert_eq!(h.ts.bytes_used(), before + 1_000_000);
    assert!(!h.ts.content_ready(h.key("tileset.json"), 5), "no content loaded there");
    // A budget that the content alone fits: the engine's bytes push a (with them) out first.
    h.ts.options_mut().maximum_cached_bytes = before;
    h.frame(&[view_from(0.0, 0.0, 10_000.0)]);
    assert_eq!(h.last.unloaded, vec![h.key("a.glb")]);
    assert!(h.ts.bytes_used() < before, "freed with the content");
}

#[test]
fn tiles_the_engine_still_draws_are_never_evicted() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    h.converge(&[view_from(0.0, 0.0, 500.0)]);
    let children: Vec<TileKey> = ["a.glb", "b.glb", "c.glb", "d.glb"].iter().map(|n| h.key(n)).collect();
    // Zoomed out, the root is selected, but the engine still shows the children (say, while the
    // root's meshes are being built): they stay, and count, whatever the budget.
    h.ts.options_mut().maximum_cached_bytes = 1;
    h.ts.set_drawn(children.iter().copied());
    let far = [view_from(0.0, 0.0, 10_000.0)];
    h.frame(&far);
    assert!(h.last.unloaded.is_empty(), "{:?}", h.last.unloaded);
    assert!(h.last.stats.over_budget);
    assert_eq!(h.last.stats.tiles_loaded, 5);
    // Once the engine draws the root instead, they go.
    h.ts.set_drawn([h.key("root.glb")]);
    h.frame(&far);
    let mut unloaded = h.last.unloaded.clone();
    unloaded.sort();
    let mut want = children;
    want.sort();
    assert_eq!(unloaded, want);
}

#[test]
fn what_the_requests_in_flight_will_bring_counts_before_it_lands() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    h.converge(&[view_from(0.0, 0.0, 10_000.0)]);
    let per_tile = h.ts.contents(h.key("root.glb")).next().unwrap().byte_size();
    assert_eq!(h.ts.in_flight_bytes(), 0);
    h.ts.options_mut().maximum_cached_bytes = h.ts.bytes_used() + per_tile / 2;
    let near = [view_from(0.0, 0.0, 500.0)];
    assert_eq!(h.frame(&near).requests.len(), 4);
    // Four out, each estimated at the mean content landed so far (the root's): over the budget
    // before any of them lands.
    assert_eq!(h.ts.in_flight_bytes(), 4 * per_tile);
    h.frame(&near);
    assert!(h.last.stats.over_budget && h.ts.bytes_used() <= h.ts.options().maximum_cached_bytes);
}

#[test]
fn a_content_replaced_after_building_counts_what_is_kept() {
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"]);
    h.converge(&[view_from(0.0, 0.0, 10_000.0)]);
    let root = h.key("root.glb");
    let old = h.ts.contents(root).next().unwrap().clone();
    assert!(h.ts.content_ready(root, 300));
    let (used, landed) = (h.ts.bytes_used(), h.ts.landed.1);
    let kept = TileContent::Composite(Vec::new());
    assert!(h.ts.replace_content(root, &old, kept));
    assert_eq!(h.ts.bytes_used(), used - old.byte_size(), "the engine's 300 bytes stay counted");
    assert_eq!(h.ts.landed.1, landed - old.byte_size(), "later loads are estimated at what stays");
    assert_eq!(h.ts.contents(root).next().unwrap().byte_size(), 0);
    // The old content is gone: replacing it again changes nothing.
    assert!(!h.ts.replace_content(root, &old, TileContent::Composite(Vec::new())));
    assert_eq!(h.ts.bytes_used(), used - old.byte_size());
}

#[test]
fn a_tile_the_engine_prepares_covers_for_its_parent_once_it_says_ready() {
    let files = ["root.glb", "a.glb", "b.glb", "c.glb", "d.glb"];
    let mut h = Harness::with_tileset(quad_tileset("REPLACE"), &files);
    h.ts.options_mut().engine_prepares_content = true;
    let (far, near) = ([view_from(0.0, 0.0, 10_000.0)], [view_from(0.0, 0.0, 500.0)]);
    h.converge(&far);
    // Loaded, not prepared, with nothing over its place: selected (the engine shows it once it can),
    // and the engine is asked for it, every frame until it says ready.
    let root = h.key("root.glb");
    assert_eq!((h.rendered(), h.last.to_prepare.clone()), (vec!["root.glb".to_owned()], vec![root]));
    h.frame(&far);
    assert_eq!(h.last.to_prepare, vec![root]);
    assert!(h.last.requests.is_empty(), "nothing more to fetch for it");
    // Closer, the children land, unprepared as the root is: they are selected, none covers.
    h.converge(&near);
    assert_eq!(h.rendered(), vec!["a.glb", "b.glb", "c.glb", "d.glb"]);
    assert_eq!(h.state("root.glb"), S::Loading);
    assert!(h.ts.content_ready(root, 0));
    h.frame(&near);
    // The root prepared stands in until the engine has prepared all four.
    assert_eq!(h.rendered(), vec!["root.glb"]);
    assert_eq!(h.state("root.glb"), S::RenderedInsteadOfChildren);
    let mut asked = h.last.to_prepare.clone();
    asked.sort();
    let mut children: Vec<TileKey> = files[1..].iter().map(|n| h.key(n)).collect();
    children.sort();
    assert_eq!(asked, children);
    for c in &children[..3] {
        assert!(h.ts.content_ready(*c, 10));
    }
    h.frame(&near);
    assert_eq!(h.rendered(), vec!["root.glb"], "three of four ready: the root still stands in");
    assert!(h.ts.content_ready(children[3], 10));
    h.frame(&near);
    assert_eq!(h.rendered(), vec!["a.glb", "b.glb", "c.glb", "d.glb"]);
    assert!(h.last.to_prepare.is_empty());
}
