//! Integration tests for `lounge-streamer`: real media in, real FFmpeg, checked with ffprobe.

mod rtp;
mod tracks;
mod util;

use std::path::{Path, PathBuf};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use lounge_streamer::encoder;
use lounge_streamer::pipeline::{
    self, PipelineConfig, PipelineError, PipelineEvent, PipelineHandle, StreamKind,
};
use util::{Media, probe_streams, stream_of, streamer, text};

fn x264() -> &'static dyn encoder::VideoBackend {
    encoder::by_name("x264").expect("x264 is in the registry")
}

fn small_config(fps: u32) -> PipelineConfig {
    PipelineConfig::new(x264(), 320, 240, fps)
}

fn start(path: &Path, config: PipelineConfig) -> PipelineHandle {
    lounge_streamer::init_ffmpeg().expect("FFmpeg initialises");
    pipeline::start(path, config).expect("the pipeline starts")
}

/// Reads events until `pred` matches one, returning the packets seen on the way.
fn until(
    handle: &PipelineHandle,
    what: &str,
    pred: impl Fn(&PipelineEvent) -> bool,
) -> Vec<pipeline::EncodedPacket> {
    let mut packets = Vec::new();
    loop {
        match handle.recv_timeout(Duration::from_secs(30)) {
            Ok(e) if pred(&e) => return packets,
            Ok(PipelineEvent::Packet(p)) => packets.push(p),
            Ok(PipelineEvent::Failed(e)) => panic!("pipeline failed while waiting for {what}: {e}"),
            Ok(PipelineEvent::Finished | PipelineEvent::Stopped) => {
                panic!("pipeline ended while waiting for {what}")
            }
            Ok(_) => {}
            Err(e) => panic!("no {what} event: {e}"),
        }
    }
}

#[test]
fn transcode_mp4_has_every_frame_at_target_size_as_h264_without_b_frames() {
    let dir = tempfile::tempdir().unwrap();
    let input = Media {
        size: "640x360",
        rate: 30,
        seconds: 2,
        audio: true,
    }
    .make(dir.path(), "in.mp4");
    let output = dir.path().join("out.mp4");
    let out = streamer(
        &[
            "transcode",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
            "--width",
            "320",
            "--height",
            "180",
            "--fps",
            "15",
        ],
        None,
        &[],
    );
    assert!(
        out.status.success(),
        "transcode failed: {}",
        text(&out.stderr)
    );

    let streams = probe_streams(&output);
    let video = stream_of(&streams, "video").expect("a video stream");
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(
        (video["width"].as_str(), video["height"].as_str()),
        ("320", "180")
    );
    // 2 s at 15 fps, resampled from 30 fps.
    assert_eq!(video["nb_read_frames"], "30");
    assert_eq!(video["has_b_frames"], "0");
    let types = util::picture_types(&output);
    assert_eq!(types.len(), 30);
    assert!(!types.iter().any(|t| t == "B"), "B-frames in {types:?}");
    assert_eq!(types[0], "I");

    let audio = stream_of(&streams, "audio").expect("an audio stream");
    assert_eq!(audio["codec_name"], "opus");
    assert_eq!(audio["sample_rate"], "48000");
    assert_eq!(audio["channels"], "2");
}

#[test]
fn transcode_mkv_of_a_silent_video_has_only_video() {
    let dir = tempfile::tempdir().unwrap();
    let input = Media {
        size: "320x240",
        rate: 25,
        seconds: 1,
        audio: false,
    }
    .make(dir.path(), "in.mkv");
    let output = dir.path().join("out.mkv");
    let out = streamer(
        &[
            "transcode",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
            "--width",
            "160",
            "--height",
            "120",
            "--fps",
            "25",
        ],
        None,
        &[],
    );
    assert!(
        out.status.success(),
        "transcode failed: {}",
        text(&out.stderr)
    );
    let streams = probe_streams(&output);
    assert_eq!(streams.len(), 1, "{streams:?}");
    assert_eq!(streams[0]["codec_name"], "h264");
    assert_eq!(streams[0]["nb_read_frames"], "25");
}

#[test]
fn keyframes_come_every_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let input = Media {
        size: "320x240",
        rate: 10,
        seconds: 5,
        audio: false,
    }
    .make(dir.path(), "in.mp4");
    let handle = start(&input, small_config(10));
    let mut keys = Vec::new();
    let mut n = 0;
    while let Some(event) = handle.recv() {
        match event {
            PipelineEvent::Packet(p) if p.kind == StreamKind::Video => {
                if p.is_key() {
                    keys.push(n);
                }
                n += 1;
            }
            PipelineEvent::Finished => break,
            PipelineEvent::Failed(e) => panic!("{e}"),
            _ => {}
        }
    }
    assert_eq!(n, 50);
    // gop = 2 s × 10 fps: a keyframe at least every 20 frames, starting with the first (an
    // encoder may add scene-cut keyframes, never fewer).
    assert_eq!(keys.first(), Some(&0));
    for pair in keys.windows(2) {
        assert!(pair[1] - pair[0] <= 20, "keyframes {keys:?}");
    }
    assert!(50 - keys.last().unwrap() <= 20, "keyframes {keys:?}");
}

#[test]
fn bad_inputs_are_clear_errors() {
    lounge_streamer::init_ffmpeg().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = || small_config(15);

    let missing = dir.path().join("nope.mp4");
    let err = pipeline::start(&missing, config()).unwrap_err();
    assert_eq!(err, PipelineError::NotFound(missing.clone()));
    assert!(err.to_string().contains("no such file"), "{err}");

    let garbage = dir.path().join("garbage.mp4");
    std::fs::write(
        &garbage,
        (0..4096u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let err = pipeline::start(&garbage, config()).unwrap_err();
    assert!(matches!(err, PipelineError::Unreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("not a media file"), "{err}");

    // A real file cut short: the header survives, the frames do not.
    let whole = Media {
        size: "320x240",
        rate: 25,
        seconds: 1,
        audio: false,
    }
    .make(dir.path(), "whole.mkv");
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.path().join("cut.mkv");
    std::fs::write(&cut, &bytes[..bytes.len().min(600)]).unwrap();
    match pipeline::start(&cut, config()) {
        Err(e) => assert!(matches!(e, PipelineError::Unreadable { .. }), "{e:?}"),
        Ok(handle) => {
            let mut last = None;
            while let Some(event) = handle.recv() {
                last = Some(event);
            }
            assert!(
                matches!(
                    last,
                    Some(PipelineEvent::Failed(PipelineError::Decode { .. }))
                ),
                "{last:?}"
            );
        }
    }

    let audio = util::make_audio_only(dir.path());
    let err = pipeline::start(&audio, config()).unwrap_err();
    assert_eq!(err, PipelineError::NoVideoStream(audio.clone()));

    // The CLI says the same in one line and exits non-zero.
    let out = streamer(
        &[
            "transcode",
            missing.to_str().unwrap(),
            dir.path().join("o.mp4").to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error:") && stderr.contains("no such file"),
        "{stderr}"
    );
}

#[test]
fn doctor_reports_every_candidate_and_falls_back_to_libx264_without_hardware() {
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap();
    let out = streamer(
        &["doctor"],
        None,
        &[("LOUNGE_STREAMER_STATE_DIR", state_dir)],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    // No Plex token: doctor says so, and creates nothing (no client identifier yet).
    assert!(
        stdout.contains("Plex:     not linked") && stdout.contains("lounge-streamer plex login"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_dir(state.path()).unwrap().count(), 0);
    for needle in [
        "OS:",
        "CPU:",
        "Memory:",
        "FFmpeg:",
        "libx264",
        "Decoders:",
        "Why:",
    ] {
        assert!(stdout.contains(needle), "missing {needle}:\n{stdout}");
    }
    if cfg!(target_os = "linux") {
        for codec in ["h264_nvenc", "h264_vaapi", "h264_qsv"] {
            assert!(stdout.contains(codec), "missing {codec}:\n{stdout}");
        }
        // Every GPU decode path is reported with what was found: a device or why not.
        let section = stdout
            .split("Hardware decoding")
            .nth(1)
            .unwrap_or_else(|| panic!("no hardware decoding section:\n{stdout}"));
        for device in ["vaapi", "cuda", "qsv"] {
            let line = section
                .lines()
                .find(|l| l.trim_start().starts_with(device))
                .unwrap_or_else(|| panic!("no {device} decode line:\n{stdout}"));
            assert!(
                line.contains("device ok") || line.contains(&format!("no usable {device} device")),
                "{line}"
            );
        }
    }
    let hardware_ok = stdout
        .lines()
        .any(|l| l.contains(" hardware ") && l.contains("test encode ok"));
    if !hardware_ok {
        assert!(
            stdout.contains("Chosen encoder: x264 (libx264)"),
            "no hardware encoder works here, so libx264 must be chosen:\n{stdout}"
        );
    }
}

#[test]
fn pipeline_pauses_seeks_and_stops_on_command() {
    let dir = tempfile::tempdir().unwrap();
    let input = Media {
        size: "320x240",
        rate: 25,
        seconds: 4,
        audio: true,
    }
    .make(dir.path(), "in.mp4");
    let handle = start(&input, small_config(25));
    assert!(handle.streams().audio.is_some());

    let first = until(
        &handle,
        "video packet",
        |e| matches!(e, PipelineEvent::Packet(p) if p.kind == StreamKind::Video),
    );
    assert!(first.iter().all(|p| p.kind == StreamKind::Audio));

    assert!(handle.pause());
    until(&handle, "paused", |e| matches!(e, PipelineEvent::Paused));
    // Paused means nothing more comes out, however long we wait.
    assert_eq!(
        handle.recv_timeout(Duration::from_millis(300)).err(),
        Some(RecvTimeoutError::Timeout)
    );

    // A seek while paused is applied at once and playback stays paused.
    assert!(handle.seek(Duration::from_secs(2)));
    until(
        &handle,
        "seeked",
        |e| matches!(e, PipelineEvent::Seeked(d) if *d == Duration::from_secs(2)),
    );
    assert_eq!(
        handle.recv_timeout(Duration::from_millis(300)).err(),
        Some(RecvTimeoutError::Timeout)
    );

    assert!(handle.resume());
    until(&handle, "resumed", |e| matches!(e, PipelineEvent::Resumed));
    let mut video = Vec::new();
    while video.len() < 5 {
        match handle.recv_timeout(Duration::from_secs(30)) {
            Ok(PipelineEvent::Packet(p)) if p.kind == StreamKind::Video => video.push(p),
            Ok(PipelineEvent::Packet(_)) => {}
            other => panic!("expected packets after resume, got {other:?}"),
        }
    }
    // The first picture after a seek is a keyframe from the target, not from before it.
    assert!(video[0].is_key(), "{:?}", video[0]);
    let pos = video[0].source_position;
    assert!(
        pos >= Duration::from_secs(2) && pos < Duration::from_millis(2200),
        "{pos:?}"
    );

    // Seeking back keeps the output timeline strictly increasing.
    let before = video.last().unwrap().stream_time();
    assert!(handle.seek(Duration::ZERO));
    until(
        &handle,
        "seeked back",
        |e| matches!(e, PipelineEvent::Seeked(d) if d.is_zero()),
    );
    let next = until(
        &handle,
        "video after seek back",
        |e| matches!(e, PipelineEvent::Packet(p) if p.kind == StreamKind::Video && p.stream_time() > before),
    );
    assert!(
        next.iter()
            .all(|p| p.kind == StreamKind::Audio || p.stream_time() > before)
    );

    // A plain pause and resume starts again on a keyframe, for viewers who joined meanwhile.
    assert!(handle.pause());
    until(&handle, "paused again", |e| {
        matches!(e, PipelineEvent::Paused)
    });
    assert!(handle.resume());
    until(&handle, "resumed again", |e| {
        matches!(e, PipelineEvent::Resumed)
    });
    let first = loop {
        match handle.recv_timeout(Duration::from_secs(30)) {
            Ok(PipelineEvent::Packet(p)) if p.kind == StreamKind::Video => break p,
            Ok(PipelineEvent::Packet(_)) => {}
            other => panic!("expected packets after resume, got {other:?}"),
        }
    };
    assert!(first.is_key(), "{first:?}");

    assert!(handle.stop());
    until(&handle, "stopped", |e| matches!(e, PipelineEvent::Stopped));
    assert!(handle.recv().is_none(), "nothing after stopped");
}

#[test]
fn pipeline_runs_to_the_end_with_one_packet_per_output_frame() {
    let dir = tempfile::tempdir().unwrap();
    let input = Media {
        size: "320x240",
        rate: 30,
        seconds: 2,
        audio: true,
    }
    .make(dir.path(), "in.mp4");
    let mut config = small_config(15);
    config.start_at = Duration::from_secs(1);
    let handle = start(&input, config);
    let (mut video, mut audio) = (0, 0);
    let mut last_pts = -1;
    loop {
        match handle.recv().expect("the pipeline ends with an event") {
            PipelineEvent::Packet(p) => match p.kind {
                StreamKind::Video => {
                    let pts = p.packet.pts().unwrap();
                    assert!(pts > last_pts, "video pts went from {last_pts} to {pts}");
                    last_pts = pts;
                    video += 1;
                }
                StreamKind::Audio => {
                    assert!(p.data().len() < 1500, "an Opus packet is one 20 ms frame");
                    audio += 1;
                }
            },
            PipelineEvent::Finished => break,
            PipelineEvent::Failed(e) => panic!("{e}"),
            _ => {}
        }
    }
    // Started at 1 s of a 2 s file: 1 s at 15 fps, and ~50 Opus frames of 20 ms.
    assert_eq!(video, 15);
    assert!((49..=52).contains(&audio), "{audio} audio packets");
}

#[test]
fn config_check_names_the_missing_secret_and_accepts_env_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lounge-streamer.toml");
    std::fs::write(&file, "encoder = \"x264\"\n").unwrap();

    let out = streamer(&["config", "check"], Some(&file), &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("ipc_secret"),
        "{}",
        text(&out.stderr)
    );

    // The bot's `LOUNGE_STREAMER__*` settings may share the environment: not ours, not errors.
    let out = streamer(
        &["config", "check"],
        Some(&file),
        &[
            ("LOUNGE_STREAMER_IPC_SECRET", "s3cret"),
            ("LOUNGE_STREAMER__SECRET", "s3cret"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("encoder: x264 (forced)") && !stdout.contains("s3cret"),
        "{stdout}"
    );

    std::fs::write(&file, "ipc_secret = \"x\"\nencodr = \"x264\"\n").unwrap();
    let out = streamer(&["config", "check"], Some(&file), &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("encodr"),
        "{}",
        text(&out.stderr)
    );

    std::fs::write(&file, "ipc_secret = \"x\"\nencoder = \"h265_magic\"\n").unwrap();
    let out = streamer(&["config", "check"], Some(&file), &[]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("h265_magic") && stderr.contains("x264"),
        "{stderr}"
    );
}

/// `lounge-streamer run` listening on a socket in `dir` with the secret `hunter2`.
fn start_daemon(dir: &Path) -> (util::Reap, PathBuf) {
    let socket = dir.join("s.sock");
    let file = dir.join("lounge-streamer.toml");
    std::fs::write(
        &file,
        format!(
            "socket = {:?}\nipc_secret = \"hunter2\"\nmedia_roots = [{:?}]\n",
            socket.to_str().unwrap(),
            dir.to_str().unwrap()
        ),
    )
    .unwrap();
    let child = std::process::Command::new(util::BIN)
        .arg("--config")
        .arg(&file)
        .arg("run")
        .env("LOUNGE_STREAMER_LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    (util::Reap(Some(child)), socket)
}

/// Bad sources get their own error kinds over IPC, before the missing voice connection.
#[test]
fn play_reports_bad_sources_with_their_own_kinds() {
    use lounge_ipc::to_bot::ErrorKind;
    use lounge_ipc::to_streamer::{Command, Source};
    use lounge_ipc::{Client, ClientConfig, ClientError, Secret};

    let dir = tempfile::tempdir().unwrap();
    let good = Media {
        size: "320x240",
        rate: 30,
        seconds: 1,
        audio: true,
    }
    .make(dir.path(), "good.mkv");
    let audio_only = util::make_audio_only(dir.path());
    let text_file = dir.path().join("notes.mp4");
    std::fs::write(&text_file, "not a video at all").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = Media {
        size: "320x240",
        rate: 30,
        seconds: 1,
        audio: true,
    }
    .make(elsewhere.path(), "outside.mkv");
    let (mut child, socket) = start_daemon(dir.path());

    let url = |p: &Path| Source::Url {
        url: format!("file://{}", p.display()),
    };
    let cases = [
        (
            url(&dir.path().join("missing.mkv")),
            ErrorKind::SourceNotFound,
            "no such file",
        ),
        (
            url(&outside),
            ErrorKind::SourceNotFound,
            "outside the media folders",
        ),
        (
            Source::Url {
                url: "good.mkv".into(),
            },
            ErrorKind::NotInVoice,
            "the source plays",
        ),
        (
            url(&text_file),
            ErrorKind::UnsupportedMedia,
            "not a media file",
        ),
        (
            url(&audio_only),
            ErrorKind::UnsupportedMedia,
            "no video stream",
        ),
        (
            // No Plex account is linked on this streamer.
            Source::Plex {
                rating_key: "1".into(),
            },
            ErrorKind::PlexNotLinked,
            "plex login",
        ),
        (url(&good), ErrorKind::NotInVoice, "the source plays"),
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = Client::spawn(ClientConfig::new(&socket, Secret::new("hunter2")));
        client
            .wait_connected(Duration::from_secs(30))
            .await
            .expect("the bot side connects");
        for (source, kind, words) in cases {
            let answer = client
                .request(Command::Play {
                    source: source.clone(),
                    start_offset_ms: 0,
                    tracks: lounge_ipc::to_streamer::Tracks::default(),
                })
                .await;
            match answer {
                Err(ClientError::Streamer { kind: got, detail }) => {
                    assert_eq!(got, kind, "{source:?}: {detail}");
                    assert!(detail.contains(words), "{source:?}: {detail}");
                }
                other => panic!("{source:?}: {other:?}"),
            }
        }
        client.request(Command::Shutdown).await.unwrap();
    });
    let out = child.0.take().unwrap().wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn run_answers_status_and_shuts_down_over_ipc() {
    use lounge_ipc::to_bot::{ErrorKind, PlaybackState, Reply};
    use lounge_ipc::to_streamer::Command;
    use lounge_ipc::{Client, ClientConfig, ClientError, Secret};

    let dir = tempfile::tempdir().unwrap();
    let (mut child, socket) = start_daemon(dir.path());

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, join, shutdown) = runtime.block_on(async {
        let client = Client::spawn(ClientConfig::new(&socket, Secret::new("hunter2")));
        client
            .wait_connected(Duration::from_secs(30))
            .await
            .expect("the bot side connects");
        let status = client.request(Command::Status).await;
        let join = client
            .request(Command::JoinVoice {
                guild_id: Some(1),
                channel_id: 2,
            })
            .await;
        let shutdown = client.request(Command::Shutdown).await;
        (status, join, shutdown)
    });
    match status {
        Ok(Reply::Status(s)) => assert_eq!(s.state, PlaybackState::Disconnected),
        other => panic!("{other:?}"),
    }
    match join {
        Err(ClientError::Streamer { kind, detail }) => {
            assert_eq!(kind, ErrorKind::GoLiveDisabled);
            assert!(detail.contains("accept_selfbot_risk"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(shutdown.unwrap(), Reply::Ok);
    let out = child.0.take().unwrap().wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Terms of Service"),
        "{}",
        text(&out.stderr)
    );
    assert!(!socket.exists(), "the socket file is removed on shutdown");
}

/// The end-to-end check: `rtp-out` (the Go Live packetizer and pacer, unencrypted)
/// sends plain RTP that an independent receiver (GStreamer's depayloaders) turns back into
/// every frame.
#[test]
fn rtp_out_is_received_by_gstreamer_frame_for_frame() {
    let dir = tempfile::tempdir().unwrap();
    let input = Media {
        size: "320x240",
        rate: 30,
        seconds: 2,
        audio: true,
    }
    .make(dir.path(), "in.mp4");
    let (vport, aport) = (util::free_udp_port(), util::free_udp_port());
    let video_out = dir.path().join("video.mp4");
    let audio_out = dir.path().join("audio.ogg");
    let gst = util::Gst::launch(&format!(
        "udpsrc port={vport} caps=application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96 \
         ! rtpjitterbuffer ! rtph264depay ! h264parse ! mp4mux ! filesink location={} \
         udpsrc port={aport} caps=application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=97 \
         ! rtpjitterbuffer ! rtpopusdepay ! opusparse ! oggmux ! filesink location={}",
        video_out.display(),
        audio_out.display()
    ));

    let out = streamer(
        &[
            "rtp-out",
            input.to_str().unwrap(),
            "--video",
            &format!("udp://127.0.0.1:{vport}"),
            "--audio",
            &format!("udp://127.0.0.1:{aport}"),
            "--width",
            "320",
            "--height",
            "240",
            "--fps",
            "15",
        ],
        None,
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sdp = text(&out.stdout);
    assert!(
        sdp.contains(&format!("m=video {vport} RTP/AVP 96"))
            && sdp.contains("a=rtpmap:96 H264/90000")
            && sdp.contains(&format!("m=audio {aport} RTP/AVP 97"))
            && sdp.contains("a=rtpmap:97 opus/48000/2"),
        "{sdp}"
    );

    gst.finish();

    let video = probe_streams(&video_out);
    let video = stream_of(&video, "video").expect("GStreamer wrote a video stream");
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(video["nb_read_frames"], "30", "2 s at 15 fps");
    let audio = probe_streams(&audio_out);
    let audio = stream_of(&audio, "audio").expect("GStreamer wrote an audio stream");
    assert_eq!(audio["codec_name"], "opus");
    let frames: u32 = audio["nb_read_frames"].parse().unwrap();
    assert!((95..=105).contains(&frames), "{frames} Opus frames for 2 s");
}

#[test]
fn encoder_candidates_follow_the_os_and_end_in_software() {
    let names = |os| {
        encoder::candidates(os)
            .into_iter()
            .map(encoder::VideoBackend::codec_name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names("linux"),
        [
            "h264_nvenc",
            "h264_vaapi",
            "h264_qsv",
            "libx264",
            "libopenh264"
        ]
    );
    assert_eq!(
        names("windows"),
        [
            "h264_nvenc",
            "h264_qsv",
            "h264_amf",
            "h264_mf",
            "libx264",
            "libopenh264"
        ]
    );
    assert_eq!(
        names("macos"),
        ["h264_videotoolbox", "libx264", "libopenh264"]
    );
    assert_eq!(names("freebsd"), ["libx264", "libopenh264"]);
    assert_eq!(
        encoder::by_name("NVENC").map(encoder::VideoBackend::codec_name),
        Some("h264_nvenc")
    );
    assert_eq!(
        encoder::by_name("libx264").map(encoder::VideoBackend::name),
        Some("x264")
    );
    assert!(encoder::by_name("h265_magic").is_none());
}

#[test]
fn forcing_an_encoder_probes_only_that_one() {
    lounge_streamer::init_ffmpeg().unwrap();
    let selection = encoder::select("linux", Some("openh264"), false);
    assert_eq!(selection.reports.len(), 1);
    assert_eq!(selection.reports[0].backend, "openh264");
    // Debian's FFmpeg has no libopenh264; where it exists the forced choice must win.
    match selection.chosen {
        Some(b) => assert_eq!(b.name(), "openh264"),
        None => assert!(
            selection.reason.contains("openh264"),
            "{}",
            selection.reason
        ),
    }
    let selection = encoder::select("linux", Some("x264"), false);
    assert_eq!(
        selection.chosen.map(encoder::VideoBackend::name),
        Some("x264")
    );
}

#[test]
fn sdp_describes_both_rtp_streams() {
    let sdp = lounge_streamer::output::sdp("udp://127.0.0.1:5004", Some("udp://127.0.0.1:5006"));
    assert!(sdp.starts_with("v=0\n"), "{sdp}");
    assert!(sdp.contains("c=IN IP4 127.0.0.1\n"), "{sdp}");
    assert!(
        sdp.contains("m=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"),
        "{sdp}"
    );
    assert!(
        sdp.contains("m=audio 5006 RTP/AVP 97\na=rtpmap:97 opus/48000/2\n"),
        "{sdp}"
    );
    let video_only = lounge_streamer::output::sdp("udp://127.0.0.1:5004", None);
    assert!(!video_only.contains("m=audio"), "{video_only}");
}

#[test]
fn dropping_the_handle_mid_stream_ends_the_thread() {
    let dir = tempfile::tempdir().unwrap();
    let input = Media {
        size: "320x240",
        rate: 25,
        seconds: 4,
        audio: true,
    }
    .make(dir.path(), "in.mp4");
    let mut config = small_config(25);
    // A queue of one: the worker is certainly blocked on a full queue when the handle goes.
    config.queue = 1;
    let handle = start(&input, config);
    assert!(matches!(handle.recv(), Some(PipelineEvent::Packet(_))));
    // Drop joins the worker; if it could not unblock, this test would never finish.
    drop(handle);
}

/// libx264 behind a backend that asks for GPU decoding on a device no test machine has: the
/// pipeline must decode in software instead and lose nothing.
#[derive(Debug)]
struct X264WithCudaDecode;

impl encoder::VideoBackend for X264WithCudaDecode {
    fn name(&self) -> &'static str {
        "x264-cuda-decode"
    }
    fn codec_name(&self) -> &'static str {
        x264().codec_name()
    }
    fn hardware(&self) -> bool {
        false
    }
    fn platforms(&self) -> &'static [&'static str] {
        &["*"]
    }
    fn options(&self, dict: &mut ffmpeg_next::Dictionary<'_>) {
        x264().options(dict);
    }
    fn decode_device(&self) -> Option<lounge_streamer::hw::DeviceKind> {
        Some(lounge_streamer::hw::DeviceKind::Cuda)
    }
}

#[test]
fn without_the_gpu_to_decode_on_the_pipeline_decodes_in_software() {
    let dir = tempfile::tempdir().unwrap();
    let input = Media {
        size: "320x240",
        rate: 30,
        seconds: 1,
        audio: false,
    }
    .make(dir.path(), "in.mp4");
    let handle = start(
        &input,
        PipelineConfig::new(&X264WithCudaDecode, 320, 240, 30),
    );
    let mut video = 0;
    loop {
        match handle.recv().expect("the pipeline ends with an event") {
            PipelineEvent::Packet(p) if p.kind == StreamKind::Video => video += 1,
            PipelineEvent::Finished => break,
            PipelineEvent::Failed(e) => panic!("{e}"),
            _ => {}
        }
    }
    assert_eq!(video, 30);
}
