//! `lounge-streamer`: the companion daemon that turns media into H.264 + Opus packets for
//! Discord voice, and answers the bot over the `lounge-ipc` socket.
//!
//! - [`encoder`]: H.264 backends (NVENC, VAAPI, QSV, AMF, Media Foundation, VideoToolbox,
//!   `libx264`, `OpenH264`) behind one trait, chosen by a real test encode.
//! - [`hw`]: GPU devices and surfaces (upload for VAAPI, download after hardware decoding).
//! - [`pipeline`]: demux → decode → scale → encode on its own thread, driven by a handle.
//! - [`rtp`]: RTP packetization (H.264, Opus), Discord's `_rtpsize` transport encryption,
//!   pacing by media time and a UDP sender: the media transport of Go Live.
//! - [`golive`]: the Discord side of Go Live (user gateway, voice gateway, DAVE).
//! - [`output`]: the file muxer for `transcode` and the plain-RTP sender for `rtp-out`.
//! - [`source`]: which files and URLs a play order may open.
//! - [`plex`]: the Plex link (token, client identifier, server) and the `plex` commands.
//! - [`daemon`]: the IPC server for `run`.
//!
#![doc = include_str!("../README.md")]

pub mod config;
pub mod daemon;
pub mod doctor;
pub mod encoder;
pub mod golive;
pub mod hw;
pub mod output;
pub mod pipeline;
pub mod plex;
pub mod plex_requests;
pub mod rtp;
pub mod source;
pub mod system;

/// Initialises FFmpeg once per process and keeps its own logging to fatal errors: probing
/// hardware encoders makes libav print alarming lines for every missing driver, and each
/// rejection is already reported through `tracing` with its reason.
pub fn init_ffmpeg() -> Result<(), String> {
    ffmpeg_next::init().map_err(|e| format!("FFmpeg failed to initialise: {e}"))?;
    ffmpeg_next::log::set_level(ffmpeg_next::log::Level::Fatal);
    Ok(())
}
