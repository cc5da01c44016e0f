//! Nothing but feature pins (see this crate's `Cargo.toml`): depending on it makes a release
//! build enable the same features of shared dependencies as the test build does, so that the
//! two share one set of compiled dependencies.
