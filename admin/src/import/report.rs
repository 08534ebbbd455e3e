//! What happened to each source row: the `--report` file's lines (one JSON object per row, never a hash or a
//! password) and the summary line.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use uuid::Uuid;

/// Why a row was skipped: the `reason` of its report line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    InvalidUsername,
    InvalidEmail,
    InvalidCreatedAt,
    InvalidIsAdmin,
    UnknownHashFormat,
    BcryptCostOverCap,
    DuplicateUsername,
    DuplicateEmail,
    UsernameTaken,
    EmailTaken,
}

/// What the run did with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Imported,
    WouldImport,
    AlreadyImported,
    Skipped,
}

/// One line of the report.
#[derive(Serialize)]
pub struct Line {
    pub row: i64,
    /// The source's username as stored (`null` when it is not text).
    pub username: Option<String>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    pub detail: String,
    /// The user's id in vimcar, for a row imported now, before, or by a real run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// Whether the user has (or would have) a password in vimcar; false for a skipped row, which stores nothing.
    pub has_password: bool,
}

/// The report file, written line by line, so that a run stopped by a storage error still says what it did.
pub struct Report {
    file: Option<BufWriter<File>>,
}

impl Report {
    pub fn create(path: Option<&Path>) -> anyhow::Result<Self> {
        let file = path
            .map(|path| {
                File::create(path)
                    .with_context(|| format!("creating the report {}", path.display()))
                    .map(BufWriter::new)
            })
            .transpose()?;
        Ok(Self { file })
    }

    pub fn write(&mut self, line: &Line) -> anyhow::Result<()> {
        if let Some(file) = &mut self.file {
            serde_json::to_writer(&mut *file, line)?;
            file.write_all(b"\n")?;
            file.flush().context("writing the report")?;
        }
        Ok(())
    }
}

/// How many rows had each outcome.
#[derive(Default)]
pub struct Counts {
    pub imported: usize,
    pub already_imported: usize,
    pub skipped: usize,
    /// Imported (or would be) without a password.
    pub without_password: usize,
}

impl Counts {
    pub fn add(&mut self, line: &Line) {
        match line.outcome {
            Outcome::Imported | Outcome::WouldImport => {
                self.imported += 1;
                self.without_password += usize::from(!line.has_password);
            }
            Outcome::AlreadyImported => self.already_imported += 1,
            Outcome::Skipped => self.skipped += 1,
        }
    }
}
