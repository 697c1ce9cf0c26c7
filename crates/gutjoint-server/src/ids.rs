//! Unguessable identifiers from the operating system's random source: API keys and job ids.

use crate::error::{Result, ServerError};

/// `bytes` random bytes from the OS generator as lower-case hex.
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| ServerError::Config(format!("the system random source failed: {e}")))?;
    Ok(hex(&buf))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// A job id: 128 random bits, so one key cannot guess another key's job.
pub fn job_id() -> Result<String> {
    random_hex(16)
}

/// Whether `text` has the shape of a job id (32 lower-case hex digits); anything else is
/// rejected before it reaches the store or a file path.
pub fn is_job_id(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Seconds since the Unix epoch (the store's clock).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_by_hand() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }

    #[test]
    fn job_ids_are_distinct_and_shaped() {
        let a = job_id().expect("random");
        let b = job_id().expect("random");
        assert_ne!(a, b);
        assert!(is_job_id(&a) && is_job_id(&b));
        assert!(!is_job_id("../../etc/passwd"));
        assert!(!is_job_id(&a.to_uppercase()));
    }
}
