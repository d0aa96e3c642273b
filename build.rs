// Migrations are embedded at compile time; a new or edited file under sql/ must rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=sql");
}
