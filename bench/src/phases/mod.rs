//! The phases of a run, each printing its own section, in the order
//! `run` calls them.

pub mod browse;
pub mod check;
pub mod naive;
pub mod spread;
pub mod storm;
