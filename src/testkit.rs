//! The one test kit of the dashboard's unit tests: two hand-made clusters for the views
//! (`cluster_a`: 13 nodes with every verdict and trap; `cluster_b`: the Utilization and Runtime
//! cases, with render helpers), a capacity report, and the fixed test time (`T0`, from
//! `clustertop_core::testkit`, which also has the small builders the rule tests use).

pub mod cluster_a;
pub mod cluster_b;
pub mod report;

pub use clustertop_core::testkit::T0;
