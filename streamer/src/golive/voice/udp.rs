//! The voice UDP socket: IP discovery before Select Protocol, and the transport the media
//! sender writes to once the session is up.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Shared, VoiceError};
use crate::pipeline::StreamKind;
use crate::rtp::send::Transport;

pub const IP_DISCOVERY_LEN: usize = 74;

/// The 74-byte IP discovery request: type 1, length 70, SSRC, then zeros.
pub fn ip_discovery_request(ssrc: u32) -> [u8; IP_DISCOVERY_LEN] {
    let mut p = [0u8; IP_DISCOVERY_LEN];
    p[0..2].copy_from_slice(&1u16.to_be_bytes());
    p[2..4].copy_from_slice(&70u16.to_be_bytes());
    p[4..8].copy_from_slice(&ssrc.to_be_bytes());
    p
}

/// Parses the response (type 2): our address as the server sees it, NUL-terminated from
/// byte 8, and the port in the last two bytes.
pub fn parse_ip_discovery_response(p: &[u8], ssrc: u32) -> Result<SocketAddr, String> {
    if p.len() != IP_DISCOVERY_LEN {
        return Err(format!(
            "a {}-byte reply, expected {IP_DISCOVERY_LEN}",
            p.len()
        ));
    }
    let kind = u16::from_be_bytes([p[0], p[1]]);
    let len = u16::from_be_bytes([p[2], p[3]]);
    let got_ssrc = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
    if kind != 2 || len != 70 {
        return Err(format!(
            "type {kind} length {len}, expected a type 2 length 70 reply"
        ));
    }
    if got_ssrc != ssrc {
        return Err(format!(
            "the reply is for SSRC {got_ssrc}, not ours ({ssrc})"
        ));
    }
    let field = &p[8..72];
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let text =
        std::str::from_utf8(&field[..end]).map_err(|_| "the address is not text".to_owned())?;
    let ip: IpAddr = text
        .parse()
        .map_err(|_| format!("{text:?} is not an IP address"))?;
    let port = u16::from_be_bytes([p[72], p[73]]);
    Ok(SocketAddr::new(ip, port))
}

pub(super) async fn discover_ip(
    socket: &tokio::net::UdpSocket,
    to: SocketAddr,
    ssrc: u32,
) -> Result<SocketAddr, VoiceError> {
    let fail = |reason: String| VoiceError::IpDiscovery { addr: to, reason };
    let request = ip_discovery_request(ssrc);
    let mut buf = [0u8; 128];
    // UDP may lose the request or the reply: ask a few times.
    for _ in 0..5 {
        socket
            .send_to(&request, to)
            .await
            .map_err(|e| fail(e.to_string()))?;
        match tokio::time::timeout(Duration::from_secs(1), socket.recv_from(&mut buf)).await {
            Ok(Ok((n, from))) if from == to => {
                return parse_ip_discovery_response(&buf[..n], ssrc).map_err(fail);
            }
            Ok(Err(e)) => return Err(fail(e.to_string())),
            // A stray datagram or no reply yet: ask again.
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    Err(fail("no reply after 5 attempts".into()))
}

pub(super) struct UdpOut {
    pub(super) socket: Arc<std::net::UdpSocket>,
    pub(super) to: SocketAddr,
    pub(super) shared: Arc<Shared>,
}

impl Transport for UdpOut {
    fn send(&mut self, kind: StreamKind, packet: &[u8]) -> std::io::Result<()> {
        self.socket.send_to(packet, self.to)?;
        self.shared.first_packet.get_or_init(Instant::now);
        let s = &self.shared;
        match kind {
            StreamKind::Video => s.video_packets.fetch_add(1, Ordering::Relaxed),
            StreamKind::Audio => s.audio_packets.fetch_add(1, Ordering::Relaxed),
        };
        s.bytes.fetch_add(packet.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn send_rtcp(&mut self, _: StreamKind, packet: &[u8]) -> std::io::Result<()> {
        self.socket.send_to(packet, self.to)?;
        self.shared.sender_reports.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_discovery_packets_round_trip() {
        let req = ip_discovery_request(0x0102_0304);
        assert_eq!(req.len(), 74);
        assert_eq!(req[..8], [0, 1, 0, 70, 1, 2, 3, 4]);
        assert!(req[8..].iter().all(|&b| b == 0));
        let mut resp = [0u8; 74];
        resp[..8].copy_from_slice(&[0, 2, 0, 70, 1, 2, 3, 4]);
        resp[8..8 + 11].copy_from_slice(b"203.0.113.9");
        resp[72..].copy_from_slice(&50_000u16.to_be_bytes());
        assert_eq!(
            parse_ip_discovery_response(&resp, 0x0102_0304),
            Ok("203.0.113.9:50000".parse().unwrap())
        );
        assert!(
            parse_ip_discovery_response(&resp, 7)
                .unwrap_err()
                .contains("SSRC")
        );
        assert!(parse_ip_discovery_response(&resp[..70], 0x0102_0304).is_err());
        let mut wrong = resp;
        wrong[1] = 1;
        assert!(parse_ip_discovery_response(&wrong, 0x0102_0304).is_err());
        let mut garbage = resp;
        garbage[8..19].copy_from_slice(b"not-an-addr");
        assert!(parse_ip_discovery_response(&garbage, 0x0102_0304).is_err());
    }
}
