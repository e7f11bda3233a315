//! The versioned wire protocol between the Lounge bot and `lounge-streamer`.
//!
//! Transport: a local socket (Unix domain socket, or a named pipe on Windows) that only the
//! owning user can open. Framing: a `u32` big-endian length, then a JSON body (see [`frame`]).
//!
//! A connection starts with a challenge-response in which neither side sends the shared secret
//! ([`auth`]): the bot's [`to_streamer::Hello`] (protocol version and nonce), the streamer's
//! [`to_bot::ToBot::Challenge`] (its nonce and proof), the bot's [`to_streamer::Auth`] (its
//! proof); the streamer answers [`to_bot::ToBot::Ready`] or [`to_bot::ToBot::Refused`]. After
//! that the bot sends [`to_streamer::Request`]s, each answered by one
//! [`to_bot::ToBot::Response`] with the same id, and the streamer pushes
//! [`to_bot::Event`]s whenever it likes.
//!
//! The bot uses [`Client`]; the streamer uses [`Server`].
//!
//! Design notes:
//! - Each connection is one task whose reader and writer are futures joined inside it, not
//!   separate tasks: aborting the task (dropping a [`Server`] or [`Client`]) closes everything
//!   with no stragglers holding the socket.
//! - Requests carry ids and the client matches responses by id, so the streamer may answer
//!   slow requests (a seek) after fast ones (a status) without head-of-line blocking.
//! - Unknown `op`s and enum values from a newer peer parse as `Unknown` instead of failing, so a
//!   mixed-version pair degrades per message; only bytes that are not a valid frame at all
//!   close the connection. Incompatible changes still bump [`PROTOCOL_VERSION`].
//!
#![doc = include_str!("../README.md")]

pub mod auth;
pub mod client;
pub mod frame;
pub mod net;
pub mod plex;
mod secret;
pub mod server;
mod socket;
pub mod to_bot;
pub mod to_streamer;

pub use client::{Client, ClientConfig, ClientError, ConnectionState, Outdated};
pub use secret::Secret;
pub use server::{EventSender, Requests, Responder, Server, ServerConfig, ServerError};
pub use socket::default_socket_path;

/// Bumped on any change that an older peer would misread. Both sides must match exactly.
///
/// v2: the Plex requests (`plex_search`, `plex_libraries`, `plex_browse`, `plex_metadata`,
/// `plex_poster`) and their answers.
/// v3: the challenge-response handshake (the hello no longer carries the secret).
pub const PROTOCOL_VERSION: u32 = 3;
