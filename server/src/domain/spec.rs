//! What a client asks a task to do, validated into a [`TaskSpec`].

use std::sync::Arc;

use crate::domain::Keywords;
use crate::domain::violations::Violations;

/// Longest request id accepted, in characters.
pub const MAX_REQUEST_ID_LEN: usize = 100;
/// Longest export file name, in characters.
pub const MAX_FILE_NAME_LEN: usize = 120;
/// Largest `days_limit`: a century.
pub const MAX_DAYS_LIMIT: u32 = 36_500;

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Pretty,
    Json,
    Csv,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 3] = [ExportFormat::Json, ExportFormat::Csv, ExportFormat::Pretty];

    /// The lower-case name people type and see: `json`, `csv`, `pretty`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Pretty => "pretty",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }

    /// The format a person named, in any case.
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        ExportFormat::ALL.into_iter().find(|f| f.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// The format a file name's extension means (`.json`, `.csv`, `.txt`),
    /// in any case.
    pub fn for_file_name(file_name: &str) -> Option<ExportFormat> {
        let (_, extension) = file_name.rsplit_once('.')?;
        ExportFormat::ALL.into_iter().find(|f| f.extension().eq_ignore_ascii_case(extension))
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Pretty => "txt",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }
}

/// An export written into the export directory when the task ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSpec {
    /// A plain file name: no directory part, never `.` or `..`.
    pub file_name: String,
    pub format: ExportFormat,
}

/// A prefecture a task may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub code: &'a str,
    /// Its region's code.
    pub region: &'a str,
    /// Why its site cannot be searched, when it cannot.
    pub unsupported: Option<&'a str>,
}

/// The places a task may target, as a request is checked against them
/// (the catalog is one).
pub trait Places {
    /// The code of the region with this name or code.
    fn region_code(&self, name_or_code: &str) -> Option<&str>;
    /// The prefecture with this name or code.
    fn place(&self, name_or_code: &str) -> Option<Place<'_>>;
    /// Every prefecture, in order.
    fn places(&self) -> Vec<Place<'_>>;
}

impl<P: Places + ?Sized> Places for Arc<P> {
    fn region_code(&self, name_or_code: &str) -> Option<&str> {
        (**self).region_code(name_or_code)
    }

    fn place(&self, name_or_code: &str) -> Option<Place<'_>> {
        (**self).place(name_or_code)
    }

    fn places(&self) -> Vec<Place<'_>> {
        (**self).places()
    }
}

/// A task request as a client sent it, before validation. Both the gRPC API
/// and the dashboard build one of these and call [`TaskSpec::parse`].
#[derive(Debug, Clone, Default)]
pub struct RawTaskSpec {
    pub keywords: Vec<String>,
    pub regions: Vec<String>,
    pub prefectures: Vec<String>,
    pub exclude_keywords: Vec<String>,
    pub days_limit: u32,
    pub export_file_name: String,
    /// `None`: not given (JSON when a file name is).
    pub export_format: Option<ExportFormat>,
    pub request_id: String,
}

/// A valid task request: every keyword non-blank and short, every region and
/// prefecture known, the export name a plain file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec {
    /// At least one.
    pub keywords: Keywords,
    /// Region codes requested.
    pub regions: Vec<String>,
    /// Prefecture codes requested.
    pub prefectures: Vec<String>,
    /// Prefecture codes searched: those requested, those of the requested
    /// regions, or every prefecture when neither was given, in catalog
    /// order; a prefecture whose site is unsupported is left out (and cannot
    /// be requested by name).
    pub targets: Vec<String>,
    pub exclude_keywords: Keywords,
    /// `None`: no limit.
    pub days_limit: Option<u32>,
    pub export: Option<ExportSpec>,
    pub request_id: Option<String>,
}

impl TaskSpec {
    /// Validates a request against the places it may target (the catalog),
    /// reporting every invalid field.
    pub fn parse(raw: RawTaskSpec, places: &impl Places) -> Result<TaskSpec, Violations> {
        let mut violations = Violations::new();

        let keywords = Keywords::parse("keywords", raw.keywords, &mut violations);
        if keywords.is_empty() && !violations.0.iter().any(|v| v.field.starts_with("keywords")) {
            violations.add("keywords", "at least one keyword is required");
        }
        let exclude_keywords = Keywords::parse("exclude_keywords", raw.exclude_keywords, &mut violations);

        let regions = codes(
            "regions",
            &raw.regions,
            |r| places.region_code(r),
            &mut violations,
            |r| format!("unknown region {r:?}: give a region name or INSEE code (see ListRegions)"),
        );
        let mut prefectures = codes(
            "prefectures",
            &raw.prefectures,
            |p| places.place(p).map(|p| p.code),
            &mut violations,
            |p| format!("unknown prefecture {p:?}: give a département name or INSEE code (see ListPrefectures)"),
        );
        for (i, name) in raw.prefectures.iter().enumerate() {
            if let Some(Place { code, unsupported: Some(why), .. }) = places.place(name) {
                violations.add(format!("prefectures[{i}]"), format!("prefecture {code} is not supported: {why}"));
                prefectures.retain(|p| p != code);
            }
        }

        if raw.days_limit > MAX_DAYS_LIMIT {
            violations.add("days_limit", format!("must be at most {MAX_DAYS_LIMIT} days (0 for no limit)"));
        }

        let export = export(&raw.export_file_name, raw.export_format, &mut violations);

        let request_id = raw.request_id.trim();
        if request_id.chars().count() > MAX_REQUEST_ID_LEN {
            violations.add("request_id", format!("must be at most {MAX_REQUEST_ID_LEN} characters"));
        } else if request_id.chars().any(char::is_control) {
            violations.add("request_id", "must not contain control characters");
        }

        let targets = places
            .places()
            .into_iter()
            .filter(|p| p.unsupported.is_none())
            .filter(|p| {
                (regions.is_empty() && prefectures.is_empty())
                    || prefectures.iter().any(|c| c == p.code)
                    || regions.iter().any(|r| r == p.region)
            })
            .map(|p| p.code.to_owned())
            .collect();

        violations.into_result(TaskSpec {
            keywords,
            regions,
            prefectures,
            targets,
            exclude_keywords,
            days_limit: (raw.days_limit > 0).then_some(raw.days_limit),
            export,
            request_id: (!request_id.is_empty()).then(|| request_id.to_owned()),
        })
    }

    /// Number of operations: one per target prefecture and keyword.
    pub fn total_operations(&self) -> usize {
        self.targets.len() * self.keywords.len()
    }
}

fn export(file_name: &str, format: Option<ExportFormat>, violations: &mut Violations) -> Option<ExportSpec> {
    let file_name = file_name.trim();
    if file_name.is_empty() {
        if format.is_some() {
            violations.add("export.file_name", "is required when an export format is given");
        }
        return None;
    }
    let problem = if file_name.chars().count() > MAX_FILE_NAME_LEN {
        Some(format!("must be at most {MAX_FILE_NAME_LEN} characters"))
    } else if file_name.contains(['/', '\\']) || std::path::Path::new(file_name).is_absolute() {
        Some("must be a file name, not a path (no / or \\)".to_owned())
    } else if file_name == "." || file_name == ".." || file_name.starts_with('.') {
        Some("must not start with a dot".to_owned())
    } else if file_name.chars().any(|c| c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|')) {
        Some("must not contain control characters or any of : * ? \" < > |".to_owned())
    } else {
        None
    };
    if let Some(problem) = problem {
        violations.add("export.file_name", problem);
        return None;
    }
    // The format follows the file's extension when none is given; a format
    // that contradicts a known extension is a mistake, not a choice.
    let by_extension = ExportFormat::for_file_name(file_name);
    let format = match (format, by_extension) {
        (Some(given), Some(implied)) if given != implied => {
            violations.add(
                "export.format",
                format!(
                    "{} does not match the file name {file_name:?}, whose extension means {}: change one of them",
                    given.as_str().to_uppercase(),
                    implied.as_str().to_uppercase()
                ),
            );
            return None;
        }
        (Some(given), _) => given,
        (None, Some(implied)) => implied,
        (None, None) => ExportFormat::Json,
    };
    Some(ExportSpec { file_name: file_name.to_owned(), format })
}

/// The catalog codes of names or codes given in request field `field`, in
/// order and without repeats; each unknown one is a violation of `field[i]`.
fn codes<'a>(
    field: &str,
    given: &[String],
    lookup: impl Fn(&str) -> Option<&'a str>,
    violations: &mut Violations,
    unknown: impl Fn(&str) -> String,
) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (i, value) in given.iter().enumerate() {
        match lookup(value) {
            Some(code) if !found.iter().any(|c| c == code) => found.push(code.to_owned()),
            Some(_) => {}
            None => violations.add(format!("{field}[{i}]"), unknown(&clip(value))),
        }
    }
    found
}

/// Echoes client input in an error message without letting it flood the message.
fn clip(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn raw(keywords: &[&str]) -> RawTaskSpec {
        RawTaskSpec { keywords: keywords.iter().map(|k| (*k).to_owned()).collect(), ..RawTaskSpec::default() }
    }

    fn fields(err: &Violations) -> Vec<&str> {
        err.0.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn a_task_without_regions_or_prefectures_targets_every_prefecture() {
        let spec = TaskSpec::parse(raw(&["bovin", " porcin "]), &Catalog::builtin()).expect("valid");
        assert_eq!(spec.keywords.as_slice(), ["bovin", "porcin"]);
        assert_eq!(spec.targets.len(), 100, "every prefecture but Paris, whose site is unsupported");
        assert!(!spec.targets.iter().any(|c| c == "75"));
        assert_eq!(spec.total_operations(), 200);
        assert_eq!(spec.days_limit, None);
        assert_eq!(spec.request_id, None);
    }

    #[test]
    fn regions_and_prefectures_combine_into_targets() {
        let mut r = raw(&["bovin"]);
        r.regions = vec!["Corse".into()];
        r.prefectures = vec!["morbihan".into(), "56".into(), "2A".into()];
        let spec = TaskSpec::parse(r, &Catalog::builtin()).expect("valid");
        assert_eq!(spec.regions, ["94"]);
        assert_eq!(spec.prefectures, ["56", "2A"]);
        assert_eq!(spec.targets, ["2A", "2B", "56"]);
    }

    #[test]
    fn an_unsupported_prefecture_is_refused_by_name_and_skipped_in_its_region() {
        let mut named = raw(&["bovin"]);
        named.prefectures = vec!["56".into(), "Paris".into()];
        let err = TaskSpec::parse(named, &Catalog::builtin()).expect_err("Paris is unsupported");
        assert_eq!(fields(&err), ["prefectures[1]"]);
        assert!(err.0[0].description.contains("75 is not supported"), "{err}");

        let mut region = raw(&["bovin"]);
        region.regions = vec!["Île-de-France".into()];
        let spec = TaskSpec::parse(region, &Catalog::builtin()).expect("valid");
        assert_eq!(spec.targets, ["77", "78", "91", "92", "93", "94", "95"]);
    }

    #[test]
    fn repeated_keywords_are_kept_once() {
        let spec = TaskSpec::parse(raw(&["Élevage", "elevage", "ÉLEVAGE"]), &Catalog::builtin()).expect("valid");
        assert_eq!(spec.keywords.as_slice(), ["Élevage"]);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut r = raw(&["", &"x".repeat(101), "ok", "bad\u{7}"]);
        r.regions = vec!["Atlantide".into()];
        r.prefectures = vec!["56".into(), "00".into()];
        r.days_limit = 100_000;
        r.export_file_name = "../etc/passwd".into();
        let err = TaskSpec::parse(r, &Catalog::builtin()).expect_err("invalid");
        assert_eq!(
            fields(&err),
            [
                "keywords[0]",
                "keywords[1]",
                "keywords[3]",
                "regions[0]",
                "prefectures[1]",
                "days_limit",
                "export.file_name"
            ]
        );
    }

    #[test]
    fn no_keywords_is_an_error() {
        let err = TaskSpec::parse(raw(&[]), &Catalog::builtin()).expect_err("invalid");
        assert_eq!(fields(&err), ["keywords"]);
    }

    #[test]
    fn the_export_format_follows_the_file_extension_unless_they_disagree() {
        let with = |name: &str, format: Option<ExportFormat>| {
            let mut r = raw(&["bovin"]);
            r.export_file_name = name.into();
            r.export_format = format;
            TaskSpec::parse(r, &Catalog::builtin()).map(|s| s.export.map(|e| e.format))
        };
        assert_eq!(with("veille.csv", None).ok(), Some(Some(ExportFormat::Csv)));
        assert_eq!(with("veille.TXT", None).ok(), Some(Some(ExportFormat::Pretty)));
        assert_eq!(with("veille", None).ok(), Some(Some(ExportFormat::Json)), "no extension: JSON");
        assert_eq!(with("veille.data", Some(ExportFormat::Csv)).ok(), Some(Some(ExportFormat::Csv)));
        let err = with("veille.csv", Some(ExportFormat::Json)).expect_err("a contradiction");
        assert_eq!(fields(&err), ["export.format"]);
    }

    #[test]
    fn export_names_are_file_names_never_paths() {
        for bad in ["../x", "/tmp/x.json", "a/b.json", "a\\b.csv", ".hidden", "..", "x\n.json"] {
            let mut r = raw(&["bovin"]);
            r.export_file_name = bad.into();
            let err = TaskSpec::parse(r, &Catalog::builtin()).expect_err(bad);
            assert_eq!(fields(&err), ["export.file_name"], "{bad}");
        }
        let mut r = raw(&["bovin"]);
        r.export_file_name = "résultats 2025.csv".into();
        r.export_format = Some(ExportFormat::Csv);
        let spec = TaskSpec::parse(r, &Catalog::builtin()).expect("valid");
        assert_eq!(spec.export, Some(ExportSpec { file_name: "résultats 2025.csv".into(), format: ExportFormat::Csv }));
    }
}
