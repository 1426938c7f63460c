//! Integration tests: the library's public contract and the real `kefu` binary.

mod audit;
mod cli;
mod contract;
mod fixtures;
mod properties;
mod server;
mod suggest;
