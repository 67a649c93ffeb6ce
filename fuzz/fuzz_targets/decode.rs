//! `decode` never panics, and every offset it reports lies inside the message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wren::wire;

mod ctx;

fuzz_target!(|data: &[u8]| {
    let Some((ctx, msg)) = ctx::split(data) else {
        return;
    };
    let _ = wire::frame_len(msg, &ctx);
    match wire::decode(msg, &ctx) {
        Ok((_, findings)) => {
            for f in &findings {
                assert!(
                    f.offset < msg.len(),
                    "finding offset {} >= length {}: {f:?}",
                    f.offset,
                    msg.len()
                );
            }
        }
        // An error may point just past the end ("ran out of bytes"), never further.
        Err(e) => assert!(
            e.offset <= msg.len(),
            "error offset {} > length {}: {e:?}",
            e.offset,
            msg.len()
        ),
    }
});
