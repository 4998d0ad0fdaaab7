//! Blocking byte loading for command-line tools: local paths, `file://` and `http(s)://` URLs.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use url::Url;

use crate::tiles::LoadError;

/// Turns a command-line argument (a path or a URL) into an absolute URL.
pub fn to_url(arg: &str) -> anyhow::Result<String> {
    if let Ok(u) = Url::parse(arg)
        && matches!(u.scheme(), "http" | "https" | "file" | "data")
    {
        return Ok(u.into());
    }
    let path = Path::new(arg).canonicalize().with_context(|| format!("no such file: {arg}"))?;
    Url::from_file_path(&path)
        .map(String::from)
        .map_err(|()| anyhow::anyhow!("cannot make a file URL of {}", path.display()))
}

/// Loads URLs over HTTP(S) or from the file system.
pub struct Fetcher {
    http: reqwest::blocking::Client,
}

impl Fetcher {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("citytwin/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(Self { http })
    }

    pub fn load(&self, url: &str) -> Result<Vec<u8>, LoadError> {
        let parsed = Url::parse(url).map_err(|e| LoadError::Io(format!("{url}: {e}")))?;
        match parsed.scheme() {
            "file" => {
                let path = parsed.to_file_path().map_err(|()| LoadError::Io(format!("{url}: not a local path")))?;
                std::fs::read(&path).map_err(|e| LoadError::Io(format!("{}: {e}", path.display())))
            }
            "http" | "https" => {
                let response = self.http.get(url).send().map_err(|e| LoadError::Io(format!("{url}: {e}")))?;
                let status = response.status();
                if !status.is_success() {
                    return Err(LoadError::Http { status: status.as_u16(), url: url.to_owned() });
                }
                response.bytes().map(|b| b.to_vec()).map_err(|e| LoadError::Io(format!("{url}: {e}")))
            }
            other => Err(LoadError::Io(format!("{url}: unsupported scheme {other}"))),
        }
    }
}
