//! Scheduling requests from the frame's wants, and applying their answers to the tree.

use std::collections::HashSet;
use std::sync::Arc;

use super::build::{self, Attach, subtree_url};
use super::node::{Children, Load, Loaded, TileKey, UpAxis};
use super::selection::{LoadPriorityGroup, Target, Want};
use super::{InFlight, RequestId, RequestKind, TileRequest, Tileset};
use crate::tiles::content::{self, ContentFormat};
use crate::tiles::implicit::parse_subtree;
use crate::tiles::{LoadError, TilesError, gzip, model, uri};

impl Tileset {
    /// Cancels in-flight requests nobody wants, then starts the most pressing wanted ones.
    /// Returns (started, cancelled, still queued).
    pub(super) fn schedule(
        &mut self,
        mut wants: Vec<Want>,
        over_budget: bool,
    ) -> (Vec<TileRequest>, Vec<RequestId>, usize) {
        let mut cancelled = Vec::new();
        if self.options.cancel_unwanted_requests {
            let wanted: HashSet<(TileKey, Target)> = wants.iter().map(|w| (w.key, w.target)).collect();
            let stale: Vec<RequestId> = self
                .in_flight
                .iter()
                .filter(|(_, f)| !wanted.contains(&(f.key, f.target)))
                .map(|(id, _)| *id)
                .collect();
            for id in stale {
                let f = self.in_flight.remove(&id).expect("listed above");
                self.set_unloaded(f.key, f.target);
                cancelled.push(id);
            }
            cancelled.sort();
            self.cancelled_total += cancelled.len() as u64;
        }
        wants.sort_by_key(|w| w.priority.sort_key());
        let mut started = Vec::new();
        let mut queued = 0;
        for want in wants {
            let Some((url, unloaded)) = self.target_url(want.key, want.target) else { continue };
            if !unloaded {
                continue; // already loading
            }
            let room = self.in_flight.len() < self.options.maximum_simultaneous_requests;
            if !room || (over_budget && want.priority.group != LoadPriorityGroup::Urgent) {
                queued += 1;
                continue;
            }
            if url.starts_with("data:") {
                let bytes = uri::decode_data_uri(&url).map_err(|e| LoadError::Io(e.to_string()));
                self.finish_load(want.key, want.target, bytes);
                continue;
            }
            let id = RequestId(self.next_request);
            self.next_request += 1;
            self.requests_total += 1;
            self.set_loading(want.key, want.target);
            self.in_flight.insert(id, InFlight { key: want.key, target: want.target });
            let kind = match want.target {
                Target::Content(_) => RequestKind::Content,
                Target::Subtree => RequestKind::Subtree,
            };
            started.push(TileRequest { id, tile: want.key, url, kind, priority: want.priority });
        }
        (started, cancelled, queued)
    }

    /// The URL of a target, and whether it is still unloaded.
    fn target_url(&mut self, key: TileKey, target: Target) -> Option<(String, bool)> {
        let node = self.nodes.get(key)?;
        match target {
            Target::Content(i) => {
                let slot = node.contents.get(i)?;
                Some((slot.url.clone(), matches!(slot.load, Load::Unloaded)))
            }
            Target::Subtree => {
                let imp = node.implicit.as_ref()?;
                let unloaded = matches!(imp.subtree, Some(Load::Unloaded));
                match subtree_url(&imp.ctx, &imp.coord) {
                    Ok(url) => Some((url, unloaded)),
                    Err(message) => {
                        let at = imp.ctx.subtree_template.clone();
                        if let Some(s) = self.nodes[key].implicit.as_mut().and_then(|i| i.subtree.as_mut()) {
                            *s = Load::Failed;
                        }
                        self.record_error(&at, message);
                        None
                    }
                }
            }
        }
    }

    fn set_loading(&mut self, key: TileKey, target: Target) {
        let node = &mut self.nodes[key];
        match target {
            Target::Content(i) => node.contents[i].load = Load::Loading,
            Target::Subtree => {
                if let Some(s) = node.implicit.as_mut().and_then(|i| i.subtree.as_mut()) {
                    *s = Load::Loading;
                }
            }
        }
    }

    fn set_unloaded(&mut self, key: TileKey, target: Target) {
        let Some(node) = self.nodes.get_mut(key) else { return };
        match target {
            Target::Content(i) => {
                if let Some(slot) = node.contents.get_mut(i).filter(|s| matches!(s.load, Load::Loading)) {
                    slot.load = Load::Unloaded;
                }
            }
            Target::Subtree => {
                if let Some(s) =
                    node.implicit.as_mut().and_then(|i| i.subtree.as_mut()).filter(|s| matches!(s, Load::Loading))
                {
                    *s = Load::Unloaded;
                }
            }
        }
    }

    /// Applies the answer for one target of one tile.
    pub(super) fn finish_load(&mut self, key: TileKey, target: Target, result: Result<Vec<u8>, LoadError>) {
        let Some(url) = self.target_url(key, target).map(|(u, _)| u) else { return };
        let outcome = result.map_err(TilesError::from).and_then(|bytes| match target {
            Target::Subtree => self.apply_subtree(key, &url, &bytes),
            Target::Content(i) => self.apply_content(key, i, &url, &bytes),
        });
        if let Err(e) = outcome {
            let node = &mut self.nodes[key];
            match target {
                Target::Content(i) => node.contents[i].load = Load::Failed,
                Target::Subtree => {
                    if let Some(s) = node.implicit.as_mut().and_then(|i| i.subtree.as_mut()) {
                        *s = Load::Failed;
                    }
                }
            }
            self.record_error(&url, e.to_string());
        }
    }

    fn apply_subtree(&mut self, key: TileKey, url: &str, bytes: &[u8]) -> Result<(), TilesError> {
        let imp = self.nodes[key].implicit.as_ref().expect("subtree targets are implicit");
        let (ctx, coord) = (imp.ctx.clone(), imp.coord);
        let (subtree, w) = parse_subtree(bytes, ctx.scheme, ctx.subtree_levels)?;
        self.record_warnings(url, w);
        self.payload_bytes += subtree.byte_size();
        let subtree = Arc::new(subtree);
        let node = &mut self.nodes[key];
        let imp = node.implicit.as_mut().expect("implicit");
        if !imp.contents_known {
            node.contents = build::implicit_contents(&ctx, &subtree, &coord, &coord);
            imp.contents_known = true;
        }
        imp.subtree = Some(Load::Loaded(subtree));
        Ok(())
    }

    fn apply_content(&mut self, key: TileKey, slot: usize, url: &str, bytes: &[u8]) -> Result<(), TilesError> {
        let bytes = gzip::maybe_gunzip(bytes)?;
        if content::detect(&bytes) == ContentFormat::TilesetJson {
            return self.attach_external(key, slot, url, &bytes);
        }
        let (decoded, w) = content::decode(&bytes)?;
        self.record_warnings(url, w);
        let size = decoded.byte_size();
        self.payload_bytes += size;
        self.landed = (self.landed.0 + 1, self.landed.1 + size);
        let ready = !self.options.engine_prepares_content;
        let loaded = Loaded::Content { content: Arc::new(decoded), bytes: size, ready };
        self.nodes[key].contents[slot].load = Load::Loaded(loaded);
        Ok(())
    }

    /// An external tileset (or the root tileset) becomes the only child of `key`.
    fn attach_external(&mut self, key: TileKey, slot: usize, url: &str, bytes: &[u8]) -> Result<(), TilesError> {
        let mut ancestor = Some(key);
        while let Some(a) = ancestor {
            if &*self.nodes[a].tileset_url == url {
                return Err(TilesError::Cycle(url.to_owned()));
            }
            ancestor = self.nodes[a].parent;
        }
        let (tileset, mut w) = model::parse_tileset(bytes)?;
        let up_axis = match tileset.asset.gltf_up_axis.as_deref() {
            Some("X") => UpAxis::X,
            Some("Z") => UpAxis::Z,
            _ => UpAxis::Y,
        };
        let node = &self.nodes[key];
        let at = Attach {
            parent: Some(key),
            ecef_from_parent: node.ecef_from_tile,
            refine: node.refine,
            depth: node.depth + 1,
            tileset_url: Arc::from(url),
            up_axis,
        };
        let root = build::add_explicit(&mut self.nodes, &tileset.root, &at, "root", &mut w);
        self.payload_bytes += bytes.len();
        self.record_warnings(url, w);
        let node = &mut self.nodes[key];
        node.children = vec![root];
        node.children_kind = Children::Dynamic;
        node.contents[slot].load = Load::Loaded(Loaded::External { bytes: bytes.len() });
        if key == self.super_root {
            self.asset = Some(tileset.asset);
            self.properties = tileset.properties;
        }
        Ok(())
    }
}
