#![doc = include_str!("../README.md")]
//!
//! - [`Http`]: the shared client and the headers every request carries ([`ClientInfo`]).
//! - [`PlexTv`]: the PIN link flow, the account, its servers, and [`PlexTv::discover`].
//! - [`Server`]: one Plex Media Server.
//! - [`model`]: what Plex answers.
//! - [`Error`]: what went wrong, in words the owner can act on.

mod error;
mod http;
pub mod model;
mod server;
mod tv;

pub use error::{Attempt, Error};
pub use http::{ClientInfo, Http, Timeouts, parse_base, redact};
pub use lounge_ipc::Secret;
pub use server::{
    Authorized, Items, MAX_PAGE, Page, PlayState, Server, Sort, Timeline, best_version, playable,
    track_for_language,
};
pub use tv::{LINK_PAGE, PlexTv, connection_order};
