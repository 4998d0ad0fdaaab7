//! The budget's hold on detail: while the views need more bytes than the budget, the maximum
//! screen-space error rises a little each update (fewer, coarser tiles are wanted, so eviction can
//! make room); once well under the budget it falls back to the maximum set. The rule is
//! CesiumJS's `memoryAdjustedScreenSpaceError`, with a band between the two so it does not swing.

use super::Tileset;

/// The factor's change per update while over, or well under, the budget.
const STEP: f64 = 1.02;
/// Detail comes back only below this share of the budget.
const RESTORE_BELOW: f64 = 0.75;
/// The coarsest it goes: sixteen times the maximum set.
const MAX_FACTOR: f64 = 16.0;

/// The next factor on the maximum screen-space error, for `used_bytes` against `budget_bytes`.
pub fn next_sse_factor(factor: f64, used_bytes: usize, budget_bytes: usize) -> f64 {
    if used_bytes > budget_bytes {
        (factor * STEP).min(MAX_FACTOR)
    } else if (used_bytes as f64) < budget_bytes as f64 * RESTORE_BELOW {
        (factor / STEP).max(1.0)
    } else {
        factor
    }
}

impl Tileset {
    /// What the requests in flight will add when they land: as many as are out, each the mean
    /// content landed so far (the engine's bytes included).
    pub fn in_flight_bytes(&self) -> usize {
        let (count, bytes) = self.landed;
        self.in_flight.len() * bytes.checked_div(count).unwrap_or(0)
    }

    /// The screen-space error the next traversal refines to.
    pub fn effective_max_sse(&self) -> f64 {
        self.options.maximum_screen_space_error * self.memory_sse_factor
    }

    /// Moves the detail one step after this update's eviction left `used_bytes` of `budget_bytes`.
    pub(super) fn adjust_sse_for_memory(&mut self, used_bytes: usize, budget_bytes: usize) {
        self.memory_sse_factor = if self.options.memory_adjusted_sse {
            next_sse_factor(self.memory_sse_factor, used_bytes, budget_bytes)
        } else {
            1.0
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_budget_coarsens_step_by_step_up_to_the_cap() {
        assert_eq!(next_sse_factor(1.0, 101, 100), 1.02);
        let mut f = 1.0;
        for _ in 0..1000 {
            f = next_sse_factor(f, 200, 100);
        }
        assert_eq!(f, MAX_FACTOR);
    }

    #[test]
    fn detail_returns_only_well_under_budget_and_never_past_the_maximum_set() {
        assert_eq!(next_sse_factor(2.0, 100, 100), 2.0, "at the budget: hold");
        assert_eq!(next_sse_factor(2.0, 80, 100), 2.0, "in the band: hold");
        assert_eq!(next_sse_factor(2.04, 74, 100), 2.0);
        assert_eq!(next_sse_factor(1.01, 0, 100), 1.0);
        assert_eq!(next_sse_factor(1.0, 0, 100), 1.0);
    }
}
