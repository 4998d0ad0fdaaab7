//! Binds the browser build's module for `<script type="module">` (wasm-bindgen's `--target web`),
//! without TypeScript declarations, name or producers sections.
//!
//! Usage: `citytwin-bindgen INPUT.wasm OUT_DIR OUT_NAME`

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir, out_name] = &args[..] else {
        anyhow::bail!("usage: citytwin-bindgen INPUT.wasm OUT_DIR OUT_NAME");
    };
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(input)
        .out_name(out_name)
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        // As the CLI does: `init()` without a path loads the module beside the script.
        .omit_default_module_path(false)
        .web(true)?;
    bindgen.generate(out_dir).with_context(|| format!("binding {input}"))
}
