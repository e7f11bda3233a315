//! Packetize + seal throughput of the Go Live sender (`MediaSender` with a transport that
//! drops packets), per encryption mode, and what loss repair adds: keeping video packets for
//! retransmission, and answering one NACK with a sealed RTX packet. Run:
//! `cargo bench -p lounge-streamer --bench rtp -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lounge_streamer::pipeline::StreamKind;
use lounge_streamer::rtp::crypto::{EncryptionMode, Plain, Sealer, TransportCipher};
use lounge_streamer::rtp::pacer::ManualClock;
use lounge_streamer::rtp::rtx::{self, History, NackRequest, Outcome, Retransmitter, RtxStream};
use lounge_streamer::rtp::send::{MediaSender, MediaUnit, Transport};
use lounge_streamer::rtp::{HeaderExtension, MediaTime, StreamConfig};

/// Counts bytes so the work cannot be optimised away.
struct Sink(u64);

impl Transport for Sink {
    fn send(&mut self, _: StreamKind, packet: &[u8]) -> std::io::Result<()> {
        self.0 += packet.len() as u64;
        Ok(())
    }
}

/// An access unit of `len` bytes: one slice NAL with no start-code emulation inside.
fn frame(len: usize) -> Vec<u8> {
    let mut au = vec![0, 0, 0, 1, 0x41];
    au.extend((0..len - 5).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0] | 1));
    au
}

fn sender<S: Sealer>(sealer: S) -> MediaSender<S, Sink, ManualClock> {
    MediaSender::new(
        StreamConfig::new(1, 101).with_extension(HeaderExtension::playout_delay(5, 0, 0)),
        StreamConfig::new(2, 120),
        sealer,
        Sink(0),
        None,
    )
}

fn bench_mode<S: Sealer>(c: &mut Criterion, name: &str, mut make: impl FnMut() -> S) {
    // ~21 KB: one frame of a 5 Mbit/s, 30 fps stream (the anchor's default bitrate).
    let video = frame(21_000);
    let opus = vec![0xFC; 160];
    let mut group = c.benchmark_group("packetize+seal");
    group.throughput(Throughput::Bytes(video.len() as u64));
    let mut s = sender(make());
    let mut n = 0i64;
    group.bench_function(format!("{name}/video 21 KB frame"), |b| {
        b.iter(|| {
            n += 1;
            s.send(&MediaUnit {
                kind: StreamKind::Video,
                data: black_box(&video),
                time: MediaTime::new(n, 1, 30),
                duration: Duration::ZERO,
            })
            .unwrap();
        });
    });
    group.throughput(Throughput::Bytes(opus.len() as u64));
    let mut s = sender(make());
    group.bench_function(format!("{name}/opus 160 B"), |b| {
        b.iter(|| {
            n += 1;
            s.send(&MediaUnit {
                kind: StreamKind::Audio,
                data: black_box(&opus),
                time: MediaTime::new(n * 960, 1, 48_000),
                duration: Duration::ZERO,
            })
            .unwrap();
        });
    });
    group.finish();
}

/// Loss repair on top of AES-GCM (the mode Discord prefers): the sender keeping every video
/// packet in the history, and the NACK path from a sealed compound RTCP packet (receiver
/// report + generic NACK for one packet) to a sealed RTX packet.
fn bench_retransmit(c: &mut Criterion) {
    let key = [0x42; 32];
    let mode = EncryptionMode::Aes256GcmRtpSize;
    let video = frame(21_000);
    // Kept longer than any run, so every lookup finds its packet.
    let history = Arc::new(Mutex::new(History::new(512, Duration::from_hours(1))));
    let mut s =
        sender(TransportCipher::new(mode, &key).unwrap()).with_history(Arc::clone(&history));
    let mut group = c.benchmark_group("retransmit");
    group.throughput(Throughput::Bytes(video.len() as u64));
    let mut n = 0i64;
    group.bench_function("aes-gcm/video 21 KB frame kept in the history", |b| {
        b.iter(|| {
            n += 1;
            s.send(&MediaUnit {
                kind: StreamKind::Video,
                data: black_box(&video),
                time: MediaTime::new(n, 1, 30),
                duration: Duration::ZERO,
            })
            .unwrap();
        });
    });
    let newest = {
        let h = history.lock().unwrap();
        (0..=u16::MAX)
            .rev()
            .find(|&seq| h.get(seq, Instant::now()).is_some())
            .unwrap()
    };
    let asked = newest.wrapping_sub(100);
    let mut compound = vec![
        0x80, 201, 0, 1, 0, 0, 0, 9, 0x81, 205, 0, 3, 0, 0, 0, 9, 0, 0, 0, 1,
    ];
    compound.extend_from_slice(&asked.to_be_bytes());
    compound.extend_from_slice(&[0, 0]);
    TransportCipher::new(mode, &key)
        .unwrap()
        .seal_rtcp(&mut compound)
        .unwrap();
    let opener = TransportCipher::new(mode, &key).unwrap();
    let mut sealer = TransportCipher::new(mode, &key).unwrap();
    let mut retransmitter =
        Retransmitter::new(1, RtxStream::new(3, 102, 0), history, NonZeroU32::MAX);
    group.throughput(Throughput::Elements(1));
    group.bench_function("aes-gcm/sealed NACK to sealed RTX", |b| {
        b.iter(|| {
            let mut rtcp = black_box(&compound).clone();
            opener.open_rtcp(&mut rtcp).unwrap();
            let [request] = rtx::nacks(&rtcp).unwrap()[..] else {
                panic!("one request")
            };
            assert_eq!(
                request,
                NackRequest {
                    media_ssrc: 1,
                    sequence: asked
                }
            );
            let Outcome::Retransmit(mut packet) = retransmitter.answer(request, Instant::now())
            else {
                panic!("the packet is kept")
            };
            sealer.seal(&mut packet).unwrap();
            packet
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let key = [0x42; 32];
    bench_mode(c, "plain", || Plain);
    for mode in EncryptionMode::PREFERENCE {
        bench_mode(c, mode.name(), || TransportCipher::new(mode, &key).unwrap());
    }
    bench_retransmit(c);
}

criterion_group!(rtp, benches);
criterion_main!(rtp);
