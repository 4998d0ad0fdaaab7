//! Panels pinned to a wall's screens (the wall file's `[[overlays]]`): drawn by the node that
//! drives the screen, over its picture, with or without the HUD.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use crate::viewer::Live;
use crate::viewer::views::WallView;
use crate::wall::WallPanel;

/// The panels pinned to this node's screen, in its top-right corner, one under the other.
pub fn pinned_panels_ui(mut contexts: EguiContexts, wall: Res<WallView>, live: Res<Live>) -> Result {
    let ctx = contexts.ctx_mut()?;
    let Some(screen) = wall.screen else { return Ok(()) };
    let mut y = 8.0;
    for (k, overlay) in wall.layout.overlays.iter().filter(|o| o.screen == screen).enumerate() {
        let response = match overlay.panel {
            WallPanel::Alarms => egui::Window::new("Alarms")
                .id(egui::Id::new(("wall-panel", k)))
                .anchor(egui::Align2::RIGHT_TOP, [-8.0, y])
                .collapsible(false)
                .resizable(false)
                .show(ctx, |ui| crate::viewer::live::live_ui(ui, &live)),
        };
        y += response.map_or(0.0, |r| r.response.rect.height() + 8.0);
    }
    Ok(())
}
