//! The voice gateway's JSON as Lounge speaks it: the payloads we send and the fields we read
//! from Ready and the member ops. Pure functions, so they are unit-tested here and the link
//! task only sequences them.

use std::net::{IpAddr, SocketAddr};

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{H264_PAYLOAD_TYPE, H264_RTX_PAYLOAD_TYPE, OPUS_PAYLOAD_TYPE, VoiceError};
use crate::golive::dave;
use crate::golive::{VideoInfo, VoiceServer};
use crate::rtp::crypto::EncryptionMode;

/// The simulcast id of our one video stream.
const STREAM_RID: &str = "100";

/// Picks the transport mode from Ready's `modes`.
pub fn select_mode(offered: &[String]) -> Result<EncryptionMode, VoiceError> {
    EncryptionMode::negotiate(offered.iter().map(String::as_str))
        .ok_or_else(|| VoiceError::NoEncryptionMode(offered.join(", ")))
}

pub(super) fn message(opcode: u8, d: Value) -> Message {
    Message::Text(json!({ "op": opcode, "d": d }).to_string())
}

pub(super) fn identify(server: &VoiceServer) -> Value {
    json!({
        "server_id": server.server_id.to_string(),
        "user_id": server.user_id.to_string(),
        "session_id": server.session_id,
        "token": server.token,
        "video": true,
        "streams": [{ "type": "screen", "rid": STREAM_RID, "quality": 100 }],
        "max_dave_protocol_version": dave::MAX_PROTOCOL_VERSION,
    })
}

pub(super) fn resume(server: &VoiceServer, seq_ack: i64) -> Value {
    json!({
        "server_id": server.server_id.to_string(),
        "session_id": server.session_id,
        "token": server.token,
        "seq_ack": seq_ack,
    })
}

pub(super) fn select_protocol(address: SocketAddr, mode: EncryptionMode) -> Value {
    json!({
        "protocol": "udp",
        "data": { "address": address.ip().to_string(), "port": address.port(), "mode": mode.name() },
        "codecs": [
            { "name": "opus", "type": "audio", "priority": 1000, "payload_type": OPUS_PAYLOAD_TYPE },
            {
                "name": "H264", "type": "video", "priority": 1000,
                "payload_type": H264_PAYLOAD_TYPE, "rtx_payload_type": H264_RTX_PAYLOAD_TYPE,
                "encode": true, "decode": true,
            },
        ],
    })
}

/// The SSRCs and addresses Ready gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ssrcs {
    pub audio: u32,
    pub video: u32,
    pub rtx: u32,
}

pub(super) fn video_op(ssrcs: Ssrcs, video: Option<VideoInfo>, active: bool) -> Value {
    match video {
        Some(v) => json!({
            "audio_ssrc": ssrcs.audio,
            "video_ssrc": ssrcs.video,
            "rtx_ssrc": ssrcs.rtx,
            "streams": [{
                "type": "video", "rid": STREAM_RID, "ssrc": ssrcs.video, "rtx_ssrc": ssrcs.rtx,
                "active": active, "quality": 100,
                "max_bitrate": v.max_bitrate, "max_framerate": v.fps,
                "max_resolution": { "type": "fixed", "width": v.width, "height": v.height },
            }],
        }),
        None => json!({ "audio_ssrc": ssrcs.audio, "video_ssrc": 0, "rtx_ssrc": 0, "streams": [] }),
    }
}

pub(super) struct Ready {
    pub(super) ssrcs: Ssrcs,
    pub(super) server_addr: SocketAddr,
    pub(super) modes: Vec<String>,
}

pub(super) fn parse_ready(d: &Value) -> Result<Ready, VoiceError> {
    let bad = |reason: &str| VoiceError::Protocol {
        what: "Ready (op 2)",
        reason: reason.to_owned(),
    };
    let audio = d
        .get("ssrc")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("no ssrc"))?;
    let ip: IpAddr = d
        .get("ip")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no ip address"))?;
    let port = d
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| bad("no port"))?;
    let modes = d
        .get("modes")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let audio = u32::try_from(audio).map_err(|_| bad("ssrc out of range"))?;
    // Discord-video-stream takes the first stream's SSRCs; the unofficial docs say RTX
    // defaults to ssrc + 1 when absent.
    let stream = d
        .get("streams")
        .and_then(Value::as_array)
        .and_then(|s| s.first());
    let get = |k: &str| {
        stream
            .and_then(|s| s.get(k))
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
    };
    let video = get("ssrc").unwrap_or(audio.wrapping_add(1));
    let rtx = get("rtx_ssrc").unwrap_or(video.wrapping_add(1));
    Ok(Ready {
        ssrcs: Ssrcs { audio, video, rtx },
        server_addr: SocketAddr::new(ip, port),
        modes,
    })
}

pub(super) fn snowflake(v: &Value) -> Option<u64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_prefer_aes_gcm_and_refuse_the_rest() {
        let offered = |m: &[&str]| m.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let both = offered(&["aead_xchacha20_poly1305_rtpsize", "aead_aes256_gcm_rtpsize"]);
        assert_eq!(
            select_mode(&both).unwrap(),
            EncryptionMode::Aes256GcmRtpSize
        );
        let chacha = offered(&["xsalsa20_poly1305", "aead_xchacha20_poly1305_rtpsize"]);
        assert_eq!(
            select_mode(&chacha).unwrap(),
            EncryptionMode::XChaCha20Poly1305RtpSize
        );
        let err = select_mode(&offered(&["xsalsa20_poly1305_lite"])).unwrap_err();
        assert!(err.to_string().contains("xsalsa20_poly1305_lite"), "{err}");
    }

    #[test]
    fn payloads_carry_the_fields_discord_expects() {
        let server = VoiceServer {
            endpoint: "127.0.0.1:1".into(),
            server_id: 11,
            user_id: 22,
            session_id: "s".into(),
            token: "t".into(),
            dave_group_id: 10,
            video: None,
        };
        let id = identify(&server);
        assert_eq!(id["server_id"], "11");
        assert_eq!(id["user_id"], "22");
        assert_eq!(id["video"], true);
        assert_eq!(
            id["streams"],
            json!([{"type": "screen", "rid": "100", "quality": 100}])
        );
        assert_eq!(id["max_dave_protocol_version"], 1);
        let sp = select_protocol(
            "1.2.3.4:5".parse().unwrap(),
            EncryptionMode::Aes256GcmRtpSize,
        );
        assert_eq!(
            sp["data"],
            json!({"address": "1.2.3.4", "port": 5, "mode": "aead_aes256_gcm_rtpsize"})
        );
        assert_eq!(sp["codecs"][0]["payload_type"], 120);
        assert_eq!(sp["codecs"][1]["payload_type"], 101);
        assert_eq!(sp["codecs"][1]["rtx_payload_type"], 102);
        let ssrcs = Ssrcs {
            audio: 1,
            video: 2,
            rtx: 3,
        };
        let info = Some(VideoInfo {
            width: 640,
            height: 360,
            fps: 30,
            max_bitrate: 2_000_000,
        });
        let v = video_op(ssrcs, info, true);
        assert_eq!(
            v["streams"][0]["max_resolution"],
            json!({"type": "fixed", "width": 640, "height": 360})
        );
        assert_eq!(v["streams"][0]["active"], true);
        let paused = video_op(ssrcs, info, false);
        assert_eq!(paused["streams"][0]["active"], false);
        assert_eq!(paused["streams"][0]["ssrc"], 2, "paused, still announced");
        assert_eq!(
            (v["video_ssrc"].as_u64(), v["rtx_ssrc"].as_u64()),
            (Some(2), Some(3))
        );
        let r = parse_ready(&json!({"ssrc": 5, "ip": "127.0.0.1", "port": 9, "modes": [], "streams": [{"ssrc": 6, "rtx_ssrc": 7}]})).unwrap();
        assert_eq!(
            r.ssrcs,
            Ssrcs {
                audio: 5,
                video: 6,
                rtx: 7
            }
        );
        let r = parse_ready(&json!({"ssrc": 5, "ip": "127.0.0.1", "port": 9})).unwrap();
        assert_eq!(
            r.ssrcs,
            Ssrcs {
                audio: 5,
                video: 6,
                rtx: 7
            }
        );
        assert!(parse_ready(&json!({"ssrc": 5, "port": 9})).is_err());
    }
}
