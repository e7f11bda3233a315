//! Go Live: the Discord side of the streamer.
//!
//! - [`gateway`]: the main gateway as the owner's user account (identify, heartbeat, resume,
//!   voice state, stream create/pause/delete).
//! - [`voice`]: one voice-gateway connection (v8) with UDP IP discovery, the `_rtpsize`
//!   transport cipher and DAVE; a Go Live stream is a second such connection.
//! - [`dave`]: the DAVE (MLS) state machine around `davey`, and per-frame encryption.
//! - [`progress`]: Plex's timeline and scrobble while a Plex item plays.
//! - [`token`]: the owner's user token, from a 0600 file or the OS keyring.
//! - [`session`]: the daemon's Go Live session, which drives all of the above from the bot's
//!   orders: log in, join, create the stream, play, pause, seek, stop, leave.
//!
//! The media itself (RTP packetization, sealing, pacing) lives in [`crate::rtp`].

pub mod dave;
pub mod gateway;
pub mod progress;
pub mod session;
pub mod token;
pub mod voice;

/// Everything needed to open a voice-gateway connection, as the main gateway's events give it.
///
/// For a channel call it comes from `VOICE_STATE_UPDATE` (session id) and `VOICE_SERVER_UPDATE`
/// (endpoint, token; `server_id` = guild id). For a Go Live stream it comes from
/// `STREAM_CREATE` (`rtc_server_id`) and `STREAM_SERVER_UPDATE` (endpoint, token), reusing the
/// voice session id.
#[derive(Clone, PartialEq, Eq)]
pub struct VoiceServer {
    /// `host[:port]` as Discord sends it, without a scheme. Loopback hosts are dialled with
    /// `ws://` (the test fakes), everything else with `wss://`.
    pub endpoint: String,
    /// The guild id for a call, the `rtc_server_id` for a stream.
    pub server_id: u64,
    pub user_id: u64,
    pub session_id: String,
    pub token: String,
    /// The MLS group id DAVE uses: the channel id for a call, `rtc_server_id - 1` for a stream.
    pub dave_group_id: u64,
    /// `Some` for a Go Live stream connection (it announces video), `None` for the call itself.
    pub video: Option<VideoInfo>,
}

// The voice token is a credential: keep it out of `{:?}`.
impl std::fmt::Debug for VoiceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceServer")
            .field("endpoint", &self.endpoint)
            .field("server_id", &self.server_id)
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("token", &"<redacted>")
            .field("dave_group_id", &self.dave_group_id)
            .field("video", &self.video)
            .finish()
    }
}

/// What a stream connection announces in the video op (12) and its identify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoInfo {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Bits per second.
    pub max_bitrate: u64,
}

/// Whether to dial `endpoint` without TLS: only loopback addresses, which Discord never hands
/// out, so the fakes in `tests/` work and a real endpoint can never be downgraded.
pub fn is_loopback_endpoint(endpoint: &str) -> bool {
    let is_loopback = |host: &str| {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    // A bare IPv6 address has colons of its own; only then try `host:port`.
    is_loopback(endpoint)
        || endpoint
            .rsplit_once(':')
            .is_some_and(|(host, port)| port.parse::<u16>().is_ok() && is_loopback(host))
}

#[cfg(test)]
mod tests {
    use super::is_loopback_endpoint;

    #[test]
    fn only_loopback_endpoints_skip_tls() {
        for endpoint in [
            "127.0.0.1:4000",
            "localhost:1",
            "[::1]:80",
            "127.0.0.1",
            "::1",
        ] {
            assert!(is_loopback_endpoint(endpoint), "{endpoint}");
        }
        for endpoint in [
            "c-ams08-1a2b.discord.media:443",
            "10.0.0.1:443",
            "127.0.0.1.evil.example:443",
            "localhost.example:80",
        ] {
            assert!(!is_loopback_endpoint(endpoint), "{endpoint}");
        }
    }
}
