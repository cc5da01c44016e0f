//! A scratch folder per fuzzing process (on tmpfs where there is one): the targets go through
//! the same file-reading paths as `drlim fit` and `drlim embed`.

use std::path::PathBuf;
use std::sync::OnceLock;

pub fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("drlim-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch folder");
        d
    });
    dir.join(name)
}

/// Writes `bytes` to the scratch file `name` and returns its path (unused by the model target).
#[allow(dead_code)]
pub fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = scratch(name);
    std::fs::write(&p, bytes).expect("write scratch file");
    p
}
