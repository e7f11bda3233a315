//! The main gateway's wire format as a user client speaks it (v9, JSON): payload builders,
//! dispatch field readers, close-code meanings and the reconnect backoff. Pure functions, so
//! they are unit-tested here and the client task only sequences them.

use std::time::Duration;

use serde_json::{Value, json};

pub(super) const OP_DISPATCH: u64 = 0;
pub(super) const OP_HEARTBEAT: u64 = 1;
pub(super) const OP_IDENTIFY: u64 = 2;
pub(super) const OP_VOICE_STATE: u64 = 4;
pub(super) const OP_RESUME: u64 = 6;
pub(super) const OP_RECONNECT: u64 = 7;
pub(super) const OP_INVALID_SESSION: u64 = 9;
pub(super) const OP_HELLO: u64 = 10;
pub(super) const OP_HEARTBEAT_ACK: u64 = 11;
pub(super) const OP_STREAM_CREATE: u64 = 18;
pub(super) const OP_STREAM_DELETE: u64 = 19;
pub(super) const OP_STREAM_SET_PAUSED: u64 = 22;

/// The gateway version current desktop and web clients use.
pub(super) const GATEWAY_VERSION: u8 = 9;

/// What desktop clients put in `properties`. Discord compares these with the client's other
/// traffic, so they describe one consistent client: the Windows desktop app (the build numbers
/// are a snapshot and go stale; Discord accepts older builds).
struct ClientProperties {
    os: &'static str,
    browser: &'static str,
    release_channel: &'static str,
    client_version: &'static str,
    os_version: &'static str,
    os_arch: &'static str,
    system_locale: &'static str,
    browser_user_agent: &'static str,
    browser_version: &'static str,
    os_sdk_version: &'static str,
    client_build_number: u64,
    native_build_number: u64,
}

const DESKTOP: ClientProperties = ClientProperties {
    os: "Windows",
    browser: "Discord Client",
    release_channel: "stable",
    client_version: "1.0.9198",
    os_version: "10.0.19044",
    os_arch: "x64",
    system_locale: "en-US",
    browser_user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) discord/1.0.9198 Chrome/134.0.6998.205 Electron/35.3.0 Safari/537.36",
    browser_version: "35.3.0",
    os_sdk_version: "19044",
    client_build_number: 416_613,
    native_build_number: 65_625,
};

/// Per-process ids the client sends in `properties`, fixed for the life of one client so a
/// re-identify looks like the same app relaunching its connection, not a new app.
#[derive(Debug, Clone)]
pub(super) struct LaunchIds {
    pub launch_id: String,
    pub heartbeat_session_id: String,
}

impl LaunchIds {
    pub fn random() -> Self {
        Self {
            launch_id: uuid_v4(rand::random()),
            heartbeat_session_id: uuid_v4(rand::random()),
        }
    }
}

/// Formats 16 random bytes as an RFC 4122 version 4 UUID.
pub(super) fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    });
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn frame(op: u64, d: &Value) -> String {
    json!({"op": op, "d": d}).to_string()
}

/// IDENTIFY for a user account: the bare token, client properties and capabilities, and no
/// intents or shard (user sessions have neither).
pub(super) fn identify(token: &str, ids: &LaunchIds) -> String {
    let p = &DESKTOP;
    frame(
        OP_IDENTIFY,
        &json!({
            "token": token,
            // No opt-in payload changes: READY and dispatches keep their classic shapes.
            "capabilities": 0,
            "properties": {
                "os": p.os,
                "browser": p.browser,
                "device": "",
                "release_channel": p.release_channel,
                "client_version": p.client_version,
                "os_version": p.os_version,
                "os_arch": p.os_arch,
                "app_arch": p.os_arch,
                "system_locale": p.system_locale,
                "has_client_mods": false,
                "client_launch_id": ids.launch_id,
                "browser_user_agent": p.browser_user_agent,
                "browser_version": p.browser_version,
                "os_sdk_version": p.os_sdk_version,
                "client_build_number": p.client_build_number,
                "native_build_number": p.native_build_number,
                "client_event_source": null,
                "client_app_state": "focused",
                "client_heartbeat_session_id": ids.heartbeat_session_id,
            },
            // Clients identify as "unknown" and let the session settle the real status.
            "presence": {"status": "unknown", "since": 0, "activities": [], "afk": false},
            "compress": false,
            "client_state": {"guild_versions": {}},
        }),
    )
}

pub(super) fn resume(token: &str, session_id: &str, seq: Option<u64>) -> String {
    frame(
        OP_RESUME,
        &json!({"token": token, "session_id": session_id, "seq": seq}),
    )
}

pub(super) fn heartbeat(seq: Option<u64>) -> String {
    frame(OP_HEARTBEAT, &json!(seq))
}

/// Op 4. Joining deafens the account (it only sends) and never turns the camera on; leaving
/// is the same op with no channel.
/// Joins (`channel_id`) or leaves (`None`) a guild voice channel, or with no guild a DM call.
pub(super) fn voice_state(guild_id: Option<u64>, channel_id: Option<u64>) -> String {
    frame(
        OP_VOICE_STATE,
        &json!({
            "guild_id": guild_id.map(|g| g.to_string()),
            "channel_id": channel_id.map(|c| c.to_string()),
            "self_mute": false,
            "self_deaf": channel_id.is_some(),
            "self_video": false,
        }),
    )
}

pub(super) fn stream_create(guild_id: Option<u64>, channel_id: u64) -> String {
    frame(
        OP_STREAM_CREATE,
        &json!({
            "type": if guild_id.is_some() { "guild" } else { "call" },
            "guild_id": guild_id.map(|g| g.to_string()),
            "channel_id": channel_id.to_string(),
            "preferred_region": null,
        }),
    )
}

pub(super) fn stream_set_paused(stream_key: &str, paused: bool) -> String {
    frame(
        OP_STREAM_SET_PAUSED,
        &json!({"stream_key": stream_key, "paused": paused}),
    )
}

pub(super) fn stream_delete(stream_key: &str) -> String {
    frame(OP_STREAM_DELETE, &json!({"stream_key": stream_key}))
}

/// The key Discord gives a stream: `guild:{guild}:{channel}:{user}`, or `call:{channel}:{user}`
/// in a DM or group DM call.
pub fn stream_key(guild_id: Option<u64>, channel_id: u64, user_id: u64) -> String {
    match guild_id {
        Some(guild) => format!("guild:{guild}:{channel_id}:{user_id}"),
        None => format!("call:{channel_id}:{user_id}"),
    }
}

/// A snowflake field, which Discord sends as a string (numbers are tolerated).
pub(super) fn snowflake(d: &Value, key: &str) -> Option<u64> {
    match d.get(key)? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

pub(super) fn string(d: &Value, key: &str) -> Option<String> {
    d.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A voice endpoint as Discord sends it, without any scheme (older payloads had `wss://`).
pub(super) fn endpoint(d: &Value) -> Option<String> {
    let raw = d.get("endpoint")?.as_str()?;
    let bare = raw
        .trim_start_matches("wss://")
        .trim_start_matches("ws://")
        .trim_end_matches('/');
    (!bare.is_empty()).then(|| bare.to_owned())
}

/// What a close code from the gateway means for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CloseAction {
    /// Reconnect and RESUME the session.
    Resume,
    /// The session is gone: reconnect and IDENTIFY again.
    Reidentify,
    /// Reconnecting cannot help.
    Fatal(FatalClose),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FatalClose {
    AuthFailed,
    Other(&'static str),
}

pub(super) fn classify_close(code: u16) -> CloseAction {
    match code {
        4004 => CloseAction::Fatal(FatalClose::AuthFailed),
        4010 => CloseAction::Fatal(FatalClose::Other("invalid shard")),
        4011 => CloseAction::Fatal(FatalClose::Other("sharding required")),
        4012 => CloseAction::Fatal(FatalClose::Other(
            "invalid gateway version (Discord no longer accepts v9 for this client)",
        )),
        4013 => CloseAction::Fatal(FatalClose::Other("invalid intents")),
        4014 => CloseAction::Fatal(FatalClose::Other("disallowed intents")),
        // Invalid sequence, session timed out: the session cannot be resumed.
        4007 | 4009 => CloseAction::Reidentify,
        // 4000-4003, 4005, 4008 (rate limited), 1000/1001 from the server and anything
        // unknown: Discord documents them all as resumable.
        _ => CloseAction::Resume,
    }
}

/// Capped exponential backoff between reconnect attempts. The first retry after a working
/// connection is immediate (Discord asks clients to reconnect at once after a drop).
#[derive(Debug, Clone)]
pub(super) struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            failures: 0,
        }
    }

    /// The wait before the next attempt; each call counts one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let delay = match self.failures {
            0 => Duration::ZERO,
            n => self.base.saturating_mul(1 << (n - 1).min(16)).min(self.max),
        };
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// A connection reached READY or RESUMED.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn identify_is_a_user_identify() {
        let ids = LaunchIds {
            launch_id: "l".into(),
            heartbeat_session_id: "h".into(),
        };
        let v = parse(&identify("user.token", &ids));
        assert_eq!(v["op"], 2);
        let d = &v["d"];
        assert_eq!(d["token"], "user.token", "no `Bot ` prefix");
        assert!(d.get("intents").is_none() && d.get("shard").is_none());
        assert_eq!(d["capabilities"], 0);
        assert_eq!(d["properties"]["os"], "Windows");
        assert_eq!(d["properties"]["browser"], "Discord Client");
        assert_eq!(d["properties"]["client_launch_id"], "l");
        assert_eq!(d["presence"]["status"], "unknown");
        assert_eq!(d["compress"], false);
    }

    #[test]
    fn op_payloads_have_discords_shapes() {
        let v = parse(&voice_state(Some(10), Some(20)));
        assert_eq!(
            v,
            json!({"op": 4, "d": {"guild_id": "10", "channel_id": "20", "self_mute": false, "self_deaf": true, "self_video": false}})
        );
        let v = parse(&voice_state(Some(10), None));
        assert_eq!(v["d"]["channel_id"], Value::Null);
        assert_eq!(v["d"]["guild_id"], "10");
        // A DM or group DM call has no guild.
        let v = parse(&voice_state(None, Some(30)));
        assert_eq!(
            v,
            json!({"op": 4, "d": {"guild_id": null, "channel_id": "30", "self_mute": false, "self_deaf": true, "self_video": false}})
        );
        let v = parse(&stream_create(Some(10), 20));
        assert_eq!(
            v,
            json!({"op": 18, "d": {"type": "guild", "guild_id": "10", "channel_id": "20", "preferred_region": null}})
        );
        let v = parse(&stream_create(None, 30));
        assert_eq!(
            v,
            json!({"op": 18, "d": {"type": "call", "guild_id": null, "channel_id": "30", "preferred_region": null}})
        );
        assert_eq!(
            parse(&stream_set_paused("guild:1:2:3", false)),
            json!({"op": 22, "d": {"stream_key": "guild:1:2:3", "paused": false}})
        );
        assert_eq!(
            parse(&stream_delete("k")),
            json!({"op": 19, "d": {"stream_key": "k"}})
        );
        assert_eq!(
            parse(&resume("t", "s", Some(5))),
            json!({"op": 6, "d": {"token": "t", "session_id": "s", "seq": 5}})
        );
        assert_eq!(parse(&heartbeat(None)), json!({"op": 1, "d": null}));
        assert_eq!(stream_key(Some(1), 2, 3), "guild:1:2:3");
        assert_eq!(stream_key(None, 2, 3), "call:2:3");
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid_v4([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(u.len(), 36);
    }

    #[test]
    fn endpoints_lose_their_scheme() {
        assert_eq!(
            endpoint(&json!({"endpoint": "wss://c-ams.discord.media:443/"})).as_deref(),
            Some("c-ams.discord.media:443")
        );
        assert_eq!(endpoint(&json!({"endpoint": null})), None);
        assert_eq!(endpoint(&json!({"endpoint": ""})), None);
    }

    #[test]
    fn close_codes_are_classified_like_discord_documents_them() {
        assert_eq!(
            classify_close(4004),
            CloseAction::Fatal(FatalClose::AuthFailed)
        );
        for code in 4010..=4014 {
            assert!(
                matches!(classify_close(code), CloseAction::Fatal(_)),
                "{code}"
            );
        }
        for code in [4007, 4009] {
            assert_eq!(classify_close(code), CloseAction::Reidentify);
        }
        for code in [1000, 1001, 1006, 4000, 4001, 4002, 4003, 4005, 4008] {
            assert_eq!(classify_close(code), CloseAction::Resume, "{code}");
        }
    }

    #[test]
    fn backoff_is_immediate_then_doubles_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let delays: Vec<u64> = (0..7).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(delays, [0, 1, 2, 4, 8, 10, 10]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::ZERO);
    }

    #[test]
    fn snowflakes_read_from_strings_or_numbers() {
        let d = json!({"a": "123", "b": 7, "c": "x"});
        assert_eq!(snowflake(&d, "a"), Some(123));
        assert_eq!(snowflake(&d, "b"), Some(7));
        assert_eq!(snowflake(&d, "c"), None);
        assert_eq!(snowflake(&d, "d"), None);
    }
}
