//! IFC to glb through IfcOpenShell: the project's converter (`ifc_to_glb.py`, shipped inside the
//! binary) run by Python 3 (`CITYTWIN_PYTHON`, default `python3`), one node per IfcProduct with its
//! attributes and property sets in `extras.ifc`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

const CONVERTER: &str = include_str!("ifc_to_glb.py");

/// The Python that runs the converter.
fn python() -> String {
    std::env::var("CITYTWIN_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Converts `ifc` and returns the glb's bytes.
pub fn convert(ifc: &Path) -> anyhow::Result<Vec<u8>> {
    let python = python();
    let probe = Command::new(&python).args(["-c", "import ifcopenshell, numpy"]).output();
    match probe {
        Err(e) => bail!(
            "IFC input needs Python 3 with IfcOpenShell, and `{python}` could not be run ({e}): install Python 3 \
             (e.g. `apt install python3`) or set CITYTWIN_PYTHON to one; or convert the model to glb first"
        ),
        Ok(out) if !out.status.success() => bail!(
            "IFC input needs IfcOpenShell, which `{python}` lacks: `{python} -m pip install ifcopenshell numpy` \
             (or set CITYTWIN_PYTHON to a Python that has it)\n{}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Ok(_) => {}
    }
    let work = tempfile_dir()?;
    let script = work.join("ifc_to_glb.py");
    let glb = work.join("model.glb");
    std::fs::write(&script, CONVERTER)?;
    let status = Command::new(&python)
        .arg(&script)
        .arg(ifc)
        .arg(&glb)
        .status()
        .with_context(|| format!("running {python} {}", script.display()))?;
    let result = if status.success() {
        std::fs::read(&glb).with_context(|| format!("reading the converted {}", glb.display()))
    } else {
        Err(anyhow::anyhow!("the IFC converter failed on {} ({status})", ifc.display()))
    };
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// A fresh directory of our own under the system's temporary directory.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("citytwin-ifc-{}-{}", std::process::id(), fastrand::u64(..)));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
