//! Length-prefixed framing: a `u32` big-endian body length, then that many bytes of JSON.
//!
//! The length is checked against [`MAX_FRAME_LEN`] before anything is allocated, so a hostile
//! or corrupt header cannot make us reserve gigabytes.

use serde::{Serialize, de::DeserializeOwned};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest body accepted or sent: commands and status snapshots are a few hundred bytes, so
/// anything near this is a bug or an attack.
pub const MAX_FRAME_LEN: usize = 1024 * 1024;

/// Size of the length prefix.
pub const HEADER_LEN: usize = 4;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    Oversized { len: usize, max: usize },
    #[error("peer closed the connection {got} of {expected} bytes into a frame")]
    Truncated { expected: usize, got: usize },
    #[error("frame body is not a valid message: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

fn check_len(len: usize) -> Result<(), FrameError> {
    if len > MAX_FRAME_LEN {
        return Err(FrameError::Oversized {
            len,
            max: MAX_FRAME_LEN,
        });
    }
    Ok(())
}

/// Serializes `message` and prefixes it with its length.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, FrameError> {
    let body = serde_json::to_vec(message)?;
    check_len(body.len())?;
    let len = u32::try_from(body.len()).map_err(|_| FrameError::Oversized {
        len: body.len(),
        max: MAX_FRAME_LEN,
    })?;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Parses a frame body.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, FrameError> {
    Ok(serde_json::from_slice(body)?)
}

/// Splits one frame off the front of `buf`: `Ok(None)` when more bytes are needed, otherwise
/// the body and the number of bytes consumed. The same checks as [`read_frame`], without I/O.
pub fn decode(buf: &[u8]) -> Result<Option<(&[u8], usize)>, FrameError> {
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(*header) as usize;
    check_len(len)?;
    let end = HEADER_LEN + len;
    Ok(buf.get(HEADER_LEN..end).map(|body| (body, end)))
}

/// Reads one frame body. `Ok(None)` means the peer closed the connection cleanly between
/// frames; closing inside a frame is [`FrameError::Truncated`].
///
/// Not cancel-safe: dropping the future mid-frame loses the bytes read so far, so callers keep
/// it out of `select!` loops that would restart it.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    let got = read_full(reader, &mut header).await?;
    if got == 0 {
        return Ok(None);
    }
    if got < HEADER_LEN {
        return Err(FrameError::Truncated {
            expected: HEADER_LEN,
            got,
        });
    }
    let len = u32::from_be_bytes(header) as usize;
    check_len(len)?;
    let mut body = vec![0u8; len];
    let got = read_full(reader, &mut body).await?;
    if got < len {
        return Err(FrameError::Truncated {
            expected: HEADER_LEN + len,
            got: HEADER_LEN + got,
        });
    }
    Ok(Some(body))
}

/// Like `read_exact`, but reports how far it got on EOF so truncation can be told apart from a
/// clean close.
async fn read_full<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = reader.read(&mut buf[got..]).await?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

/// Writes an already-encoded frame (from [`encode`]) and flushes it.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    frame: &[u8],
) -> Result<(), FrameError> {
    writer.write_all(frame).await?;
    writer.flush().await?;
    Ok(())
}

/// Encodes and writes one message.
pub async fn send<W: AsyncWrite + Unpin, T: Serialize>(
    writer: &mut W,
    message: &T,
) -> Result<(), FrameError> {
    let frame = encode(message)?;
    write_frame(writer, &frame).await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::to_bot::ToBot;
    use crate::to_streamer::{Hello, Request};

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("current-thread runtime")
            .block_on(f)
    }

    #[test]
    fn oversized_header_is_refused_before_allocating() {
        let header = u32::MAX.to_be_bytes();
        assert!(matches!(decode(&header), Err(FrameError::Oversized { .. })));
        let mut reader: &[u8] = &header;
        assert!(matches!(
            block_on(read_frame(&mut reader)),
            Err(FrameError::Oversized { .. })
        ));
    }

    #[test]
    fn truncated_body_is_an_error_but_clean_eof_is_not() {
        let mut reader: &[u8] = &[0, 0, 0, 5, b'{'];
        assert!(matches!(
            block_on(read_frame(&mut reader)),
            Err(FrameError::Truncated {
                expected: 9,
                got: 5
            })
        ));
        let mut reader: &[u8] = &[0, 0];
        assert!(matches!(
            block_on(read_frame(&mut reader)),
            Err(FrameError::Truncated {
                expected: 4,
                got: 2
            })
        ));
        let mut reader: &[u8] = &[];
        assert!(block_on(read_frame(&mut reader)).unwrap().is_none());
    }

    #[test]
    fn encode_refuses_oversized_bodies() {
        let big = "x".repeat(MAX_FRAME_LEN);
        assert!(matches!(encode(&big), Err(FrameError::Oversized { .. })));
    }

    proptest! {
        // Bounded so the suite stays in CI's seconds budget.
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(Some((body, used))) = decode(&bytes) {
                prop_assert!(used <= bytes.len());
                let _ = parse::<Request>(body);
                let _ = parse::<Hello>(body);
                let _ = parse::<ToBot>(body);
            }
            let _ = parse::<Request>(&bytes);
            let _ = parse::<ToBot>(&bytes);
            let mut reader: &[u8] = &bytes;
            let _ = block_on(read_frame(&mut reader));
        }

        #[test]
        fn random_json_shaped_input_never_panics(
            op in "[a-z_]{0,12}",
            id in any::<i64>(),
            extra in "[ -~]{0,40}",
        ) {
            let text = format!(r#"{{"id":{id},"op":"{op}",{extra}}}"#);
            let _ = parse::<Request>(text.as_bytes());
            let _ = parse::<ToBot>(text.as_bytes());
            let _ = parse::<Hello>(text.as_bytes());
        }

        #[test]
        fn encode_then_decode_round_trips(body in "[ -~]{0,512}") {
            let frame = encode(&body).unwrap();
            let (decoded, used) = decode(&frame).unwrap().unwrap();
            prop_assert_eq!(used, frame.len());
            prop_assert_eq!(parse::<String>(decoded).unwrap(), body);
        }
    }
}
