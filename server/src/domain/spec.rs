//! What a client asks a task to do, validated into a [`TaskSpec`].

use std::sync::Arc;

use crate::domain::Keywords;
use crate::domain::text::{HIDDEN_OR_CONTROL, is_hidden_or_control};
use crate::domain::violations::Violations;

/// Longest request id accepted, in characters.
pub const MAX_REQUEST_ID_LEN: usize = 100;
/// Longest export file name, in characters.
pub const MAX_FILE_NAME_LEN: usize = 120;
/// Largest `days_limit`: a century.
pub const MAX_DAYS_LIMIT: u32 = 36_500;
/// Most operations (prefectures × keywords) of one task by default: ten
/// keywords over every prefecture.
pub const DEFAULT_MAX_OPERATIONS: usize = 1010;
/// Most regions, or prefectures, one request may name: more than the
/// catalog holds, and far fewer than a flood of names.
pub const MAX_PLACES: usize = 200;

/// The server's limits on the size of one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecLimits {
    /// Keywords, and exclude keywords, per task.
    pub max_keywords: usize,
    /// Operations (target prefectures × keywords) per task.
    pub max_operations: usize,
}

impl Default for SpecLimits {
    fn default() -> Self {
        SpecLimits { max_keywords: crate::domain::keywords::MAX_KEYWORDS, max_operations: DEFAULT_MAX_OPERATIONS }
    }
}

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
    /// reporting every invalid field, within the default limits.
    pub fn parse(raw: RawTaskSpec, places: &impl Places) -> Result<TaskSpec, Violations> {
        TaskSpec::parse_within(raw, places, &SpecLimits::default())
    }

    /// [`TaskSpec::parse`] within the server's `limits`.
    pub fn parse_within(raw: RawTaskSpec, places: &impl Places, limits: &SpecLimits) -> Result<TaskSpec, Violations> {
        let mut violations = Violations::new();

        let keywords = Keywords::parse_at_most("keywords", raw.keywords, limits.max_keywords, &mut violations);
        if keywords.is_empty() && !violations.0.iter().any(|v| v.field.starts_with("keywords")) {
            violations.add("keywords", "at least one keyword is required");
        }
        let exclude_keywords =
            Keywords::parse_at_most("exclude_keywords", raw.exclude_keywords, limits.max_keywords, &mut violations);

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
        } else if request_id.chars().any(is_hidden_or_control) {
            violations.add("request_id", HIDDEN_OR_CONTROL);
        }

        let targets: Vec<String> = places
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
        let operations = targets.len() * keywords.len();
        if operations > limits.max_operations {
            violations.add(
                "operations",
                format!(
                    "{} keyword(s) × {} prefecture(s) = {operations} operations: at most {} per task; \
                     split the task or name fewer keywords or places",
                    keywords.len(),
                    targets.len(),
                    limits.max_operations
                ),
            );
        }

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
    } else if file_name.chars().any(is_hidden_or_control) {
        Some(HIDDEN_OR_CONTROL.to_owned())
    } else if file_name.contains([':', '*', '?', '"', '<', '>', '|']) {
        Some("must not contain any of : * ? \" < > |".to_owned())
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
    if given.len() > MAX_PLACES {
        violations.add(field, format!("at most {MAX_PLACES} are accepted, got {}", given.len()));
        return found;
    }
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
    fn a_task_over_the_operations_limit_is_refused_with_its_size() {
        let keywords: Vec<String> = (0..11).map(|i| format!("mot{i}")).collect();
        let raw = RawTaskSpec { keywords, ..RawTaskSpec::default() };
        let err = TaskSpec::parse(raw.clone(), &Catalog::builtin()).expect_err("1,100 operations");
        assert_eq!(fields(&err), ["operations"]);
        // Every prefecture but Paris, whose site is unsupported.
        assert!(err.0[0].description.contains("11 keyword(s) × 100 prefecture(s) = 1100 operations"), "{err}");
        let roomy = SpecLimits { max_operations: 2000, ..SpecLimits::default() };
        assert_eq!(TaskSpec::parse_within(raw, &Catalog::builtin(), &roomy).expect("within").total_operations(), 1100);
    }

    #[test]
    fn a_flood_of_places_is_one_violation() {
        let mut r = raw(&["bovin"]);
        r.prefectures = vec!["Atlantide".into(); 10_000];
        let err = TaskSpec::parse(r, &Catalog::builtin()).expect_err("too many");
        assert_eq!(fields(&err), ["prefectures"]);
    }

    #[test]
    fn bidi_controls_are_refused_in_file_names_and_request_ids() {
        let mut r = raw(&["bovin"]);
        r.export_file_name = "rapport\u{202E}gpj.exe".into();
        r.request_id = "id\u{200B}".into();
        let err = TaskSpec::parse(r, &Catalog::builtin()).expect_err("invalid");
        assert_eq!(fields(&err), ["export.file_name", "request_id"]);
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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::catalog::Catalog;
    use crate::domain::text::is_hidden_or_control;

    /// Text as clients send it: mostly words, sometimes hostile characters.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-zA-Zéà0-9 ,./-]{0,12}",
            1 => any::<String>(),
            1 => "[a-z]{0,4}[\u{202A}-\u{202E}\u{200B}-\u{200F}\u{FEFF}\u{0}-\u{1F}][a-z.]{0,4}",
        ]
    }

    fn raw() -> impl Strategy<Value = RawTaskSpec> {
        let list = || prop::collection::vec(text(), 0..6);
        let places =
            || prop::collection::vec(prop_oneof![text(), Just("56".to_owned()), Just("Bretagne".to_owned())], 0..4);
        (list(), places(), places(), list(), 0u32..40_000, text(), text()).prop_map(
            |(keywords, regions, prefectures, exclude_keywords, days_limit, export_file_name, request_id)| {
                RawTaskSpec {
                    keywords,
                    regions,
                    prefectures,
                    exclude_keywords,
                    days_limit,
                    export_file_name,
                    export_format: None,
                    request_id,
                }
            },
        )
    }

    const FIELDS: [&str; 9] = [
        "keywords",
        "exclude_keywords",
        "regions",
        "prefectures",
        "days_limit",
        "export.file_name",
        "request_id",
        "operations",
        "",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_request_is_a_valid_spec_or_a_list_of_known_fields(raw in raw()) {
            let limits = SpecLimits { max_keywords: 5, max_operations: 300 };
            match TaskSpec::parse_within(raw, &Catalog::builtin(), &limits) {
                Ok(spec) => {
                    prop_assert!(!spec.keywords.is_empty());
                    prop_assert!(spec.total_operations() <= 300);
                    prop_assert!(!spec.targets.is_empty());
                    let texts = spec.keywords.iter().chain(spec.exclude_keywords.iter())
                        .chain(spec.request_id.as_deref())
                        .chain(spec.export.as_ref().map(|e| e.file_name.as_str()));
                    for text in texts {
                        prop_assert!(!text.chars().any(is_hidden_or_control), "{:?}", text);
                        prop_assert_eq!(text.trim(), text);
                    }
                    if let Some(export) = &spec.export {
                        prop_assert!(!export.file_name.contains(['/', '\\']) && !export.file_name.starts_with('.'));
                    }
                }
                Err(violations) => {
                    prop_assert!(!violations.is_empty());
                    for v in &violations.0 {
                        let base = v.field.split('[').next().unwrap_or_default();
                        prop_assert!(FIELDS.contains(&base), "{}", v.field);
                    }
                }
            }
        }
    }
}
