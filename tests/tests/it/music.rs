//! Music end to end: the real `lounge` plays through songbird into the fake voice server
//! (voice gateway over TLS, UDP, DAVE), with yt-dlp run for real against a loopback media
//! server serving tones FFmpeg made; the Opus the fake's viewer decrypts is decoded with
//! FFmpeg and checked for its pitch, loudness and length.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use lounge_tests::db::TestDb;
use lounge_tests::discord::voice::{FakeVoiceOptions, FakeVoiceServer, FrameKind, ReceivedFrame};
use lounge_tests::discord::{
    FakeDiscord, GENERAL_CHANNEL_ID, GUILD_ID, LISTENER_ID, MEMBER_ID, STREAMER_USER_ID,
    VOICE_CHANNEL_ID,
};
use lounge_tests::media::MediaServer;
use tempfile::TempDir;

use crate::util::Harness;

/// Opus at 48 kHz, 20 ms a frame.
const RATE: f64 = 48_000.0;
const FRAME_SECONDS: f64 = 0.02;
const PLAY_TIMEOUT: Duration = Duration::from_mins(1);

/// A mono sine tone as Ogg/Opus, made by FFmpeg.
fn tone(dir: &Path, name: &str, hz: u32, seconds: u32) {
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency={hz}:duration={seconds}:sample_rate=48000"
        ))
        .args(["-ac", "2", "-c:a", "libopus", "-b:a", "96k"])
        .arg(dir.join(name))
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg could not make {name}");
}

struct Music {
    h: Harness,
    voice: FakeVoiceServer,
    media: MediaServer,
    dir: TempDir,
}

impl Music {
    async fn start() -> Self {
        Self::start_on(TestDb::sqlite(), FakeDiscord::start().await, None).await
    }

    /// With yt-dlp behind the loopback fake of `YouTube` search
    /// (`tests/fixtures/bin/yt-dlp-search`), answering `results` ({query: [{title, url,
    /// duration}]}); returns the file each search is logged to.
    async fn start_with_search(
        results: &serde_json::Value,
        more: &[(&str, String)],
    ) -> (Self, std::path::PathBuf) {
        let parts = Self::parts().await;
        let dir = parts.2.path().to_owned();
        let results = serde_json::to_string(&results)
            .unwrap()
            .replace("MEDIA/", &parts.1.url(""));
        std::fs::write(dir.join("search.json"), results).unwrap();
        let log = dir.join("search.log");
        let wrapper = lounge_tests::bin::workspace_root().join("tests/fixtures/bin/yt-dlp-search");
        let extra: Vec<(String, String)> = [
            (
                "LOUNGE_MUSIC__YTDLP".to_owned(),
                wrapper.to_str().unwrap().to_owned(),
            ),
            (
                "FAKE_YT_SEARCH".to_owned(),
                dir.join("search.json").to_str().unwrap().to_owned(),
            ),
            (
                "FAKE_YT_SEARCH_LOG".to_owned(),
                log.to_str().unwrap().to_owned(),
            ),
        ]
        .into_iter()
        .chain(more.iter().map(|(k, v)| ((*k).to_owned(), v.clone())))
        .collect();
        let m = Self::start_full(
            TestDb::sqlite(),
            FakeDiscord::start().await,
            Some(parts),
            extra,
        )
        .await;
        (m, log)
    }

    /// The fake voice server (TLS) and a media server with the tones, in a temp dir that also
    /// holds the certificate to trust.
    async fn parts() -> (FakeVoiceServer, MediaServer, TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let media_dir = dir.path().join("media");
        std::fs::create_dir_all(&media_dir).unwrap();
        tone(&media_dir, "a440.ogg", 440, 4);
        tone(&media_dir, "long440.ogg", 440, 30);
        tone(&media_dir, "long660.ogg", 660, 30);
        tone(&media_dir, "resume440.ogg", 440, 12);
        tone(&media_dir, "beep660.ogg", 660, 2);
        std::fs::write(
            media_dir.join("notes.txt"),
            "not a sound at all\n".repeat(50),
        )
        .unwrap();
        let voice = FakeVoiceServer::start_with(FakeVoiceOptions {
            tls: true,
            ..FakeVoiceOptions::default()
        })
        .await;
        std::fs::write(dir.path().join("ca.pem"), voice.ca_pem().expect("TLS")).unwrap();
        let media = MediaServer::start(media_dir).await;
        (voice, media, dir)
    }

    /// A bot on `db` against `fake`, the fake voice server (TLS; the bot trusts its
    /// certificate through `SSL_CERT_FILE`) and a media server with three tones.
    async fn start_on(
        db: TestDb,
        fake: FakeDiscord,
        reuse: Option<(FakeVoiceServer, MediaServer, TempDir)>,
    ) -> Self {
        Self::start_full(db, fake, reuse, Vec::new()).await
    }

    async fn start_full(
        db: TestDb,
        fake: FakeDiscord,
        reuse: Option<(FakeVoiceServer, MediaServer, TempDir)>,
        extra: Vec<(String, String)>,
    ) -> Self {
        let (voice, media, dir) = if let Some(parts) = reuse {
            parts
        } else {
            Self::parts().await
        };
        let env: Vec<(String, String)> = vec![
            (
                "SSL_CERT_FILE".to_owned(),
                dir.path().join("ca.pem").to_str().unwrap().to_owned(),
            ),
            ("LOUNGE_MUSIC__IDLE_MINUTES".to_owned(), "5".to_owned()),
            // The media host is on loopback, which members' links may not reach by default.
            (
                "LOUNGE_MUSIC__ALLOW_PRIVATE_HOSTS".to_owned(),
                "true".to_owned(),
            ),
            // A killed bot's SQLite instance lock lapses after this (the restart test).
            (
                "LOUNGE_BOT__INSTANCE_LEASE_SECONDS".to_owned(),
                "3".to_owned(),
            ),
        ];
        let env: Vec<(String, String)> = env.into_iter().chain(extra).collect();
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let h = Harness::start_with_fake(db, fake, &pairs).await;
        h.fake.set_voice_server(&voice);
        Self {
            h,
            voice,
            media,
            dir,
        }
    }

    /// `user` posts `text` with a file from the media host attached (`size` as Discord
    /// reports it); returns the bot's answer.
    async fn say_with_file(&self, user: u64, text: &str, file: &str, size: u64) -> String {
        let skip = self.h.fake.requests().len();
        let body = serde_json::json!({
            "content": text,
            "attachments": [{
                "id": "7000000000000000001",
                "filename": file,
                "size": size,
                "url": self.media.url(file),
                "proxy_url": self.media.url(file),
                "content_type": "application/octet-stream",
            }],
        });
        self.h
            .fake
            .send_message_with(GUILD_ID, GENERAL_CHANNEL_ID, user, &body);
        let path = format!("/channels/{GENERAL_CHANNEL_ID}/messages");
        self.h
            .fake
            .wait_for_request(skip, crate::util::REPLY_TIMEOUT, |r| {
                r.method == "POST" && r.path == path
            })
            .await
            .text()
    }

    async fn say(&self, user: u64, text: &str) -> String {
        self.h.ask(GUILD_ID, GENERAL_CHANNEL_ID, user, text).await
    }

    fn audio(&self) -> Vec<Vec<u8>> {
        audio_of(&self.voice.frames())
    }

    /// Waits until no audio frame has arrived for 1.5 s (at most `timeout`).
    async fn wait_quiet(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = self.audio().len();
        let mut since = tokio::time::Instant::now();
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let n = self.audio().len();
            if n != last {
                last = n;
                since = tokio::time::Instant::now();
            } else if since.elapsed() >= Duration::from_millis(1500) {
                return;
            }
        }
        panic!("audio kept coming for {timeout:?}");
    }

    /// Waits until at least `n` more audio frames than `skip` arrived.
    async fn wait_audio(&self, skip: usize, n: usize) -> Vec<Vec<u8>> {
        let frames = self
            .voice
            .wait_frames(PLAY_TIMEOUT, "music frames", |f| audio_count(f) >= skip + n)
            .await;
        audio_of(&frames)[skip..].to_vec()
    }
}

fn audio_count(frames: &[ReceivedFrame]) -> usize {
    frames.iter().filter(|f| f.kind == FrameKind::Audio).count()
}

/// The Opus packets the viewer decrypted, in order; a frame it could not decrypt fails.
fn audio_of(frames: &[ReceivedFrame]) -> Vec<Vec<u8>> {
    frames
        .iter()
        .filter(|f| f.kind == FrameKind::Audio)
        .map(|f| match &f.decrypted {
            Ok(p) => p.clone(),
            Err(e) => panic!("the viewer could not decrypt an audio frame: {e}"),
        })
        .collect()
}

/// The first channel's samples, decoded by FFmpeg.
fn decode(packets: &[Vec<u8>]) -> Vec<f32> {
    use ffmpeg_next as ff;
    lounge_streamer::init_ffmpeg().expect("FFmpeg initialises");
    let codec = ff::decoder::find(ff::codec::Id::OPUS).expect("an Opus decoder");
    let mut dec = ff::codec::Context::new_with_codec(codec)
        .decoder()
        .audio()
        .expect("open the decoder");
    let mut frame = ff::frame::Audio::empty();
    let mut out = Vec::new();
    for p in packets {
        dec.send_packet(&ff::Packet::copy(p)).unwrap_or_else(|e| {
            panic!(
                "FFmpeg refused an Opus packet: {e}: {} bytes {:02x?}",
                p.len(),
                &p[..p.len().min(24)]
            )
        });
        while dec.receive_frame(&mut frame).is_ok() {
            let n = frame.samples();
            match frame.format() {
                ff::format::Sample::F32(_) => out.extend_from_slice(&frame.plane::<f32>(0)[..n]),
                ff::format::Sample::I16(_) => out.extend(
                    frame.plane::<i16>(0)[..n]
                        .iter()
                        .map(|s| f32::from(*s) / 32768.0),
                ),
                other => panic!("unexpected sample format {other:?}"),
            }
        }
    }
    out
}

/// The power of `hz` in `samples` (Goertzel), normalised by length.
fn power_at(samples: &[f32], hz: f64) -> f64 {
    let k = 2.0 * (2.0 * std::f64::consts::PI * hz / RATE).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - k * s1 * s2) / (samples.len().max(1) as f64).powi(2)
}

fn rms(samples: &[f32]) -> f64 {
    (samples.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / samples.len().max(1) as f64)
        .sqrt()
}

/// The strongest of a few candidate pitches.
fn pitch(samples: &[f32]) -> u32 {
    [220, 330, 440, 550, 660, 880, 1000]
        .into_iter()
        .max_by(|a, b| {
            power_at(samples, f64::from(*a)).total_cmp(&power_at(samples, f64::from(*b)))
        })
        .unwrap()
}

/// Frames that carry sound (songbird ends a track with a few silence frames).
fn sounding(packets: &[Vec<u8>]) -> Vec<Vec<u8>> {
    packets
        .iter()
        .filter(|p| p.as_slice() != [0xF8, 0xFF, 0xFE])
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_plays_through_yt_dlp_as_a_440_hz_tone_and_volume_changes_its_loudness() {
    let m = Music::start().await;
    let url = m.media.url("a440.ogg");

    // Not in voice: a sentence, nothing joined.
    let refused = m.say(MEMBER_ID, &format!("!play {url}")).await;
    assert!(refused.contains("Join a voice channel first"), "{refused}");
    assert!(m.h.fake.bot_voice_ops().is_empty());

    m.h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);
    let playing = m.say(MEMBER_ID, &format!("!play {url}")).await;
    assert!(playing.contains("Playing **a440**"), "{playing}");
    assert_eq!(m.h.fake.bot_voice_channel(GUILD_ID), Some(VOICE_CHANNEL_ID));

    // The whole 4 s tone, then the track ends on its own.
    let ended = m
        .voice
        .wait_frames(PLAY_TIMEOUT, "the tone and its end", |f| {
            audio_count(f) >= 200
        })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let packets = sounding(&m.audio());
    let seconds = packets.len() as f64 * FRAME_SECONDS;
    assert!(
        (3.5..=4.5).contains(&seconds),
        "expected about 4 s of tone, got {seconds:.2} s ({} frames)",
        packets.len()
    );
    let samples = decode(&packets);
    assert!(!ended.is_empty());
    assert_eq!(pitch(&samples), 440, "the tone's pitch");
    let ratio = power_at(&samples, 440.0) / power_at(&samples, 1000.0).max(1e-30);
    assert!(ratio > 1000.0, "440 Hz should dominate: ratio {ratio}");
    assert!(
        (samples.len() as f64 / RATE - seconds).abs() < 0.1,
        "decoded length {} samples for {seconds} s",
        samples.len()
    );
    assert!(
        m.voice.violations().is_empty(),
        "{:?}",
        m.voice.violations()
    );
    assert!(
        m.voice.dave_ready() || !m.voice.call_groups_ready().is_empty(),
        "DAVE never came up"
    );

    // Louder and softer: the same tone at 100 % and then at 50 %.
    let long = m.media.url("long440.ogg");
    let skip = m.audio().len();
    let again = m.say(MEMBER_ID, &format!("!play {long}")).await;
    assert!(again.contains("Playing"), "{again}");
    let full = m.wait_audio(skip, 100).await;
    let set = m.say(MEMBER_ID, "!volume 50").await;
    assert!(set.contains("50 %"), "{set}");
    let skip = m.audio().len();
    let half = m.wait_audio(skip + 10, 100).await;
    let (loud, soft) = (rms(&decode(&full[50..])), rms(&decode(&half[..90])));
    let ratio = soft / loud;
    assert!(
        (0.4..=0.6).contains(&ratio),
        "volume 50 % should halve the amplitude: {loud:.4} then {soft:.4} ({ratio:.2})"
    );
    assert_eq!(pitch(&decode(&half[..90])), 440);

    // Bounds hold for prefix arguments too.
    for bad in ["!volume 500", "!volume -5"] {
        let answer = m.say(MEMBER_ID, bad).await;
        assert!(answer.contains("from 0 to 200"), "{bad}: {answer}");
    }
    let seek = m.say(MEMBER_ID, "!seek soon").await;
    assert!(seek.contains("isn't a position"), "{seek}");
    let left = m.say(MEMBER_ID, "!leave").await;
    assert!(left.contains("Left"), "{left}");
    m.h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_takes_commands_and_a_majority_of_listeners_skips() {
    let m = Music::start().await;
    m.h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);

    // yt-dlp's failures are sentences.
    let gone = m
        .say(
            MEMBER_ID,
            &format!("!play {}", m.media.path_url("/media/missing.ogg")),
        )
        .await;
    assert!(gone.contains("That link is gone"), "{gone}");
    let page = m
        .say(MEMBER_ID, &format!("!play {}", m.media.path_url("/page")))
        .await;
    assert!(page.contains("don't know how to play"), "{page}");

    let first = m
        .say(MEMBER_ID, &format!("!play {}", m.media.url("long440.ogg")))
        .await;
    assert!(first.contains("Playing"), "{first}");
    let second = m
        .say(MEMBER_ID, &format!("!play {}", m.media.url("long660.ogg")))
        .await;
    assert!(second.contains("at #1"), "{second}");
    let third = m
        .say(MEMBER_ID, &format!("!play {}", m.media.url("a440.ogg")))
        .await;
    assert!(third.contains("at #2"), "{third}");
    let moved = m.say(MEMBER_ID, "!queue move 2 1").await;
    assert!(moved.contains("Moved **a440** to #1"), "{moved}");
    let listed = m.say(MEMBER_ID, "!queue show").await;
    let (a, b) = (
        listed.find("a440").unwrap(),
        listed.find("long660").unwrap(),
    );
    assert!(a < b, "a440 was moved first: {listed}");
    let removed = m.say(MEMBER_ID, "!queue remove 1").await;
    assert!(removed.contains("Removed **a440**"), "{removed}");
    let missing = m.say(MEMBER_ID, "!queue remove 9").await;
    assert!(missing.contains("no track #9"), "{missing}");

    // Someone outside the channel can't control it.
    let outside = m.say(LISTENER_ID, "!skip").await;
    assert!(outside.contains("join it to control"), "{outside}");

    // Three listeners: the requester and two others. One vote is not a majority; two are.
    m.h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), LISTENER_ID);
    m.h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), STREAMER_USER_ID);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let one = m.say(LISTENER_ID, "!skip").await;
    assert!(one.contains("1 of 2"), "{one}");
    let skip = m.audio().len();
    let two = m.say(STREAMER_USER_ID, "!skip").await;
    assert!(two.contains("Skipped"), "{two}");
    // What plays now is the 660 Hz tone.
    let next = m.wait_audio(skip + 25, 50).await;
    assert_eq!(
        pitch(&decode(&next)),
        660,
        "the next track plays after the skip"
    );
    let now = m.say(MEMBER_ID, "!nowplaying").await;
    assert!(now.contains("long660"), "{now}");
    let history = m.say(MEMBER_ID, "!queue history").await;
    assert!(history.contains("long440"), "{history}");
    assert!(
        m.voice.violations().is_empty(),
        "{:?}",
        m.voice.violations()
    );
    m.h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_bot_rejoins_and_resumes_the_track_where_it_was() {
    let mut m = Music::start().await;
    m.h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);
    let playing = m
        .say(
            MEMBER_ID,
            &format!("!play {}", m.media.url("resume440.ogg")),
        )
        .await;
    assert!(playing.contains("Playing"), "{playing}");
    let queued = m
        .say(MEMBER_ID, &format!("!play {}", m.media.url("a440.ogg")))
        .await;
    assert!(queued.contains("at #1"), "{queued}");
    m.wait_audio(0, 250).await;
    // A crash: no goodbye, no last save.
    m.h.bot.kill();
    let before = m.audio().len();
    let store = m.h.db.store().await;
    let saved = store
        .music_now(GUILD_ID)
        .await
        .unwrap()
        .expect("what played is recorded");
    store.close().await;
    let position = Duration::from_millis(saved.position_ms.cast_unsigned());
    assert!(
        position >= Duration::from_secs(4),
        "the position is saved while it plays: {position:?}"
    );
    let db = std::mem::replace(&mut m.h.db, TestDb::sqlite());
    let fake = std::mem::replace(&mut m.h.fake, FakeDiscord::start().await);
    let Music {
        h: old,
        voice,
        media,
        dir,
        ..
    } = m;
    drop(old);
    let m = Music::start_on(db, fake, Some((voice, media, dir))).await;
    // It rejoins by itself and plays the rest of the 12 s tone: about 12 s minus where it
    // was, not the whole of it again (within 2 s), then the queued track.
    let rest = m.wait_audio(before, 50).await;
    assert_eq!(pitch(&decode(&rest)), 440);
    m.wait_quiet(Duration::from_secs(40)).await;
    let after = sounding(&m.audio()[before..]);
    let resumed = after.len() as f64 * FRAME_SECONDS;
    let expected = 12.0 - position.as_secs_f64();
    // The queued 4 s tone follows the resumed one.
    assert!(
        (resumed - 4.0 - expected).abs() <= 2.0,
        "resumed {resumed:.1} s of audio; expected about {expected:.1} s of the first track plus 4 s"
    );
    assert_eq!(m.h.fake.bot_voice_channel(GUILD_ID), Some(VOICE_CHANNEL_ID));
    m.h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sound_clip_plays_over_the_music_and_bad_clips_are_refused() {
    let m = Music::start().await;
    m.h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);
    let size = |name: &str| {
        std::fs::metadata(m.dir.path().join("media").join(name))
            .unwrap()
            .len()
    };

    // Checked by decoding, not by name: text, too long, too big.
    let text = m
        .say_with_file(
            MEMBER_ID,
            "!sound add notes",
            "notes.txt",
            size("notes.txt"),
        )
        .await;
    assert!(text.contains("isn't audio"), "{text}");
    let long = m
        .say_with_file(
            MEMBER_ID,
            "!sound add long",
            "resume440.ogg",
            size("resume440.ogg"),
        )
        .await;
    assert!(long.contains("longer than 10 seconds"), "{long}");
    let big = m
        .say_with_file(MEMBER_ID, "!sound add big", "beep660.ogg", 2_000_000)
        .await;
    assert!(big.contains("at most 1 MB"), "{big}");
    let bad_name = m
        .say_with_file(
            MEMBER_ID,
            "!sound add no/way",
            "beep660.ogg",
            size("beep660.ogg"),
        )
        .await;
    assert!(bad_name.contains("letters, digits"), "{bad_name}");
    let added = m
        .say_with_file(
            MEMBER_ID,
            "!sound add beep",
            "beep660.ogg",
            size("beep660.ogg"),
        )
        .await;
    assert!(added.contains("Added **beep** (2.0 s)"), "{added}");
    let again = m
        .say_with_file(
            MEMBER_ID,
            "!sound add beep",
            "beep660.ogg",
            size("beep660.ogg"),
        )
        .await;
    assert!(
        again.contains("already has a sound called `beep`"),
        "{again}"
    );
    let listed = m.say(MEMBER_ID, "!sound list").await;
    assert!(
        listed.contains("beep") && listed.contains("2.0 s"),
        "{listed}"
    );

    // The music plays (440 Hz); the clip (660 Hz) joins it without stopping it.
    let playing = m
        .say(MEMBER_ID, &format!("!play {}", m.media.url("long440.ogg")))
        .await;
    assert!(playing.contains("Playing"), "{playing}");
    let skip = m.audio().len();
    m.wait_audio(skip, 50).await;
    let played = m.say(MEMBER_ID, "!sound play beep").await;
    assert!(played.contains("beep"), "{played}");
    let skip = m.audio().len();
    let mixed = decode(&m.wait_audio(skip + 10, 50).await);
    let floor = power_at(&mixed, 1000.0).max(1e-30);
    assert!(
        power_at(&mixed, 440.0) / floor > 100.0 && power_at(&mixed, 660.0) / floor > 100.0,
        "both tones: 440 Hz {:.2e}, 660 Hz {:.2e}, floor {floor:.2e}",
        power_at(&mixed, 440.0),
        power_at(&mixed, 660.0)
    );
    // After the clip, the music alone.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let skip = m.audio().len();
    let after = decode(&m.wait_audio(skip, 50).await);
    assert_eq!(pitch(&after), 440);
    assert!(
        power_at(&after, 660.0) * 100.0 < power_at(&after, 440.0),
        "the clip has ended"
    );

    let outsider = m.say(LISTENER_ID, "!sound remove beep").await;
    assert!(outsider.contains("Only whoever added"), "{outsider}");
    let removed = m.say(MEMBER_ID, "!sound remove beep").await;
    assert!(removed.contains("Removed **beep**"), "{removed}");
    let gone = m.say(MEMBER_ID, "!sound play beep").await;
    assert!(gone.contains("no sound `beep`"), "{gone}");
    m.h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_soundboard_sounds_play_where_the_bot_is() {
    let m = Music::start().await;
    // Not in voice with the bot: refused, nothing sent.
    let refused = m.say(MEMBER_ID, "!sound discord quack").await;
    assert!(refused.contains("not in a voice channel"), "{refused}");
    m.h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);
    let joined = m.say(MEMBER_ID, "!join").await;
    assert!(joined.contains("Joined"), "{joined}");
    let quack = m.say(MEMBER_ID, "!sound discord quack").await;
    assert!(quack.contains("quack"), "{quack}");
    let bell = m.say(MEMBER_ID, "!sound discord lounge-bell").await;
    assert!(bell.contains("lounge-bell"), "{bell}");
    let unknown = m.say(MEMBER_ID, "!sound discord kazoo").await;
    assert!(unknown.contains("no soundboard sound `kazoo`"), "{unknown}");
    let sent = m.h.fake.soundboard_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].0, VOICE_CHANNEL_ID);
    assert_eq!(sent[0].1["sound_id"], "1");
    assert_eq!(
        sent[1].1["source_guild_id"],
        GUILD_ID.to_string(),
        "a server's own sound names its server"
    );
    m.h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_into_the_bots_own_network_are_refused_by_default() {
    let h = Harness::start(TestDb::sqlite()).await;
    h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);
    for link in [
        "http://127.0.0.1:8080/admin",
        "http://[::1]/x.ogg",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.1/router.mp3",
        "http://localhost:9000/a.ogg",
    ] {
        let answer = h
            .ask(
                GUILD_ID,
                GENERAL_CHANNEL_ID,
                MEMBER_ID,
                &format!("!play {link}"),
            )
            .await;
        assert!(
            answer.contains("own machine or network"),
            "{link}: {answer}"
        );
    }
    assert!(
        h.fake.bot_voice_ops().is_empty(),
        "nothing was joined for a refused link"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_offers_its_top_results_and_plays_the_pick() {
    let results = serde_json::json!({
        "calm tone": [
            {"title": "Calm tone (440)", "url": "MEDIA/long440.ogg", "duration": 30},
            {"title": "Calm tone (660)", "url": "MEDIA/long660.ogg", "duration": 30},
        ],
    });
    let (m, log) = Music::start_with_search(&results, &[]).await;
    m.h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);
    let none = m.say(MEMBER_ID, "!play nothing matches this").await;
    assert!(none.contains("Nothing matched"), "{none}");

    let asked = m.say(MEMBER_ID, "!play calm tone").await;
    assert!(asked.contains("Which one?"), "{asked}");
    let menu =
        m.h.fake
            .channel_messages(GENERAL_CHANNEL_ID)
            .into_iter()
            .rev()
            .find(|msg| msg["content"] == "Which one?")
            .expect("the question");
    let id: u64 = menu["id"].as_str().unwrap().parse().unwrap();
    let select = menu["components"][0]["components"][0].clone();
    assert_eq!(select["type"], 3, "a select menu: {menu}");
    let options = select["options"].as_array().unwrap();
    assert_eq!(options.len(), 2);
    assert_eq!(options[1]["label"], "Calm tone (660)");
    assert_eq!(options[1]["description"], "0:30");
    // Someone else's pick is refused privately; the asker's plays.
    let custom = select["custom_id"].as_str().unwrap();
    m.h.fake.choose_in_select(
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        LISTENER_ID,
        id,
        custom,
        &["1"],
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(m.audio().is_empty(), "another member's pick played");
    let skip = m.h.fake.requests().len();
    m.h.fake
        .choose_in_select(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, id, custom, &["1"]);
    let path = format!("/channels/{GENERAL_CHANNEL_ID}/messages");
    let playing =
        m.h.fake
            .wait_for_request(skip, crate::util::REPLY_TIMEOUT, |r| {
                r.method == "POST" && r.path == path
            })
            .await
            .text();
    assert!(playing.contains("Playing **Calm tone (660)**"), "{playing}");
    let heard = m.wait_audio(25, 50).await;
    assert_eq!(pitch(&decode(&heard)), 660, "the pick plays");
    let searches = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        searches.lines().collect::<Vec<_>>(),
        ["nothing matches this", "calm tone"],
        "one search each"
    );
    m.h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spotify_link_is_matched_by_isrc_and_length_and_a_playlist_is_queued() {
    use lounge_tests::spotify::{self as fake_spotify, FakeSpotify};
    let spotify = FakeSpotify::start(fake_spotify::CLIENT_ID, fake_spotify::CLIENT_SECRET).await;
    let isrc = format!("\"{}\"", fake_spotify::TRACK_ISRC);
    // The ISRC search's first result is the wrong length (a 30 s clip for a 3:33 track); the
    // second has the length and is what plays (the 660 Hz tone).
    let results = serde_json::json!({
        isrc.clone(): [
            {"title": "Neon Harbor (30 s preview)", "url": "MEDIA/long440.ogg", "duration": 30},
            {"title": "Neon Harbor", "url": "MEDIA/long660.ogg", "duration": 215},
        ],
    });
    let env = [
        (
            "LOUNGE_SPOTIFY__CLIENT_ID",
            fake_spotify::CLIENT_ID.to_owned(),
        ),
        (
            "LOUNGE_SPOTIFY__CLIENT_SECRET",
            fake_spotify::CLIENT_SECRET.to_owned(),
        ),
        ("LOUNGE_SPOTIFY__API_URL", format!("{}/v1", spotify.url())),
        ("LOUNGE_SPOTIFY__ACCOUNTS_URL", spotify.url()),
    ];
    let (m, log) = Music::start_with_search(&results, &env).await;
    m.h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);
    let episode = m
        .say(
            MEMBER_ID,
            "!play https://open.spotify.com/episode/5EpisodeOfAPodcast0001",
        )
        .await;
    assert!(episode.contains("not that kind of link"), "{episode}");

    let link = format!(
        "https://open.spotify.com/intl-de/track/{}?si=abc123",
        fake_spotify::TRACK_ID
    );
    let playing = m.say(MEMBER_ID, &format!("!play {link}")).await;
    assert!(
        playing.contains("Playing **") && playing.contains("Neon Harbor"),
        "{playing}"
    );
    let heard = m.wait_audio(25, 50).await;
    assert_eq!(
        pitch(&decode(&heard)),
        660,
        "the result with Spotify's length plays"
    );
    let searches = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        searches.lines().next(),
        Some(isrc.as_str()),
        "the ISRC is searched first: {searches}"
    );

    // 58 tracks are more than one member may queue (50): all or nothing, with a sentence.
    let playlist = format!(
        "https://open.spotify.com/playlist/{}",
        fake_spotify::PLAYLIST_ID
    );
    let refused = m.say(MEMBER_ID, &format!("!play {playlist}")).await;
    assert!(refused.contains("more than 50 of your tracks"), "{refused}");
    let album = format!("https://open.spotify.com/album/{}", fake_spotify::ALBUM_ID);
    let queued = m.say(MEMBER_ID, &format!("!play {album}")).await;
    assert!(
        queued.contains("Queued 3 tracks from **Night Signals**"),
        "{queued}"
    );
    let listed = m.say(MEMBER_ID, "!queue show").await;
    for title in fake_spotify::ALBUM_TRACK_TITLES {
        assert!(listed.contains(title), "{title} in {listed}");
    }
    assert!(
        listed.contains("4:01"),
        "Spotify's lengths are shown: {listed}"
    );
    spotify.assert_no_violations();
    m.h.finish().await;
}
