#![doc = include_str!("../README.md")]

mod browse;
mod link;
mod party;
mod plex;
mod stream;

pub use link::StreamerSettings;
use lounge_kit::{Error, Module, Start};

pub const STREAM: Module = Module::new(
    "stream",
    "Go Live and Plex: stream videos into voice and browse the owner's Plex, through lounge-streamer",
    stream::commands,
)
.start(start);

/// Connects to lounge-streamer in the background when the config sets a link up; the bot
/// never waits for (or needs) a streamer.
#[allow(
    clippy::unnecessary_wraps,
    reason = "every module's start hook has the same signature"
)]
fn start(start: &mut Start<'_>) -> Result<(), Error> {
    if let Some(settings) = start.state.get::<StreamerSettings>().cloned() {
        let link = link::Link::spawn(settings.clone());
        let party = party::spawn(
            start.store.clone(),
            link.clone(),
            settings.autoplay,
            start.stop.clone(),
        );
        start.spawn("the watch party", party);
        start.provide(link);
        start.provide(party::Party::default());
    } else {
        tracing::info!(
            "no streamer configured (streamer.secret unset or streamer.enabled = false)"
        );
    }
    Ok(())
}
