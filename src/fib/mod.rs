//! Kernel FIB. PLACEHOLDER on branch h/fib only: the speaker branch owns this file
//! (FibSink, MemFib); at merge keep that version and add `pub mod netlink;`.

pub mod netlink;
