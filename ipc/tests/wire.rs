//! Pins the exact JSON of every message kind: a change here is a protocol change and needs a
//! `PROTOCOL_VERSION` bump.

use lounge_ipc::frame;
use lounge_ipc::to_bot::{
    Capabilities, EndReason, ErrorKind, Event, PlaybackState, RefuseReason, Reply, Status, ToBot,
};
use lounge_ipc::to_streamer::{Auth, Command, Hello, Quality, Request, Source};

use crate::util::{pin, request};

#[test]
fn handshake_frames() {
    pin(
        &Hello {
            version: 3,
            nonce: "ab".repeat(32),
        },
        &format!(
            r#"{{"op":"hello","version":3,"nonce":"{}"}}"#,
            "ab".repeat(32)
        ),
    );
    pin(
        &ToBot::Challenge {
            nonce: "cd".repeat(32),
            proof: "ef".repeat(32),
        },
        &format!(
            r#"{{"op":"challenge","nonce":"{}","proof":"{}"}}"#,
            "cd".repeat(32),
            "ef".repeat(32)
        ),
    );
    pin(
        &Auth {
            proof: "01".repeat(32),
        },
        &format!(r#"{{"op":"auth","proof":"{}"}}"#, "01".repeat(32)),
    );
}

/// A v2 bot's hello (version and secret, no nonce) still parses, so the streamer can answer it
/// with a version refusal rather than a bare "bad handshake".
#[test]
fn an_older_bots_hello_parses_for_its_version() {
    let old: Hello =
        serde_json::from_str(r#"{"op":"hello","version":2,"secret":"s3cret"}"#).unwrap();
    assert_eq!(old.version, 2);
    assert_eq!(old.nonce, "");
}

#[test]
fn requests() {
    request(
        1,
        Command::JoinVoice {
            guild_id: Some(81_384_788_765_712_384),
            channel_id: 81_384_788_765_712_385,
        },
        r#"{"id":1,"op":"join_voice","guild_id":81384788765712384,"channel_id":81384788765712385}"#,
    );
    request(
        2,
        Command::LeaveVoice { guild_id: Some(7) },
        r#"{"id":2,"op":"leave_voice","guild_id":7}"#,
    );
    // A DM or group DM call: no guild.
    request(
        21,
        Command::JoinVoice {
            guild_id: None,
            channel_id: 81_384_788_765_712_386,
        },
        r#"{"id":21,"op":"join_voice","channel_id":81384788765712386}"#,
    );
    request(
        22,
        Command::LeaveVoice { guild_id: None },
        r#"{"id":22,"op":"leave_voice"}"#,
    );
    request(
        3,
        Command::Play {
            source: Source::Plex {
                rating_key: "12345".into(),
            },
            start_offset_ms: 90_000,
            tracks: lounge_ipc::to_streamer::Tracks::default(),
        },
        r#"{"id":3,"op":"play","source":{"kind":"plex","rating_key":"12345"},"start_offset_ms":90000}"#,
    );
    request(
        4,
        Command::Play {
            source: Source::Url {
                url: "http://127.0.0.1:8000/a.mkv".into(),
            },
            start_offset_ms: 0,
            tracks: lounge_ipc::to_streamer::Tracks::default(),
        },
        r#"{"id":4,"op":"play","source":{"kind":"url","url":"http://127.0.0.1:8000/a.mkv"},"start_offset_ms":0}"#,
    );
    request(5, Command::Pause, r#"{"id":5,"op":"pause"}"#);
    request(6, Command::Resume, r#"{"id":6,"op":"resume"}"#);
    request(
        7,
        Command::Seek { position_ms: 5000 },
        r#"{"id":7,"op":"seek","position_ms":5000}"#,
    );
    request(8, Command::Stop, r#"{"id":8,"op":"stop"}"#);
    request(
        9,
        Command::SetQuality {
            quality: Quality::P720,
        },
        r#"{"id":9,"op":"set_quality","quality":"720p"}"#,
    );
    request(10, Command::Status, r#"{"id":10,"op":"status"}"#);
    request(11, Command::Shutdown, r#"{"id":11,"op":"shutdown"}"#);
}

#[test]
fn qualities() {
    pin(&Quality::Auto, r#""auto""#);
    pin(&Quality::P480, r#""480p""#);
    pin(&Quality::P720, r#""720p""#);
    pin(&Quality::P1080, r#""1080p""#);
}

#[test]
fn ready_and_refused() {
    pin(
        &ToBot::Ready {
            version: 1,
            capabilities: Capabilities {
                encoders: vec!["vaapi".into(), "software".into()],
                qualities: vec![Quality::P720, Quality::P1080],
                video: true,
                tracks: false,
            },
        },
        r#"{"op":"ready","version":1,"capabilities":{"encoders":["vaapi","software"],"qualities":["720p","1080p"],"video":true}}"#,
    );
    pin(
        &ToBot::Ready {
            version: 3,
            capabilities: Capabilities {
                encoders: vec!["x264".into()],
                qualities: vec![Quality::P720],
                video: true,
                tracks: true,
            },
        },
        r#"{"op":"ready","version":3,"capabilities":{"encoders":["x264"],"qualities":["720p"],"video":true,"tracks":true}}"#,
    );
    pin(
        &ToBot::Refused {
            reason: RefuseReason::BadSecret,
            server_version: 1,
            message: "no".into(),
        },
        r#"{"op":"refused","reason":"bad_secret","server_version":1,"message":"no"}"#,
    );
    pin(&RefuseReason::VersionMismatch, r#""version_mismatch""#);
    pin(&RefuseReason::BadHandshake, r#""bad_handshake""#);
}

fn status() -> Status {
    Status {
        state: PlaybackState::Playing,
        guild_id: Some(1),
        channel_id: Some(2),
        source: Some(Source::Plex {
            rating_key: "9".into(),
        }),
        position_ms: 1500,
        duration_ms: Some(60_000),
        quality: Quality::Auto,
        account_id: None,
    }
}

#[test]
fn responses() {
    pin(
        &ToBot::Response {
            id: 1,
            reply: Reply::Ok,
        },
        r#"{"op":"response","id":1,"reply":{"result":"ok"}}"#,
    );
    pin(
        &ToBot::Response {
            id: 2,
            reply: Reply::Status(status()),
        },
        r#"{"op":"response","id":2,"reply":{"result":"status","state":"playing","guild_id":1,"channel_id":2,"source":{"kind":"plex","rating_key":"9"},"position_ms":1500,"duration_ms":60000,"quality":"auto"}}"#,
    );
    pin(
        &ToBot::Response {
            id: 3,
            reply: Reply::Failed {
                kind: ErrorKind::NothingPlaying,
                detail: "idle".into(),
            },
        },
        r#"{"op":"response","id":3,"reply":{"result":"failed","kind":"nothing_playing","detail":"idle"}}"#,
    );
}

#[test]
fn idle_status_uses_nulls() {
    pin(
        &Reply::Status(Status {
            state: PlaybackState::Disconnected,
            guild_id: None,
            channel_id: None,
            source: None,
            position_ms: 0,
            duration_ms: None,
            quality: Quality::P480,
            account_id: None,
        }),
        r#"{"result":"status","state":"disconnected","guild_id":null,"channel_id":null,"source":null,"position_ms":0,"duration_ms":null,"quality":"480p"}"#,
    );
}

#[test]
fn events() {
    let cases = [
        (
            Event::StateChanged {
                state: PlaybackState::Paused,
            },
            r#"{"op":"state_changed","state":"paused"}"#,
        ),
        (
            Event::Progress {
                position_ms: 61_000,
                duration_ms: Some(3_600_000),
            },
            r#"{"op":"progress","position_ms":61000,"duration_ms":3600000}"#,
        ),
        (
            Event::Progress {
                position_ms: 5,
                duration_ms: None,
            },
            r#"{"op":"progress","position_ms":5,"duration_ms":null}"#,
        ),
        (
            Event::Ended {
                reason: EndReason::Finished,
            },
            r#"{"op":"ended","reason":"finished"}"#,
        ),
        (
            Event::Error {
                kind: ErrorKind::EncoderFailed,
                detail: "nvenc: out of sessions".into(),
            },
            r#"{"op":"error","kind":"encoder_failed","detail":"nvenc: out of sessions"}"#,
        ),
    ];
    for (event, json) in cases {
        let frame = ToBot::from(event.clone());
        pin(&frame, json);
        assert_eq!(frame.into_event(), Some(event));
    }
}

#[test]
fn playback_states_and_end_reasons() {
    pin(&PlaybackState::Disconnected, r#""disconnected""#);
    pin(&PlaybackState::Idle, r#""idle""#);
    pin(&PlaybackState::Buffering, r#""buffering""#);
    pin(&PlaybackState::Playing, r#""playing""#);
    pin(&PlaybackState::Paused, r#""paused""#);
    pin(&EndReason::Stopped, r#""stopped""#);
    pin(&EndReason::Failed, r#""failed""#);
}

#[test]
fn error_kinds_and_user_messages() {
    let kinds = [
        (ErrorKind::VoiceConnectFailed, "voice_connect_failed"),
        (ErrorKind::VoicePermission, "voice_permission"),
        (ErrorKind::LoginFailed, "login_failed"),
        (ErrorKind::GoLiveDisabled, "go_live_disabled"),
        (ErrorKind::NotInVoice, "not_in_voice"),
        (ErrorKind::NothingPlaying, "nothing_playing"),
        (ErrorKind::SourceNotFound, "source_not_found"),
        (ErrorKind::SourceUnavailable, "source_unavailable"),
        (ErrorKind::SourceNotAllowed, "source_not_allowed"),
        (ErrorKind::NotPlayable, "not_playable"),
        (ErrorKind::PlexNotLinked, "plex_not_linked"),
        (ErrorKind::PlexUnavailable, "plex_unavailable"),
        (ErrorKind::UnsupportedMedia, "unsupported_media"),
        (ErrorKind::TrackNotFound, "track_not_found"),
        (ErrorKind::EncoderFailed, "encoder_failed"),
        (ErrorKind::InvalidRequest, "invalid_request"),
        (ErrorKind::Busy, "busy"),
        (ErrorKind::ShuttingDown, "shutting_down"),
        (ErrorKind::Internal, "internal"),
    ];
    for (kind, name) in kinds {
        pin(&kind, &format!("\"{name}\""));
        let message = kind.user_message();
        assert!(message.ends_with('.'), "{kind:?}: {message}");
        assert!(
            !message.contains('_'),
            "{kind:?} leaks an identifier: {message}"
        );
    }
}

#[test]
fn unknown_ops_from_a_newer_streamer_parse_as_unknown() {
    let frame: ToBot = serde_json::from_str(r#"{"op":"subtitles_changed","track":2}"#).unwrap();
    assert_eq!(frame, ToBot::Unknown);
    let reply: Reply = serde_json::from_str(r#"{"result":"queued","position":3}"#).unwrap();
    assert_eq!(reply, Reply::Unknown);
}

#[test]
fn hello_with_the_wrong_op_is_rejected() {
    assert!(serde_json::from_str::<Hello>(r#"{"op":"stop","version":1,"nonce":"x"}"#).is_err());
    assert!(serde_json::from_str::<Auth>(r#"{"op":"hello","proof":"x"}"#).is_err());
    assert!(serde_json::from_str::<Hello>(r#"{"id":1,"op":"status"}"#).is_err());
}

#[test]
fn frames_are_big_endian_length_then_json() {
    let bytes = frame::encode(&Request {
        id: 5,
        command: Command::Pause,
    })
    .unwrap();
    let json = br#"{"id":5,"op":"pause"}"#;
    assert_eq!(&bytes[..4], &(json.len() as u32).to_be_bytes());
    assert_eq!(&bytes[4..], json);
}

#[test]
fn unknown_enum_values_from_a_newer_peer_do_not_break_parsing() {
    let frame: ToBot =
        serde_json::from_str(r#"{"op":"error","kind":"gpu_on_fire","detail":"x"}"#).unwrap();
    assert_eq!(
        frame,
        ToBot::Error {
            kind: ErrorKind::Unknown,
            detail: "x".into()
        }
    );
    assert_eq!(
        ErrorKind::Unknown.user_message(),
        ErrorKind::Internal.user_message()
    );
    let state: PlaybackState = serde_json::from_str(r#""rewinding""#).unwrap();
    assert_eq!(state, PlaybackState::Unknown);
    let reason: EndReason = serde_json::from_str(r#""preempted""#).unwrap();
    assert_eq!(reason, EndReason::Unknown);
    let reason: RefuseReason = serde_json::from_str(r#""banned""#).unwrap();
    assert_eq!(reason, RefuseReason::Unknown);
    let quality: Quality = serde_json::from_str(r#""4k""#).unwrap();
    assert_eq!(quality, Quality::Unknown);
}
