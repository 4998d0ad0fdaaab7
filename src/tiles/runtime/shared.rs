//! One cache budget for many tilesets: each is selected as usual, then what none of them used
//! this frame is evicted across all of them, the longest unused first, until their bytes together
//! fit the budget.

use super::cache::Candidate;
use super::{TileKey, Tileset, UpdateResult};
use crate::tiles::ViewState;

/// Updates each tileset of `sets` for its views against one budget of `budget_bytes` for all of
/// them together (each tileset's own `maximum_cached_bytes` is not used). Call it once a frame with
/// the same sets, so their frames keep step: eviction ranks tiles by frames since their last use,
/// across sets.
pub fn update_shared(sets: &mut [(&mut Tileset, &[ViewState])], budget_bytes: usize) -> Vec<UpdateResult> {
    let selected: Vec<_> = sets.iter_mut().map(|(t, views)| t.select(views)).collect();
    let mut unloaded: Vec<Vec<TileKey>> = vec![Vec::new(); sets.len()];
    let mut used: usize = sets.iter().map(|(t, _)| t.bytes_used()).sum();
    if used > budget_bytes {
        let mut candidates: Vec<(Candidate, usize)> = sets
            .iter()
            .enumerate()
            .flat_map(|(i, (t, _))| t.eviction_candidates().into_iter().map(move |c| (c, i)))
            .collect();
        candidates.sort_unstable();
        for (c, i) in candidates {
            if used <= budget_bytes {
                break;
            }
            let t = &mut sets[i].0;
            let before = t.bytes_used();
            unloaded[i].extend(t.evict_candidate(c));
            used = used - before + t.bytes_used();
        }
    }
    // Loads wait while the budget, with what the requests in flight will bring, is spent.
    let in_flight: usize = sets.iter().map(|(t, _)| t.in_flight_bytes()).sum();
    let over_budget = used + in_flight > budget_bytes;
    for (t, _) in sets.iter_mut() {
        t.adjust_sse_for_memory(used, budget_bytes);
    }
    sets.iter_mut()
        .zip(selected)
        .zip(unloaded)
        .map(|(((t, _), s), u)| t.finish_update(s, u, budget_bytes, over_budget))
        .collect()
}
