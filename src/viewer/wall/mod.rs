//! The video wall (desktop): one picture over many screens on separate machines. The operator's
//! console is the master: it owns the camera, the layers and the drill clock and sends them each
//! frame; every screen's follower draws its part of the whole wall's frustum from that state and
//! presents it when the master says so (the software swap barrier, `link`).
//!
//! Hardware frame lock would plug in at the barrier: with Quadro Sync / `VK_NV_present_barrier`,
//! each follower's swapchain joins the present barrier and the driver holds the present until every
//! GPU of the frame-lock group is ready; the master's "present N" then only orders the frames
//! (which state each screen shows), and the swap itself is held by the hardware, to the scan-out.

mod follower;
mod link;
mod master;
mod overlays;

pub use link::{FollowerLink, MasterLink, MasterStatus, percentile_us};

use std::path::Path;

use anyhow::Context;
use bevy::prelude::*;

use super::Planning;
use super::desktop::ViewerArgs;
use super::views::WallView;
use crate::protocol::wall::WallPlanning;
use crate::wall::WallLayout;

/// How this viewer takes part in a wall.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    /// Shows a screen (or the whole wall) on its own.
    Alone,
    /// The operator's console, listening for followers; `capture`: have them save one frame's screenshots.
    Master { listen: String, capture: bool },
    /// Follows the master at this address.
    Follower { master: String },
}

/// A wall read from the command line, ready to join the app.
pub struct WallStart {
    pub view: WallView,
    role: Role,
}

/// The comparison a wall shows, as the master sends it and a follower compares it with its own.
fn wall_planning(planning: &Planning) -> Option<WallPlanning> {
    let study = planning.study.as_ref()?;
    Some(WallPlanning {
        scenario: study.id.clone(),
        variant: planning.variant_id(planning.shown),
        sun: planning.clock.text(),
        shadows: planning.clock.shadows,
    })
}

/// Reads and checks a wall file.
pub fn read_layout(path: &Path) -> anyhow::Result<WallLayout> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let layout: WallLayout = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    layout.check().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(layout)
}

/// `COLUMN,ROW`.
fn parse_screen(s: &str, layout: &WallLayout) -> anyhow::Result<[u32; 2]> {
    let (c, r) = s.split_once(',').context("--screen is COLUMN,ROW, e.g. 1,0")?;
    let screen =
        [c.trim().parse::<u32>().context("--screen column")?, r.trim().parse::<u32>().context("--screen row")?];
    anyhow::ensure!(
        screen[0] < layout.columns && screen[1] < layout.rows,
        "--screen {s}: the wall is {} × {}",
        layout.columns,
        layout.rows
    );
    Ok(screen)
}

/// The one screen a node of the wall file drives.
fn node_screen(layout: &WallLayout, node: &str) -> anyhow::Result<[u32; 2]> {
    match layout.screens_of(node).as_deref() {
        None => anyhow::bail!("--node {node}: the wall file has no such node"),
        Some([one]) => Ok(*one),
        Some(many) => {
            anyhow::bail!("--node {node} drives {} screens: run one viewer per screen, each with --screen", many.len())
        }
    }
}

impl WallStart {
    pub fn from_args(args: &ViewerArgs) -> anyhow::Result<Option<Self>> {
        let Some(path) = &args.wall else { return Ok(None) };
        let layout = read_layout(path)?;
        let screen = match (&args.screen, &args.node) {
            (Some(s), _) => Some(parse_screen(s, &layout)?),
            (None, Some(node)) => Some(node_screen(&layout, node)?),
            (None, None) => None,
        };
        let role = match (&args.wall_listen, &args.wall_master) {
            (Some(listen), None) => Role::Master { listen: listen.clone(), capture: args.wall_capture },
            (None, Some(master)) => Role::Follower { master: master.clone() },
            (None, None) => Role::Alone,
            (Some(_), Some(_)) => {
                anyhow::bail!("a wall's node either leads (--wall-listen) or follows (--wall-master)")
            }
        };
        Ok(Some(Self { view: WallView { layout, screen }, role }))
    }

    /// Adds the wall's view and, for a master or a follower, its link and systems.
    pub fn add_to(self, app: &mut App) -> anyhow::Result<()> {
        let screens = (self.view.layout.columns * self.view.layout.rows) as usize;
        match self.role {
            Role::Alone => {}
            Role::Master { listen, capture } => {
                let link = link::MasterLink::listen(&listen, screens, capture)
                    .with_context(|| format!("--wall-listen {listen}"))?;
                println!("wall: the master listens on {}", link.address);
                master::add(app, link);
            }
            Role::Follower { master } => {
                let screen = self.view.screen.context("a follower drives a screen: --screen or --node")?;
                let link = link::FollowerLink::connect(&master, screen)?;
                follower::add(app, link);
            }
        }
        if self.view.screen.is_some() {
            app.add_systems(bevy_egui::EguiPrimaryContextPass, overlays::pinned_panels_ui);
        }
        app.insert_resource(self.view);
        Ok(())
    }
}
