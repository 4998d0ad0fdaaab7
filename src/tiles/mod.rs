pub mod bounds;
pub mod content;
mod error;
pub mod gzip;
pub mod model;
pub mod uri;
pub mod view;
pub use error::{LoadError, TilesError, Warning, Warnings};
pub use view::{Projection, ViewState};
