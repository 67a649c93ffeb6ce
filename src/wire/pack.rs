//! Packing: one attribute set and many prefixes into the fewest UPDATEs.
// TODO(helper-update)
