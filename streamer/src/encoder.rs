//! H.264 encoder backends behind one trait, a registry of them, and probing.
//!
//! A backend is chosen by really opening its encoder and encoding a few frames: the FFmpeg build
//! may list an encoder whose driver, device or licence is missing, and only a test encode tells.
//! Hardware candidates are tried in the order the OS makes likely, then software `libx264`, then
//! `libopenh264`. Every rejection is logged with its reason and kept for `doctor`.

use ffmpeg::{Dictionary, Packet, Rational, codec, format, frame};
use ffmpeg_next as ffmpeg;
use tracing::{debug, info, warn};

use crate::hw;

/// Settings every backend gets; each maps them onto its own options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoSettings {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Target and cap, in bits per second.
    pub bitrate: u64,
    /// Frames between keyframes.
    pub gop: u32,
    /// Put SPS/PPS in the codec extradata (MP4/MKV) instead of before every keyframe (RTP).
    pub global_header: bool,
}

/// One way of encoding H.264.
pub trait VideoBackend: Sync + std::fmt::Debug {
    /// Short stable name, as used in config (`encoder = "nvenc"`) and capabilities.
    fn name(&self) -> &'static str;
    /// The FFmpeg encoder it opens.
    fn codec_name(&self) -> &'static str;
    fn hardware(&self) -> bool;
    /// Operating systems (as `std::env::consts::OS`) where this backend is a candidate.
    fn platforms(&self) -> &'static [&'static str];
    /// The pixel format frames must be in when they reach the encoder.
    fn pixel_format(&self) -> format::Pixel {
        format::Pixel::YUV420P
    }
    /// Backend-specific options for low latency; the generic rate-control and GOP options are
    /// added by [`open_video_encoder`].
    fn options(&self, dict: &mut Dictionary<'_>);
    /// The device whose surfaces the encoder takes instead of system-memory frames; the
    /// pipeline's frames (in [`VideoBackend::pixel_format`]) are uploaded into them.
    fn surfaces(&self) -> Option<hw::DeviceKind> {
        None
    }
    /// The device a hardware decoder should share with this encoder, if any.
    fn decode_device(&self) -> Option<hw::DeviceKind> {
        None
    }
}

macro_rules! backend {
    ($ty:ident, $name:literal, $codec:literal, hw: $hw:literal, os: $os:expr, pix: $pix:expr,
     $(surfaces: $surf:expr,)? $(decode: $dec:expr,)?
     |$dict:ident| $opts:block) => {
        #[derive(Debug)]
        pub struct $ty;
        impl VideoBackend for $ty {
            fn name(&self) -> &'static str { $name }
            fn codec_name(&self) -> &'static str { $codec }
            fn hardware(&self) -> bool { $hw }
            fn platforms(&self) -> &'static [&'static str] { $os }
            fn pixel_format(&self) -> format::Pixel { $pix }
            fn options(&self, $dict: &mut Dictionary<'_>) $opts
            $(fn surfaces(&self) -> Option<hw::DeviceKind> { Some($surf) })?
            $(fn decode_device(&self) -> Option<hw::DeviceKind> { Some($dec) })?
        }
    };
}

backend!(Nvenc, "nvenc", "h264_nvenc", hw: true, os: &["linux", "windows"],
    pix: format::Pixel::YUV420P, decode: hw::DeviceKind::Cuda, |d| {
    d.set("preset", "p4");
    d.set("tune", "ull");
    d.set("zerolatency", "1");
});
backend!(Vaapi, "vaapi", "h264_vaapi", hw: true, os: &["linux"], pix: format::Pixel::NV12,
    surfaces: hw::DeviceKind::Vaapi, decode: hw::DeviceKind::Vaapi, |d| {
    d.set("low_power", "0");
});
backend!(Qsv, "qsv", "h264_qsv", hw: true, os: &["linux", "windows"], pix: format::Pixel::NV12,
    decode: hw::DeviceKind::Qsv, |d| {
    d.set("preset", "veryfast");
    d.set("async_depth", "1");
});
backend!(Amf, "amf", "h264_amf", hw: true, os: &["windows"], pix: format::Pixel::NV12,
    decode: hw::DeviceKind::D3d11va, |d| {
    d.set("usage", "ultralowlatency");
    d.set("quality", "speed");
});
backend!(MediaFoundation, "mf", "h264_mf", hw: true, os: &["windows"], pix: format::Pixel::NV12,
    decode: hw::DeviceKind::D3d11va, |d| {
    d.set("hw_encoding", "1");
    d.set("scenario", "display_remoting");
});
backend!(VideoToolbox, "videotoolbox", "h264_videotoolbox", hw: true, os: &["macos"],
    pix: format::Pixel::YUV420P, decode: hw::DeviceKind::VideoToolbox, |d| {
    d.set("realtime", "1");
    d.set("allow_sw", "0");
});
backend!(X264, "x264", "libx264", hw: false, os: ANY_OS, pix: format::Pixel::YUV420P, |d| {
    d.set("preset", "veryfast");
    d.set("tune", "zerolatency");
});
backend!(OpenH264, "openh264", "libopenh264", hw: false, os: ANY_OS, pix: format::Pixel::YUV420P, |d| {
    d.set("allow_skip_frames", "0");
});

/// Marker for backends that are candidates everywhere.
const ANY_OS: &[&str] = &["*"];

/// Every backend, best first. Hardware before software; among hardware, the order in which
/// each OS's encoders are most likely to work with least setup.
pub static BACKENDS: &[&dyn VideoBackend] = &[
    &Nvenc,
    &Vaapi,
    &Qsv,
    &Amf,
    &MediaFoundation,
    &VideoToolbox,
    &X264,
    &OpenH264,
];

/// The backends worth probing on `os`, best first.
pub fn candidates(os: &str) -> Vec<&'static dyn VideoBackend> {
    BACKENDS
        .iter()
        .copied()
        .filter(|b| b.platforms().iter().any(|p| *p == "*" || *p == os))
        .collect()
}

/// Finds a backend by its short name or its FFmpeg encoder name.
pub fn by_name(name: &str) -> Option<&'static dyn VideoBackend> {
    BACKENDS
        .iter()
        .copied()
        .find(|b| b.name().eq_ignore_ascii_case(name) || b.codec_name().eq_ignore_ascii_case(name))
}

/// An open H.264 encoder, with the GPU surfaces it takes its input in when the backend wants
/// them: callers always send system-memory frames in the backend's pixel format.
pub struct VideoEncoder {
    inner: codec::encoder::video::Encoder,
    surfaces: Option<hw::Surfaces>,
}

impl VideoEncoder {
    pub fn send_frame(&mut self, frame: &frame::Video) -> Result<(), String> {
        match &self.surfaces {
            Some(surfaces) => {
                let uploaded = surfaces.upload(frame)?;
                self.inner.send_frame(&uploaded)
            }
            None => self.inner.send_frame(frame),
        }
        .map_err(|e| e.to_string())
    }

    pub fn receive_packet(&mut self, packet: &mut Packet) -> Result<(), ffmpeg::Error> {
        self.inner.receive_packet(packet)
    }

    pub fn send_eof(&mut self) -> Result<(), ffmpeg::Error> {
        self.inner.send_eof()
    }

    /// The codec parameters a muxer needs, extradata included.
    pub fn parameters(&self) -> codec::Parameters {
        codec::Parameters::from(&*self.inner)
    }
}

/// Opens `backend`'s encoder for `settings`. Time base is one tick per frame, because the
/// pipeline numbers output frames itself.
pub fn open_video_encoder(
    backend: &dyn VideoBackend,
    settings: &VideoSettings,
) -> Result<VideoEncoder, String> {
    let codec = codec::encoder::find_by_name(backend.codec_name())
        .ok_or_else(|| "this FFmpeg build does not include the encoder".to_owned())?;
    let mut context = codec::context::Context::new_with_codec(codec);
    // Before `open`: the device must be known when the encoder initialises.
    let surfaces = match backend.surfaces() {
        Some(kind) => {
            let device = hw::Device::open(kind, None)?;
            let surfaces = hw::Surfaces::new(
                &device,
                backend.pixel_format(),
                settings.width,
                settings.height,
            )?;
            surfaces.attach_encoder(&mut context)?;
            Some(surfaces)
        }
        None => None,
    };
    let mut encoder = context
        .encoder()
        .video()
        .map_err(|e| format!("could not create an encoder context: {e}"))?;
    encoder.set_width(settings.width);
    encoder.set_height(settings.height);
    encoder.set_format(
        surfaces
            .as_ref()
            .map_or(backend.pixel_format(), hw::Surfaces::hw_format),
    );
    encoder.set_time_base(Rational::new(1, settings.fps as i32));
    encoder.set_frame_rate(Some(Rational::new(settings.fps as i32, 1)));
    encoder.set_gop(settings.gop);
    // Discord viewers and RTP receivers decode in order; B-frames only add latency.
    encoder.set_max_b_frames(0);
    encoder.set_bit_rate(settings.bitrate as usize);
    encoder.set_max_bit_rate(settings.bitrate as usize);
    if settings.global_header {
        encoder.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let mut dict = Dictionary::new();
    // Generic AVCodecContext options: avcodec_open2 applies them to the context too.
    dict.set("bf", "0");
    dict.set("g", &settings.gop.to_string());
    dict.set("maxrate", &settings.bitrate.to_string());
    // One second of buffer keeps the cap meaningful without starving keyframes.
    dict.set("bufsize", &settings.bitrate.to_string());
    backend.options(&mut dict);
    let inner = encoder
        .open_with(dict)
        .map_err(|e| format!("opening {} failed: {e}", backend.codec_name()))?;
    Ok(VideoEncoder { inner, surfaces })
}

/// What probing one backend found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    pub backend: &'static str,
    pub codec: &'static str,
    pub hardware: bool,
    /// Whether FFmpeg has the encoder at all.
    pub available: bool,
    /// `Ok(packets)` if the test encode produced packets, else why not.
    pub result: Result<usize, String>,
}

/// Frames in a test encode: enough for an encoder that buffers a few before its first packet.
const PROBE_FRAMES: usize = 8;

/// Really opens `backend` at a small size and encodes a few frames.
pub fn probe(backend: &dyn VideoBackend) -> ProbeReport {
    let available = codec::encoder::find_by_name(backend.codec_name()).is_some();
    let result = if available {
        test_encode(backend)
    } else {
        Err("this FFmpeg build does not include the encoder".to_owned())
    };
    match &result {
        Ok(n) => debug!(
            backend = backend.name(),
            packets = n,
            "test encode succeeded"
        ),
        Err(reason) => info!(backend = backend.name(), %reason, "encoder rejected"),
    }
    ProbeReport {
        backend: backend.name(),
        codec: backend.codec_name(),
        hardware: backend.hardware(),
        available,
        result,
    }
}

fn test_encode(backend: &dyn VideoBackend) -> Result<usize, String> {
    let settings = VideoSettings {
        width: 320,
        height: 240,
        fps: 30,
        bitrate: 500_000,
        gop: 30,
        global_header: false,
    };
    let mut encoder = open_video_encoder(backend, &settings)?;
    let mut packets = 0;
    let mut packet = Packet::empty();
    for i in 0..PROBE_FRAMES {
        let mut frame = frame::Video::new(backend.pixel_format(), settings.width, settings.height);
        // A moving gradient rather than a flat frame: some encoders skip identical input.
        for plane in 0..frame.planes() {
            let shade = (i * 16 + plane * 40) as u8;
            frame.data_mut(plane).fill(shade);
        }
        frame.set_pts(Some(i as i64));
        encoder
            .send_frame(&frame)
            .map_err(|e| format!("sending a test frame failed: {e}"))?;
        while encoder.receive_packet(&mut packet).is_ok() {
            packets += 1;
        }
    }
    encoder
        .send_eof()
        .map_err(|e| format!("flushing the test encode failed: {e}"))?;
    while encoder.receive_packet(&mut packet).is_ok() {
        packets += 1;
    }
    if packets == 0 {
        return Err("the test encode produced no packets".to_owned());
    }
    Ok(packets)
}

/// The outcome of choosing an encoder.
#[derive(Debug, Clone)]
pub struct Selection {
    pub reports: Vec<ProbeReport>,
    pub chosen: Option<&'static dyn VideoBackend>,
    pub reason: String,
}

/// Probes candidates for `os` (or only `forced`) in order; the first working one wins.
/// With `exhaustive`, every candidate is probed anyway so `doctor` can report all of them.
pub fn select(os: &str, forced: Option<&str>, exhaustive: bool) -> Selection {
    let list: Vec<&'static dyn VideoBackend> = match forced {
        Some(name) => match by_name(name) {
            Some(b) => vec![b],
            None => {
                return Selection {
                    reports: Vec::new(),
                    chosen: None,
                    reason: format!(
                        "the configured encoder `{name}` is not one of: {}",
                        BACKENDS
                            .iter()
                            .map(|b| b.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
            }
        },
        None => candidates(os),
    };
    let mut reports = Vec::new();
    let mut chosen: Option<&'static dyn VideoBackend> = None;
    for backend in list {
        let report = probe(backend);
        let ok = report.result.is_ok();
        reports.push(report);
        if ok && chosen.is_none() {
            chosen = Some(backend);
            if !exhaustive {
                break;
            }
        }
    }
    let Some(backend) = chosen else {
        let reason = match forced {
            Some(name) => format!("the configured encoder `{name}` failed its test encode"),
            None => {
                "no H.264 encoder passed a test encode; install an FFmpeg with libx264".to_owned()
            }
        };
        warn!(%reason, "no video encoder");
        return Selection {
            reports,
            chosen: None,
            reason,
        };
    };
    let rejected: Vec<String> = reports
        .iter()
        .take_while(|r| r.backend != backend.name())
        .filter_map(|r| {
            r.result
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", r.backend))
        })
        .collect();
    let name = backend.name();
    let reason = if forced.is_some() {
        format!("{name} was forced in the config and its test encode succeeded")
    } else if backend.hardware() {
        format!("{name} is the first hardware encoder whose test encode succeeded")
    } else if rejected.is_empty() {
        format!("{name} is the first candidate and its test encode succeeded")
    } else {
        format!(
            "no hardware encoder passed a test encode ({}); {name} is the software fallback",
            rejected.join("; ")
        )
    };
    info!(encoder = name, %reason, "video encoder chosen");
    Selection {
        reports,
        chosen: Some(backend),
        reason,
    }
}
