//! What decodes without findings encodes again, and the encoding decodes to an equal
//! message (also without findings). `frame_len` never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wren::wire;

mod ctx;

fuzz_target!(|data: &[u8]| {
    let Some((ctx, msg)) = ctx::split(data) else {
        return;
    };
    let _ = wire::frame_len(msg, &ctx);
    let Ok((decoded, findings)) = wire::decode(msg, &ctx) else {
        return;
    };
    if !findings.is_empty() {
        return;
    }
    let bytes = wire::encode_to_vec(&decoded, &ctx)
        .unwrap_or_else(|e| panic!("re-encoding failed: {e}\n{decoded:?}"));
    match wire::decode(&bytes, &ctx) {
        Ok((again, f)) => {
            assert_eq!(
                again,
                decoded,
                "re-encoded bytes {}",
                wire::hex::encode(&bytes)
            );
            assert!(f.is_empty(), "findings after re-encoding: {f:?}");
        }
        Err(e) => panic!(
            "re-encoded bytes {} do not decode: {e}",
            wire::hex::encode(&bytes)
        ),
    }
});
