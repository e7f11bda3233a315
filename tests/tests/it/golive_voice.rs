//! The streamer's Go Live voice connection against the fake voice server: real media from
//! FFmpeg through the real pipeline, DAVE-encrypted, sealed and sent over UDP; the fake's
//! viewer decrypts each frame and FFmpeg decodes it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lounge_streamer::encoder;
use lounge_streamer::golive::voice::{MediaSink, VoiceConnection, VoiceError, VoiceOptions};
use lounge_streamer::golive::{VideoInfo, VoiceServer};
use lounge_streamer::pipeline::{self, PipelineConfig, PipelineEvent, StreamKind};
use lounge_streamer::rtp::send::MediaUnit;
use lounge_tests::discord::voice::{
    AES_GCM, AUDIO_SSRC, FakeVoiceOptions, FakeVoiceServer, FrameKind, RTX_SSRC, ReceivedFrame,
    TestExternalSender, VIDEO_SSRC, XCHACHA, establish_pair, generic_nack,
};

const USER: u64 = 700_000_000_000_000_001;
const RTC_SERVER: u64 = 500_000_000_000_000_001;
const TOKEN: &str = "stream-token";
const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
const FPS: u32 = 30;
const WAIT: Duration = Duration::from_mins(1);

fn voice_server(fake: &FakeVoiceServer) -> VoiceServer {
    VoiceServer {
        endpoint: fake.endpoint(),
        server_id: RTC_SERVER,
        user_id: USER,
        session_id: "voice-session".into(),
        token: TOKEN.into(),
        dave_group_id: RTC_SERVER - 1,
        video: Some(VideoInfo {
            width: WIDTH,
            height: HEIGHT,
            fps: FPS,
            max_bitrate: 2_500_000,
        }),
    }
}

/// A test clip with picture and sound at the stream's size and rate.
fn clip(dir: &Path, seconds: u32) -> PathBuf {
    let path = dir.join("clip.mp4");
    lounge_tests::bin::clip(
        &path,
        &format!("{WIDTH}x{HEIGHT}"),
        FPS,
        u64::from(seconds),
        "ultrafast",
    );
    path
}

/// What the sender sent.
#[derive(Default)]
struct Sent {
    video: usize,
    audio: usize,
}

/// Streams `path` through the real pipeline into `sink` on a blocking thread; `each_video`
/// runs after every video frame with the count so far (for faults mid-stream).
async fn stream(
    path: PathBuf,
    sink: MediaSink,
    each_video: impl FnMut(usize) + Send + 'static,
) -> Result<Sent, VoiceError> {
    stream_keeping_sink(path, sink, each_video)
        .await
        .map(|(sent, _)| sent)
}

/// [`stream`], giving the sink back: as long as it lives, NACKs are answered.
async fn stream_keeping_sink(
    path: PathBuf,
    mut sink: MediaSink,
    mut each_video: impl FnMut(usize) + Send + 'static,
) -> Result<(Sent, MediaSink), VoiceError> {
    tokio::task::spawn_blocking(move || {
        lounge_streamer::init_ffmpeg().expect("FFmpeg initialises");
        let x264 = encoder::by_name("x264").expect("x264 is registered");
        let handle = pipeline::start(&path, PipelineConfig::new(x264, WIDTH, HEIGHT, FPS))
            .expect("the pipeline starts");
        let mut sent = Sent::default();
        loop {
            match handle.recv_timeout(Duration::from_secs(30)) {
                Ok(PipelineEvent::Packet(p)) => {
                    sink.send(&MediaUnit::from_encoded(&p))?;
                    match p.kind {
                        StreamKind::Video => {
                            sent.video += 1;
                            each_video(sent.video);
                        }
                        StreamKind::Audio => sent.audio += 1,
                    }
                }
                Ok(PipelineEvent::Finished) => return Ok((sent, sink)),
                Ok(PipelineEvent::Failed(e)) => panic!("pipeline failed: {e}"),
                Ok(_) => {}
                Err(e) => panic!("pipeline stalled: {e}"),
            }
        }
    })
    .await
    .expect("the streaming thread")
}

pub(crate) fn decrypted(frames: &[ReceivedFrame], kind: FrameKind) -> Vec<Vec<u8>> {
    frames
        .iter()
        .filter(|f| f.kind == kind)
        .map(|f| {
            f.decrypted
                .clone()
                .unwrap_or_else(|e| panic!("the viewer could not decrypt a {kind:?} frame: {e}"))
        })
        .collect()
}

/// Decodes H.264 access units with FFmpeg: (frames out, every frame's size).
pub(crate) fn decode_h264(units: &[Vec<u8>]) -> (usize, Vec<(u32, u32)>) {
    use ffmpeg_next as ff;
    lounge_streamer::init_ffmpeg().expect("FFmpeg initialises");
    let codec = ff::decoder::find(ff::codec::Id::H264).expect("an H.264 decoder");
    let mut dec = ff::codec::Context::new_with_codec(codec)
        .decoder()
        .video()
        .expect("open the decoder");
    let mut frame = ff::frame::Video::empty();
    let mut sizes = Vec::new();
    for unit in units {
        dec.send_packet(&ff::Packet::copy(unit))
            .unwrap_or_else(|e| panic!("FFmpeg refused a frame: {e}"));
        while dec.receive_frame(&mut frame).is_ok() {
            sizes.push((frame.width(), frame.height()));
        }
    }
    dec.send_eof().expect("eof");
    while dec.receive_frame(&mut frame).is_ok() {
        sizes.push((frame.width(), frame.height()));
    }
    (sizes.len(), sizes)
}

/// Decodes Opus packets with FFmpeg; returns the samples per packet.
fn decode_opus(packets: &[Vec<u8>]) -> Vec<usize> {
    use ffmpeg_next as ff;
    lounge_streamer::init_ffmpeg().expect("FFmpeg initialises");
    let codec = ff::decoder::find(ff::codec::Id::OPUS).expect("an Opus decoder");
    let mut dec = ff::codec::Context::new_with_codec(codec)
        .decoder()
        .audio()
        .expect("open the decoder");
    let mut frame = ff::frame::Audio::empty();
    let mut samples = Vec::new();
    for p in packets {
        dec.send_packet(&ff::Packet::copy(p))
            .unwrap_or_else(|e| panic!("FFmpeg refused an Opus packet: {e}"));
        while dec.receive_frame(&mut frame).is_ok() {
            samples.push(frame.samples());
        }
    }
    samples
}

fn nal_types(unit: &[u8]) -> Vec<u8> {
    (0..unit.len().saturating_sub(3))
        .filter(|&i| unit[i..i + 3] == [0, 0, 1])
        .map(|i| unit[i + 3] & 0x1F)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_reaches_the_viewer_end_to_end_encrypted_and_decodes() {
    let fake = FakeVoiceServer::start_with(FakeVoiceOptions {
        expected_token: Some(TOKEN.into()),
        ..FakeVoiceOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = clip(dir.path(), 2);
    let conn = VoiceConnection::connect(voice_server(&fake), VoiceOptions::default())
        .await
        .expect("the connection comes up with DAVE");
    assert!(
        fake.dave_ready(),
        "connect returned before the DAVE transition"
    );
    assert_eq!(
        conn.mode().name(),
        AES_GCM,
        "AES-GCM is preferred when offered"
    );
    let ids = fake.identifies();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].server_id, RTC_SERVER.to_string());
    assert_eq!(ids[0].user_id, USER.to_string());
    assert_eq!(ids[0].session_id, "voice-session");
    assert_eq!(
        fake.transition_ready(),
        [1],
        "op 23 for the announced commit"
    );
    assert!(conn.stats().dave_epoch.is_some());
    let video_ops = fake.video_ops();
    let stream0 = &video_ops[0]["streams"][0];
    assert_eq!(video_ops[0]["video_ssrc"], VIDEO_SSRC);
    assert_eq!(stream0["max_resolution"]["width"], WIDTH);
    assert_eq!(stream0["max_resolution"]["height"], HEIGHT);
    assert_eq!(stream0["max_framerate"], FPS);
    assert_eq!(fake.speaking()[0]["speaking"], 2, "soundshare on a stream");
    assert_eq!(fake.speaking()[0]["ssrc"], AUDIO_SSRC);

    let sink = conn.media_sink().expect("the sink");
    assert!(matches!(conn.media_sink(), Err(VoiceError::SinkTaken)));
    let sent = stream(path, sink, |_| {})
        .await
        .expect("everything is sent");
    assert!(
        sent.video >= 55 && sent.audio >= 90,
        "{} video, {} audio",
        sent.video,
        sent.audio
    );
    assert!(conn.first_packet_at().is_some());

    let frames = fake
        .wait_frames(WAIT, "every frame", |f| {
            f.iter().filter(|f| f.kind == FrameKind::Video).count() == sent.video
                && f.iter().filter(|f| f.kind == FrameKind::Audio).count() == sent.audio
        })
        .await;
    assert_eq!(fake.violations(), Vec::<String>::new());
    // Nothing crossed the wire in clear: every frame carries DAVE's footer and differs from
    // what the viewer recovered.
    for f in &frames {
        assert_eq!(
            f.encrypted[f.encrypted.len() - 2..],
            [0xFA, 0xFA],
            "{:?} frame without the DAVE marker",
            f.kind
        );
        assert_ne!(
            Ok(&f.encrypted),
            f.decrypted.as_ref(),
            "a {:?} frame was sent in clear",
            f.kind
        );
    }
    let video = decrypted(&frames, FrameKind::Video);
    assert!(
        nal_types(&video[0]).contains(&5),
        "the first frame is an IDR"
    );
    let (count, sizes) = decode_h264(&video);
    assert_eq!(count, sent.video, "every frame decodes");
    assert!(
        sizes.iter().all(|&s| s == (WIDTH, HEIGHT)),
        "{:?}",
        sizes.first()
    );
    let audio = decrypted(&frames, FrameKind::Audio);
    let samples = decode_opus(&audio);
    assert_eq!(samples.len(), sent.audio, "every Opus packet decodes");
    assert!(samples.iter().all(|&s| s == 960), "20 ms Opus frames");

    // A participant of another group (same ids, other keys) cannot read the frames.
    let group = fake.dave_group_id().expect("DAVE ran");
    let outsider_external = TestExternalSender::new(group);
    let (_, mut outsider) = establish_pair(&outsider_external, group, USER, 1234);
    for f in frames.iter().take(10) {
        let media = match f.kind {
            FrameKind::Video => davey::MediaType::VIDEO,
            FrameKind::Audio => davey::MediaType::AUDIO,
        };
        assert!(
            outsider.decrypt(USER, media, &f.encrypted).is_err(),
            "an outsider decrypted a frame"
        );
    }
    let stats = conn.stats();
    assert_eq!(
        stats.video_packets + stats.audio_packets,
        fake.packet_counts().0
    );

    // RTCP sender reports, about one per stream per second of media: each ties the RTP
    // timestamp of a frame just sent to the wall clock, with exactly the packets sent up to
    // and including that frame, and RTP time advances with wall time between reports (what a
    // receiver needs to keep audio and video in sync).
    let reports = fake.sender_reports();
    assert_eq!(reports.len() as u64, stats.sender_reports);
    for (ssrc, kind, rate) in [
        (VIDEO_SSRC, FrameKind::Video, 90_000.0),
        (AUDIO_SSRC, FrameKind::Audio, 48_000.0),
    ] {
        let mine: Vec<_> = reports.iter().filter(|r| r.ssrc == ssrc).collect();
        assert!(mine.len() >= 2, "{kind:?}: {} sender reports", mine.len());
        let sent: Vec<&ReceivedFrame> = frames.iter().filter(|f| f.kind == kind).collect();
        for r in &mine {
            let at = sent
                .iter()
                .position(|f| f.timestamp == r.rtp_timestamp)
                .unwrap_or_else(|| panic!("{kind:?} report for a timestamp never sent: {r:?}"));
            let packets: usize = sent[..=at].iter().map(|f| f.packets.len()).sum();
            assert_eq!(
                r.packets as usize, packets,
                "{kind:?} packet count in {r:?}"
            );
        }
        for w in mine.windows(2) {
            assert!(w[1].octets > w[0].octets, "{kind:?} octets: {w:?}");
            let media = f64::from(w[1].rtp_timestamp.wrapping_sub(w[0].rtp_timestamp)) / rate;
            let wall = w[1].ntp_seconds() - w[0].ntp_seconds();
            assert!(
                (0.95..1.2).contains(&media) && (media - wall).abs() < 0.25,
                "{kind:?}: {media:.3} s of media against {wall:.3} s of wall clock between reports"
            );
        }
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let ntp_now = unix + 2_208_988_800.0;
        let last = mine.last().unwrap().ntp_seconds();
        assert!(
            (ntp_now - last).abs() < 30.0,
            "NTP time {last} is not now ({ntp_now})"
        );
    }
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_websocket_is_resumed_while_media_keeps_flowing() {
    let fake = Arc::new(
        FakeVoiceServer::start_with(FakeVoiceOptions {
            modes: vec![XCHACHA.into()],
            ..FakeVoiceOptions::default()
        })
        .await,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = clip(dir.path(), 3);
    let conn = VoiceConnection::connect(voice_server(&fake), VoiceOptions::default())
        .await
        .expect("connects");
    assert_eq!(conn.mode().name(), XCHACHA);
    let sink = conn.media_sink().unwrap();
    let control = Arc::clone(&fake);
    let sent = stream(path, sink, move |n| {
        if n == 20 {
            control.drop_connections();
        }
    })
    .await
    .expect("sending never stops for the reconnect");
    let frames = fake
        .wait_frames(WAIT, "every frame", |f| {
            f.iter().filter(|f| f.kind == FrameKind::Video).count() == sent.video
        })
        .await;
    let deadline = std::time::Instant::now() + WAIT;
    while fake.resumes().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no resume: {:?}",
            conn.ended()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resume = &fake.resumes()[0];
    assert_eq!(resume["session_id"], "voice-session");
    assert!(
        resume["seq_ack"].as_i64().unwrap() > 0,
        "seq_ack tracks numbered messages"
    );
    assert_eq!(fake.identifies().len(), 1, "resumed, not re-identified");
    while conn.stats().resumes == 0 {
        assert!(std::time::Instant::now() < deadline, "no Resumed seen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.violations(), Vec::<String>::new());
    let video = decrypted(&frames, FrameKind::Video);
    let (count, _) = decode_h264(&video);
    assert_eq!(count, sent.video, "frames before and after the drop decode");
    // Heartbeats went on after the resume.
    let beats = fake.heartbeats().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        fake.heartbeats().len() > beats,
        "heartbeats after the resume"
    );
    assert!(conn.ended().is_none());
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packet_loss_does_not_stop_the_stream_and_the_next_keyframe_decodes() {
    let fake = Arc::new(FakeVoiceServer::start().await);
    let dir = tempfile::tempdir().unwrap();
    let path = clip(dir.path(), 3);
    let conn = VoiceConnection::connect(voice_server(&fake), VoiceOptions::default())
        .await
        .expect("connects");
    let control = Arc::clone(&fake);
    // 10% loss over frames 5–45; the pipeline's keyframe interval is 2 s (frame 61).
    let sent = stream(path, conn.media_sink().unwrap(), move |n| match n {
        5 => control.set_udp_loss(0.1),
        45 => control.set_udp_loss(0.0),
        _ => {}
    })
    .await
    .expect("sending continues through loss");
    let (_, dropped, _) = fake.packet_counts();
    assert!(dropped > 0, "the fake dropped packets");
    let stats = conn.stats();
    let total = stats.video_packets + stats.audio_packets;
    let frames = fake
        .wait_frames(WAIT, "every packet", |_| {
            let (received, dropped, _) = fake.packet_counts();
            received + dropped == total
        })
        .await;
    let (_, _, lost) = fake.packet_counts();
    assert!(lost > 0, "some frames were lost");
    let video = decrypted(&frames, FrameKind::Video);
    let last_idr = video
        .iter()
        .rposition(|u| nal_types(u).contains(&5))
        .expect("a keyframe after the loss");
    assert!(last_idr > 0, "the keyframe after the loss arrived");
    let tail = &video[last_idr..];
    let (count, sizes) = decode_h264(tail);
    assert_eq!(
        count,
        tail.len(),
        "every frame from the next keyframe decodes"
    );
    assert!(sizes.iter().all(|&s| s == (WIDTH, HEIGHT)));
    assert!(tail.len() >= sent.video.saturating_sub(61).saturating_sub(2));
    assert_eq!(fake.violations(), Vec::<String>::new());
    conn.close().await;
}

/// Waits for `cond`, or panics after [`WAIT`] saying `what` never happened.
async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Without retransmission a lost packet broke every frame up to the next keyframe (2 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nacked_video_comes_back_as_rtx_and_every_frame_decodes_without_a_keyframe() {
    const HISTORY: usize = 128;
    const DROPPED: usize = 5;
    let fake = Arc::new(FakeVoiceServer::start().await);
    let dir = tempfile::tempdir().unwrap();
    let path = clip(dir.path(), 3);
    let options = VoiceOptions {
        rtx_history: HISTORY,
        // Only the count ages packets out here, so what is too old does not depend on how
        // fast this machine is.
        rtx_max_age: Duration::from_hours(1),
        ..VoiceOptions::default()
    };
    let conn = VoiceConnection::connect(voice_server(&fake), options)
        .await
        .expect("connects");
    // Five P-slice packets once 20 video packets have passed (the first keyframe's), NACKed
    // together in one compound packet after the fifth.
    fake.drop_and_nack(20, DROPPED);
    let control = Arc::clone(&fake);
    let (sent, sink) = stream_keeping_sink(path, conn.media_sink().unwrap(), move |n| {
        if n == 3 {
            // Not RTCP the server sealed: an RTCP-looking header on noise, and a well-formed
            // NACK in clear. Neither may be answered, nor stop anything.
            let mut noise = vec![0x81, 205, 0, 9];
            noise.extend((0..36u8).map(|i| i.wrapping_mul(97)));
            control.send_raw_rtcp(&noise);
            control.send_raw_rtcp(&generic_nack(VIDEO_SSRC, &[0, 1, 2]));
        }
    })
    .await
    .expect("everything is sent");
    let is_video = |f: &&ReceivedFrame| f.kind == FrameKind::Video;
    let frames = fake
        .wait_frames(WAIT, "every video frame, the repaired ones too", |f| {
            f.iter().filter(is_video).count() == sent.video
        })
        .await;
    assert_eq!(fake.violations(), Vec::<String>::new());
    let dropped = fake.dropped_for_nack();
    assert_eq!(dropped.len(), DROPPED);
    assert_eq!(fake.nacks_sent(), 1);
    assert_eq!(fake.still_missing(), Vec::<u16>::new());
    assert_eq!(fake.packet_counts().2, 0, "no frame was lost");

    // Each retransmission: the RTX SSRC and payload type, its own consecutive sequence
    // numbers, the original's sequence number first and its timestamp and marker. (The fake
    // checked payload and header extension byte for byte.)
    let rtx = fake.retransmissions();
    assert_eq!(rtx.len(), DROPPED, "{rtx:?}");
    for (r, d) in rtx.iter().zip(&dropped) {
        assert_eq!(
            (r.ssrc, r.payload_type, r.osn, r.timestamp, r.marker),
            (RTX_SSRC, 102, d.sequence, d.timestamp, d.marker),
            "{r:?} for {d:?}"
        );
    }
    for w in rtx.windows(2) {
        assert_eq!(w[1].sequence, w[0].sequence.wrapping_add(1), "{w:?}");
    }

    // The repaired frames were mid-GOP (P-frames after a keyframe), the viewer decrypted
    // them (DAVE authenticates the whole frame, so every byte is back), and FFmpeg decodes
    // the whole stream.
    let video: Vec<&ReceivedFrame> = frames.iter().filter(is_video).collect();
    let units = decrypted(&frames, FrameKind::Video);
    let repaired: Vec<usize> = (0..video.len())
        .filter(|&i| dropped.iter().any(|d| d.timestamp == video[i].timestamp))
        .collect();
    assert!(!repaired.is_empty());
    for &i in &repaired {
        assert!(
            !nal_types(&units[i]).contains(&5),
            "frame {i} is not an IDR"
        );
        assert!(
            units[..i].iter().any(|u| nal_types(u).contains(&5)),
            "a keyframe before frame {i}"
        );
    }
    let (count, sizes) = decode_h264(&units);
    assert_eq!(count, sent.video, "every frame decodes");
    assert!(sizes.iter().all(|&s| s == (WIDTH, HEIGHT)));

    // Still streaming's sink alive: a NACK for the very first video packet, long out of the
    // history, is not answered; one for the last is. They are read in order, so once the
    // second is answered the first was passed over.
    let total: usize = video.iter().map(|f| f.packets.len()).sum();
    assert!(
        total > HISTORY + DROPPED,
        "the clip must outgrow the history: {total} video packets"
    );
    let first = video[0].packets[0].sequence;
    let last = video.last().unwrap().packets.last().unwrap().sequence;
    fake.send_nack(&[first]);
    fake.send_nack(&[last]);
    until("the RTX for the last packet", || {
        fake.retransmissions().iter().any(|r| r.osn == last)
            && conn.stats().retransmissions == DROPPED as u64 + 1
    })
    .await;
    let rtx = fake.retransmissions();
    assert_eq!(rtx.len(), DROPPED + 1, "{rtx:?}");
    assert!(!rtx.iter().any(|r| r.osn == first), "{rtx:?}");
    let stats = conn.stats();
    assert_eq!(
        (
            stats.nacked,
            stats.nacks_too_old,
            stats.nacks_over_budget,
            stats.rtcp_rejected
        ),
        (DROPPED as u64 + 2, 1, 0, 2),
        "{stats:?}"
    );
    assert_eq!(
        stats.video_packets as usize, total,
        "retransmissions are not counted as media"
    );
    assert_eq!(fake.violations(), Vec::<String>::new());
    drop(sink);
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_dave_is_refused_before_any_media() {
    let fake = FakeVoiceServer::start_with(FakeVoiceOptions {
        dave_protocol_version: 0,
        ..FakeVoiceOptions::default()
    })
    .await;
    let err = VoiceConnection::connect(voice_server(&fake), VoiceOptions::default())
        .await
        .expect_err("no DAVE, no stream");
    assert!(matches!(err, VoiceError::DaveNotNegotiated), "{err}");
    assert!(
        err.to_string().contains("never sends media without it"),
        "{err}"
    );
    assert_eq!(fake.key_packages(), 0);
    assert_eq!(fake.packet_counts().0, 0, "no media packet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_a_clear_error() {
    let fake = FakeVoiceServer::start_with(FakeVoiceOptions {
        expected_token: Some("another".into()),
        ..FakeVoiceOptions::default()
    })
    .await;
    let err = VoiceConnection::connect(voice_server(&fake), VoiceOptions::default())
        .await
        .expect_err("4004");
    assert!(
        matches!(err, VoiceError::Closed { code: 4004, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("token"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_common_encryption_mode_is_a_clear_error() {
    let fake = FakeVoiceServer::start_with(FakeVoiceOptions {
        modes: vec!["xsalsa20_poly1305".into()],
        ..FakeVoiceOptions::default()
    })
    .await;
    let err = VoiceConnection::connect(voice_server(&fake), VoiceOptions::default())
        .await
        .expect_err("no mode");
    assert!(matches!(err, VoiceError::NoEncryptionMode(_)), "{err}");
    assert!(fake.select_protocols().is_empty());
}
