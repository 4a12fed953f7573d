//! Not a route handler: built for `wasm32-wasip2` this is a valid component, but
//! of the `wasi:cli/command` world, so wsgate must refuse to load it.

fn main() {
    println!("not a route handler");
}
