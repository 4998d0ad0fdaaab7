//! Errors and warnings of the 3D Tiles core: readers return a value plus warnings, or an error.

use std::fmt;

/// A fatal problem with one input (a tileset, a tile's content, a subtree): that input is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TilesError {
    #[error("{what}: truncated: needs {needed} bytes, has {available}")]
    Truncated { what: &'static str, needed: usize, available: usize },
    #[error("{what}: bad magic {found:?}")]
    BadMagic { what: &'static str, found: [u8; 4] },
    #[error("{what}: unsupported version {version}")]
    UnsupportedVersion { what: &'static str, version: u32 },
    #[error("{what}: {message}")]
    Invalid { what: &'static str, message: String },
    #[error("{what}: bad JSON: {message}")]
    Json { what: &'static str, message: String },
    #[error("unsupported content: {0}")]
    UnsupportedContent(String),
    #[error("bad URI {uri:?}: {message}")]
    Uri { uri: String, message: String },
    #[error("external tileset cycle: {0} is already an ancestor")]
    Cycle(String),
    #[error("load failed: {0}")]
    Load(#[from] LoadError),
}

impl TilesError {
    pub(crate) fn invalid(what: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { what, message: message.into() }
    }

    pub(crate) fn json(what: &'static str, e: serde_json::Error) -> Self {
        Self::Json { what, message: e.to_string() }
    }
}

/// Why the engine could not supply the bytes for a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("not found (HTTP {status}): {url}")]
    Http { status: u16, url: String },
    #[error("{0}")]
    Io(String),
    #[error("cancelled")]
    Cancelled,
}

/// A non-fatal problem: the input was used, but something in it was wrong or ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub context: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, self.message)
    }
}

/// The warnings a reader collects next to its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings(pub Vec<Warning>);

impl Warnings {
    pub fn push(&mut self, context: impl Into<String>, message: impl Into<String>) {
        self.0.push(Warning { context: context.into(), message: message.into() });
    }

    pub fn extend(&mut self, other: Warnings) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Warning> {
        self.0.iter()
    }
}
