#![doc = include_str!("../README.md")]
//!
//! - [`Spotify`]: the client, with its [`Config`] and [`Credentials`].
//! - [`Link`], [`parse_link`]: what a pasted link points at.
//! - [`Track`], [`Collection`]: what a link resolves to.
//! - [`Candidate`], [`pick_match`], [`isrc_query`]: finding the track elsewhere.
//! - [`SpotifyError`]: what went wrong, in words a member can act on.

mod client;
mod error;
mod link;
mod matching;
mod model;

pub use client::{Config, Credentials, Spotify};
pub use error::SpotifyError;
pub use link::{Link, is_id, parse_link};
pub use matching::{Candidate, isrc_query, pick_match};
pub use model::{Collection, Track};
