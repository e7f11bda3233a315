//! The streamer's Go Live gateway client (`lounge_streamer::golive::gateway`) against the
//! fake Discord's user session: login, voice joins, streams, resume and re-identify, the send
//! limit, and the owner's token.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use lounge_streamer::golive::VideoInfo;
use lounge_streamer::golive::gateway::{
    Gateway, GatewayConfig, GatewayError, GatewayEvent, GatewayEvents, SendQuota, stream_key,
};
use lounge_streamer::golive::token::{self, Token, TokenError, TokenSource};
use lounge_tests::discord::{
    DENIED_VOICE_CHANNEL_ID, FakeDiscord, GROUP_DM_CHANNEL_ID, GUILD_ID, Options,
    STRANGERS_DM_CHANNEL_ID, STREAMER_USER_ID, STREAMER_USER_TOKEN, SessionKind, TOKEN,
    VOICE_CHANNEL_ID,
};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A failure guard only: every wait below ends as soon as its condition holds.
const WAIT: Duration = Duration::from_secs(20);
const VOICE_ENDPOINT: &str = "127.0.0.1:7777";

async fn fake_with(options: Options) -> FakeDiscord {
    FakeDiscord::start_with(Options {
        voice_endpoint: VOICE_ENDPOINT.to_owned(),
        ..options
    })
    .await
}

async fn fake() -> FakeDiscord {
    fake_with(Options::default()).await
}

fn config(fake: &FakeDiscord) -> GatewayConfig {
    let token = Token::new(STREAMER_USER_TOKEN, TokenSource::Given).expect("valid token");
    let mut config = GatewayConfig::new(token);
    config.url = fake.gateway_url();
    config.timeouts.reidentify_min = Duration::from_millis(50);
    config.timeouts.reidentify_max = Duration::from_millis(150);
    config.timeouts.backoff_base = Duration::from_millis(100);
    config
}

async fn connect(fake: &FakeDiscord) -> (Gateway, GatewayEvents) {
    Gateway::connect(config(fake)).await.expect("login")
}

/// A client that gives up on a voice join after half a second: for joins the fake ignores,
/// as Discord does.
async fn connect_impatient(fake: &FakeDiscord) -> (Gateway, GatewayEvents) {
    let mut config = config(fake);
    config.timeouts.voice_join = Duration::from_millis(500);
    Gateway::connect(config).await.expect("login")
}

async fn next_event(events: &mut GatewayEvents) -> GatewayEvent {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("an event in time")
        .expect("the events channel is open")
}

#[tokio::test]
async fn logs_in_as_the_user_and_joins_voice() {
    let fake = fake().await;
    let (gw, _events) = connect(&fake).await;
    assert_eq!(gw.user_id(), STREAMER_USER_ID);

    let identify = &fake.user_ops_of(2)[0];
    assert_eq!(
        identify["token"], STREAMER_USER_TOKEN,
        "bare token, no `Bot `"
    );
    assert!(identify.get("intents").is_none() && identify.get("shard").is_none());
    assert!(identify["properties"]["client_build_number"].is_u64());

    let join = gw
        .join_voice(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .expect("joined");
    let issued = fake.voice_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].stream_key, None);
    assert_eq!(join.session_id, issued[0].session_id);
    assert_eq!(join.token, issued[0].token);
    assert_eq!(join.endpoint, VOICE_ENDPOINT);
    assert_eq!(
        (join.guild_id, join.channel_id, join.user_id),
        (Some(GUILD_ID), VOICE_CHANNEL_ID, STREAMER_USER_ID)
    );
    let server = join.voice_server();
    assert_eq!(server.server_id, GUILD_ID);
    assert_eq!(server.dave_group_id, VOICE_CHANNEL_ID);
    assert_eq!(server.video, None);
    assert_eq!(fake.user_voice_channel(GUILD_ID), Some(VOICE_CHANNEL_ID));
    assert_eq!(
        fake.user_ops_of(4)[0],
        json!({"guild_id": GUILD_ID.to_string(), "channel_id": VOICE_CHANNEL_ID.to_string(),
               "self_mute": false, "self_deaf": true, "self_video": false})
    );

    gw.leave_voice(Some(GUILD_ID)).await.expect("left");
    fake.wait_until("the user to leave voice", WAIT, |f| {
        f.user_voice_channel(GUILD_ID).is_none().then_some(())
    })
    .await;
    assert_eq!(fake.user_ops_of(4)[1]["channel_id"], Value::Null);
    gw.shutdown().await;
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_channel_the_account_may_not_join_fails_clearly() {
    let fake = fake().await;
    let (gw, _events) = connect_impatient(&fake).await;
    let err = gw
        .join_voice(Some(GUILD_ID), DENIED_VOICE_CHANNEL_ID)
        .await
        .expect_err("the fake ignores joins the user may not make");
    assert!(
        matches!(err, GatewayError::VoiceJoinTimedOut { channel_id, .. } if channel_id == DENIED_VOICE_CHANNEL_ID),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("Connect or View Channel permission"),
        "{text}"
    );
    assert!(fake.voice_tokens().is_empty());
    // The client is still fine for a channel it may join.
    gw.join_voice(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .expect("joined the allowed channel");
    // A stream needs the call first.
    let err = gw
        .create_stream(Some(GUILD_ID), DENIED_VOICE_CHANNEL_ID)
        .await
        .expect_err("not in that channel");
    assert!(matches!(err, GatewayError::NotInVoice { .. }), "{err:?}");
    gw.shutdown().await;
    fake.assert_no_violations();
}

/// A DM or group DM call: op 4 and op 18 without a guild, the channel as the voice server's
/// id, a `call:` stream key; a call the account is not in fails like a forbidden channel.
#[tokio::test]
async fn joins_and_goes_live_in_a_group_dm_call() {
    let fake = fake().await;
    let (gw, _events) = connect_impatient(&fake).await;
    let err = gw
        .join_voice(None, STRANGERS_DM_CHANNEL_ID)
        .await
        .expect_err("the fake ignores calls the user is not in");
    let text = err.to_string();
    assert!(
        text.contains(&format!("the call in DM channel {STRANGERS_DM_CHANNEL_ID}")),
        "{text}"
    );

    let join = gw
        .join_voice(None, GROUP_DM_CHANNEL_ID)
        .await
        .expect("joined the call");
    assert_eq!(
        (join.guild_id, join.channel_id),
        (None, GROUP_DM_CHANNEL_ID)
    );
    let server = join.voice_server();
    assert_eq!(server.server_id, GROUP_DM_CHANNEL_ID);
    assert_eq!(server.dave_group_id, GROUP_DM_CHANNEL_ID);
    assert_eq!(
        fake.user_ops_of(4).last(),
        Some(
            &json!({"guild_id": null, "channel_id": GROUP_DM_CHANNEL_ID.to_string(),
                     "self_mute": false, "self_deaf": true, "self_video": false})
        )
    );
    // A guild's stream can't be made from a call.
    let err = gw
        .create_stream(Some(GUILD_ID), GROUP_DM_CHANNEL_ID)
        .await
        .expect_err("not in a guild channel");
    assert!(matches!(err, GatewayError::NotInVoice { .. }), "{err:?}");

    let stream = gw
        .create_stream(None, GROUP_DM_CHANNEL_ID)
        .await
        .expect("stream in the call");
    assert_eq!(
        stream.stream_key,
        format!("call:{GROUP_DM_CHANNEL_ID}:{STREAMER_USER_ID}")
    );
    assert_eq!(stream.guild_id, None);
    gw.leave_voice(None).await.expect("left");
    fake.wait_until("the user to leave the call", WAIT, |f| {
        f.user_call().is_none().then_some(())
    })
    .await;
    assert_eq!(
        fake.user_ops_of(4)
            .last()
            .map(|d| (d["guild_id"].clone(), d["channel_id"].clone())),
        Some((Value::Null, Value::Null))
    );
    gw.shutdown().await;
    fake.assert_no_violations();
}

#[tokio::test]
async fn creates_unpauses_pauses_and_deletes_a_stream() {
    let fake = fake().await;
    let (gw, _events) = connect(&fake).await;
    let join = gw
        .join_voice(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .unwrap();
    let stream = gw
        .create_stream(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .expect("stream");
    let key = stream_key(Some(GUILD_ID), VOICE_CHANNEL_ID, STREAMER_USER_ID);
    assert_eq!(stream.stream_key, key);
    let issued = fake.voice_tokens();
    let stream_token = issued.last().unwrap();
    assert_eq!(stream_token.stream_key.as_deref(), Some(key.as_str()));
    assert_eq!(stream.rtc_server_id, stream_token.server_id);
    assert_eq!(stream.token, stream_token.token);
    assert_eq!(stream.endpoint, VOICE_ENDPOINT);
    assert_eq!(stream.session_id, join.session_id, "the call's session id");
    assert_eq!(
        fake.user_ops_of(18)[0],
        json!({"type": "guild", "guild_id": GUILD_ID.to_string(),
               "channel_id": VOICE_CHANNEL_ID.to_string(), "preferred_region": null})
    );
    let video = VideoInfo {
        width: 1280,
        height: 720,
        fps: 30,
        max_bitrate: 5_000_000,
    };
    let server = stream.voice_server(video);
    assert_eq!(server.server_id, stream.rtc_server_id);
    assert_eq!(server.dave_group_id, stream.rtc_server_id - 1);
    assert_eq!(server.video, Some(video));

    // Discord creates it paused; the client unpauses it.
    fake.wait_until("the stream to be unpaused", WAIT, |f| {
        (f.user_streams() == vec![(key.clone(), false, stream.rtc_server_id)]).then_some(())
    })
    .await;
    assert_eq!(
        fake.user_ops_of(22),
        vec![json!({"stream_key": key, "paused": false})]
    );

    gw.set_stream_paused(&key, true).await.unwrap();
    fake.wait_until("the stream to be paused", WAIT, |f| {
        f.user_streams().first().is_some_and(|s| s.1).then_some(())
    })
    .await;
    gw.delete_stream(&key).await.unwrap();
    fake.wait_until("the stream to be deleted", WAIT, |f| {
        f.user_streams().is_empty().then_some(())
    })
    .await;
    assert_eq!(fake.user_ops_of(19), vec![json!({"stream_key": key})]);
    gw.shutdown().await;
    fake.assert_no_violations();
}

#[tokio::test]
async fn refused_and_ended_streams_are_reported() {
    let fake = fake().await;
    let (gw, mut events) = connect(&fake).await;
    gw.join_voice(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .unwrap();

    fake.refuse_streams(Some("unauthorized"));
    let err = gw
        .create_stream(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .expect_err("refused");
    assert!(
        err.to_string().contains("Video (stream) permission"),
        "{err}"
    );

    fake.refuse_streams(None);
    let stream = gw
        .create_stream(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .unwrap();
    fake.wait_until("the unpause", WAIT, |f| {
        f.user_streams().first().is_some_and(|s| !s.1).then_some(())
    })
    .await;
    fake.end_stream(&stream.stream_key, "stream_full");
    match next_event(&mut events).await {
        GatewayEvent::StreamDeleted { stream_key, reason } => {
            assert_eq!(stream_key, stream.stream_key);
            assert_eq!(reason.as_deref(), Some("stream_full"));
        }
        other => panic!("expected StreamDeleted, got {other:?}"),
    }
    gw.shutdown().await;
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_dropped_connection_resumes_and_keeps_working() {
    let fake = fake().await;
    let (gw, mut events) = connect(&fake).await;
    gw.join_voice(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .unwrap();
    let stream = gw
        .create_stream(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .unwrap();

    fake.drop_connection_of(SessionKind::User);
    fake.wait_until("the user to resume", WAIT, |f| {
        (f.user_resume_count() >= 1 && f.connected_as(SessionKind::User)).then_some(())
    })
    .await;
    assert_eq!(fake.user_identify_count(), 1, "resumed, not re-identified");
    let resume = &fake.user_ops_of(6)[0];
    assert_eq!(resume["token"], STREAMER_USER_TOKEN);
    assert!(resume["session_id"].as_str().is_some_and(|s| !s.is_empty()));

    gw.set_stream_paused(&stream.stream_key, true)
        .await
        .unwrap();
    fake.wait_until("the pause after the resume", WAIT, |f| {
        f.user_streams().first().is_some_and(|s| s.1).then_some(())
    })
    .await;
    assert_eq!(fake.voice_tokens().len(), 2, "nothing was re-created");
    assert!(events.try_recv().is_err(), "a resume changes no server");
    gw.shutdown().await;
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_zombie_connection_and_a_reconnect_request_both_resume() {
    let fake = fake_with(Options {
        heartbeat_interval: Duration::from_millis(200),
        ..Options::default()
    })
    .await;
    let (gw, _events) = connect(&fake).await;
    gw.join_voice(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .unwrap();

    // Heartbeats go unanswered: the client must notice, drop the connection and resume.
    fake.ack_user_heartbeats(false);
    fake.wait_until("a resume after missed ACKs", WAIT, |f| {
        (f.user_resume_count() >= 1).then_some(())
    })
    .await;
    fake.ack_user_heartbeats(true);
    fake.wait_until("the resumed connection", WAIT, |f| {
        f.connected_as(SessionKind::User).then_some(())
    })
    .await;
    let resumes = fake.user_resume_count();

    fake.request_user_reconnect();
    fake.wait_until("a resume after op 7", WAIT, |f| {
        (f.user_resume_count() > resumes).then_some(())
    })
    .await;
    assert_eq!(fake.user_identify_count(), 1);
    // Still the same call: nothing was rejoined.
    assert_eq!(fake.user_ops_of(4).len(), 1);
    gw.leave_voice(Some(GUILD_ID)).await.unwrap();
    fake.wait_until("the leave", WAIT, |f| {
        f.user_voice_channel(GUILD_ID).is_none().then_some(())
    })
    .await;
    gw.shutdown().await;
    fake.assert_no_violations();
}

#[tokio::test]
async fn an_invalid_session_re_identifies_and_rejoins() {
    let fake = fake().await;
    let (gw, mut events) = connect(&fake).await;
    let join = gw
        .join_voice(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .unwrap();
    let stream = gw
        .create_stream(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .unwrap();
    fake.wait_until("the first unpause", WAIT, |f| {
        (f.user_ops_of(22).len() == 1).then_some(())
    })
    .await;

    fake.invalidate_session_of(SessionKind::User);
    let rejoined = match next_event(&mut events).await {
        GatewayEvent::VoiceServerChanged(j) => j,
        other => panic!("expected VoiceServerChanged, got {other:?}"),
    };
    let restarted = match next_event(&mut events).await {
        GatewayEvent::StreamServerChanged(s) => s,
        other => panic!("expected StreamServerChanged, got {other:?}"),
    };
    assert_eq!(fake.user_identify_count(), 2);
    assert_ne!(rejoined.session_id, join.session_id);
    assert_eq!(
        (rejoined.guild_id, rejoined.channel_id),
        (Some(GUILD_ID), VOICE_CHANNEL_ID)
    );
    let issued = fake.voice_tokens();
    assert_eq!(issued.len(), 4, "call + stream, twice");
    assert_eq!(rejoined.token, issued[2].token);
    assert_eq!(restarted.stream_key, stream.stream_key);
    assert_eq!(restarted.token, issued[3].token);
    assert_ne!(restarted.rtc_server_id, stream.rtc_server_id);
    assert_eq!(restarted.session_id, rejoined.session_id);
    fake.wait_until("the re-created stream to be unpaused", WAIT, |f| {
        (f.user_streams() == vec![(stream.stream_key.clone(), false, restarted.rtc_server_id)])
            .then_some(())
    })
    .await;
    assert_eq!(fake.user_voice_channel(GUILD_ID), Some(VOICE_CHANNEL_ID));
    gw.shutdown().await;
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_revoked_or_wrong_token_is_a_clear_fatal_error() {
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("discord-token");
    std::fs::write(&path, format!("{STREAMER_USER_TOKEN}\n")).unwrap();
    set_mode(&path, 0o600);
    let mut config = config(&fake);
    config.token = token::load_file(&path).expect("token file");
    let (gw, mut events) = Gateway::connect(config.clone()).await.unwrap();

    fake.revoke_user_token();
    let err = match next_event(&mut events).await {
        GatewayEvent::Fatal(e) => e,
        other => panic!("expected Fatal, got {other:?}"),
    };
    assert!(matches!(err, GatewayError::AuthFailed { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("Discord rejected the token"), "{text}");
    assert!(
        text.contains(&path.display().to_string()),
        "names the file: {text}"
    );
    let after = gw.join_voice(Some(GUILD_ID), VOICE_CHANNEL_ID).await;
    assert!(matches!(after, Err(GatewayError::Closed)), "{after:?}");

    // Logging in again with the revoked token fails at once.
    let err = Gateway::connect(config).await.err().expect("refused");
    assert!(matches!(err, GatewayError::AuthFailed { .. }), "{err:?}");
    fake.assert_no_violations();

    // So does a token Discord never issued.
    let fresh = self::fake().await;
    let mut config = self::config(&fresh);
    config.token = Token::new("MzAw.wrong.token", TokenSource::Given).unwrap();
    let err = Gateway::connect(config).await.err().expect("refused");
    assert!(matches!(err, GatewayError::AuthFailed { .. }), "{err:?}");
}

#[tokio::test]
async fn the_send_limiter_keeps_the_client_under_discords_limit() {
    let (sends, per) = (24, Duration::from_secs(2));
    let fake = fake_with(Options {
        gateway_send_limit: sends,
        gateway_send_window: per,
        ..Options::default()
    })
    .await;
    let mut config = config(&fake);
    config.quota = SendQuota { sends, per };
    let (gw, _events) = Gateway::connect(config).await.unwrap();
    gw.join_voice(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .unwrap();
    let stream = gw
        .create_stream(Some(GUILD_ID), VOICE_CHANNEL_ID)
        .await
        .unwrap();
    // Twice the window's whole allowance, as fast as the API lets the owner ask.
    let toggles = 2 * sends as usize;
    for i in 0..toggles {
        gw.set_stream_paused(&stream.stream_key, i.is_multiple_of(2))
            .await
            .unwrap();
    }
    let last_paused = (toggles - 1).is_multiple_of(2);
    fake.wait_until("every toggle to arrive", WAIT, |f| {
        (f.user_ops_of(22).len() == toggles + 1).then_some(())
    })
    .await;
    assert_eq!(fake.user_streams().first().map(|s| s.1), Some(last_paused));
    assert_eq!(fake.user_resume_count(), 0, "the fake never closed 4008");
    assert_eq!(fake.user_identify_count(), 1);
    assert!(fake.connected_as(SessionKind::User));
    gw.shutdown().await;
    fake.assert_no_violations();
}

type RawWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw_connect(fake: &FakeDiscord, version: u8) -> RawWs {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "{}/?v={version}&encoding=json",
        fake.gateway_url()
    ))
    .await
    .unwrap();
    let hello = ws.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("heartbeat_interval"));
    ws
}

fn user_identify(token: &str) -> Message {
    Message::Text(
        json!({"op": 2, "d": {
            "token": token, "capabilities": 0,
            "properties": {"os": "Linux", "browser": "raw", "client_build_number": 1},
        }})
        .to_string(),
    )
}

/// Reads until a close frame and returns its code.
async fn close_code(ws: &mut RawWs) -> Option<u16> {
    let read = async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Close(frame) = msg {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("closed in time")
}

#[tokio::test]
async fn the_fake_closes_4008_when_a_client_floods_it() {
    let fake = fake_with(Options {
        gateway_send_limit: 24,
        gateway_send_window: Duration::from_secs(2),
        ..Options::default()
    })
    .await;
    let mut ws = raw_connect(&fake, 9).await;
    ws.send(user_identify(STREAMER_USER_TOKEN)).await.unwrap();
    for _ in 0..30 {
        if ws
            .send(Message::Text(json!({"op": 1, "d": null}).to_string()))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(close_code(&mut ws).await, Some(4008));
}

#[tokio::test]
async fn bot_and_user_tokens_do_not_cross() {
    let fake = fake().await;
    // A bot-style identify (intents, `Bot `) with the user's token.
    let mut ws = raw_connect(&fake, 10).await;
    let bot_identify = json!({"op": 2, "d": {
        "token": format!("Bot {STREAMER_USER_TOKEN}"), "intents": 513,
        "properties": {"os": "linux", "browser": "t", "device": "t"},
    }});
    ws.send(Message::Text(bot_identify.to_string()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut ws).await, Some(4004));
    // A user-style identify (no intents) with the bot's token.
    let mut ws = raw_connect(&fake, 9).await;
    ws.send(user_identify(TOKEN)).await.unwrap();
    assert_eq!(close_code(&mut ws).await, Some(4004));
    // Ops before identify are a protocol violation.
    let mut ws = raw_connect(&fake, 9).await;
    ws.send(Message::Text(
        json!({"op": 4, "d": {"guild_id": GUILD_ID.to_string(), "channel_id": null,
                              "self_mute": false, "self_deaf": false, "self_video": false}})
        .to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(close_code(&mut ws).await, Some(4003));
    assert!(
        fake.violations()
            .iter()
            .any(|v| v.contains("before IDENTIFY")),
        "{:?}",
        fake.violations()
    );
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_: &std::path::Path, _: u32) {}

#[test]
fn token_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");

    std::fs::write(&path, "  user.token.value \n").unwrap();
    set_mode(&path, 0o600);
    let t = token::load_file(&path).expect("a private file");
    assert_eq!(t.expose(), "user.token.value");
    assert_eq!(t.source(), &TokenSource::File(path.clone()));
    assert!(!format!("{t:?}").contains("user.token"));

    #[cfg(unix)]
    {
        set_mode(&path, 0o644);
        let err = token::load_file(&path).expect_err("readable by others");
        assert!(matches!(err, TokenError::FileTooOpen { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains(&format!("chmod 600 {}", path.display())),
            "{err}"
        );
        set_mode(&path, 0o600);
    }

    std::fs::write(&path, "\n \n").unwrap();
    let err = token::load_file(&path).expect_err("empty");
    assert!(matches!(err, TokenError::Empty { .. }), "{err:?}");

    std::fs::write(&path, "Bot MTAw.bot.token\n").unwrap();
    let err = token::load_file(&path).expect_err("a bot token");
    assert!(err.to_string().contains("USER"), "{err}");

    let err = token::load_file(&dir.path().join("missing")).expect_err("missing");
    assert!(matches!(err, TokenError::FileUnreadable { .. }), "{err:?}");

    let err = token::load(None, false, "lounge-streamer.toml").expect_err("nothing set");
    assert!(err.to_string().contains("token_file"), "{err}");
    let err = token::load(Some(&path), true, "lounge-streamer.toml").expect_err("both set");
    assert!(matches!(err, TokenError::TwoSources { .. }), "{err:?}");
}

/// The keyring round trip where the OS keyring works; where it does not (on Linux, a process
/// without a session keyring, like this sandbox), the error must say what to do instead.
#[test]
fn the_keyring_stores_and_loads_the_token_or_says_why_not() {
    let entry = token::KeyringEntry {
        service: "lounge-streamer-tests",
        name: "discord-token-roundtrip",
    };
    match token::store_keyring(entry, "  keyring.user.token\n") {
        Ok(()) => {
            let t = token::load_keyring(entry).expect("stored token loads");
            assert_eq!(t.expose(), "keyring.user.token");
            assert_eq!(t.source(), &TokenSource::Keyring(entry));
            token::delete_keyring(entry).unwrap();
            assert!(matches!(
                token::load_keyring(entry),
                Err(TokenError::KeyringEmpty { .. })
            ));
        }
        Err(err) => {
            eprintln!("the OS keyring is not usable here, checking its error instead: {err}");
            assert!(matches!(err, TokenError::Keyring { .. }), "{err:?}");
            assert!(err.to_string().contains("token_file"), "{err}");
        }
    }
    // A bot token never reaches the keyring.
    let err = token::store_keyring(entry, "Bot abc").expect_err("bot token");
    assert!(matches!(err, TokenError::BotToken { .. }), "{err:?}");
}
