//! One frame's traversal: culling, SSE, REPLACE without holes, ADD, and what to load next.

use super::build::{Nodes, expand_implicit};
use super::node::{Children, Load, Node, TileKey, TileSelectionState as S};
use crate::tiles::model::Refine;
use crate::tiles::view::{Frustum, ViewState};

/// Load queues, most pressing first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LoadPriorityGroup {
    /// Nothing is drawn where this tile goes: a visible hole.
    Urgent,
    /// Wanted for this view; an ancestor stands in meanwhile.
    Normal,
    /// Not needed now (ancestors skipped by refinement), kept warm for zooming out.
    Preload,
}

/// Where a request stands in the queue: by group, then foveated distance, then depth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priority {
    pub group: LoadPriorityGroup,
    /// `(1 − cos θ) × distance` to the view (smallest over views), as cesium-native does.
    pub value: f64,
    pub depth: u32,
}

impl Priority {
    pub(crate) fn sort_key(&self) -> (LoadPriorityGroup, u64, u32) {
        (self.group, self.value.max(0.0).to_bits(), self.depth)
    }
}

/// What a tile wants loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Content(usize),
    Subtree,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Want {
    pub key: TileKey,
    pub target: Target,
    pub priority: Priority,
}

pub(crate) struct Traversal<'a> {
    pub views: &'a [ViewState],
    pub frusta: Vec<Frustum>,
    pub max_sse: f64,
    pub frame: u64,
    pub preload_ancestors: bool,
    pub render: Vec<TileKey>,
    /// Visited tiles whose loaded content waits for the engine.
    pub prepare: Vec<TileKey>,
    pub wants: Vec<Want>,
    pub visited: usize,
    pub culled: usize,
}

impl<'a> Traversal<'a> {
    pub fn new(views: &'a [ViewState], max_sse: f64, frame: u64, preload_ancestors: bool) -> Self {
        Self {
            views,
            frusta: views.iter().map(ViewState::frustum).collect(),
            max_sse,
            frame,
            preload_ancestors,
            render: Vec::new(),
            prepare: Vec::new(),
            wants: Vec::new(),
            visited: 0,
            culled: 0,
        }
    }

    /// SSE (largest over views) and load priority value (smallest), or `None` when culled in every view.
    fn measure(&self, node: &Node) -> Option<(f64, f64)> {
        let mut out: Option<(f64, f64)> = None;
        for (view, frustum) in self.views.iter().zip(&self.frusta) {
            let p = view.position_ecef;
            if !frustum.is_visible(&node.bounds) || node.viewer_request_volume.is_some_and(|v| !v.contains(p)) {
                continue;
            }
            let distance = node.bounds.distance_to(p);
            let sse = view.screen_space_error(node.geometric_error, distance);
            let to_center = node.bounds.center() - p;
            let len = to_center.length();
            let value =
                if len > 1e-5 { (1.0 - to_center.dot(view.direction.normalize()) / len) * distance } else { 0.0 };
            out = Some(out.map_or((sse, value), |(s, v)| (s.max(sse), v.min(value))));
        }
        out
    }

    fn want(&mut self, node: &Node, key: TileKey, priority: Priority) {
        for (i, slot) in node.contents.iter().enumerate() {
            if matches!(slot.load, Load::Unloaded | Load::Loading) {
                self.wants.push(Want { key, target: Target::Content(i), priority });
            }
        }
    }

    fn want_subtree(&mut self, node: &Node, key: TileKey, priority: Priority) -> bool {
        let pending = node
            .implicit
            .as_ref()
            .and_then(|i| i.subtree.as_ref())
            .is_some_and(|s| matches!(s, Load::Unloaded | Load::Loading));
        if pending {
            self.wants.push(Want { key, target: Target::Subtree, priority });
        }
        pending
    }

    /// Visits a tile; returns true when its area is fully covered by what this frame draws
    /// (or needs nothing), so a REPLACE parent may give way to it.
    pub fn visit(&mut self, nodes: &mut Nodes, key: TileKey, ancestor_drawn: bool) -> bool {
        let Some((sse, value)) = self.measure(&nodes[key]) else {
            nodes[key].state = S::Culled;
            self.culled += 1;
            return true;
        };
        self.visited += 1;
        let node = &mut nodes[key];
        node.last_used = self.frame;
        let group = if ancestor_drawn { LoadPriorityGroup::Normal } else { LoadPriorityGroup::Urgent };
        let priority = Priority { group, value, depth: node.depth };

        // Implicit subtree roots learn their own contents from their subtree.
        if let Some(imp) = node.implicit.as_mut()
            && !imp.contents_known
            && matches!(imp.subtree, Some(Load::Failed))
        {
            imp.contents_known = true;
            node.children_kind = Children::Dynamic;
        }
        if !node.contents_known() {
            let node = &nodes[key];
            self.want_subtree(node, key, priority);
            nodes[key].state = S::Loading;
            return false;
        }

        let wants_refine = node.is_external() || sse > self.max_sse;
        if wants_refine && node.children_kind == Children::Unexpanded && !expand_implicit(nodes, key) {
            let node = &nodes[key];
            self.want_subtree(node, key, priority);
        }
        let node = &nodes[key];
        let children = node.children.clone();
        let refine = wants_refine && !children.is_empty();
        let drawable = node.has_drawable_content();
        let settled = node.contents_settled();
        // Settled with something to show; a failed content shows nothing and stands in for nothing.
        let shows = drawable && settled && node.holds_loaded_content();
        // What the engine has not prepared yet is drawn only where nothing prepared covers its
        // place: it neither lets its parent give way nor stands in for its children.
        let prepared = !node.awaits_engine();
        if shows && !prepared {
            self.prepare.push(key);
        }
        let covers = !drawable || (settled && prepared);

        if !refine {
            nodes[key].state = if !drawable || (settled && !shows) {
                S::Empty
            } else if shows {
                self.render.push(key);
                S::Rendered
            } else {
                self.want(node, key, priority);
                S::Loading
            };
            return covers;
        }

        let child_drawn = ancestor_drawn || (shows && prepared);
        if node.refine == Refine::Add && !node.is_external() {
            if shows {
                self.render.push(key);
            } else if drawable && !settled {
                self.want(node, key, priority);
            }
            for child in children {
                self.visit(nodes, child, child_drawn);
            }
            nodes[key].state = if shows {
                S::RenderedAndRefined
            } else if drawable && !settled {
                S::Loading
            } else {
                S::Refined
            };
            return covers;
        }

        // REPLACE: children replace this tile only when all of them are ready.
        let mark = self.render.len();
        let mut covered = true;
        for child in children {
            covered &= self.visit(nodes, child, child_drawn);
        }
        if covered {
            let node = &nodes[key];
            if drawable && !settled && self.preload_ancestors {
                self.want(node, key, Priority { group: LoadPriorityGroup::Preload, ..priority });
            }
            nodes[key].state = S::Refined;
            return true;
        }
        if shows && prepared {
            for kicked in self.render.drain(mark..) {
                nodes[kicked].state = S::Kicked;
            }
            self.render.push(key);
            nodes[key].state = S::RenderedInsteadOfChildren;
            return true;
        }
        let node = &nodes[key];
        let loading = drawable && !settled;
        if loading {
            self.want(node, key, priority);
        }
        nodes[key].state = if loading || shows { S::Loading } else { S::Refined };
        false
    }
}
