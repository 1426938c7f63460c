//! Integration tests: the library's public contract and the real `kefu` binary.

mod audit;
mod bin;
mod cli;
mod contract;
mod fixtures;
mod properties;
mod scratch;
mod server;
mod suggest;
