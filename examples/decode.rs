//! Decode one BGP message with the `wren` library and print it.
//!
//! ```sh
//! cargo run --example decode -- ffffffffffffffffffffffffffffffff001304
//! ```

use wren::wire::{self, Ctx};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hex = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ffffffffffffffffffffffffffffffff 0017 05 0001 00 01".into());
    let bytes = wire::hex::decode(&hex)?;
    // The context is what the session negotiated; the default is a modern session
    // (4-octet AS, no ADD-PATH, 4096-byte messages).
    let ctx = Ctx::default();
    match wire::decode(&bytes, &ctx) {
        Ok((msg, findings)) => {
            println!("{}", serde_json::to_string_pretty(&msg)?);
            for f in &findings {
                println!(
                    "RFC 7606 finding at byte {}: {:?}: {}",
                    f.offset, f.treatment, f.reason
                );
            }
            // Encoding gives the bytes back (for messages decoded without findings).
            let again = wire::encode_to_vec(&msg, &ctx)?;
            println!("re-encoded: {}", wire::hex::encode(&again));
        }
        Err(e) => {
            // `e.notification` is what a session would send before closing.
            println!("error: {e}");
            std::process::exit(1);
        }
    }
    Ok(())
}
