//! Test support for Lounge: loopback fakes of the services the binaries talk to, helpers to
//! run the real binaries against them, and throwaway databases on both backends.
//!
#![doc = include_str!("../README.md")]

pub mod bin;
pub mod db;
pub mod discord;
pub mod giphy;
pub mod lrclib;
pub mod media;
pub mod plex;
pub mod spotify;
