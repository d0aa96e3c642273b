//! Where the embedded PostgreSQL keeps its data when `DATABASE_URL` is not set.
//!
//! The default is `.allot/` in the working directory. As root, PostgreSQL runs as the `postgres`
//! system user, which often cannot reach that directory: a fresh clone in root's home (mode 0700)
//! is the usual case. Then the default becomes `/var/lib/allot/<16 hex digits of SHA-256 of the
//! working directory>`: root-owned `/var/lib/allot` (only root can make it, unlike a name in the
//! shared temporary directory), the data directory in it 0700 and owned by `postgres`, the same
//! one each time allot is started from the same directory. allot says so when it does this. A
//! directory given with `--data-dir` or `ALLOT_DATA_DIR` is never moved: if `postgres` cannot
//! reach it, the error says what to do.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::embedded::EmbeddedError;

/// The data directory when none is given, relative to the working directory.
pub const DEFAULT_DIR: &str = ".allot";
/// Where root's data directories go when `postgres` cannot reach the default.
pub const ROOT_BASE: &str = "/var/lib/allot";

/// The data directory to use, and anything the user should be told about the choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub dir: PathBuf,
    pub note: Option<String>,
}

/// What [`choose`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Use this directory.
    Use(PathBuf),
    /// The default cannot be reached by the server's user: use `dir` instead.
    Instead { wanted: PathBuf, dir: PathBuf },
}

/// The data directory for this process: `explicit` if given, else the default, moved under
/// [`ROOT_BASE`] as root when `postgres` cannot reach it.
pub fn resolve(explicit: Option<&Path>) -> Result<Resolved, EmbeddedError> {
    if !nix::unistd::geteuid().is_root() {
        let dir = explicit.map_or_else(|| PathBuf::from(DEFAULT_DIR), Path::to_path_buf);
        return Ok(Resolved { dir, note: None });
    }
    let postgres = super::embedded::postgres_user()?;
    let cwd = std::env::current_dir()
        .map_err(|e| EmbeddedError::Io("the working directory".into(), e))?;
    let base = Path::new(ROOT_BASE);
    match choose(explicit, &cwd, base, |dir| can_reach(&postgres.name, dir))? {
        Choice::Use(dir) => Ok(Resolved { dir, note: None }),
        Choice::Instead { wanted, dir } => {
            prepare_root_dir(base, &dir, &postgres)?;
            let note = format!(
                "allot runs PostgreSQL as the `postgres` user, which cannot reach {}; the database \
                 is kept in {} instead (the same one each time allot starts here; use --data-dir \
                 to choose).",
                wanted.display(),
                dir.display()
            );
            Ok(Resolved {
                dir,
                note: Some(note),
            })
        }
    }
}

/// The choice, given whether the server's user can reach a directory (for root only).
pub fn choose(
    explicit: Option<&Path>,
    cwd: &Path,
    base: &Path,
    reachable: impl Fn(&Path) -> bool,
) -> Result<Choice, EmbeddedError> {
    match explicit {
        Some(dir) => {
            let absolute = cwd.join(dir);
            if reachable(&absolute) {
                Ok(Choice::Use(dir.to_path_buf()))
            } else {
                Err(EmbeddedError::Unreachable(absolute))
            }
        }
        None => {
            let wanted = cwd.join(DEFAULT_DIR);
            if reachable(&wanted) {
                Ok(Choice::Use(PathBuf::from(DEFAULT_DIR)))
            } else {
                Ok(Choice::Instead {
                    wanted,
                    dir: base.join(project_key(cwd)),
                })
            }
        }
    }
}

/// A short stable name for a project directory.
pub fn project_key(project: &Path) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        project.as_os_str().as_encoded_bytes(),
    );
    hex::encode(&digest.as_ref()[..8])
}

/// Whether `user` can get to `dir`: it must be able to search every directory above it (`dir`
/// itself is made over to the user when the cluster is set up). Checked by the kernel, as the
/// user, on the nearest directory that exists.
fn can_reach(user: &str, dir: &Path) -> bool {
    let Some(existing) = dir.ancestors().skip(1).find(|a| a.is_dir()) else {
        return false;
    };
    Command::new("runuser")
        .args(["-u", user, "--", "test", "-x"])
        .arg(existing)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes `base` (root's, 0755) and `dir` in it (0700, the server user's), refusing anything there
/// that someone other than root could have put there.
fn prepare_root_dir(
    base: &Path,
    dir: &Path,
    owner: &nix::unistd::User,
) -> Result<(), EmbeddedError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |e| EmbeddedError::Io(path, e)
    };
    match fs::DirBuilder::new().mode(0o755).create(base) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(base)(e)),
    }
    let meta = fs::symlink_metadata(base).map_err(io(base))?;
    if !meta.is_dir() || meta.uid() != 0 || meta.mode() & 0o022 != 0 {
        return Err(EmbeddedError::Unsafe(base.to_path_buf()));
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(dir)(e)),
    }
    let meta = fs::symlink_metadata(dir).map_err(io(dir))?;
    if !meta.is_dir() || (meta.uid() != 0 && meta.uid() != owner.uid.as_raw()) {
        return Err(EmbeddedError::Unsafe(dir.to_path_buf()));
    }
    std::os::unix::fs::chown(dir, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
        .map_err(io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "/var/lib/allot";

    #[test]
    fn the_default_is_used_where_the_server_can_reach_it() {
        let choice = choose(None, Path::new("/srv/project"), Path::new(BASE), |_| true).unwrap();
        assert_eq!(choice, Choice::Use(PathBuf::from(".allot")));
    }

    #[test]
    fn an_unreachable_default_moves_to_a_stable_private_place() {
        let unreachable = |dir: &Path| !dir.starts_with("/root");
        let choice = choose(None, Path::new("/root/allot"), Path::new(BASE), unreachable).unwrap();
        let Choice::Instead { wanted, dir } = choice else {
            panic!("{choice:?}");
        };
        assert_eq!(wanted, Path::new("/root/allot/.allot"));
        assert!(dir.starts_with(BASE), "{}", dir.display());
        assert!(!dir.starts_with(std::env::temp_dir()));
        // The same project, the same place; another project, another.
        let again = choose(None, Path::new("/root/allot"), Path::new(BASE), unreachable).unwrap();
        assert_eq!(
            again,
            Choice::Instead {
                wanted,
                dir: dir.clone()
            }
        );
        let other = choose(None, Path::new("/root/other"), Path::new(BASE), unreachable).unwrap();
        assert_ne!(
            other,
            Choice::Instead {
                wanted: "/root/other/.allot".into(),
                dir
            }
        );
    }

    #[test]
    fn an_explicit_directory_is_never_moved() {
        let choice = choose(
            Some(Path::new("data")),
            Path::new("/srv"),
            Path::new(BASE),
            |_| true,
        )
        .unwrap();
        assert_eq!(choice, Choice::Use(PathBuf::from("data")));
        let error = choose(
            Some(Path::new("data")),
            Path::new("/root/x"),
            Path::new(BASE),
            |_| false,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("/root/x/data"), "{error}");
        assert!(error.contains("--data-dir"), "{error}");
        assert!(error.contains("postgres"), "{error}");
    }

    #[test]
    fn project_keys_are_short_and_stable() {
        let key = project_key(Path::new("/root/allot"));
        assert_eq!(key.len(), 16);
        assert_eq!(key, project_key(Path::new("/root/allot")));
        assert_ne!(key, project_key(Path::new("/root/allot2")));
    }
}
