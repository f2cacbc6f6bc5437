//! The machinery of the contract suite (`tests/contract.rs`): the
//! OpenAPI documents and the recording pass-through to the Prism mocks.
#![allow(dead_code)]

pub mod proxy;
pub mod spec;
