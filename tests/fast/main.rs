//! The fast tier besides the unit tests and view snapshots: in-process app updates, the CLI's
//! errors, the deploy manifests, the kube source's mapping, the parsers under proptest.

#[path = "../support/mod.rs"]
mod support;

mod app_keys;
mod app_update;
mod cli;
mod deploy;
mod fuzz_parsers;
mod help;
mod kube_mapping;
mod rounding;
mod settings;
mod snapshot_schema;
