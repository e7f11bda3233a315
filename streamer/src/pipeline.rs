//! The media pipeline: demux → decode → scale/convert (libavfilter) → H.264 + Opus encode →
//! timestamped packets on a channel.
//!
//! It runs on its own OS thread because every stage is CPU-bound and blocking; it must never
//! sit on the tokio executor. It is controlled through a [`PipelineHandle`] that sends
//! [`Control`] commands. Everything that can fail on bad input (opening, probing streams,
//! opening decoders and encoders) happens in [`start`] on the caller's thread, so a bad file is
//! an `Err` at once instead of an event later.
//!
//! The pipeline produces as fast as its consumer takes packets (the event queue is bounded);
//! holding packets until their media time is the sender's job (`rtp::pacer`, which tests drive
//! with a manual clock), so pacing lives in one place.
//!
//! Output timestamps are the pipeline's own timeline (frame and sample counters), not the
//! source's: after a seek or a pause the encoders still see strictly increasing timestamps,
//! which they require, and a receiver sees one continuous stream. Where the source is lives in
//! [`EncodedPacket::source_position`].

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use ffmpeg::format::stream::Disposition;
use ffmpeg::{ChannelLayout, Dictionary, Packet, Rational, codec, filter, format, frame, media};
use ffmpeg_next as ffmpeg;
use lounge_ipc::to_bot::ErrorKind;
use tracing::{debug, info, warn};

use crate::encoder::{VideoBackend, VideoEncoder, VideoSettings, open_video_encoder};
use crate::hw;

/// Opus at 48 kHz in 20 ms frames is what Discord voice carries.
pub const AUDIO_RATE: u32 = 48_000;
pub const AUDIO_FRAME_SAMPLES: u32 = 960;

#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub video: VideoSettings,
    pub backend: &'static dyn VideoBackend,
    /// Opus bitrate in bits per second.
    pub audio_bitrate: u64,
    /// Where in the source to begin.
    pub start_at: Duration,
    /// Events buffered before the pipeline waits for the consumer.
    pub queue: usize,
    /// The audio track to play, by language; the source's best track when `None`.
    pub audio_language: Option<Wanted>,
    /// Text subtitles to burn into the picture, by language; none when `None`.
    pub subtitle_language: Option<Wanted>,
}

/// A track wanted by language. `strict`: a member asked, so a source without it is refused;
/// otherwise (the owner's default) the pipeline goes on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub language: String,
    pub strict: bool,
}

impl PipelineConfig {
    /// A streaming profile: `height`p at `fps`, keyframe every 2 s, bitrate cap by size.
    pub fn new(backend: &'static dyn VideoBackend, width: u32, height: u32, fps: u32) -> Self {
        let pixels = u64::from(width) * u64::from(height) * u64::from(fps);
        Self {
            video: VideoSettings {
                width,
                height,
                fps,
                // ~0.1 bit per pixel per frame, capped at 6 Mbit/s: enough for 720p30 at
                // ~2.8 Mbit/s and within what Go Live viewers receive comfortably.
                bitrate: (pixels / 10).clamp(300_000, 6_000_000),
                gop: fps * 2,
                global_header: false,
            },
            backend,
            audio_bitrate: 128_000,
            start_at: Duration::ZERO,
            queue: 64,
            audio_language: None,
            subtitle_language: None,
        }
    }
}

/// Commands a [`PipelineHandle`] sends to the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    Seek(Duration),
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Video,
    Audio,
}

/// One encoded packet with its stream and time base.
pub struct EncodedPacket {
    pub kind: StreamKind,
    pub packet: Packet,
    pub time_base: Rational,
    /// Where in the source the most recent frame came from.
    pub source_position: Duration,
}

impl std::fmt::Debug for EncodedPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedPacket")
            .field("kind", &self.kind)
            .field("pts", &self.packet.pts())
            .field("size", &self.packet.size())
            .field("key", &self.is_key())
            .field("time_base", &self.time_base)
            .field("source_position", &self.source_position)
            .finish()
    }
}

impl EncodedPacket {
    pub fn data(&self) -> &[u8] {
        self.packet.data().unwrap_or_default()
    }

    pub fn is_key(&self) -> bool {
        self.packet.is_key()
    }

    /// Presentation time on the pipeline's own timeline.
    pub fn stream_time(&self) -> Duration {
        to_duration(self.packet.pts().unwrap_or(0), self.time_base)
    }
}

#[derive(Debug)]
pub enum PipelineEvent {
    Packet(EncodedPacket),
    Paused,
    Resumed,
    /// A seek completed; packets that follow come from this source position.
    Seeked(Duration),
    /// Something went wrong but playback continues (a corrupt packet, a failed seek).
    Warning(String),
    /// The source played to its end; the last event.
    Finished,
    /// A [`Control::Stop`] ended it; the last event.
    Stopped,
    /// Playback failed; the last event.
    Failed(PipelineError),
}

/// Why the pipeline could not start or stopped early. Each names the file or stage involved.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PipelineError {
    #[error("{0}: no such file")]
    NotFound(PathBuf),
    #[error("{path}: not a media file FFmpeg can read ({reason})")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{0}: has no video stream (only video files can be streamed)")]
    NoVideoStream(PathBuf),
    #[error("{path}: the {stream} codec `{codec}` is not supported by this FFmpeg ({reason})")]
    UnsupportedCodec {
        path: PathBuf,
        stream: &'static str,
        codec: String,
        reason: String,
    },
    #[error("video encoder: {0}")]
    VideoEncoder(String),
    #[error("audio encoder: {0}")]
    AudioEncoder(String),
    #[error("filter graph: {0}")]
    Filter(String),
    #[error("{path}: decoding failed: {reason}")]
    Decode { path: PathBuf, reason: String },
    #[error("the pipeline thread could not be started: {0}")]
    Thread(String),
    #[error("{path}: {why}")]
    Track { path: PathBuf, why: String },
}

impl PipelineError {
    /// The IPC error kind a bot would show for this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PipelineError::NotFound(_) => ErrorKind::SourceNotFound,
            PipelineError::Unreadable { .. }
            | PipelineError::NoVideoStream(_)
            | PipelineError::UnsupportedCodec { .. }
            | PipelineError::Decode { .. } => ErrorKind::UnsupportedMedia,
            PipelineError::VideoEncoder(_) | PipelineError::AudioEncoder(_) => {
                ErrorKind::EncoderFailed
            }
            PipelineError::Filter(_) | PipelineError::Thread(_) => ErrorKind::Internal,
            PipelineError::Track { .. } => ErrorKind::TrackNotFound,
        }
    }
}

/// Parameters and time base of one output stream, for a muxer.
#[derive(Clone)]
pub struct StreamInfo {
    pub parameters: codec::Parameters,
    pub time_base: Rational,
}

impl std::fmt::Debug for StreamInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamInfo")
            .field("codec", &self.parameters.id())
            .field("time_base", &self.time_base)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct Streams {
    pub video: StreamInfo,
    /// `None` when the source has no audio stream.
    pub audio: Option<StreamInfo>,
    /// The source's duration, when the container knows it.
    pub duration: Option<Duration>,
    /// The source stream the audio comes from.
    pub audio_source: Option<usize>,
    /// The subtitle stream burned in (its index among the source's subtitle streams).
    pub subtitles: Option<usize>,
}

/// Sends [`Control`] commands to a running pipeline; cheap to clone.
#[derive(Debug, Clone)]
pub struct PipelineControl(Sender<Control>);

impl PipelineControl {
    /// `false` if the pipeline has already ended.
    pub fn send(&self, command: Control) -> bool {
        self.0.send(command).is_ok()
    }
}

/// Controls a running pipeline and receives its events. Dropping it stops the pipeline and
/// waits for its thread.
#[derive(Debug)]
pub struct PipelineHandle {
    control: Sender<Control>,
    events: Option<Receiver<PipelineEvent>>,
    thread: Option<JoinHandle<()>>,
    streams: Streams,
}

impl PipelineHandle {
    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    /// Sends a command; `false` if the pipeline has already ended.
    pub fn send(&self, command: Control) -> bool {
        self.control.send(command).is_ok()
    }

    /// A control handle for another thread, so whoever reads the events (the sender thread)
    /// and whoever takes orders (the daemon) need not share the handle.
    pub fn controller(&self) -> PipelineControl {
        PipelineControl(self.control.clone())
    }

    pub fn pause(&self) -> bool {
        self.send(Control::Pause)
    }

    pub fn resume(&self) -> bool {
        self.send(Control::Resume)
    }

    pub fn seek(&self, position: Duration) -> bool {
        self.send(Control::Seek(position))
    }

    /// Asks the pipeline to stop; keep reading events until [`PipelineEvent::Stopped`], since
    /// the worker may be waiting for room in the queue.
    pub fn stop(&self) -> bool {
        self.send(Control::Stop)
    }

    /// The next event; `None` once the pipeline has ended and every event was read.
    pub fn recv(&self) -> Option<PipelineEvent> {
        self.events.as_ref()?.recv().ok()
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<PipelineEvent, RecvTimeoutError> {
        let events = self.events.as_ref().ok_or(RecvTimeoutError::Disconnected)?;
        events.recv_timeout(timeout)
    }
}

impl Drop for PipelineHandle {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Stop);
        // Dropping the receiver unblocks a worker waiting for queue room.
        self.events.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            warn!("the pipeline thread panicked");
        }
    }
}

/// Where the pipeline reads from.
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    /// An HTTP(S) URL read with extra request headers: a Plex part download, whose token is in
    /// the headers (a `Secret`) and never in the URL that errors and logs show.
    Http {
        url: String,
        headers: lounge_ipc::Secret,
    },
}

/// The protocols FFmpeg may use for an [`Input::Http`]: no `file`, `concat` or `subfile`, so
/// whatever the server answers cannot make FFmpeg open local files.
const HTTP_PROTOCOLS: &str = "http,https,tcp,tls";

/// The demuxers FFmpeg may pick, for files and URLs alike: media containers only. Playlists
/// and indirections (`concat`, `hls`, `dash`, `image2`, `ffmetadata`, ...) are left out, so an
/// `.ffconcat` or `.m3u8` inside `media_roots` cannot open files outside it, nor a member's
/// URL make FFmpeg fetch others. (A demuxer matches when any of its names is listed.)
const MEDIA_FORMATS: &str = "mov,matroska,avi,mpegts,mpeg,flv,ogg,wav,mp3,aac,flac,asf,m4v,\
    h264,hevc,ivf,nut,webm";

impl Input {
    fn open(&self) -> Result<(PathBuf, format::context::Input), PipelineError> {
        match self {
            Self::File(path) => {
                if !path.exists() {
                    return Err(PipelineError::NotFound(path.clone()));
                }
                let mut options = Dictionary::new();
                options.set("protocol_whitelist", "file");
                options.set("format_whitelist", MEDIA_FORMATS);
                let input = format::input_with_dictionary(path, options).map_err(|e| {
                    PipelineError::Unreadable {
                        path: path.clone(),
                        reason: e.to_string(),
                    }
                })?;
                Ok((path.clone(), input))
            }
            Self::Http { url, headers } => {
                let shown = PathBuf::from(url);
                let mut options = Dictionary::new();
                options.set("headers", headers.expose());
                options.set("protocol_whitelist", HTTP_PROTOCOLS);
                options.set("format_whitelist", MEDIA_FORMATS);
                let input = format::input_with_dictionary(url, options).map_err(|e| {
                    PipelineError::Unreadable {
                        path: shown.clone(),
                        reason: e.to_string(),
                    }
                })?;
                Ok((shown, input))
            }
        }
    }
}

/// Opens `input` and sets up decoders and encoders exactly as [`start`] does, then lets them go:
/// whether a source would play, without starting the thread or encoding anything.
pub fn check(input: &Path, config: &PipelineConfig) -> Result<Streams, PipelineError> {
    check_input(&Input::File(input.to_path_buf()), config)
}

/// [`check`] for any [`Input`].
pub fn check_input(input: &Input, config: &PipelineConfig) -> Result<Streams, PipelineError> {
    Worker::open(input, config).map(|worker| worker.streams())
}

/// Opens `input`, sets up decoders and encoders, and starts the pipeline thread.
pub fn start(input: &Path, config: PipelineConfig) -> Result<PipelineHandle, PipelineError> {
    start_input(&Input::File(input.to_path_buf()), config)
}

/// [`start`] for any [`Input`].
pub fn start_input(input: &Input, config: PipelineConfig) -> Result<PipelineHandle, PipelineError> {
    let worker = Worker::open(input, &config)?;
    let streams = worker.streams();
    let (control_tx, control_rx) = mpsc::channel();
    let (events_tx, events_rx) = mpsc::sync_channel(config.queue.max(1));
    let thread = std::thread::Builder::new()
        .name("lounge-pipeline".to_owned())
        .spawn(move || worker.run(&control_rx, events_tx))
        .map_err(|e| PipelineError::Thread(e.to_string()))?;
    Ok(PipelineHandle {
        control: control_tx,
        events: Some(events_rx),
        thread: Some(thread),
        streams,
    })
}

fn to_duration(ts: i64, tb: Rational) -> Duration {
    if tb.denominator() == 0 || ts <= 0 {
        return Duration::ZERO;
    }
    let nanos =
        i128::from(ts) * i128::from(tb.numerator()) * 1_000_000_000 / i128::from(tb.denominator());
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

fn from_duration(d: Duration, tb: Rational) -> i64 {
    if tb.numerator() == 0 {
        return 0;
    }
    let ticks = d.as_nanos() as i128 * i128::from(tb.denominator())
        / (i128::from(tb.numerator()) * 1_000_000_000);
    i64::try_from(ticks).unwrap_or(i64::MAX)
}

/// The consumer went away; the worker should wind down quietly.
struct Gone;

/// Sends events to the consumer.
struct Emitter {
    tx: SyncSender<PipelineEvent>,
}

impl Emitter {
    fn event(&self, event: PipelineEvent) -> Result<(), Gone> {
        self.tx.send(event).map_err(|_| Gone)
    }

    fn packet(&mut self, packet: EncodedPacket) -> Result<(), Gone> {
        self.event(PipelineEvent::Packet(packet))
    }
}

struct VideoChain {
    index: usize,
    stream_tb: Rational,
    decoder: codec::decoder::Video,
    graph: Option<filter::Graph>,
    encoder: VideoEncoder,
    settings: VideoSettings,
    pixel: format::Pixel,
    frames_out: i64,
    /// Drop decoded frames before this source timestamp (after a seek).
    skip_until: Option<i64>,
    force_key: bool,
    decoded: u64,
    /// Last decoded timestamp and the step before it, so end of input can be placed one
    /// frame after the last frame (the `fps` filter would otherwise drop that frame).
    last_ts: Option<i64>,
    last_step: i64,
    /// Text subtitles burned in: the file and the subtitle stream's index among them.
    subtitles: Option<(PathBuf, usize)>,
}

struct AudioChain {
    index: usize,
    stream_tb: Rational,
    decoder: codec::decoder::Audio,
    graph: Option<filter::Graph>,
    encoder: codec::encoder::audio::Encoder,
    frames_out_samples: i64,
    skip_until: Option<i64>,
}

struct Worker {
    path: PathBuf,
    input: format::context::Input,
    video: VideoChain,
    audio: Option<AudioChain>,
    duration: Option<Duration>,
    start_at: Duration,
    position: Duration,
    decode_errors: u64,
}

enum Outcome {
    Finished,
    Stopped,
}

impl Worker {
    fn open(source: &Input, config: &PipelineConfig) -> Result<Self, PipelineError> {
        let (path_buf, input) = source.open()?;
        // Cover art is a "video" stream of one picture; it is not something to stream.
        let video_stream = input
            .streams()
            .filter(|s| {
                s.parameters().medium() == media::Type::Video
                    && !s.disposition().contains(Disposition::ATTACHED_PIC)
            })
            .max_by_key(|s| {
                let p = codec::context::Context::from_parameters(s.parameters()).ok();
                p.and_then(|c| c.decoder().video().ok())
                    .map_or(0, |d| u64::from(d.width()) * u64::from(d.height()))
            })
            .ok_or_else(|| PipelineError::NoVideoStream(path_buf.clone()))?;
        let video_index = video_stream.index();
        let video_tb = video_stream.time_base();
        let video_decoder = open_decoder(
            &video_stream,
            &path_buf,
            "video",
            config.backend.decode_device(),
        )?
        .video()
        .map_err(|e| unsupported(&path_buf, "video", &video_stream, e))?;
        let audio_stream = match &config.audio_language {
            None => input.streams().best(media::Type::Audio),
            Some(wanted) => match by_language(&input, media::Type::Audio, &wanted.language) {
                Some(s) => Some(s),
                None if wanted.strict => {
                    return Err(PipelineError::Track {
                        path: path_buf,
                        why: format!(
                            "no audio track in `{}` (it has: {})",
                            wanted.language,
                            languages(&input, media::Type::Audio)
                        ),
                    });
                }
                None => input.streams().best(media::Type::Audio),
            },
        };
        let subtitles = subtitles(&input, source, &path_buf, config.subtitle_language.as_ref())?;
        let audio_decoder = match &audio_stream {
            Some(s) => Some((
                s.index(),
                s.time_base(),
                open_decoder(s, &path_buf, "audio", None)?
                    .audio()
                    .map_err(|e| unsupported(&path_buf, "audio", s, e))?,
            )),
            None => None,
        };
        let duration = (input.duration() > 0).then(|| {
            to_duration(
                input.duration(),
                Rational::new(1, ffmpeg::ffi::AV_TIME_BASE),
            )
        });

        let encoder = open_video_encoder(config.backend, &config.video)
            .map_err(PipelineError::VideoEncoder)?;
        let video = VideoChain {
            index: video_index,
            stream_tb: video_tb,
            decoder: video_decoder,
            graph: None,
            encoder,
            settings: config.video,
            pixel: config.backend.pixel_format(),
            frames_out: 0,
            skip_until: None,
            force_key: false,
            decoded: 0,
            last_ts: None,
            last_step: 0,
            subtitles,
        };
        let audio = match audio_decoder {
            Some((index, stream_tb, decoder)) => Some(AudioChain {
                index,
                stream_tb,
                decoder,
                graph: None,
                encoder: open_opus(config.audio_bitrate, config.video.global_header)?,
                frames_out_samples: 0,
                skip_until: None,
            }),
            None => None,
        };
        Ok(Worker {
            path: path_buf,
            input,
            video,
            audio,
            duration,
            start_at: config.start_at,
            position: Duration::ZERO,
            decode_errors: 0,
        })
    }

    fn streams(&self) -> Streams {
        Streams {
            video: StreamInfo {
                parameters: self.video.encoder.parameters(),
                time_base: Rational::new(1, self.video.settings.fps as i32),
            },
            audio: self.audio.as_ref().map(|a| StreamInfo {
                parameters: codec::Parameters::from(&*a.encoder),
                time_base: Rational::new(1, AUDIO_RATE as i32),
            }),
            duration: self.duration,
            audio_source: self.audio.as_ref().map(|a| a.index),
            subtitles: self.video.subtitles.as_ref().map(|(_, i)| *i),
        }
    }

    fn run(mut self, control: &Receiver<Control>, events: SyncSender<PipelineEvent>) {
        let mut emitter = Emitter { tx: events };
        let last = match self.run_inner(control, &mut emitter) {
            Ok(Outcome::Finished) => PipelineEvent::Finished,
            Ok(Outcome::Stopped) => PipelineEvent::Stopped,
            Err(Ok(e)) => PipelineEvent::Failed(e),
            Err(Err(Gone)) => {
                debug!("pipeline consumer went away");
                return;
            }
        };
        let _ = emitter.event(last);
    }

    fn run_inner(
        &mut self,
        control: &Receiver<Control>,
        out: &mut Emitter,
    ) -> Result<Outcome, Result<PipelineError, Gone>> {
        if !self.start_at.is_zero() {
            self.seek(self.start_at, out).map_err(Err)?;
        }
        loop {
            if let Some(outcome) = self.commands(control, out).map_err(Err)? {
                return Ok(outcome);
            }
            let mut packet = Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => break,
                Err(e) => {
                    // A damaged region: report it and keep reading; a file that never yields
                    // a frame is caught at the end.
                    self.decode_errors += 1;
                    if self.decode_errors > 100 {
                        return Err(Ok(self.decode_error(format!("reading failed: {e}"))));
                    }
                    out.event(PipelineEvent::Warning(format!("reading failed: {e}")))
                        .map_err(Err)?;
                    continue;
                }
            }
            let index = packet.stream();
            if index == self.video.index {
                if let Err(e) = self.video.decoder.send_packet(&packet) {
                    self.decode_errors += 1;
                    out.event(PipelineEvent::Warning(format!("bad video packet: {e}")))
                        .map_err(Err)?;
                }
                self.video.drain_decoder(&mut self.position, out)?;
            } else if let Some(audio) = self.audio.as_mut().filter(|a| a.index == index) {
                if let Err(e) = audio.decoder.send_packet(&packet) {
                    self.decode_errors += 1;
                    out.event(PipelineEvent::Warning(format!("bad audio packet: {e}")))
                        .map_err(Err)?;
                }
                audio.drain_decoder(self.position, out)?;
            }
        }
        // End of input: flush every stage in order so no frame is left inside.
        let _ = self.video.decoder.send_eof();
        self.video.drain_decoder(&mut self.position, out)?;
        self.video.flush(self.position, out)?;
        if let Some(audio) = self.audio.as_mut() {
            let _ = audio.decoder.send_eof();
            audio.drain_decoder(self.position, out)?;
            audio.flush(self.position, out)?;
        }
        if self.video.decoded == 0 {
            return Err(Ok(
                self.decode_error("no video frame could be decoded".to_owned())
            ));
        }
        Ok(Outcome::Finished)
    }

    fn decode_error(&self, reason: String) -> PipelineError {
        PipelineError::Decode {
            path: self.path.clone(),
            reason,
        }
    }

    /// Applies queued commands; while paused, blocks here until resumed, seeked or stopped.
    fn commands(
        &mut self,
        control: &Receiver<Control>,
        out: &mut Emitter,
    ) -> Result<Option<Outcome>, Gone> {
        let mut paused = false;
        loop {
            let command = if paused {
                match control.recv() {
                    Ok(c) => c,
                    // Every handle is gone: nobody can resume us.
                    Err(_) => return Ok(Some(Outcome::Stopped)),
                }
            } else {
                match control.try_recv() {
                    Ok(c) => c,
                    Err(TryRecvError::Empty) => return Ok(None),
                    Err(TryRecvError::Disconnected) => return Ok(Some(Outcome::Stopped)),
                }
            };
            match command {
                Control::Stop => return Ok(Some(Outcome::Stopped)),
                Control::Pause if !paused => {
                    paused = true;
                    out.event(PipelineEvent::Paused)?;
                }
                Control::Resume if paused => {
                    paused = false;
                    // Viewers who joined during the pause, and receivers that dropped their
                    // state, need a keyframe to start from (what Discord's clients send).
                    self.video.force_key = true;
                    out.event(PipelineEvent::Resumed)?;
                }
                Control::Seek(to) => self.seek(to, out)?,
                Control::Pause | Control::Resume => {}
            }
        }
    }

    fn seek(&mut self, to: Duration, out: &mut Emitter) -> Result<(), Gone> {
        let target = from_duration(to, Rational::new(1, ffmpeg::ffi::AV_TIME_BASE));
        // `..=target`: land on the keyframe at or before the target, then decode forward and
        // drop frames until the target so the first frame shown is the one asked for.
        if let Err(e) = self.input.seek(target, ..target) {
            return out.event(PipelineEvent::Warning(format!(
                "seeking to {:.3}s failed: {e}",
                to.as_secs_f64()
            )));
        }
        self.video.decoder.flush();
        // Filters keep frames and timing state from before the seek; rebuild them.
        self.video.graph = None;
        self.video.skip_until = Some(from_duration(to, self.video.stream_tb));
        self.video.force_key = true;
        self.video.last_ts = None;
        if let Some(audio) = self.audio.as_mut() {
            audio.decoder.flush();
            audio.graph = None;
            audio.skip_until = Some(from_duration(to, audio.stream_tb));
        }
        self.position = to;
        out.event(PipelineEvent::Seeked(to))
    }
}

/// `device`: decode on this GPU when FFmpeg can (the one the hardware encoder uses, so a 4K
/// HEVC source doesn't cost the CPU its decode), else in software, with the reason logged.
fn open_decoder(
    stream: &format::stream::Stream<'_>,
    path: &Path,
    kind: &'static str,
    device: Option<hw::DeviceKind>,
) -> Result<codec::decoder::Decoder, PipelineError> {
    let mut context = codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| unsupported(path, kind, stream, e))?;
    // Frame threads let 1080p+ sources decode in real time on modest CPUs.
    context.set_threading(codec::threading::Config::kind(
        codec::threading::Type::Frame,
    ));
    if let Some(device) = device {
        // The codec context keeps its own reference to the device.
        match hw::Device::open(device, None).and_then(|d| d.attach_decoder(&mut context)) {
            Ok(()) => info!(device = device.name(), "decoding video on the GPU"),
            Err(reason) => info!(%reason, "decoding video in software"),
        }
    }
    Ok(context.decoder())
}

fn unsupported(
    path: &Path,
    stream: &'static str,
    s: &format::stream::Stream<'_>,
    e: ffmpeg::Error,
) -> PipelineError {
    PipelineError::UnsupportedCodec {
        path: path.to_path_buf(),
        stream,
        codec: s.parameters().id().name().to_owned(),
        reason: e.to_string(),
    }
}

fn open_opus(
    bitrate: u64,
    global_header: bool,
) -> Result<codec::encoder::audio::Encoder, PipelineError> {
    let codec = codec::encoder::find_by_name("libopus").ok_or_else(|| {
        PipelineError::AudioEncoder("this FFmpeg build does not include libopus".to_owned())
    })?;
    let mut encoder = codec::context::Context::new_with_codec(codec)
        .encoder()
        .audio()
        .map_err(|e| PipelineError::AudioEncoder(e.to_string()))?;
    encoder.set_rate(AUDIO_RATE as i32);
    encoder.set_channel_layout(ChannelLayout::STEREO);
    encoder.set_format(format::Sample::F32(format::sample::Type::Packed));
    encoder.set_bit_rate(bitrate as usize);
    encoder.set_time_base(Rational::new(1, AUDIO_RATE as i32));
    if global_header {
        encoder.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let mut dict = Dictionary::new();
    dict.set("frame_duration", "20");
    dict.set("application", "audio");
    encoder
        .open_with(dict)
        .map_err(|e| PipelineError::AudioEncoder(format!("opening libopus failed: {e}")))
}

fn pixel_name(pixel: format::Pixel) -> &'static str {
    pixel.descriptor().map_or("yuv420p", |d| d.name())
}

/// A filter option's value escaped twice, as FFmpeg parses it: once for the filter's own
/// `key=value:key=value` list, once for the graph (`,`, `;`, `[`, `]`).
fn escape_filter_value(value: &str) -> String {
    let mut option = String::new();
    for c in value.chars() {
        if matches!(c, '\\' | '\'' | ':') {
            option.push('\\');
        }
        option.push(c);
    }
    let mut graph = String::new();
    for c in option.chars() {
        if matches!(c, '\\' | '\'' | '[' | ']' | ',' | ';') {
            graph.push('\\');
        }
        graph.push(c);
    }
    graph
}

/// The names a language goes by in stream tags and in what members type.
fn language_names(language: &str) -> Vec<String> {
    const NAMES: &[&[&str]] = &[
        &["en", "eng", "english"],
        &["fr", "fre", "fra", "french", "français"],
        &["de", "ger", "deu", "german", "deutsch"],
        &["es", "spa", "spanish", "español"],
        &["it", "ita", "italian"],
        &["pt", "por", "portuguese"],
        &["nl", "dut", "nld", "dutch"],
        &["sv", "swe", "swedish"],
        &["no", "nor", "nob", "norwegian"],
        &["da", "dan", "danish"],
        &["fi", "fin", "finnish"],
        &["pl", "pol", "polish"],
        &["ru", "rus", "russian"],
        &["ja", "jpn", "japanese"],
        &["ko", "kor", "korean"],
        &["zh", "chi", "zho", "chinese"],
        &["ar", "ara", "arabic"],
        &["hi", "hin", "hindi"],
        &["tr", "tur", "turkish"],
    ];
    let wanted = language.trim().to_lowercase();
    NAMES
        .iter()
        .find(|names| names.contains(&wanted.as_str()))
        .map_or_else(
            || vec![wanted.clone()],
            |names| names.iter().map(|n| (*n).to_owned()).collect(),
        )
}

fn stream_language(stream: &format::stream::Stream<'_>) -> Option<String> {
    stream.metadata().get("language").map(str::to_lowercase)
}

/// The first stream of `kind` whose language tag is `language` under any of its names.
fn by_language<'a>(
    input: &'a format::context::Input,
    kind: media::Type,
    language: &str,
) -> Option<format::stream::Stream<'a>> {
    let names = language_names(language);
    input.streams().find(|s| {
        s.parameters().medium() == kind && stream_language(s).is_some_and(|l| names.contains(&l))
    })
}

/// The languages of a source's streams of `kind`, for an error message.
fn languages(input: &format::context::Input, kind: media::Type) -> String {
    let found: Vec<String> = input
        .streams()
        .filter(|s| s.parameters().medium() == kind)
        .map(|s| stream_language(&s).unwrap_or_else(|| "untagged".to_owned()))
        .collect();
    if found.is_empty() {
        "none".to_owned()
    } else {
        found.join(", ")
    }
}

/// The text subtitle stream to burn in, as (file, index among the subtitle streams).
fn subtitles(
    input: &format::context::Input,
    source: &Input,
    path: &Path,
    wanted: Option<&Wanted>,
) -> Result<Option<(PathBuf, usize)>, PipelineError> {
    let Some(wanted) = wanted else {
        return Ok(None);
    };
    let refuse = |why: String| {
        if wanted.strict {
            Err(PipelineError::Track {
                path: path.to_path_buf(),
                why,
            })
        } else {
            Ok(None)
        }
    };
    let names = language_names(&wanted.language);
    let found = input
        .streams()
        .filter(|s| s.parameters().medium() == media::Type::Subtitle)
        .enumerate()
        .find(|(_, s)| stream_language(s).is_some_and(|l| names.contains(&l)));
    let Some((index, stream)) = found else {
        return refuse(format!(
            "no subtitles in `{}` (it has: {})",
            wanted.language,
            languages(input, media::Type::Subtitle)
        ));
    };
    let text = matches!(
        stream.parameters().id(),
        codec::Id::SUBRIP
            | codec::Id::SRT
            | codec::Id::ASS
            | codec::Id::SSA
            | codec::Id::MOV_TEXT
            | codec::Id::WEBVTT
            | codec::Id::TEXT
    );
    if !text {
        return refuse(format!(
            "the `{}` subtitles are pictures ({:?}), which can't be burned in yet",
            wanted.language,
            stream.parameters().id()
        ));
    }
    // The subtitles filter reads the file itself, so it needs one on this machine.
    match source {
        Input::File(file) => Ok(Some((file.clone(), index))),
        Input::Http { .. } => refuse(
            "subtitles can be burned in only from a file on the streamer's machine, not a \
             download"
                .to_owned(),
        ),
    }
}

fn filter_err(e: ffmpeg::Error) -> PipelineError {
    PipelineError::Filter(e.to_string())
}

fn find_filter(name: &str) -> Result<filter::Filter, PipelineError> {
    filter::find(name)
        .ok_or_else(|| PipelineError::Filter(format!("FFmpeg lacks the `{name}` filter")))
}

impl VideoChain {
    fn build_graph(&self, frame: &frame::Video) -> Result<filter::Graph, PipelineError> {
        let mut graph = filter::Graph::new();
        let sar = frame.aspect_ratio();
        let sar = if sar.numerator() <= 0 || sar.denominator() <= 0 {
            Rational::new(1, 1)
        } else {
            sar
        };
        let args = format!(
            "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
            frame.width(),
            frame.height(),
            pixel_name(frame.format()),
            self.stream_tb.numerator(),
            self.stream_tb.denominator(),
            sar.numerator(),
            sar.denominator()
        );
        graph
            .add(&find_filter("buffer")?, "in", &args)
            .map_err(filter_err)?;
        graph
            .add(&find_filter("buffersink")?, "out", "")
            .map_err(filter_err)?;
        let VideoSettings {
            width: w,
            height: h,
            fps,
            ..
        } = self.settings;
        // Subtitles are drawn at the source's size, on the source's timestamps, before the
        // picture is scaled. Letterbox rather than stretch; `fps` duplicates or drops frames
        // to a constant rate.
        let burn = self
            .subtitles
            .as_ref()
            .map_or_else(String::new, |(path, index)| {
                format!(
                    "subtitles=filename={}:si={index},",
                    escape_filter_value(&path.to_string_lossy())
                )
            });
        let spec = format!(
            "{burn}fps={fps},scale={w}:{h}:force_original_aspect_ratio=decrease,\
             pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format={}",
            pixel_name(self.pixel)
        );
        graph
            .output("in", 0)
            .and_then(|p| p.input("out", 0))
            .and_then(|p| p.parse(&spec))
            .map_err(filter_err)?;
        graph.validate().map_err(filter_err)?;
        Ok(graph)
    }

    fn drain_decoder(
        &mut self,
        position: &mut Duration,
        out: &mut Emitter,
    ) -> Result<(), Result<PipelineError, Gone>> {
        let mut decoded = frame::Video::empty();
        while self.decoder.receive_frame(&mut decoded).is_ok() {
            let ts = decoded.timestamp();
            if let (Some(limit), Some(ts)) = (self.skip_until, ts)
                && ts < limit
            {
                continue;
            }
            self.skip_until = None;
            if hw::is_hardware(&decoded) {
                // The scaler works in system memory; the encoder re-uploads if it wants surfaces.
                decoded = hw::download(&decoded).map_err(|e| Ok(PipelineError::Filter(e)))?;
            }
            self.decoded += 1;
            if let (Some(prev), Some(ts)) = (self.last_ts, ts)
                && ts > prev
            {
                self.last_step = ts - prev;
            }
            if ts.is_some() {
                self.last_ts = ts;
            }
            decoded.set_pts(ts);
            if self.graph.is_none() {
                self.graph = Some(self.build_graph(&decoded).map_err(Ok)?);
            }
            if let Some(graph) = self.graph.as_mut()
                && let Some(mut src) = graph.get("in")
            {
                src.source().add(&decoded).map_err(|e| Ok(filter_err(e)))?;
            }
            self.drain_graph(position, out)?;
        }
        Ok(())
    }

    fn drain_graph(
        &mut self,
        position: &mut Duration,
        out: &mut Emitter,
    ) -> Result<(), Result<PipelineError, Gone>> {
        let Some(graph) = self.graph.as_mut() else {
            return Ok(());
        };
        let Some(mut sink) = graph.get("out") else {
            return Ok(());
        };
        let mut filtered = frame::Video::empty();
        while sink.sink().frame(&mut filtered).is_ok() {
            let tb = sink.sink().time_base();
            *position = to_duration(filtered.pts().unwrap_or(0), tb);
            filtered.set_pts(Some(self.frames_out));
            self.frames_out += 1;
            let kind = if std::mem::take(&mut self.force_key) {
                ffmpeg::picture::Type::I
            } else {
                ffmpeg::picture::Type::None
            };
            filtered.set_kind(kind);
            self.encoder
                .send_frame(&filtered)
                .map_err(|e| Ok(PipelineError::VideoEncoder(e)))?;
            self.drain_encoder(*position, out).map_err(Err)?;
        }
        Ok(())
    }

    fn drain_encoder(&mut self, position: Duration, out: &mut Emitter) -> Result<(), Gone> {
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            out.packet(EncodedPacket {
                kind: StreamKind::Video,
                packet: std::mem::replace(&mut packet, Packet::empty()),
                time_base: Rational::new(1, self.settings.fps as i32),
                source_position: position,
            })?;
        }
        Ok(())
    }

    fn flush(
        &mut self,
        mut position: Duration,
        out: &mut Emitter,
    ) -> Result<(), Result<PipelineError, Gone>> {
        if let Some(graph) = self.graph.as_mut()
            && let Some(mut src) = graph.get("in")
        {
            let _ = match self.last_ts {
                Some(ts) => src.source().close(ts + self.last_step),
                None => src.source().flush(),
            };
        }
        self.drain_graph(&mut position, out)?;
        let _ = self.encoder.send_eof();
        self.drain_encoder(position, out).map_err(Err)
    }
}

impl AudioChain {
    fn build_graph(&self, frame: &frame::Audio) -> Result<filter::Graph, PipelineError> {
        let mut graph = filter::Graph::new();
        let mut layout = frame.channel_layout();
        if layout.is_empty() {
            layout = ChannelLayout::default(i32::from(frame.channels()));
        }
        let args = format!(
            "time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout=0x{:x}",
            self.stream_tb.numerator(),
            self.stream_tb.denominator(),
            frame.rate(),
            frame.format().name(),
            layout.bits()
        );
        graph
            .add(&find_filter("abuffer")?, "in", &args)
            .map_err(filter_err)?;
        graph
            .add(&find_filter("abuffersink")?, "out", "")
            .map_err(filter_err)?;
        let spec = format!(
            "aresample={AUDIO_RATE},aformat=sample_fmts={}:sample_rates={AUDIO_RATE}:channel_layouts=stereo",
            self.encoder.format().name()
        );
        graph
            .output("in", 0)
            .and_then(|p| p.input("out", 0))
            .and_then(|p| p.parse(&spec))
            .map_err(filter_err)?;
        graph.validate().map_err(filter_err)?;
        // Opus takes exactly 20 ms per frame (the last may be short).
        let frame_size = match self.encoder.frame_size() {
            0 => AUDIO_FRAME_SAMPLES,
            n => n,
        };
        if let Some(mut sink) = graph.get("out") {
            sink.sink().set_frame_size(frame_size);
        }
        Ok(graph)
    }

    fn drain_decoder(
        &mut self,
        position: Duration,
        out: &mut Emitter,
    ) -> Result<(), Result<PipelineError, Gone>> {
        let mut decoded = frame::Audio::empty();
        while self.decoder.receive_frame(&mut decoded).is_ok() {
            let ts = decoded.timestamp();
            if let (Some(limit), Some(ts)) = (self.skip_until, ts)
                && ts < limit
            {
                continue;
            }
            self.skip_until = None;
            decoded.set_pts(ts);
            if self.graph.is_none() {
                self.graph = Some(self.build_graph(&decoded).map_err(Ok)?);
            }
            if let Some(graph) = self.graph.as_mut()
                && let Some(mut src) = graph.get("in")
            {
                src.source().add(&decoded).map_err(|e| Ok(filter_err(e)))?;
            }
            self.drain_graph(position, out)?;
        }
        Ok(())
    }

    fn drain_graph(
        &mut self,
        position: Duration,
        out: &mut Emitter,
    ) -> Result<(), Result<PipelineError, Gone>> {
        let Some(graph) = self.graph.as_mut() else {
            return Ok(());
        };
        let Some(mut sink) = graph.get("out") else {
            return Ok(());
        };
        let mut filtered = frame::Audio::empty();
        while sink.sink().frame(&mut filtered).is_ok() {
            filtered.set_pts(Some(self.frames_out_samples));
            self.frames_out_samples += filtered.samples() as i64;
            self.encoder
                .send_frame(&filtered)
                .map_err(|e| Ok(PipelineError::AudioEncoder(e.to_string())))?;
            self.drain_encoder(position, out).map_err(Err)?;
        }
        Ok(())
    }

    fn drain_encoder(&mut self, position: Duration, out: &mut Emitter) -> Result<(), Gone> {
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            out.packet(EncodedPacket {
                kind: StreamKind::Audio,
                packet: std::mem::replace(&mut packet, Packet::empty()),
                time_base: Rational::new(1, AUDIO_RATE as i32),
                source_position: position,
            })?;
        }
        Ok(())
    }

    fn flush(
        &mut self,
        position: Duration,
        out: &mut Emitter,
    ) -> Result<(), Result<PipelineError, Gone>> {
        if let Some(graph) = self.graph.as_mut()
            && let Some(mut src) = graph.get("in")
        {
            let _ = src.source().flush();
        }
        self.drain_graph(position, out)?;
        let _ = self.encoder.send_eof();
        self.drain_encoder(position, out).map_err(Err)
    }
}
