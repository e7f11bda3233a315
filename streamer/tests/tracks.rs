//! Audio and subtitle tracks by language: the pipeline plays the audio track asked for,
//! burns in text subtitles (checked on the decoded picture), and refuses with the languages
//! it has when a member asks for one it lacks. (FFmpeg cannot make picture subtitles from
//! text, so their refusal has no generated file to test with.)

use std::path::{Path, PathBuf};
use std::process::Command;

use lounge_streamer::pipeline::{self, Input, PipelineConfig, PipelineError, Wanted};

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("the tests need the ffmpeg CLI");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A black 2 s video with English and French audio and English subtitles in `codec`.
fn film(dir: &Path, name: &str, codec: &str) -> PathBuf {
    let srt = dir.join("en.srt");
    std::fs::write(
        &srt,
        "1\n00:00:00,000 --> 00:00:05,000\nHELLO WORLD HELLO\n",
    )
    .unwrap();
    let path = dir.join(name);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=black:size=320x240:rate=25:duration=2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=880:sample_rate=48000:duration=2",
        "-i",
        srt.to_str().unwrap(),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2:a",
        "-map",
        "3:s",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-c:s",
        codec,
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=fre",
        "-metadata:s:s:0",
        "language=eng",
        path.to_str().unwrap(),
    ]);
    path
}

fn config(audio: Option<(&str, bool)>, subtitles: Option<(&str, bool)>) -> PipelineConfig {
    let wanted = |w: Option<(&str, bool)>| {
        w.map(|(language, strict)| Wanted {
            language: language.to_owned(),
            strict,
        })
    };
    let mut config = PipelineConfig::new(
        lounge_streamer::encoder::by_name("x264").unwrap(),
        320,
        240,
        25,
    );
    config.audio_language = wanted(audio);
    config.subtitle_language = wanted(subtitles);
    config
}

fn check(path: &Path, config: &PipelineConfig) -> Result<pipeline::Streams, PipelineError> {
    lounge_streamer::init_ffmpeg().unwrap();
    pipeline::check_input(&Input::File(path.to_path_buf()), config)
}

/// How many bright pixels the first frame of `video` has (the burned-in text).
fn bright_pixels(video: &Path) -> usize {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(video)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout.iter().filter(|&&p| p > 128).count()
}

#[test]
fn the_audio_track_asked_for_plays_and_a_missing_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let film = film(dir.path(), "film.mkv", "srt");
    // Streams: 0 video, 1 English, 2 French, 3 subtitles.
    assert_eq!(
        check(&film, &config(None, None)).unwrap().audio_source,
        Some(1)
    );
    for french in ["fr", "fre", "French", "FRA"] {
        let streams = check(&film, &config(Some((french, true)), None)).unwrap();
        assert_eq!(streams.audio_source, Some(2), "{french}");
    }
    let e = check(&film, &config(Some(("de", true)), None)).unwrap_err();
    assert!(matches!(e, PipelineError::Track { .. }), "{e}");
    assert_eq!(e.kind(), lounge_ipc::to_bot::ErrorKind::TrackNotFound);
    assert!(e.to_string().contains("eng, fre"), "{e}");
    // The owner's default is a wish: without it the default track plays.
    let lenient = check(&film, &config(Some(("de", false)), None)).unwrap();
    assert_eq!(lenient.audio_source, Some(1));
}

#[test]
fn text_subtitles_are_burned_in_from_a_path_with_odd_characters() {
    let dir = tempfile::tempdir().unwrap();
    // A path FFmpeg's filter syntax would trip over unless escaped.
    let odd = dir.path().join("a dir: with, [odd] 'chars'");
    std::fs::create_dir_all(&odd).unwrap();
    let film = film(&odd, "film.mkv", "srt");
    let streams = check(&film, &config(None, Some(("en", true)))).unwrap();
    assert_eq!(streams.subtitles, Some(0));

    let plain = dir.path().join("plain.mp4");
    let burned = dir.path().join("burned.mp4");
    let input = Input::File(film.clone());
    lounge_streamer::output::transcode_input(&input, &plain, config(None, None)).unwrap();
    lounge_streamer::output::transcode_input(&input, &burned, config(None, Some(("eng", true))))
        .unwrap();
    assert_eq!(
        bright_pixels(&plain),
        0,
        "a black picture without subtitles"
    );
    assert!(
        bright_pixels(&burned) > 200,
        "the text shows on the picture"
    );

    let e = check(&film, &config(None, Some(("ja", true)))).unwrap_err();
    assert!(
        e.to_string().contains("no subtitles in `ja` (it has: eng)"),
        "{e}"
    );
    assert!(
        check(&film, &config(None, Some(("ja", false))))
            .unwrap()
            .subtitles
            .is_none()
    );
}
