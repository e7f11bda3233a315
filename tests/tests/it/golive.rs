//! Go Live end to end: the real `lounge` bot and the real `lounge-streamer run`, both against
//! the fake Discord (the bot's gateway and REST, the streamer account's user gateway) and the
//! fake voice server (voice gateway, UDP, DAVE). A member's `/stream start` ends with frames
//! the fake's DAVE viewer decrypts and FFmpeg decodes; pause, seek and stop show up as the
//! gateway ops Discord would see.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lounge_tests::bin::{self, Running};
use lounge_tests::db::TestDb;
use lounge_tests::discord::voice::{FakeVoiceServer, FrameKind, ReceivedFrame};
use lounge_tests::discord::{
    DENIED_VOICE_CHANNEL_ID, GENERAL_CHANNEL_ID, GROUP_DM_CHANNEL_ID, GUILD_ID, MEMBER_ID,
    OWNER_ID, Recorded, STREAMER_USER_ID, STREAMER_USER_TOKEN, SessionKind, VOICE_CHANNEL_ID,
};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::golive_voice::{decode_h264, decrypted};
use crate::util::{Harness, READY_TIMEOUT};

const SECRET: &str = "golive shared secret";
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
/// Login, voice join, stream creation and the DAVE handshake, on a busy 2-core machine.
pub(crate) const ORDER_TIMEOUT: Duration = Duration::from_mins(1);

/// A streamer set up for Go Live against the fakes: opted in, token in a 0600 file, media in
/// `dir/media`.
pub(crate) struct GoLiveStreamer {
    dir: TempDir,
}

impl GoLiveStreamer {
    /// The bot must know the socket before the streamer's config can name the fake's
    /// gateway, so the directory comes first: see [`bot_env`].
    fn at(
        dir: TempDir,
        fake: &lounge_tests::discord::FakeDiscord,
        opted_in: bool,
        token: &str,
    ) -> Self {
        Self::at_with(dir, fake, opted_in, token, "")
    }

    /// [`Self::at`] with more lines for the streamer's config (the Plex link).
    pub(crate) fn at_with(
        dir: TempDir,
        fake: &lounge_tests::discord::FakeDiscord,
        opted_in: bool,
        token: &str,
        extra: &str,
    ) -> Self {
        let socket = dir.path().join("streamer.sock");
        let media = dir.path().join("media");
        std::fs::create_dir_all(&media).expect("media dir");
        let token_file = dir.path().join("token");
        bin::write_private(&token_file, token);
        std::fs::write(
            dir.path().join("lounge-streamer.toml"),
            format!(
                "socket = {:?}\nipc_secret = {SECRET:?}\nencoder = \"x264\"\nlog_level = \"info\"\n\
                 accept_selfbot_risk = {opted_in}\ntoken_file = {:?}\ngateway_url = {:?}\n\
                 media_roots = [{:?}]\n{extra}\n",
                socket.to_str().expect("UTF-8"),
                token_file.to_str().expect("UTF-8"),
                fake.gateway_url(),
                media.to_str().expect("UTF-8"),
            ),
        )
        .expect("write the streamer config");
        Self { dir }
    }

    pub(crate) fn media(&self) -> PathBuf {
        self.dir.path().join("media")
    }

    pub(crate) async fn start(&self, h: &Harness) -> Running {
        let mut cmd = Command::new(bin::binary("lounge-streamer"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .arg("--config")
            .arg(self.dir.path().join("lounge-streamer.toml"))
            .arg("run");
        let streamer = Running::spawn(cmd);
        streamer.wait_output("listening on", READY_TIMEOUT).await;
        // The bot reconnects on its own (with backoff); order only once its link is up.
        let deadline = Instant::now() + ORDER_TIMEOUT;
        loop {
            let status = stream_cmd(h, "status", json!([])).await;
            if status.text().contains("Streamer: connected") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the bot never reached the streamer: {}",
                status.text()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        streamer
    }
}

/// A 640x360 clip with picture and sound.
pub(crate) fn clip(dir: &Path, name: &str, seconds: u32) -> PathBuf {
    let path = dir.join(name);
    bin::clip(&path, "640x360", 30, u64::from(seconds), "ultrafast");
    path
}

/// Runs a `/stream` subcommand and returns the bot's answer: the interaction response, or the
/// follow-up after a deferral.
pub(crate) async fn stream_cmd(h: &Harness, sub: &str, options: Value) -> Recorded {
    stream_cmd_as(h, MEMBER_ID, sub, options).await
}

async fn stream_cmd_as(h: &Harness, user: u64, sub: &str, options: Value) -> Recorded {
    command_as(h, user, "stream", sub, options).await
}

/// Runs `/<name> <sub>` as `user` and returns the bot's answer: the interaction response, or
/// the first follow-up after a deferral.
pub(crate) async fn command_as(
    h: &Harness,
    user: u64,
    name: &str,
    sub: &str,
    options: Value,
) -> Recorded {
    let skip = h.fake.requests().len();
    let i = h.fake.send_slash(
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        user,
        name,
        json!([{"type": 1, "name": sub, "options": options}]),
    );
    let callback = i.callback_path();
    let webhook = format!("/{}", i.token);
    let first = h
        .fake
        .wait_for_request(skip, ORDER_TIMEOUT, |r| r.path == callback)
        .await;
    // Type 5 is "deferred": the answer follows on the interaction's webhook.
    if first.body["type"] != 5 {
        return first;
    }
    h.fake
        .wait_for_request(skip, ORDER_TIMEOUT, |r| {
            (r.method == "POST" || r.method == "PATCH")
                && r.path.starts_with("/webhooks/")
                && r.path.contains(&webhook)
        })
        .await
}

/// Waits for the stream's first 30 video frames; the viewer decrypts them and FFmpeg decodes
/// (nearly) all of them at the announced size.
pub(crate) async fn first_frames_decode(voice: &FakeVoiceServer) -> Vec<ReceivedFrame> {
    let frames = voice
        .wait_frames(ORDER_TIMEOUT, "30 video frames", |f| {
            f.iter().filter(|f| f.kind == FrameKind::Video).count() >= 30
        })
        .await;
    let video = decrypted(&frames, FrameKind::Video);
    let (count, sizes) = decode_h264(&video);
    assert!(
        count >= 25,
        "only {count} of {} frames decoded",
        video.len()
    );
    assert!(
        sizes.iter().all(|&s| s == (WIDTH, HEIGHT)),
        "{:?}",
        sizes.first()
    );
    frames
}

pub(crate) fn option(name: &str, value: Value) -> Value {
    json!({"type": 3, "name": name, "value": value})
}

/// A `/stream <sub>` choice option as Discord sends it: the value the bot registered for the
/// choice shown as `shown`.
fn choice(h: &Harness, sub: &str, shown: &str) -> Value {
    let commands = h.fake.registered_commands(None);
    let stream = commands
        .iter()
        .find(|c| c["name"] == "stream")
        .expect("/stream registered");
    let option = stream["options"]
        .as_array()
        .and_then(|subs| subs.iter().find(|o| o["name"] == sub))
        .and_then(|o| o["options"].as_array())
        .and_then(|opts| opts.first())
        .expect("the subcommand's option");
    let value = option["choices"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == shown))
        .map_or_else(
            || panic!("no choice {shown} in {option}"),
            |c| c["value"].clone(),
        );
    json!({"type": option["type"], "name": option["name"], "value": value})
}

pub(crate) fn channel_option(channel: u64) -> Value {
    json!({"type": 7, "name": "channel", "value": channel.to_string()})
}

/// The bot's `[streamer]` settings for a streamer whose socket is in `dir`.
pub(crate) fn bot_env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        (
            "LOUNGE_STREAMER__SOCKET",
            dir.join("streamer.sock")
                .to_str()
                .expect("UTF-8")
                .to_owned(),
        ),
        ("LOUNGE_STREAMER__SECRET", SECRET.to_owned()),
    ]
}

/// The bot, the fakes and a streamer (opted in or not, with `token`) with a clip in its media
/// folder.
async fn setup(
    opted_in: bool,
    token: &str,
    seconds: u32,
) -> (Harness, FakeVoiceServer, GoLiveStreamer, Running) {
    let voice = FakeVoiceServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let env = bot_env(dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let h = Harness::start_with_env(TestDb::sqlite(), &env).await;
    h.fake.set_voice_server(&voice);
    let setup = GoLiveStreamer::at(dir, &h.fake, opted_in, token);
    clip(&setup.media(), "clip.mp4", seconds);
    let streamer = setup.start(&h).await;
    (h, voice, setup, streamer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_start_pause_seek_and_stop_reach_discord_end_to_end_encrypted() {
    let (h, voice, _setup, streamer) = setup(true, STREAMER_USER_TOKEN, 10).await;

    let started_at = Instant::now();
    let reply = stream_cmd(
        &h,
        "start",
        json!([
            option("source", json!("clip.mp4")),
            channel_option(VOICE_CHANNEL_ID),
        ]),
    )
    .await;
    assert!(
        reply.text().contains("Streaming"),
        "{}\n{}",
        reply.text(),
        streamer.output()
    );
    let frames = first_frames_decode(&voice).await;
    eprintln!(
        "first frame {:?} after /stream start",
        frames[0].packets[0]
            .arrived
            .saturating_duration_since(started_at)
    );
    // The streamer account joined the member's chosen channel and went live there.
    assert_eq!(h.fake.user_voice_channel(GUILD_ID), Some(VOICE_CHANNEL_ID));
    let streams = h.fake.user_streams();
    assert_eq!(streams.len(), 1, "{streams:?}");
    // The call's connection joined the call's own DAVE group (its channel id), as the stream's
    // joined the stream's: a participant outside the group could be dropped from the call.
    assert_eq!(voice.call_groups_ready(), [VOICE_CHANNEL_ID]);
    assert!(
        !streamer.output().contains("could not be processed"),
        "{}",
        streamer.output()
    );

    // Only people in the stream's channel (or who manage channels) control it.
    let outside = stream_cmd(&h, "pause", json!([])).await;
    assert!(
        outside.text().contains("Join <#") && !outside.text().contains("Paused"),
        "{}",
        outside.text()
    );
    assert!(
        h.fake
            .user_ops_of(22)
            .iter()
            .all(|d| d["paused"] != json!(true))
    );
    h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);
    // Same gateway, so the bot's cache has the member in voice before the next command.

    let paused = stream_cmd(&h, "pause", json!([])).await;
    assert!(paused.text().contains("Paused"), "{}", paused.text());
    let pause_ops = h.fake.user_ops_of(22);
    assert_eq!(
        pause_ops.last().map(|d| d["paused"].clone()),
        Some(json!(true)),
        "{pause_ops:?}"
    );
    // The voice server hears it too: op 12 again with the stream inactive (and active again
    // on resume), so it does not take the silence for loss.
    wait_video_active(&voice, &[true, false]).await;
    let status = stream_cmd(&h, "status", json!([])).await;
    assert!(status.text().contains("Paused at"), "{}", status.text());

    let resumed = stream_cmd(&h, "resume", json!([])).await;
    assert!(resumed.text().contains("Resumed"), "{}", resumed.text());
    wait_video_active(&voice, &[true, false, true]).await;
    let op12 = voice.video_ops();
    assert!(
        op12.windows(2)
            .all(|w| w[0]["streams"][0]["ssrc"] == w[1]["streams"][0]["ssrc"]),
        "pause and resume describe the same stream: {op12:?}"
    );
    let seek = stream_cmd(&h, "seek", json!([option("position", json!("0:01"))])).await;
    assert!(seek.text().contains("Jumped to 0:01"), "{}", seek.text());
    let late = voice.frames().len();
    voice
        .wait_frames(ORDER_TIMEOUT, "frames after the seek", |f| {
            f.len() > late + 10
        })
        .await;

    // A new quality applies from the next start; the live stream keeps its size.
    let quality = stream_cmd(&h, "quality", json!([choice(&h, "quality", "480p")])).await;
    assert!(quality.text().contains("480p"), "{}", quality.text());
    let status = stream_cmd(&h, "status", json!([])).await;
    // The live stream was started at the default quality and shows it until restarted.
    assert!(
        status.text().contains("(quality auto)"),
        "{}",
        status.text()
    );
    let again = stream_cmd(
        &h,
        "start",
        json!([
            option("source", json!("clip.mp4")),
            channel_option(VOICE_CHANNEL_ID),
        ]),
    )
    .await;
    assert!(again.text().contains("Streaming"), "{}", again.text());
    // The old sender was stopped and joined before the new stream was asked for.
    let restarted = voice.frames().len();
    let frames = voice
        .wait_frames(ORDER_TIMEOUT, "frames at 480p", |f| {
            decrypted_ok(&f[restarted..]).len() >= 60
        })
        .await;
    let small = decrypted_ok(&frames[restarted..]);
    let key = small
        .iter()
        .position(|u| is_keyframe(u))
        .expect("the new stream opens with a keyframe");
    let (_, sizes) = decode_h264(&small[key..]);
    let at_480 = sizes.iter().filter(|&&s| s == (854, 480)).count();
    assert!(
        at_480 >= 50 && at_480 == sizes.len(),
        "{at_480} of {} frames at 480p; sizes {:?}",
        sizes.len(),
        sizes.iter().collect::<std::collections::BTreeSet<_>>()
    );

    let stopped = stream_cmd(&h, "stop", json!([])).await;
    assert!(stopped.text().contains("Stopped"), "{}", stopped.text());
    // The reply can overtake the gateway frames the streamer sent before it: wait for them.
    h.fake
        .wait_until(
            "the stream deleted and the channel left",
            ORDER_TIMEOUT,
            |f| {
                (!f.user_ops_of(19).is_empty() && f.user_voice_channel(GUILD_ID).is_none())
                    .then_some(())
            },
        )
        .await;
    assert_eq!(voice.violations(), Vec::<String>::new());
    h.fake.assert_no_violations();
    drop(streamer);
    h.finish().await;
}

/// The bot's owner streams into a group DM call the streamer's account is in: the account
/// joins the call with no guild, goes live with a `call:` stream key, and the viewer decodes
/// the frames; members can't, a guild's `/stream stop` leaves the call alone, and `/stream
/// hangup` ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_streams_into_a_group_dm_call() {
    let (h, voice, _setup, streamer) = setup(true, STREAMER_USER_TOKEN, 10).await;
    let call = |id: &str| {
        json!([
            option("call", json!(id)),
            option("source", json!("clip.mp4")),
        ])
    };
    let group = GROUP_DM_CHANNEL_ID.to_string();

    let refused = stream_cmd_as(&h, MEMBER_ID, "call", call(&group)).await;
    assert!(
        refused.text().contains("Only the bot's owners"),
        "{}",
        refused.text()
    );
    let typo = stream_cmd_as(&h, OWNER_ID, "call", call("the group")).await;
    assert!(
        typo.text().contains("`the group` is not a channel id"),
        "{}",
        typo.text()
    );
    assert!(h.fake.user_ops_of(4).is_empty(), "nothing was joined");

    let reply = stream_cmd_as(&h, OWNER_ID, "call", call(&group)).await;
    assert!(
        reply.text().contains("Streaming `clip.mp4` in the call"),
        "{}\n{}",
        reply.text(),
        streamer.output()
    );
    first_frames_decode(&voice).await;
    // The DM call's connection is in the call's DAVE group: its channel.
    assert_eq!(voice.call_groups_ready(), [GROUP_DM_CHANNEL_ID]);
    // Discord's shapes for a call: no guild anywhere, the channel as the voice server id.
    assert_eq!(h.fake.user_call(), Some(GROUP_DM_CHANNEL_ID));
    assert_eq!(h.fake.user_ops_of(4)[0]["guild_id"], Value::Null);
    assert_eq!(
        h.fake.user_ops_of(18).last(),
        Some(
            &json!({"type": "call", "guild_id": null, "channel_id": group,
                     "preferred_region": null})
        )
    );
    let streams = h.fake.user_streams();
    assert_eq!(streams.len(), 1, "{streams:?}");
    assert_eq!(
        streams[0].0,
        format!("call:{GROUP_DM_CHANNEL_ID}:{STREAMER_USER_ID}")
    );
    let issued = h.fake.voice_tokens();
    assert_eq!(issued[0].server_id, GROUP_DM_CHANNEL_ID);
    assert_eq!(issued[0].guild_id, None);

    // The call isn't the guild's to end.
    let stop = stream_cmd(&h, "stop", json!([])).await;
    assert!(!stop.text().contains("Stopped"), "{}", stop.text());
    assert_eq!(h.fake.user_call(), Some(GROUP_DM_CHANNEL_ID));
    let member_hangup = stream_cmd_as(&h, MEMBER_ID, "hangup", json!([])).await;
    assert!(
        member_hangup.text().contains("Only the bot's owners"),
        "{}",
        member_hangup.text()
    );

    let hangup = stream_cmd_as(&h, OWNER_ID, "hangup", json!([])).await;
    assert!(hangup.text().contains("left the call"), "{}", hangup.text());
    h.fake
        .wait_until("the stream deleted and the call left", ORDER_TIMEOUT, |f| {
            (!f.user_ops_of(19).is_empty() && f.user_call().is_none()).then_some(())
        })
        .await;
    assert_eq!(voice.violations(), Vec::<String>::new());
    h.fake.assert_no_violations();
    drop(streamer);
    h.finish().await;
}

/// What a member sees when Go Live cannot start, one case per cause, each with the sentence
/// that says what to fix; the streamer stays up for the next order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_start_explains_each_way_it_can_fail() {
    let (h, _voice, _setup, streamer) = setup(true, STREAMER_USER_TOKEN, 1).await;
    let start = |source: &str, channel: u64| {
        json!([option("source", json!(source)), channel_option(channel),])
    };
    let cases = [
        // The member may not connect there, so the bot won't send the streamer in for them.
        (
            MEMBER_ID,
            start("clip.mp4", DENIED_VOICE_CHANNEL_ID),
            "You can't connect to",
        ),
        // The owner may, but the streamer's account may not.
        (
            OWNER_ID,
            start("clip.mp4", DENIED_VOICE_CHANNEL_ID),
            "Connect permissions",
        ),
        (
            MEMBER_ID,
            start("nope.mp4", VOICE_CHANNEL_ID),
            "couldn't find that media",
        ),
        (
            MEMBER_ID,
            start("/etc/passwd", VOICE_CHANNEL_ID),
            "couldn't find that media",
        ),
        (
            MEMBER_ID,
            start("https://example.com/a.mp4", VOICE_CHANNEL_ID),
            "doesn't play web links",
        ),
    ];
    for (user, options, words) in cases {
        let reply = stream_cmd_as(&h, user, "start", options.clone()).await;
        assert!(
            reply.text().contains(words),
            "{options}: {}\n{}",
            reply.text(),
            streamer.output()
        );
        crate::util::assert_pings_nobody(&reply);
    }
    let nothing = stream_cmd(&h, "pause", json!([])).await;
    assert!(
        nothing.text().contains("isn't in a voice channel"),
        "{}",
        nothing.text()
    );
    assert!(
        h.fake.user_streams().is_empty(),
        "no stream was left behind"
    );
    drop(streamer);
    h.finish().await;

    // A revoked token: the member learns the owner must fix the login.
    let (h, _voice, _setup, streamer) = setup(true, STREAMER_USER_TOKEN, 1).await;
    h.fake.revoke_user_token();
    let reply = stream_cmd(&h, "start", start("clip.mp4", VOICE_CHANNEL_ID)).await;
    assert!(reply.text().contains("couldn't log in"), "{}", reply.text());
    drop(streamer);
    h.finish().await;

    // Not opted in: nothing logs in at all.
    let (h, _voice, _setup, streamer) = setup(false, STREAMER_USER_TOKEN, 1).await;
    let reply = stream_cmd(&h, "start", start("clip.mp4", VOICE_CHANNEL_ID)).await;
    assert!(reply.text().contains("hasn't opted in"), "{}", reply.text());
    assert_eq!(
        h.fake.user_identify_count(),
        0,
        "no login without the opt-in"
    );
    drop(streamer);
    h.finish().await;
}

/// Discord invalidates the streamer account's session mid-stream: the streamer identifies
/// again, rejoins the channel, re-creates the stream and carries on playing, and the voice
/// server's viewer decodes frames from the new stream connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidated_session_rejoins_and_the_stream_carries_on() {
    let (h, voice, _setup, streamer) = setup(true, STREAMER_USER_TOKEN, 30).await;
    let reply = stream_cmd(
        &h,
        "start",
        json!([
            option("source", json!("clip.mp4")),
            channel_option(VOICE_CHANNEL_ID)
        ]),
    )
    .await;
    assert!(reply.text().contains("Streaming"), "{}", reply.text());
    voice
        .wait_frames(ORDER_TIMEOUT, "frames before the fault", |f| {
            f.iter().filter(|f| f.kind == FrameKind::Video).count() >= 10
        })
        .await;
    let identifies = voice.identifies().len();
    let fault_at = voice.frames().len();
    h.fake.invalidate_session_of(SessionKind::User);
    h.fake
        .wait_until("the streamer to identify again", ORDER_TIMEOUT, |_| {
            (h.fake.user_identify_count() >= 2).then_some(())
        })
        .await;
    let deadline = Instant::now() + ORDER_TIMEOUT;
    while !(h.fake.user_streams().len() == 1
        && h.fake.user_voice_channel(GUILD_ID) == Some(VOICE_CHANNEL_ID))
    {
        assert!(
            Instant::now() < deadline,
            "the stream was not re-created: {:?}\n{}",
            h.fake.user_streams(),
            streamer.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // New voice connections (call and stream) identified with the new session's values, and
    // the new stream's frames reach the viewer.
    h.fake
        .wait_until("the stream's new voice connection", ORDER_TIMEOUT, |_| {
            (voice.identifies().len() > identifies).then_some(())
        })
        .await;
    // Frames the old connection still had in flight cannot be read in the new group; the new
    // stream's frames come after the last of those, open with a keyframe, and must decode.
    let new_stream = |f: &[ReceivedFrame]| -> Vec<Vec<u8>> {
        let video: Vec<&ReceivedFrame> = f[fault_at..]
            .iter()
            .filter(|f| f.kind == FrameKind::Video)
            .collect();
        let start = video
            .iter()
            .rposition(|f| f.decrypted.is_err())
            .map_or(0, |i| i + 1);
        video[start..]
            .iter()
            .filter_map(|f| f.decrypted.clone().ok())
            .skip_while(|unit| !is_keyframe(unit))
            .collect()
    };
    let frames = voice
        .wait_frames(ORDER_TIMEOUT, "30 frames of the new stream", |f| {
            new_stream(f).len() >= 30
        })
        .await;
    let fresh = new_stream(&frames);
    let (count, _) = decode_h264(&fresh);
    assert_eq!(count, fresh.len(), "every frame of the new stream decodes");
    let status = stream_cmd(&h, "status", json!([])).await;
    assert!(
        status.text().contains("Playing"),
        "{}\n{}",
        status.text(),
        streamer.output()
    );
    drop(streamer);
    h.finish().await;
}

/// Whether an Annex B access unit holds an IDR slice (NAL type 5).
/// Waits until the `active` flags of the op 12 messages the voice server got are `want`.
async fn wait_video_active(voice: &FakeVoiceServer, want: &[bool]) {
    let deadline = Instant::now() + ORDER_TIMEOUT;
    loop {
        let active: Vec<Option<bool>> = voice
            .video_ops()
            .iter()
            .map(|op| op["streams"][0]["active"].as_bool())
            .collect();
        if active.iter().copied().eq(want.iter().copied().map(Some)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "op 12 active flags {active:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn is_keyframe(unit: &[u8]) -> bool {
    unit.windows(4)
        .any(|w| w[..3] == [0, 0, 1] && w[3] & 0x1F == 5)
}

/// The video frames the viewer could decrypt, in arrival order.
fn decrypted_ok(frames: &[ReceivedFrame]) -> Vec<Vec<u8>> {
    frames
        .iter()
        .filter(|f| f.kind == FrameKind::Video)
        .filter_map(|f| f.decrypted.clone().ok())
        .collect()
}
