//! `lounge-streamer doctor`: what this machine and this FFmpeg can do, and which encoder wins.

use std::fmt::Write as _;

use ffmpeg_next as ffmpeg;

use crate::encoder::{self, Selection};
use crate::hw;
use crate::system::SystemInfo;

/// Decoders worth knowing about for a Plex library.
const DECODERS: &[&str] = &[
    "h264",
    "hevc",
    "vp9",
    "av1",
    "libdav1d",
    "mpeg4",
    "mpeg2video",
    "vc1",
    "aac",
    "ac3",
    "eac3",
    "dca",
    "truehd",
    "flac",
    "mp3",
    "opus",
    "vorbis",
];
/// The video decoders among them that may run on a GPU.
const VIDEO_DECODERS: &[&str] = &["h264", "hevc", "vp9", "av1", "mpeg2video", "vc1"];
/// Encoders besides the H.264 backends that the pipeline may use.
const OTHER_ENCODERS: &[&str] = &["libopus", "opus"];

fn lib_version(v: u32) -> String {
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// The full report. `selection` must come from an exhaustive probe.
pub fn report(system: &SystemInfo, selection: &Selection) -> String {
    let mut out = system.describe();
    let _ = writeln!(
        out,
        "FFmpeg:   libavcodec {}, libavformat {}, libavfilter {}, libavutil {}",
        lib_version(ffmpeg::codec::version()),
        lib_version(ffmpeg::format::version()),
        lib_version(ffmpeg::filter::version()),
        lib_version(ffmpeg::util::version()),
    );
    let _ = writeln!(out, "\nH.264 encoders (probe order for {}):", system.os);
    for r in &selection.reports {
        let kind = if r.hardware { "hardware" } else { "software" };
        let present = if r.available { "present" } else { "missing" };
        let result = match &r.result {
            Ok(n) => format!("test encode ok ({n} packets)"),
            Err(e) => format!("test encode FAILED: {e}"),
        };
        let _ = writeln!(
            out,
            "  {:<13} {:<18} {kind:<8} {present:<7} {result}",
            r.backend, r.codec
        );
    }
    let others: Vec<&str> = encoder::BACKENDS
        .iter()
        .filter(|b| !selection.reports.iter().any(|r| r.backend == b.name()))
        .map(|b| b.codec_name())
        .collect();
    if !others.is_empty() {
        let _ = writeln!(
            out,
            "  (not candidates on {}: {})",
            system.os,
            others.join(", ")
        );
    }
    let _ = writeln!(out, "\nOther encoders:");
    for name in OTHER_ENCODERS {
        let present = ffmpeg::codec::encoder::find_by_name(name).is_some();
        let _ = writeln!(
            out,
            "  {name:<13} {}",
            if present { "present" } else { "missing" }
        );
    }
    let _ = writeln!(out, "\nDecoders:");
    let mut present = Vec::new();
    let mut missing = Vec::new();
    for name in DECODERS {
        if ffmpeg::codec::decoder::find_by_name(name).is_some() {
            present.push(*name);
        } else {
            missing.push(*name);
        }
    }
    let _ = writeln!(out, "  present: {}", present.join(", "));
    if !missing.is_empty() {
        let _ = writeln!(out, "  missing: {}", missing.join(", "));
    }
    let _ = writeln!(
        out,
        "\nHardware decoding (used with the hardware encoder on the same device):"
    );
    let kinds = hw::DeviceKind::decode_candidates(system.os);
    if kinds.is_empty() {
        let _ = writeln!(out, "  none known for {}", system.os);
    }
    for kind in kinds {
        let line = match hw::Device::open(*kind, None) {
            Ok(_) => {
                let decoders = hw::decoders_for(*kind, VIDEO_DECODERS);
                if decoders.is_empty() {
                    "device ok, but no decoder here can use it".to_owned()
                } else {
                    format!("device ok; decodes {}", decoders.join(", "))
                }
            }
            Err(e) => e,
        };
        let _ = writeln!(out, "  {:<13} {line}", kind.name());
    }
    match selection.chosen {
        Some(b) => {
            let _ = writeln!(out, "\nChosen encoder: {} ({})", b.name(), b.codec_name());
        }
        None => {
            let _ = writeln!(out, "\nChosen encoder: none");
        }
    }
    let _ = writeln!(out, "Why: {}", selection.reason);
    out
}
