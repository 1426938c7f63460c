//! Reading the CLI's inputs within bounds: a line-by-line input refuses a line past
//! [`MAX_LINE`] and a whole-text input a text past [`MAX_TEXT`], with the file and line named,
//! instead of growing until the machine runs out of memory (`/dev/zero`, a binary file, a
//! multi-gigabyte line).

use std::io::{self, BufRead, Read};

/// Longest line of a line-by-line input (a JSON-lines request, a message, a conversation).
pub const MAX_LINE: usize = 16 << 20;
/// Largest text read whole (a draft from a file or stdin).
pub const MAX_TEXT: usize = 64 << 20;

/// Reads one line (with its `\n`, if any) into `buf` (cleared first); `Ok(false)` at the end
/// of the input. A line longer than `MAX_LINE` is an `InvalidData` error; what was read of it
/// is not kept.
pub fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<bool> {
    buf.clear();
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(!buf.is_empty());
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if buf.len() + take > MAX_LINE {
            buf.clear();
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a line longer than {} MiB: not a line of text (is it the right file?)",
                    MAX_LINE >> 20
                ),
            ));
        }
        buf.extend_from_slice(&available[..take]);
        input.consume(take);
        if done {
            return Ok(true);
        }
    }
}

/// The whole of `input`, up to `MAX_TEXT` bytes; more is an `InvalidData` error.
pub fn read_all(input: impl Read) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    input.take(MAX_TEXT as u64 + 1).read_to_end(&mut buf)?;
    if buf.len() > MAX_TEXT {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "larger than {} MiB: not a draft (is it the right file?)",
                MAX_TEXT >> 20
            ),
        ));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_with_or_without_a_last_newline() {
        let mut input = io::Cursor::new("第一行\n第二行".as_bytes());
        let mut buf = Vec::new();
        assert!(read_line(&mut input, &mut buf).unwrap());
        assert_eq!(buf, "第一行\n".as_bytes());
        assert!(read_line(&mut input, &mut buf).unwrap());
        assert_eq!(buf, "第二行".as_bytes());
        assert!(!read_line(&mut input, &mut buf).unwrap());
    }

    #[test]
    fn an_endless_line_is_refused_without_keeping_it() {
        let mut zeros = io::BufReader::new(io::repeat(0));
        let mut buf = Vec::new();
        let e = read_line(&mut zeros, &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("16 MiB"), "{e}");
        assert!(buf.is_empty());
        let e = read_all(io::repeat(b'a')).unwrap_err();
        assert!(e.to_string().contains("64 MiB"), "{e}");
    }
}
