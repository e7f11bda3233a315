//! Where pipeline packets go outside Discord: a local file (`transcode`, through a
//! libavformat muxer) or plain RTP (`rtp-out`, through [`crate::rtp`], the Go Live sender).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use ffmpeg::{Dictionary, Rational, codec, format};
use ffmpeg_next as ffmpeg;
use tracing::warn;

use crate::pipeline::{
    self, EncodedPacket, PipelineConfig, PipelineError, PipelineEvent, StreamKind,
};
use crate::rtp::crypto::Plain;
use crate::rtp::pacer::{Pacer, SystemClock};
use crate::rtp::send::{MediaSender, MediaUnit, UdpTransport};
use crate::rtp::{HeaderExtension, StreamConfig};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("{target}: {reason}")]
    Mux { target: String, reason: String },
}

/// What a run produced, for the CLI and the benchmark.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub video_packets: u64,
    pub audio_packets: u64,
    pub video_bytes: u64,
    /// From `start` until the first encoded video packet came out.
    pub first_packet: Option<Duration>,
    pub elapsed: Duration,
}

impl Stats {
    /// Encoded video frames per second of wall time.
    pub fn fps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.video_packets as f64 / secs
        } else {
            0.0
        }
    }
}

/// One muxer and the output stream each pipeline stream maps to.
struct Muxer {
    target: String,
    octx: format::context::Output,
    /// (pipeline time base, output stream index) for video and audio.
    video: Option<(Rational, usize)>,
    audio: Option<(Rational, usize)>,
}

impl Muxer {
    fn mux_err(target: &str, what: &str, e: ffmpeg::Error) -> OutputError {
        OutputError::Mux {
            target: target.to_owned(),
            reason: format!("{what}: {e}"),
        }
    }

    fn add(
        octx: &mut format::context::Output,
        target: &str,
        info: &pipeline::StreamInfo,
    ) -> Result<usize, OutputError> {
        let codec = codec::encoder::find(info.parameters.id());
        let mut ost = octx
            .add_stream(codec)
            .map_err(|e| Self::mux_err(target, "adding a stream failed", e))?;
        ost.set_parameters(info.parameters.clone());
        ost.set_time_base(info.time_base);
        Ok(ost.index())
    }

    fn start(&mut self, options: Dictionary<'_>) -> Result<(), OutputError> {
        self.octx
            .write_header_with(options)
            .map_err(|e| Self::mux_err(&self.target, "writing the header failed", e))?;
        Ok(())
    }

    fn write(&mut self, mut p: EncodedPacket) -> Result<(), OutputError> {
        let slot = match p.kind {
            StreamKind::Video => self.video,
            StreamKind::Audio => self.audio,
        };
        let Some((tb, index)) = slot else {
            return Ok(());
        };
        let out_tb = self.octx.stream(index).map_or(tb, |s| s.time_base());
        p.packet.set_stream(index);
        p.packet.rescale_ts(tb, out_tb);
        p.packet.set_position(-1);
        p.packet
            .write_interleaved(&mut self.octx)
            .map_err(|e| Self::mux_err(&self.target, "writing a packet failed", e))
    }

    fn finish(&mut self) -> Result<(), OutputError> {
        self.octx
            .write_trailer()
            .map_err(|e| Self::mux_err(&self.target, "finishing the file failed", e))
    }
}

/// Runs the pipeline until the end, handing each packet to `sink`; returns stats.
fn drive(
    handle: &pipeline::PipelineHandle,
    started: Instant,
    mut sink: impl FnMut(EncodedPacket) -> Result<(), OutputError>,
) -> Result<Stats, OutputError> {
    let mut stats = Stats::default();
    while let Some(event) = handle.recv() {
        match event {
            PipelineEvent::Packet(p) => {
                match p.kind {
                    StreamKind::Video => {
                        stats.first_packet.get_or_insert_with(|| started.elapsed());
                        stats.video_packets += 1;
                        stats.video_bytes += p.data().len() as u64;
                    }
                    StreamKind::Audio => stats.audio_packets += 1,
                }
                sink(p)?;
            }
            PipelineEvent::Warning(w) => warn!(warning = %w, "pipeline"),
            PipelineEvent::Failed(e) => return Err(e.into()),
            PipelineEvent::Finished | PipelineEvent::Stopped => break,
            PipelineEvent::Paused | PipelineEvent::Resumed | PipelineEvent::Seeked(_) => {}
        }
    }
    stats.elapsed = started.elapsed();
    Ok(stats)
}

/// Transcodes `input` into `output` (container chosen by its extension, e.g. `.mp4`, `.mkv`).
pub fn transcode(
    input: &Path,
    output: &Path,
    config: PipelineConfig,
) -> Result<Stats, OutputError> {
    transcode_input(&pipeline::Input::File(input.to_path_buf()), output, config)
}

/// [`transcode`] for any [`pipeline::Input`] (a Plex part download, say).
pub fn transcode_input(
    input: &pipeline::Input,
    output: &Path,
    mut config: PipelineConfig,
) -> Result<Stats, OutputError> {
    let target = output.display().to_string();
    let mut octx =
        format::output(output).map_err(|e| Muxer::mux_err(&target, "cannot create output", e))?;
    config.video.global_header = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);
    let started = Instant::now();
    let handle = pipeline::start_input(input, config)?;
    let streams = handle.streams().clone();
    let video = Muxer::add(&mut octx, &target, &streams.video)?;
    let audio = match &streams.audio {
        Some(info) => Some((info.time_base, Muxer::add(&mut octx, &target, info)?)),
        None => None,
    };
    let mut muxer = Muxer {
        target,
        octx,
        video: Some((streams.video.time_base, video)),
        audio,
    };
    muxer.start(Dictionary::new())?;
    let stats = drive(&handle, started, |p| muxer.write(p))?;
    muxer.finish()?;
    Ok(stats)
}

/// RTP payload types, from the dynamic range; receivers are told them in the SDP.
pub const VIDEO_PAYLOAD_TYPE: u8 = 96;
pub const AUDIO_PAYLOAD_TYPE: u8 = 97;
/// The id of the playout-delay extension on video packets, as Discord-video-stream sends it;
/// announced in the SDP so receivers know what it is.
pub const PLAYOUT_DELAY_ID: u8 = 5;

/// An SDP describing the two RTP streams, for a receiver such as `ffplay` or GStreamer.
/// SPS/PPS travel in-band before every keyframe, so none are listed here.
pub fn sdp(video: &str, audio: Option<&str>) -> String {
    let (vhost, vport) = host_port(video);
    let mut s = String::new();
    let _ = writeln!(s, "v=0");
    let _ = writeln!(s, "o=- 0 0 IN IP4 {vhost}");
    let _ = writeln!(s, "s=lounge-streamer");
    let _ = writeln!(s, "c=IN IP4 {vhost}");
    let _ = writeln!(s, "t=0 0");
    let _ = writeln!(s, "m=video {vport} RTP/AVP {VIDEO_PAYLOAD_TYPE}");
    let _ = writeln!(s, "a=rtpmap:{VIDEO_PAYLOAD_TYPE} H264/90000");
    let _ = writeln!(s, "a=fmtp:{VIDEO_PAYLOAD_TYPE} packetization-mode=1");
    let _ = writeln!(
        s,
        "a=extmap:{PLAYOUT_DELAY_ID} http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
    );
    if let Some(audio) = audio {
        let (_, aport) = host_port(audio);
        let _ = writeln!(s, "m=audio {aport} RTP/AVP {AUDIO_PAYLOAD_TYPE}");
        let _ = writeln!(s, "a=rtpmap:{AUDIO_PAYLOAD_TYPE} opus/48000/2");
        let _ = writeln!(s, "a=fmtp:{AUDIO_PAYLOAD_TYPE} sprop-stereo=1");
    }
    s
}

fn host_port(url: &str) -> (&str, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['?', '/']).next().unwrap_or(rest);
    rest.rsplit_once(':').unwrap_or((rest, "0"))
}

/// Sends `input` as plain RTP: H.264 to `video`, Opus to `audio` (`udp://HOST:PORT` URLs),
/// paced in real time. `on_sdp` gets the SDP before the first packet.
///
/// It runs the same packetizer, sender and pacer as Go Live, only unencrypted, so what a
/// standard receiver shows here is what Discord would get.
pub fn rtp_out(
    input: &Path,
    video_url: &str,
    audio_url: &str,
    mut config: PipelineConfig,
    on_sdp: impl FnOnce(&str),
) -> Result<Stats, OutputError> {
    let resolve = |url: &str| {
        UdpTransport::resolve(url).map_err(|e| OutputError::Mux {
            target: url.to_owned(),
            reason: format!("expected a udp://HOST:PORT URL ({e})"),
        })
    };
    let transport = UdpTransport::new(resolve(video_url)?, resolve(audio_url)?).map_err(|e| {
        OutputError::Mux {
            target: video_url.to_owned(),
            reason: format!("cannot open a UDP socket: {e}"),
        }
    })?;
    // In-band parameter sets: an RTP receiver may join at any keyframe.
    config.video.global_header = false;
    let started = Instant::now();
    let handle = pipeline::start(input, config)?;
    let has_audio = handle.streams().audio.is_some();
    let video = StreamConfig::new(rand::random(), VIDEO_PAYLOAD_TYPE)
        .random_start()
        .with_extension(HeaderExtension::playout_delay(PLAYOUT_DELAY_ID, 0, 0));
    let audio = StreamConfig::new(rand::random(), AUDIO_PAYLOAD_TYPE).random_start();
    let pacer = Pacer::new(SystemClock::new());
    let mut sender = MediaSender::new(video, audio, Plain, transport, Some(pacer));
    on_sdp(&sdp(video_url, has_audio.then_some(audio_url)));
    drive(&handle, started, |p| {
        sender
            .send(&MediaUnit::from_encoded(&p))
            .map_err(|e| OutputError::Mux {
                target: match p.kind {
                    StreamKind::Video => video_url.to_owned(),
                    StreamKind::Audio => audio_url.to_owned(),
                },
                reason: e.to_string(),
            })
    })
}
