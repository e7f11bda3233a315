//! The Go Live media transport against independent implementations: transport encryption
//! against OpenSSL and libsodium, and RTP from the real pipeline through a decrypting fake
//! voice server into GStreamer's depayloaders.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lounge_streamer::pipeline::{self, EncodedPacket, PipelineConfig, PipelineEvent, StreamKind};
use lounge_streamer::rtp::crypto::{EncryptionMode, Plain, Sealer, TransportCipher};
use lounge_streamer::rtp::pacer::{ManualClock, Pacer, SystemClock};
use lounge_streamer::rtp::send::{MediaSender, MediaUnit, Transport, UdpTransport};
use lounge_streamer::rtp::{HeaderExtension, RtpHeader, StreamConfig};

use crate::util::{self, Media};

/// Discord's payload types (Select Protocol codecs), so the packets look like Go Live's.
const H264_PT: u8 = 101;
const OPUS_PT: u8 = 120;

fn configs() -> (StreamConfig, StreamConfig) {
    (
        StreamConfig::new(0x1000, H264_PT).with_extension(HeaderExtension::playout_delay(5, 0, 0)),
        StreamConfig::new(0x0FFF, OPUS_PT),
    )
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Vectors from `tests/vectors/transport_vectors.py` (OpenSSL AES-GCM, libsodium `XChaCha20`).
#[test]
fn transport_encryption_matches_openssl_and_libsodium_vectors() {
    let vectors = include_str!("vectors/transport.txt");
    let mut seen = 0;
    for line in vectors.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split(' ').collect();
        let [mode, counter, key, plain, sealed] = f[..] else {
            panic!("bad vector line: {line}");
        };
        let mode = EncryptionMode::from_name(mode).unwrap();
        let counter: u32 = counter.parse().unwrap();
        let (key, plain, sealed) = (hex(key), hex(plain), hex(sealed));
        let mut cipher = TransportCipher::new(mode, &key)
            .unwrap()
            .starting_at(counter);
        let mut ours = plain.clone();
        cipher.seal(&mut ours).unwrap();
        assert_eq!(ours, sealed, "{mode} counter {counter}: seal");
        let mut opened = sealed.clone();
        cipher.open(&mut opened).unwrap();
        assert_eq!(opened, plain, "{mode} counter {counter}: open");
        seen += 1;
    }
    assert_eq!(seen, 8, "4 packets × 2 modes");
}

fn encode(size: &str, width: u32, height: u32) -> (tempfile::TempDir, Vec<EncodedPacket>) {
    let dir = tempfile::tempdir().unwrap();
    let input = Media {
        size,
        rate: 30,
        seconds: 2,
        audio: true,
    }
    .make(dir.path(), "in.mp4");
    lounge_streamer::init_ffmpeg().unwrap();
    let x264 = lounge_streamer::encoder::by_name("x264").unwrap();
    let handle = pipeline::start(&input, PipelineConfig::new(x264, width, height, 30))
        .expect("the pipeline starts");
    let mut packets = Vec::new();
    while let Some(event) = handle.recv() {
        match event {
            PipelineEvent::Packet(p) => packets.push(p),
            PipelineEvent::Finished => break,
            PipelineEvent::Failed(e) => panic!("{e}"),
            _ => {}
        }
    }
    (dir, packets)
}

#[derive(Default)]
struct Recorder(Vec<Vec<u8>>);

impl Transport for &mut Recorder {
    fn send(&mut self, _: StreamKind, packet: &[u8]) -> std::io::Result<()> {
        self.0.push(packet.to_vec());
        Ok(())
    }
}

fn record(packets: &[EncodedPacket], sealer: impl Sealer) -> Vec<Vec<u8>> {
    let (video, audio) = configs();
    let mut wire = Recorder::default();
    let mut sender = MediaSender::<_, _, ManualClock>::new(video, audio, sealer, &mut wire, None);
    for p in packets {
        sender.send(&MediaUnit::from_encoded(p)).unwrap();
    }
    drop(sender);
    wire.0
}

#[test]
fn sealed_rtp_of_real_media_opens_to_the_identical_packets() {
    let (_dir, packets) = encode("640x360", 640, 360);
    let plain = record(&packets, Plain);
    assert!(
        plain.len() > packets.len(),
        "keyframes need several packets"
    );
    for mode in EncryptionMode::PREFERENCE {
        let key: Vec<u8> = (0..32).map(|i| i * 3 + 1).collect();
        let sealed = record(&packets, TransportCipher::new(mode, &key).unwrap());
        assert_eq!(sealed.len(), plain.len());
        let opener = TransportCipher::new(mode, &key).unwrap();
        for (i, (mut s, p)) in sealed.into_iter().zip(&plain).enumerate() {
            assert_eq!(s.len(), p.len() + 20, "{mode}: packet {i}");
            opener.open(&mut s).unwrap();
            assert_eq!(&s, p, "{mode}: packet {i}");
        }
    }
}

#[derive(Debug, Default)]
struct Relayed {
    packets: u64,
    fragments: u64,
    failures: u64,
    out_of_order_nonces: u64,
}

/// The fake voice server's receive side: opens each sealed packet with the session key and
/// forwards the plain RTP to GStreamer, video and audio by payload type.
fn relay(
    socket: UdpSocket,
    opener: TransportCipher,
    video: u16,
    audio: u16,
    stop: Arc<AtomicBool>,
) -> Relayed {
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let out = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut stats = Relayed::default();
    let mut last_nonce: Option<u32> = None;
    let mut buf = vec![0u8; 2048];
    loop {
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(_) if stop.load(Ordering::SeqCst) => return stats,
            Err(_) => continue,
        };
        let mut packet = buf[..n].to_vec();
        let nonce = u32::from_be_bytes(packet[n - 4..].try_into().unwrap());
        if last_nonce.is_some_and(|last| nonce != last + 1) {
            stats.out_of_order_nonces += 1;
        }
        last_nonce = Some(nonce);
        if opener.open(&mut packet).is_err() {
            stats.failures += 1;
            continue;
        }
        let header = RtpHeader::parse(&packet).unwrap();
        if packet[header.payload_offset] & 0x1F == 28 {
            stats.fragments += 1;
        }
        let port = if header.payload_type == H264_PT {
            video
        } else {
            audio
        };
        out.send_to(&packet, ("127.0.0.1", port)).unwrap();
        stats.packets += 1;
    }
}

/// Real pipeline output, packetized, sealed with AES-GCM and paced in real time, sent to a
/// fake voice server that opens it and hands plain RTP to GStreamer: the pictures GStreamer
/// writes must decode to exactly the encoder's, and every Opus packet must arrive.
#[test]
fn sealed_rtp_through_a_fake_voice_server_plays_in_gstreamer_bit_exact() {
    let (dir, packets) = encode("640x360", 640, 360);
    let reference = dir.path().join("reference.h264");
    let annex_b: Vec<u8> = packets
        .iter()
        .filter(|p| p.kind == StreamKind::Video)
        .flat_map(|p| p.data().to_vec())
        .collect();
    std::fs::write(&reference, annex_b).unwrap();
    let opus_packets = packets
        .iter()
        .filter(|p| p.kind == StreamKind::Audio)
        .count();

    let (vport, aport) = (util::free_udp_port(), util::free_udp_port());
    let video_out = dir.path().join("video.mp4");
    let audio_out = dir.path().join("audio.ogg");
    let gst = util::Gst::launch(&format!(
        "udpsrc port={vport} caps=application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload={H264_PT} \
         ! rtpjitterbuffer ! rtph264depay ! h264parse ! mp4mux ! filesink location={} \
         udpsrc port={aport} caps=application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload={OPUS_PT} \
         ! rtpjitterbuffer ! rtpopusdepay ! opusparse ! oggmux ! filesink location={}",
        video_out.display(),
        audio_out.display()
    ));

    let key = [0x5A; 32];
    let mode = EncryptionMode::Aes256GcmRtpSize;
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server_addr = server.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let relay = {
        let (opener, stop) = (TransportCipher::new(mode, &key).unwrap(), stop.clone());
        std::thread::spawn(move || relay(server, opener, vport, aport, stop))
    };

    let (video, audio) = configs();
    // Like a Discord connection: one socket, one address for both kinds, one cipher.
    let transport = UdpTransport::new(server_addr, server_addr).unwrap();
    let cipher = TransportCipher::new(mode, &key).unwrap();
    let pacer = Pacer::new(SystemClock::new());
    let mut sender = MediaSender::new(video, audio, cipher, transport, Some(pacer));
    for p in &packets {
        sender.send(&MediaUnit::from_encoded(p)).unwrap();
    }
    let sent = sender.stats();
    // Let the last datagrams through the relay before stopping it.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let relayed = relay.join().unwrap();
    gst.finish();

    assert_eq!(relayed.failures, 0, "{relayed:?}");
    assert_eq!(relayed.out_of_order_nonces, 0, "{relayed:?}");
    assert_eq!(relayed.packets, sent.video_packets + sent.audio_packets);
    assert!(relayed.fragments > 0, "FU-A exercised: {relayed:?}");
    assert_eq!(sent.audio_packets, opus_packets as u64);

    let streams = util::probe_streams(&video_out);
    let video = util::stream_of(&streams, "video").expect("GStreamer wrote a video stream");
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(
        (video["width"].as_str(), video["height"].as_str()),
        ("640", "360")
    );
    assert_eq!(video["nb_read_frames"], "60", "2 s at 30 fps");
    let expected = util::frame_hashes(&reference);
    assert_eq!(expected.len(), 60);
    let got = util::frame_hashes(&video_out);
    let first_difference = got.iter().zip(&expected).position(|(a, b)| a != b);
    assert!(
        got.len() == expected.len() && first_difference.is_none(),
        "decoded pictures differ: {} vs {} frames, first difference at {first_difference:?}",
        got.len(),
        expected.len()
    );

    let streams = util::probe_streams(&audio_out);
    let audio = util::stream_of(&streams, "audio").expect("GStreamer wrote an audio stream");
    assert_eq!(audio["codec_name"], "opus");
    assert_eq!(audio["nb_read_frames"], opus_packets.to_string());
}
