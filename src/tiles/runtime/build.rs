//! Making nodes: explicit tiles from tileset JSON, and implicit tiles from subtree availability.

use std::sync::Arc;

use glam::DMat4;
use slotmap::SlotMap;

use super::node::{Children, ContentSlot, ImplicitContext, ImplicitNode, Load, Node, TileKey, UpAxis};
use crate::tiles::bounds::{Volume, WorldBounds};
use crate::tiles::implicit::{self, ImplicitCoord, Subtree};
use crate::tiles::model::{Refine, Tile};
use crate::tiles::{Warnings, uri};

pub(crate) type Nodes = SlotMap<TileKey, Node>;

/// Where a subtree of explicit tiles attaches.
pub(crate) struct Attach {
    pub parent: Option<TileKey>,
    pub ecef_from_parent: DMat4,
    pub refine: Refine,
    pub depth: u32,
    pub tileset_url: Arc<str>,
    pub up_axis: UpAxis,
}

/// The largest scale factor of a transform: geometric errors are scaled by it, as CesiumJS does,
/// so a tileset scaled up by its transform refines as its real size asks.
pub(crate) fn max_scale(m: &DMat4) -> f64 {
    let m3 = glam::DMat3::from_mat4(*m);
    m3.x_axis.length().max(m3.y_axis.length()).max(m3.z_axis.length())
}

fn world_bounds(volume: Option<&Volume>, ecef_from_tile: &DMat4) -> WorldBounds {
    volume.map_or(WorldBounds::Everywhere, |v| v.to_world(ecef_from_tile))
}

fn content_slot(base: &str, reference: &str, path: &str, w: &mut Warnings) -> Option<ContentSlot> {
    match uri::resolve(base, reference) {
        Ok(url) => Some(ContentSlot { url, load: Load::Unloaded }),
        Err(e) => {
            w.push(path, e.to_string());
            None
        }
    }
}

/// Adds `tile` and its explicit descendants; returns the new node's key.
pub(crate) fn add_explicit(nodes: &mut Nodes, tile: &Tile, at: &Attach, path: &str, w: &mut Warnings) -> TileKey {
    let local = tile
        .transform
        .as_ref()
        .filter(|t| t.len() == 16 && t.iter().all(|v| v.is_finite()))
        .map_or(DMat4::IDENTITY, |t| DMat4::from_cols_slice(t));
    let ecef_from_tile = at.ecef_from_parent * local;
    let volume = Volume::from_json(&tile.bounding_volume);
    let refine = Refine::resolve(tile.refine.as_deref(), at.refine, path, w);
    let contents: Vec<ContentSlot> =
        tile.all_contents().into_iter().filter_map(|c| content_slot(&at.tileset_url, c.uri()?, path, w)).collect();
    let mut node = Node {
        parent: at.parent,
        children: Vec::new(),
        children_kind: Children::Static,
        depth: at.depth,
        ecef_from_tile,
        bounds: world_bounds(volume.as_ref(), &ecef_from_tile),
        viewer_request_volume: tile
            .viewer_request_volume
            .as_ref()
            .and_then(Volume::from_json)
            .map(|v| v.to_world(&ecef_from_tile)),
        geometric_error: tile.geometric_error.max(0.0) * max_scale(&ecef_from_tile),
        refine,
        contents,
        implicit: None,
        tileset_url: at.tileset_url.clone(),
        up_axis: at.up_axis,
        last_used: 0,
        state: Default::default(),
    };
    if let Some(it) = &tile.implicit_tiling {
        match implicit_root(tile, it, volume, ecef_from_tile, refine, at) {
            Ok(imp) => {
                node.contents.clear();
                node.children_kind = Children::Unexpanded;
                node.implicit = Some(imp);
                if !tile.children.is_empty() {
                    w.push(path, "an implicit root's explicit children are ignored");
                }
                return nodes.insert(node);
            }
            Err(message) => w.push(path, format!("implicitTiling ignored: {message}")),
        }
    }
    let key = nodes.insert(node);
    let child_at = Attach {
        parent: Some(key),
        ecef_from_parent: ecef_from_tile,
        refine,
        depth: at.depth + 1,
        tileset_url: at.tileset_url.clone(),
        up_axis: at.up_axis,
    };
    let children: Vec<TileKey> = tile
        .children
        .iter()
        .enumerate()
        .map(|(i, c)| add_explicit(nodes, c, &child_at, &format!("{path}/children/{i}"), w))
        .collect();
    nodes[key].children = children;
    key
}

fn implicit_root(
    tile: &Tile,
    it: &crate::tiles::model::ImplicitTiling,
    volume: Option<Volume>,
    ecef_from_tile: DMat4,
    refine: Refine,
    at: &Attach,
) -> Result<ImplicitNode, String> {
    implicit::check_levels(it.subdivision_scheme, it.subtree_levels, it.available_levels).map_err(|e| e.to_string())?;
    let root_volume = volume.ok_or("the root has no usable bounding volume")?;
    if matches!(root_volume, Volume::Sphere { .. }) {
        return Err("implicit tiling needs a box or region, not a sphere".into());
    }
    let content_templates = tile.all_contents().into_iter().filter_map(|c| c.uri().map(str::to_owned)).collect();
    let ctx = ImplicitContext {
        scheme: it.subdivision_scheme,
        subtree_levels: it.subtree_levels,
        available_levels: it.available_levels,
        subtree_template: it.subtrees.uri.clone(),
        content_templates,
        root_volume,
        ecef_from_tile,
        root_geometric_error: tile.geometric_error.max(0.0) * max_scale(&ecef_from_tile),
        refine,
        tileset_url: at.tileset_url.clone(),
        up_axis: at.up_axis,
    };
    Ok(ImplicitNode {
        ctx: Arc::new(ctx),
        coord: ImplicitCoord::ROOT,
        subtree: Some(Load::Unloaded),
        contents_known: false,
    })
}

/// The URL of the subtree file rooted at `coord`.
pub(crate) fn subtree_url(ctx: &ImplicitContext, coord: &ImplicitCoord) -> Result<String, String> {
    let z = matches!(ctx.scheme, crate::tiles::model::SubdivisionScheme::Octree).then_some(coord.z);
    let reference = uri::expand_template(&ctx.subtree_template, coord.level, coord.x, coord.y, z);
    uri::resolve(&ctx.tileset_url, &reference).map_err(|e| e.to_string())
}

/// Content slots of the implicit tile at `coord`, from the availability of `subtree` (rooted at `root`).
pub(crate) fn implicit_contents(
    ctx: &ImplicitContext,
    subtree: &Subtree,
    root: &ImplicitCoord,
    coord: &ImplicitCoord,
) -> Vec<ContentSlot> {
    let rel = coord.relative_to(root);
    let z = matches!(ctx.scheme, crate::tiles::model::SubdivisionScheme::Octree).then_some(coord.z);
    let mut ignored = Warnings::default();
    ctx.content_templates
        .iter()
        .enumerate()
        .filter(|(i, _)| subtree.content_available(&rel, *i))
        .filter_map(|(_, t)| {
            let reference = uri::expand_template(t, coord.level, coord.x, coord.y, z);
            content_slot(&ctx.tileset_url, &reference, "implicit content", &mut ignored)
        })
        .collect()
}

/// Finds the subtree root at or above an implicit node, with its loaded subtree.
pub(crate) fn owning_subtree(nodes: &Nodes, mut key: TileKey) -> Option<(TileKey, Arc<Subtree>)> {
    loop {
        let node = nodes.get(key)?;
        let imp = node.implicit.as_ref()?;
        if let Some(sub) = &imp.subtree {
            return match sub {
                Load::Loaded(s) => Some((key, s.clone())),
                _ => None,
            };
        }
        key = node.parent?;
    }
}

/// Makes the implicit children of `key` from its subtree. Returns false when the subtree
/// is not loaded yet.
pub(crate) fn expand_implicit(nodes: &mut Nodes, key: TileKey) -> bool {
    let Some((root_key, subtree)) = owning_subtree(nodes, key) else { return false };
    let root_coord = nodes[root_key].implicit.as_ref().expect("implicit").coord;
    let node = &nodes[key];
    let imp = node.implicit.as_ref().expect("implicit");
    let (ctx, coord, depth) = (imp.ctx.clone(), imp.coord, node.depth);
    let mut children = Vec::new();
    if coord.level + 1 < ctx.available_levels {
        for child in coord.children(ctx.scheme) {
            let rel = child.relative_to(&root_coord);
            let (available, new_subtree) = if rel.level < ctx.subtree_levels {
                (subtree.tile_available(&rel), false)
            } else {
                (subtree.child_subtree_available(&rel), true)
            };
            if !available {
                continue;
            }
            let contents =
                if new_subtree { Vec::new() } else { implicit_contents(&ctx, &subtree, &root_coord, &child) };
            children.push(nodes.insert(implicit_node(&ctx, child, key, depth + 1, contents, new_subtree)));
        }
    }
    let node = &mut nodes[key];
    node.children = children;
    node.children_kind = Children::Dynamic;
    true
}

fn implicit_node(
    ctx: &Arc<ImplicitContext>,
    coord: ImplicitCoord,
    parent: TileKey,
    depth: u32,
    contents: Vec<ContentSlot>,
    subtree_root: bool,
) -> Node {
    let volume = implicit::subdivide(&ctx.root_volume, ctx.scheme, coord);
    Node {
        parent: Some(parent),
        children: Vec::new(),
        children_kind: Children::Unexpanded,
        depth,
        ecef_from_tile: ctx.ecef_from_tile,
        bounds: world_bounds(volume.as_ref(), &ctx.ecef_from_tile),
        viewer_request_volume: None,
        geometric_error: ctx.root_geometric_error / (1u64 << coord.level) as f64,
        refine: ctx.refine,
        contents,
        implicit: Some(ImplicitNode {
            ctx: ctx.clone(),
            coord,
            subtree: subtree_root.then_some(Load::Unloaded),
            contents_known: !subtree_root,
        }),
        tileset_url: ctx.tileset_url.clone(),
        up_axis: ctx.up_axis,
        last_used: 0,
        state: Default::default(),
    }
}

/// Removes every descendant of `key` (not `key` itself); returns how many nodes went.
pub(crate) fn remove_descendants(nodes: &mut Nodes, key: TileKey) -> usize {
    let mut stack = std::mem::take(&mut nodes[key].children);
    let mut removed = 0;
    while let Some(k) = stack.pop() {
        if let Some(n) = nodes.remove(k) {
            stack.extend(n.children);
            removed += 1;
        }
    }
    removed
}
