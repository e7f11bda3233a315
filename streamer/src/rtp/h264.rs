//! H.264 over RTP, RFC 6184 packetization mode 1: a NAL unit that fits the payload budget
//! goes as a Single NAL Unit packet, a larger one as FU-A fragments. No STAP-A: parameter
//! sets are small and rare, and every receiver Discord has must handle single NAL packets.
//!
//! Input is one Annex B access unit (start-code delimited NAL units) per call, as the
//! pipeline's encoder emits with `global_header` off.

use super::{MediaTime, Stream, StreamConfig, VIDEO_CLOCK_RATE};

const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_AUD: u8 = 9;
const FU_A: u8 = 28;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum H264Error {
    #[error("H.264 access unit does not start with an Annex B start code")]
    NotAnnexB,
    #[error("H.264 access unit holds no NAL unit")]
    Empty,
}

/// Splits Annex B data into NAL units (without start codes or trailing zero bytes) and calls
/// `f` with each one's byte range.
fn split_annex_b(data: &[u8], mut f: impl FnMut(usize, usize)) -> Result<(), H264Error> {
    let first = find_start_code(data, 0).ok_or(H264Error::NotAnnexB)?;
    // Only zero bytes may precede the first start code (leading_zero_8bits).
    if data[..first.0].iter().any(|&b| b != 0) {
        return Err(H264Error::NotAnnexB);
    }
    let mut start = first.1;
    loop {
        let next = find_start_code(data, start);
        let mut end = next.map_or(data.len(), |(at, _)| at);
        // The zero of a 4-byte start code, or trailing_zero_8bits, is not part of the NAL.
        while end > start && data[end - 1] == 0 {
            end -= 1;
        }
        if end > start {
            f(start, end);
        }
        match next {
            Some((_, after)) => start = after,
            None => return Ok(()),
        }
    }
}

/// The next `00 00 01` at or after `from`: (its position, the position after it).
fn find_start_code(data: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i + 3 <= data.len() {
        // Skip ahead by what the byte at i+2 rules out, as in most start-code scanners.
        match data[i + 2] {
            1 if data[i] == 0 && data[i + 1] == 0 => return Some((i, i + 3)),
            0 => i += 1,
            _ => i += 3,
        }
    }
    None
}

/// Packetizes H.264 access units into RTP packets for one stream.
#[derive(Debug, Clone)]
pub struct H264Packetizer {
    stream: Stream,
    max_payload: usize,
    /// The latest parameter sets seen, re-sent before any IDR that arrives without them so a
    /// viewer who joins at that keyframe can decode it.
    sps: Vec<u8>,
    pps: Vec<u8>,
    nals: Vec<(usize, usize)>,
}

impl H264Packetizer {
    pub fn new(config: StreamConfig) -> Self {
        Self {
            stream: Stream::new(config, VIDEO_CLOCK_RATE),
            max_payload: super::DEFAULT_MAX_PAYLOAD,
            sps: Vec::new(),
            pps: Vec::new(),
            nals: Vec::new(),
        }
    }

    /// The most payload bytes one packet may carry (the FU-A headers included).
    #[must_use]
    pub fn with_max_payload(mut self, max_payload: usize) -> Self {
        assert!(max_payload > 2, "an FU-A packet needs room for data");
        self.max_payload = max_payload;
        self
    }

    pub fn config(&self) -> &StreamConfig {
        &self.stream.config
    }

    /// Appends the packets of one access unit at `time` to `out`; returns how many. The last
    /// packet carries the marker bit.
    pub fn packetize(
        &mut self,
        access_unit: &[u8],
        time: MediaTime,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<usize, H264Error> {
        let mut nals = std::mem::take(&mut self.nals);
        nals.clear();
        split_annex_b(access_unit, |s, e| nals.push((s, e)))?;
        // AUDs carry nothing a packetized stream needs (RTP marks frame ends itself).
        nals.retain(|&(s, _)| access_unit[s] & 0x1F != NAL_AUD);
        if nals.is_empty() {
            self.nals = nals;
            return Err(H264Error::Empty);
        }
        let (mut idr, mut sps, mut pps) = (false, false, false);
        for &(s, e) in &nals {
            match access_unit[s] & 0x1F {
                NAL_IDR => idr = true,
                NAL_SPS => {
                    sps = true;
                    self.sps.clear();
                    self.sps.extend_from_slice(&access_unit[s..e]);
                }
                NAL_PPS => {
                    pps = true;
                    self.pps.clear();
                    self.pps.extend_from_slice(&access_unit[s..e]);
                }
                _ => {}
            }
        }
        let timestamp = self.stream.timestamp(time);
        let before = out.len();
        if idr && !(sps && pps) {
            let sets = [std::mem::take(&mut self.sps), std::mem::take(&mut self.pps)];
            for set in sets.iter().filter(|s| !s.is_empty()) {
                self.nal(set, false, timestamp, out);
            }
            [self.sps, self.pps] = sets;
        }
        let last = nals.len() - 1;
        for (i, &(s, e)) in nals.iter().enumerate() {
            self.nal(&access_unit[s..e], i == last, timestamp, out);
        }
        self.nals = nals;
        Ok(out.len() - before)
    }

    fn nal(&mut self, nal: &[u8], last_of_au: bool, timestamp: u32, out: &mut Vec<Vec<u8>>) {
        if nal.len() <= self.max_payload {
            out.push(self.stream.packet(last_of_au, timestamp, &[nal]));
            return;
        }
        // FU-A: the NAL header is not sent itself; its F/NRI bits go in the indicator and its
        // type in each FU header.
        let indicator = nal[0] & 0xE0 | FU_A;
        let nal_type = nal[0] & 0x1F;
        let mut chunks = nal[1..].chunks(self.max_payload - 2).peekable();
        let mut first = true;
        while let Some(chunk) = chunks.next() {
            let end = chunks.peek().is_none();
            let header = u8::from(first) << 7 | u8::from(end) << 6 | nal_type;
            out.push(self.stream.packet(
                last_of_au && end,
                timestamp,
                &[&[indicator, header], chunk],
            ));
            first = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::RtpHeader;
    use super::*;

    fn au(nals: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, nal) in nals.iter().enumerate() {
            // Mix 4- and 3-byte start codes, as encoders do.
            out.extend_from_slice(if i == 0 { &[0, 0, 0, 1] } else { &[0, 0, 1] });
            out.extend_from_slice(nal);
        }
        out
    }

    fn payloads(packets: &[Vec<u8>]) -> Vec<(bool, Vec<u8>)> {
        packets
            .iter()
            .map(|p| {
                let h = RtpHeader::parse(p).unwrap();
                (h.marker, p[h.payload_offset..].to_vec())
            })
            .collect()
    }

    /// Reassembles what a receiver would get: NAL units back from single and FU-A packets.
    fn depacketize(packets: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut nals = Vec::new();
        let mut partial: Option<Vec<u8>> = None;
        for (_, p) in payloads(packets) {
            if p[0] & 0x1F == FU_A {
                let (start, end) = (p[1] & 0x80 != 0, p[1] & 0x40 != 0);
                if start {
                    assert!(partial.is_none(), "FU-A start inside a fragment");
                    partial = Some(vec![p[0] & 0xE0 | p[1] & 0x1F]);
                }
                partial
                    .as_mut()
                    .expect("FU-A without start")
                    .extend_from_slice(&p[2..]);
                if end {
                    nals.push(partial.take().unwrap());
                }
            } else {
                assert!(partial.is_none(), "single NAL inside a fragment");
                nals.push(p);
            }
        }
        assert!(partial.is_none(), "unfinished fragment");
        nals
    }

    const SPS: &[u8] = &[0x67, 0x42, 0xC0, 0x1F];
    const PPS: &[u8] = &[0x68, 0xCE, 0x3C, 0x80];

    #[test]
    fn small_nals_go_whole_with_the_marker_on_the_last() {
        let mut p = H264Packetizer::new(StreamConfig::new(1, 101));
        let slice: &[u8] = &[0x65, 1, 2, 3];
        let mut out = Vec::new();
        let n = p
            .packetize(
                &au(&[&[0x09, 0xF0], SPS, PPS, slice]),
                MediaTime::new(2, 1, 30),
                &mut out,
            )
            .unwrap();
        assert_eq!(n, 3, "the AUD is dropped");
        assert_eq!(
            payloads(&out),
            [
                (false, SPS.to_vec()),
                (false, PPS.to_vec()),
                (true, slice.to_vec())
            ]
        );
        for (i, packet) in out.iter().enumerate() {
            let h = RtpHeader::parse(packet).unwrap();
            assert_eq!((h.sequence, h.timestamp), (i as u16, 6000));
        }
    }

    #[test]
    fn big_nals_are_fragmented_and_reassemble_exactly() {
        let mut p = H264Packetizer::new(StreamConfig::new(1, 101)).with_max_payload(100);
        // NRI bits set to check they are carried into the FU indicator.
        let mut big = vec![0x65];
        big.extend((0..1000u32).map(|i| (i * 31 % 251) as u8 | 1));
        let tail: &[u8] = &[0x41, 9, 9];
        let mut out = Vec::new();
        p.packetize(
            &au(&[SPS, PPS, &big, tail]),
            MediaTime::new(0, 1, 30),
            &mut out,
        )
        .unwrap();
        // 999 bytes after the NAL header in 98-byte pieces: 11 fragments.
        assert_eq!(out.len(), 2 + 11 + 1);
        assert!(out.iter().all(|p| p.len() - 12 <= 100));
        let pl = payloads(&out);
        assert_eq!(
            pl[2].1[..2],
            [0x60 | FU_A, 0x80 | NAL_IDR],
            "start fragment"
        );
        assert_eq!(pl[12].1[..2], [0x60 | FU_A, 0x40 | NAL_IDR], "end fragment");
        assert!(pl[3..12].iter().all(|(_, p)| p[1] == NAL_IDR));
        let markers: Vec<bool> = pl.iter().map(|(m, _)| *m).collect();
        assert_eq!(markers.iter().filter(|&&m| m).count(), 1);
        assert!(markers[markers.len() - 1]);
        assert_eq!(
            depacketize(&out),
            [SPS.to_vec(), PPS.to_vec(), big, tail.to_vec()]
        );

        // The last NAL of the access unit fragmented: the marker goes on its last fragment.
        let mut out = Vec::new();
        let mut big = vec![0x41];
        big.extend([7; 250]);
        p.packetize(&au(&[&big]), MediaTime::new(1, 1, 30), &mut out)
            .unwrap();
        let markers: Vec<bool> = payloads(&out).iter().map(|(m, _)| *m).collect();
        assert_eq!(markers, [false, false, true]);
    }

    #[test]
    fn parameter_sets_are_repeated_before_an_idr_that_lacks_them() {
        let mut p = H264Packetizer::new(StreamConfig::new(1, 101));
        let idr: &[u8] = &[0x65, 0xAA];
        let mut out = Vec::new();
        p.packetize(&au(&[SPS, PPS, idr]), MediaTime::new(0, 1, 30), &mut out)
            .unwrap();
        out.clear();
        p.packetize(&au(&[&[0x41, 1]]), MediaTime::new(1, 1, 30), &mut out)
            .unwrap();
        assert_eq!(out.len(), 1, "non-IDR frames get no parameter sets");
        out.clear();
        p.packetize(
            &au(&[&[0x06, 5, 0x80], idr]),
            MediaTime::new(2, 1, 30),
            &mut out,
        )
        .unwrap();
        assert_eq!(
            depacketize(&out),
            [
                SPS.to_vec(),
                PPS.to_vec(),
                vec![0x06, 5, 0x80],
                idr.to_vec()
            ]
        );
        // New parameter sets replace the remembered ones.
        let sps2: &[u8] = &[0x67, 0x64, 0, 0x28];
        out.clear();
        p.packetize(&au(&[sps2, PPS, idr]), MediaTime::new(3, 1, 30), &mut out)
            .unwrap();
        out.clear();
        p.packetize(&au(&[idr]), MediaTime::new(4, 1, 30), &mut out)
            .unwrap();
        assert_eq!(
            depacketize(&out),
            [sps2.to_vec(), PPS.to_vec(), idr.to_vec()]
        );
    }

    #[test]
    fn start_codes_are_found_wherever_they_are() {
        let mut nals = Vec::new();
        let data = [
            0, 0, 0, 1, 0x41, 0, 0, 0, 0, 1, 0x42, 7, 0, 0, 1, 0x43, 0, 0,
        ];
        split_annex_b(&data, |s, e| nals.push(data[s..e].to_vec())).unwrap();
        assert_eq!(nals, [vec![0x41], vec![0x42, 7], vec![0x43]]);
        assert_eq!(
            split_annex_b(&[0x41, 1, 2], |_, _| {}),
            Err(H264Error::NotAnnexB)
        );
        assert_eq!(
            split_annex_b(&[5, 0, 0, 1, 0x41], |_, _| {}),
            Err(H264Error::NotAnnexB)
        );
        let mut p = H264Packetizer::new(StreamConfig::new(1, 101));
        let mut out = Vec::new();
        assert_eq!(
            p.packetize(&[0, 0, 1, 0x09, 0x10], MediaTime::new(0, 1, 30), &mut out),
            Err(H264Error::Empty)
        );
        assert!(out.is_empty());
    }
}
