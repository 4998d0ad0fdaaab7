//! The browser entry point (`wasm/build.sh` builds it for wasm32 and binds it for `index.html`).

fn main() {
    citytwin::viewer::browser::start();
}
