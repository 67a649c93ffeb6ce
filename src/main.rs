fn main() {
    println!("wren {}", env!("CARGO_PKG_VERSION"));
}
