//! API keys: `gutjoint keys create|list|revoke` and the check behind `Authorization: Bearer`.
//!
//! A key is 256 random bits from the OS generator, shown once and stored only as its SHA-256.
//! A fast hash is enough here because the key itself is uniformly random (no dictionary to
//! try); a slow password hash would only slow every request. The presented key's hash is
//! compared with every stored hash in constant time, so timing says nothing about how many
//! bytes matched or which entry did. The file (`keys.json`, mode 0600) is re-read on each
//! check, so `keys revoke` takes effect at once, on every host sharing the data directory.

use crate::error::{Result, ServerError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq;

/// Prefix of every key, so a leaked one is recognisable in a secret scanner.
const KEY_PREFIX: &str = "gj_";

/// One stored key (never the key itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    pub name: String,
    /// SHA-256 of the key, hex.
    pub sha256: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; a revoked key stays listed so its name (and its jobs) are never reused.
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<KeyRecord>,
}

/// The key file of one data directory.
#[derive(Debug, Clone)]
pub struct Keys {
    path: PathBuf,
}

impl Keys {
    pub fn new(path: &Path) -> Keys {
        Keys {
            path: path.to_path_buf(),
        }
    }

    fn load(&self) -> Result<KeyFile> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ServerError::KeyFile {
                path: self.path.clone(),
                message: format!("not a gutjoint key file: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeyFile::default()),
            Err(e) => Err(ServerError::io(&self.path, e)),
        }
    }

    fn save(&self, file: &KeyFile) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(file).map_err(|e| ServerError::KeyFile {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        crate::files::write_private_atomic(&self.path, &bytes)
    }

    /// Creates a key called `name` and returns it (the only time it is ever seen).
    pub fn create(&self, name: &str) -> Result<String> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(ServerError::Keys(format!(
                "key name {name:?}: expected 1 to 64 letters, digits, '.', '_' or '-'"
            )));
        }
        let mut file = self.load()?;
        if file.keys.iter().any(|k| k.name == name) {
            return Err(ServerError::Keys(format!(
                "a key named {name:?} exists already (revoked names are not reused, so old jobs stay with their key)"
            )));
        }
        let key = format!("{KEY_PREFIX}{}", crate::ids::random_hex(32)?);
        file.keys.push(KeyRecord {
            name: name.to_string(),
            sha256: sha256_hex(&key),
            created_at: crate::ids::now(),
            revoked_at: None,
        });
        self.save(&file)?;
        Ok(key)
    }

    /// Every key ever created, revoked ones included.
    pub fn list(&self) -> Result<Vec<KeyRecord>> {
        Ok(self.load()?.keys)
    }

    /// Revokes the key called `name`.
    pub fn revoke(&self, name: &str) -> Result<()> {
        let mut file = self.load()?;
        let Some(record) = file.keys.iter_mut().find(|k| k.name == name) else {
            return Err(ServerError::Keys(format!(
                "no key named {name:?} (see `gutjoint keys list`)"
            )));
        };
        if record.revoked_at.is_none() {
            record.revoked_at = Some(crate::ids::now());
        }
        self.save(&file)
    }

    /// The name of the live key equal to `presented`, if any.
    pub fn verify(&self, presented: &str) -> Result<Option<String>> {
        let file = self.load()?;
        let digest = Sha256::digest(presented.as_bytes());
        let mut found: Option<String> = None;
        for record in &file.keys {
            let Some(stored) = unhex32(&record.sha256) else {
                continue;
            };
            // Every record is compared; no early exit on a match.
            let equal: bool = stored.ct_eq(digest.as_slice()).into();
            if equal && record.revoked_at.is_none() {
                found = Some(record.name.clone());
            }
        }
        Ok(found)
    }
}

fn sha256_hex(text: &str) -> String {
    crate::ids::hex(&Sha256::digest(text.as_bytes()))
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_keys() -> (Keys, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "gutjoint-keys-{}",
            crate::ids::random_hex(6).expect("random")
        ));
        crate::files::create_private_dir(&dir).expect("dir");
        (Keys::new(&dir.join("keys.json")), dir)
    }

    #[test]
    fn sha256_of_abc_matches_fips_180_2() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn create_verify_revoke() {
        let (keys, dir) = temp_keys();
        let a = keys.create("lab-a").expect("create");
        let b = keys.create("lab-b").expect("create");
        assert!(a.starts_with("gj_") && a.len() == 3 + 64, "256 bits as hex");
        assert_ne!(a, b);
        assert_eq!(keys.verify(&a).expect("verify").as_deref(), Some("lab-a"));
        assert_eq!(keys.verify(&b).expect("verify").as_deref(), Some("lab-b"));
        assert_eq!(keys.verify("gj_wrong").expect("verify"), None);
        // The key itself is nowhere in the file.
        let stored = std::fs::read_to_string(dir.join("keys.json")).expect("read");
        assert!(!stored.contains(&a[3..]));
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.join("keys.json"))
                .expect("meta")
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        assert!(keys.create("lab-a").is_err(), "names are unique");
        assert!(keys.create("../x").is_err());
        keys.revoke("lab-a").expect("revoke");
        assert_eq!(keys.verify(&a).expect("verify"), None);
        assert_eq!(keys.verify(&b).expect("verify").as_deref(), Some("lab-b"));
        assert!(keys.revoke("nobody").is_err());
        assert!(keys.create("lab-a").is_err(), "revoked names stay taken");
        let listed = keys.list().expect("list");
        assert_eq!(listed.len(), 2);
        assert!(listed[0].revoked_at.is_some() && listed[1].revoked_at.is_none());
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
